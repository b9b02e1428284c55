// The data file opened directly through the storage engine, without a
// daemon (kvctl --embedded). It takes the data file's lock: it refuses while
// a kvd owns the file and waits for other embedded users to finish, so
// concurrent scripts never lose a write. Closing folds the journal into
// storage.data.
#ifndef KVD_CLIENT_EMBEDDED_H_
#define KVD_CLIENT_EMBEDDED_H_

#include <chrono>
#include <filesystem>
#include <memory>

#include "client/backend.h"
#include "store/engine.h"

namespace kvd::client {

class Embedded final : public Backend {
 public:
  // Throws "busy" if a daemon owns `data_path` or another user kept it
  // longer than `lock_wait`, "storage_error" if it cannot be read.
  Embedded(const std::filesystem::path& data_path, std::chrono::milliseconds lock_wait);
  // Folds the journal; throws "storage_error" if that fails (the journal is
  // then kept and replayed by the next user).
  void Close();

  void Ping() override {}
  void Append(std::string_view key, std::string_view val) override;
  void AppendMany(std::vector<proto::KeyValue> items) override;
  std::vector<std::string> Get(std::string_view key) override;
  bool Delete(std::string_view key) override;
  std::vector<std::string> Keys(std::string_view prefix = {}) override;
  std::vector<std::pair<std::string, std::uint64_t>> Stats() override;

 private:
  void Write(const WriteBatch& batch, std::vector<bool>* applied = nullptr);

  std::unique_ptr<Engine> engine_;
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_EMBEDDED_H_
