// Where committed writes go so that they survive a crash. The engine calls
// one implementation, from one writer at a time.
#ifndef KVD_STORE_PERSISTENCE_H_
#define KVD_STORE_PERSISTENCE_H_

#include <filesystem>
#include <memory>

#include "store/status.h"
#include "store/store.h"
#include "store/write_batch.h"

namespace kvd {

class Persistence {
 public:
  virtual ~Persistence() = default;

  // Makes `batch`, applied on top of `committed`, durable. `committed` is the
  // state after every earlier successful Commit and is not changed here.
  // Returns OK only once the result is on stable storage; on error nothing of
  // `batch` may be considered written.
  virtual Status Commit(const Store& committed, const WriteBatch& batch) = 0;
};

// Rewrites the whole snapshot atomically on every commit: O(store size) per
// commit, so callers should commit writes in groups.
std::unique_ptr<Persistence> NewSnapshotPersistence(std::filesystem::path path);

}  // namespace kvd

#endif  // KVD_STORE_PERSISTENCE_H_
