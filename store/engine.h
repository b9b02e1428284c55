// The storage engine: the store, its persistence and the data-file lock,
// safe for concurrent use by many threads. Linked by kvd and by any program
// that wants the data file without a daemon. Knows nothing of sockets.
#ifndef KVD_STORE_ENGINE_H_
#define KVD_STORE_ENGINE_H_

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/data_lock.h"
#include "store/persistence.h"
#include "store/status.h"
#include "store/store.h"
#include "store/write_batch.h"

namespace kvd {

// $KVD_DATA if set, else <temp dir>/storage.data.
std::filesystem::path DefaultDataPath();

class Engine {
 public:
  struct Stats {
    std::size_t keys = 0;
    std::size_t values = 0;
    std::size_t bytes = 0;
  };

  // Locks `data_path` against other processes and loads it. Busy when another
  // process owns it; Corruption (naming file and position) when it cannot be
  // read; in both cases nothing on disk is changed.
  static Status Open(const std::filesystem::path& data_path, std::unique_ptr<Engine>* engine);

  // Makes `batch` durable, then visible to readers, all or nothing (an empty
  // batch costs nothing). Writers
  // are serialized; each call costs one commit, so callers with many small
  // writes should group them. If `applied` is given it receives, per
  // mutation, what Store::Apply returned (false: a delete of an absent key).
  Status Write(const WriteBatch& batch, std::vector<bool>* applied = nullptr);

  // Readers see only durable data and never wait for a commit's I/O.
  std::vector<std::string> Get(std::string_view key) const;
  std::vector<std::string> Keys(std::string_view prefix) const;
  Stats GetStats() const;

  const std::filesystem::path& data_path() const { return data_path_; }

 private:
  Engine(std::filesystem::path data_path, std::unique_ptr<DataLock> lock);

  const std::filesystem::path data_path_;
  const std::unique_ptr<DataLock> lock_;
  std::unique_ptr<Persistence> persistence_;
  std::mutex write_mu_;           // one writer at a time: held across persist + apply
  mutable std::shared_mutex mu_;  // store_: shared for reads and persisting, unique to apply
  Store store_;
};

}  // namespace kvd

#endif  // KVD_STORE_ENGINE_H_
