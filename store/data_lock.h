// Exclusive ownership of a data file across processes, with Boost.Interprocess
// file locks held for the owner's lifetime:
//   <data>.lock         held by whoever has the data file open (kvd or an
//                       embedded user such as kvctl --embedded);
//   <data>.daemon.lock  held by kvd as well, so embedded users can tell a
//                       daemon (refuse: use the daemon) from another embedded
//                       user (wait for it).
// The data file itself is replaced by rename, so it cannot carry a lock.
// (The names come from data_files.h.)
#ifndef KVD_STORE_DATA_LOCK_H_
#define KVD_STORE_DATA_LOCK_H_

#include <chrono>
#include <filesystem>
#include <memory>

#include "util/status.h"

namespace kvd {

class DataLock {
 public:
  enum class Mode {
    kDaemon,    // Busy at once if anyone has the file
    kEmbedded,  // Busy if a daemon has it; else wait up to `wait` for the owner to finish
  };

  // Takes the lock for `data_path`. Busy, with a message saying who has the
  // file, when it cannot. (POSIX record locks do not exclude the calling
  // process itself.)
  static Status Acquire(const std::filesystem::path& data_path, Mode mode,
                        std::chrono::milliseconds wait, std::unique_ptr<DataLock>* lock);

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
