// Exclusive ownership of a data file across processes: a Boost.Interprocess
// file lock on "<data file>.lock", held for the owner's lifetime. (The data
// file itself is replaced by rename, so it cannot carry the lock.)
#ifndef KVD_STORE_DATA_LOCK_H_
#define KVD_STORE_DATA_LOCK_H_

#include <filesystem>
#include <memory>

#include "store/status.h"

namespace kvd {

class DataLock {
 public:
  // Takes the lock for `data_path` without waiting. Busy if another process
  // holds it. (POSIX record locks do not exclude the same process.)
  static Status Acquire(const std::filesystem::path& data_path, std::unique_ptr<DataLock>* lock);

  ~DataLock();
  DataLock(const DataLock&) = delete;
  DataLock& operator=(const DataLock&) = delete;

 private:
  struct Impl;
  explicit DataLock(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvd

#endif  // KVD_STORE_DATA_LOCK_H_
