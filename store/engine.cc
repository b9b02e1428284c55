#include "store/engine.h"

#include <cstdlib>
#include <utility>

#include "store/snapshot.h"

namespace kvd {

std::filesystem::path DefaultDataPath() {
  if (const char* env = std::getenv("KVD_DATA"); env != nullptr && *env != '\0') return env;
  return std::filesystem::temp_directory_path() / "storage.data";
}

Engine::Engine(std::filesystem::path data_path, std::unique_ptr<DataLock> lock)
    : data_path_(std::move(data_path)),
      lock_(std::move(lock)),
      persistence_(NewSnapshotPersistence(data_path_)) {}

Status Engine::Open(const std::filesystem::path& data_path, std::unique_ptr<Engine>* engine) {
  std::unique_ptr<DataLock> lock;
  if (Status s = DataLock::Acquire(data_path, &lock); !s.ok()) return s;
  std::unique_ptr<Engine> opened(new Engine(data_path, std::move(lock)));
  if (Status s = LoadSnapshot(data_path, &opened->store_); !s.ok()) return s;
  *engine = std::move(opened);
  return Status::OK();
}

Status Engine::Write(const WriteBatch& batch, std::vector<bool>* applied) {
  if (applied != nullptr) applied->clear();
  if (batch.empty()) return Status::OK();
  std::lock_guard writer(write_mu_);
  {
    // Only this writer changes store_, so persisting under a shared lock
    // lets readers go on while the data reaches the disk.
    std::shared_lock read(mu_);
    if (Status s = persistence_->Commit(store_, batch); !s.ok()) return s;
  }
  std::unique_lock write(mu_);
  for (const Mutation& m : batch.mutations()) {
    const bool done = store_.Apply(m);
    if (applied != nullptr) applied->push_back(done);
  }
  return Status::OK();
}

std::vector<std::string> Engine::Get(std::string_view key) const {
  std::shared_lock read(mu_);
  const Store::Values* values = store_.Find(key);
  return values == nullptr ? std::vector<std::string>{} : *values;
}

std::vector<std::string> Engine::Keys(std::string_view prefix) const {
  std::shared_lock read(mu_);
  return store_.Keys(prefix);
}

Engine::Stats Engine::GetStats() const {
  std::shared_lock read(mu_);
  return Stats{store_.key_count(), store_.value_count(), store_.byte_count()};
}

}  // namespace kvd
