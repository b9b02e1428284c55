#include <utility>

#include "store/persistence.h"
#include "store/snapshot.h"

namespace kvd {
namespace {

class SnapshotPersistence final : public Persistence {
 public:
  explicit SnapshotPersistence(std::filesystem::path path) : path_(std::move(path)) {}

  Status Commit(const Store& committed, const WriteBatch& batch) override {
    return SaveSnapshot(path_, committed, batch);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace

std::unique_ptr<Persistence> NewSnapshotPersistence(std::filesystem::path path) {
  return std::make_unique<SnapshotPersistence>(std::move(path));
}

}  // namespace kvd
