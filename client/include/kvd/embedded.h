// kvd's data file opened directly through the storage engine, in the
// caller's process, without a daemon (installed as <kvd/embedded.h>;
// kvctl --embedded uses it): the same data file, format and lock as kvd.
// It takes the data file's lock: it refuses while a kvd owns the file and
// waits for other embedded users to finish, so concurrent programs never
// lose a write. Closing folds the journal into storage.data. Safe to use
// from many threads at once.
#ifndef KVD_CLIENT_EMBEDDED_H_
#define KVD_CLIENT_EMBEDDED_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kvd/backend.h"

namespace kvd {
class Engine;  // the storage engine, not part of the installed interface
}  // namespace kvd

namespace kvd::client {

// The data file kvd and kvctl use by default: $KVD_DATA if set, else
// <temp dir>/storage.data.
std::filesystem::path DefaultDataPath();

class Embedded final : public Backend {
 public:
  // Throws "busy" if a daemon owns `data_path` or another user kept it
  // longer than `lock_wait`, "storage_error" if it cannot be read.
  Embedded(const std::filesystem::path& data_path, std::chrono::milliseconds lock_wait);
  // Closes the file if Close() was not called, reporting no error: the
  // journal then stays and is replayed by the next user.
  ~Embedded() override;
  Embedded(const Embedded&) = delete;
  Embedded& operator=(const Embedded&) = delete;

  // Folds the journal into storage.data and releases the lock; throws
  // "storage_error" if that fails (the journal is then kept and replayed by
  // the next user). Only the destructor may follow.
  void Close();

  void Ping() override {}
  void Append(std::string_view key, std::string_view val) override;
  void AppendMany(std::vector<KeyValue> items) override;
  std::vector<std::string> Get(std::string_view key) override;
  bool Delete(std::string_view key) override;
  std::vector<std::string> Keys(std::string_view prefix = {}) override;
  std::vector<std::pair<std::string, std::uint64_t>> Stats() override;
  std::vector<std::string> Get(std::string_view key, std::uint64_t* revision) override;
  void Append(std::string_view key, std::string_view val, const Condition& condition) override;
  std::vector<std::string> GetRange(std::string_view key, std::int64_t start, std::int64_t stop,
                                    std::uint64_t* revision = nullptr) override;
  std::uint64_t Length(std::string_view key) override;
  void Trim(std::string_view key, std::int64_t start, std::int64_t stop) override;
  std::vector<std::string> Pop(
      std::string_view key, std::uint64_t count = 1, bool from_tail = false,
      std::chrono::milliseconds wait = std::chrono::milliseconds(0)) override;
  bool Expire(std::string_view key, std::int64_t seconds) override;
  bool Persist(std::string_view key) override;
  std::int64_t TimeToLive(std::string_view key) override;
  void AppendWithTtl(std::string_view key, std::string_view val, std::chrono::seconds ttl) override;

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_EMBEDDED_H_
