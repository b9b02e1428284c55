#include "kvd/embedded.h"

#include <algorithm>
#include <thread>

#include "proto/request.h"
#include "store/engine.h"

namespace kvd::client {
namespace {

// How often a pop that waits looks at its key again.
constexpr std::chrono::milliseconds kPopPoll{10};

[[noreturn]] void Throw(const Status& s) {
  throw Error(s.code() == Status::Code::kBusy ? "busy" : "storage_error", s.ToString());
}

void Write(Engine& engine, const WriteBatch& batch, WriteResults* results = nullptr) {
  if (Status s = engine.Write(batch, results); !s.ok()) Throw(s);
}

// A batch for a write to `key` at `now`: first its expired delete, if it
// expired by then, so that the write starts afresh (as the daemon's,
// daemon/operations.h). The write's own result is then the last.
WriteBatch Guarded(const Engine& engine, std::string_view key, std::uint64_t now) {
  WriteBatch batch;
  if (engine.Expired(key, now)) batch.DeleteExpired(key, now);
  return batch;
}

// A TTL of `seconds` as the daemon takes it (proto/request.cc).
void CheckTtl(std::int64_t seconds, bool expire) {
  if (seconds > proto::kMaxExpireSeconds || (!expire && seconds < 1)) {
    throw Error("invalid_request", std::string(expire ? "an expiry" : "a TTL") + " is " +
                                       (expire ? "" : "1 second or more, and ") + "at most " +
                                       std::to_string(proto::kMaxExpireSeconds) + " seconds");
  }
}

}  // namespace

std::filesystem::path DefaultDataPath() { return kvd::DefaultDataPath(); }

Embedded::Embedded(const std::filesystem::path& data_path, std::chrono::milliseconds lock_wait) {
  EngineOptions options;
  options.lock_mode = DataLock::Mode::kEmbedded;
  options.lock_wait = lock_wait;
  if (Status s = Engine::Open(data_path, options, &engine_); !s.ok()) Throw(s);
}

Embedded::~Embedded() = default;

void Embedded::Close() {
  if (Status s = engine_->DeleteExpired(UnixMillis()); !s.ok()) Throw(s);
  if (Status s = engine_->Close(); !s.ok()) Throw(s);
  engine_.reset();  // releases the lock
}

void Embedded::Append(std::string_view key, std::string_view val) {
  WriteBatch batch = Guarded(*engine_, key, UnixMillis());
  batch.Append(key, val);
  Write(*engine_, batch);
}

void Embedded::AppendWithTtl(std::string_view key, std::string_view val, std::chrono::seconds ttl) {
  CheckTtl(ttl.count(), false);
  const std::uint64_t now = UnixMillis();
  WriteBatch batch = Guarded(*engine_, key, now);
  batch.Append(key, val, {}, now + static_cast<std::uint64_t>(ttl.count()) * 1000);
  Write(*engine_, batch);
}

bool Embedded::Expire(std::string_view key, std::int64_t seconds) {
  CheckTtl(seconds, true);
  const std::uint64_t now = UnixMillis();
  WriteBatch batch = Guarded(*engine_, key, now);
  // As Redis's EXPIRE: a time not in the future deletes the key now.
  if (seconds > 0) {
    batch.Expire(key, now + static_cast<std::uint64_t>(seconds) * 1000);
  } else {
    batch.Delete(key);
  }
  WriteResults results;
  Write(*engine_, batch, &results);
  return results.applied(results.size() - 1);
}

bool Embedded::Persist(std::string_view key) {
  WriteBatch batch = Guarded(*engine_, key, UnixMillis());
  batch.Expire(key, 0);
  WriteResults results;
  Write(*engine_, batch, &results);
  return results.applied(results.size() - 1);
}

std::int64_t Embedded::TimeToLive(std::string_view key) { return engine_->TimeToLive(key); }

void Embedded::Append(std::string_view key, std::string_view val, const Condition& condition) {
  WriteBatch batch = Guarded(*engine_, key, UnixMillis());
  batch.Append(
      key, val,
      kvd::Condition{condition.on == Condition::On::kRevision ? kvd::Condition::On::kRevision
                                                              : kvd::Condition::On::kLength,
                     condition.value});
  WriteResults applied;
  Write(*engine_, batch, &applied);
  if (!applied.applied(applied.size() - 1)) {
    const std::uint64_t revision = engine_->KeyRevision(key);
    throw Conflict(std::string("not appended: the key's ") +
                       (condition.on == Condition::On::kRevision ? "revision" : "length") +
                       " is not " + std::to_string(condition.value) + "; read it again and retry",
                   revision);
  }
}

void Embedded::AppendMany(std::vector<KeyValue> items) {
  const std::uint64_t now = UnixMillis();
  WriteBatch batch;
  for (const auto& kv : items) {
    if (engine_->Expired(kv.key, now)) batch.DeleteExpired(kv.key, now);
    batch.Append(kv.key, kv.val);
  }
  Write(*engine_, batch);
}

std::vector<std::string> Embedded::Get(std::string_view key) { return Get(key, nullptr); }

std::vector<std::string> Embedded::Get(std::string_view key, std::uint64_t* revision) {
  return engine_->Get(key, revision).view().ToStrings();
}

std::vector<std::string> Embedded::GetRange(std::string_view key, std::int64_t start,
                                            std::int64_t stop, std::uint64_t* revision) {
  return engine_->GetRange(key, ListRange{start, stop}, revision).view().ToStrings();
}

std::uint64_t Embedded::Length(std::string_view key) { return engine_->Length(key); }

void Embedded::Trim(std::string_view key, std::int64_t start, std::int64_t stop) {
  WriteBatch batch = Guarded(*engine_, key, UnixMillis());
  batch.Trim(key, ListRange{start, stop});
  Write(*engine_, batch);
}

std::vector<std::string> Embedded::Pop(std::string_view key, std::uint64_t count, bool from_tail,
                                       std::chrono::milliseconds wait) {
  // What the daemon refuses (proto/request.cc, DecodePop).
  if (count == 0) throw Error("invalid_request", "a pop takes 1 value or more, not 0");
  if (wait > proto::kMaxPopWait) throw Error("invalid_request", "a pop waits 24 hours at most");
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    // Only a key with values is written to: a pop of none changes nothing.
    if (!engine_->GetRange(key, ListRange{0, 0}).empty()) {
      WriteBatch batch = Guarded(*engine_, key, UnixMillis());
      batch.Trim(key, ListRange::AfterPop(count, from_tail));
      WriteResults results;
      Write(*engine_, batch, &results);
      const std::size_t pop = results.size() - 1;
      if (results.applied(pop)) return PoppedInOrder(results.removed(pop), from_tail);
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return {};
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kPopPoll, left));
  }
}

bool Embedded::Delete(std::string_view key) {
  WriteBatch batch = Guarded(*engine_, key, UnixMillis());
  batch.Delete(key);
  WriteResults applied;
  Write(*engine_, batch, &applied);
  return applied.applied(applied.size() - 1);
}

std::vector<std::string> Embedded::Keys(std::string_view prefix) { return engine_->Keys(prefix); }

std::vector<std::pair<std::string, std::uint64_t>> Embedded::Stats() {
  const Engine::Stats s = engine_->GetStats();
  return {{"keys", s.keys}, {"values", s.values}, {"bytes", s.bytes}, {"revision", s.revision}};
}

}  // namespace kvd::client
