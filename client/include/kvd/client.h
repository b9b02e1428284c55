// A small synchronous client for kvd (installed as <kvd/client.h>; kvctl
// uses it). Each method sends one request and waits for its response.
// Failures throw kvd::client::Error (<kvd/error.h>). One Client is one
// connection: use it from one thread at a time; open one per thread.
//
// Against a cluster (doc/cluster.md) it does what a user should not have
// to: every write carries this client's id and a sequence number, so that
// the cluster applies it once however often it is sent; and a request
// answered `unavailable` (no leader: an election, a partition), or whose
// connection was lost, is sent again, the same, until the retry timeout.
#ifndef KVD_CLIENT_CLIENT_H_
#define KVD_CLIENT_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kvd/backend.h"

namespace kvd::client {

class Connection;  // the connection behind a Client: not part of the interface

// Where kvd listens by default, as kvctl finds it: $KVD_SOCKET if set, else
// $XDG_RUNTIME_DIR/kvd.sock, else <temp dir>/kvd.sock; on Windows
// $KVD_SOCKET if set, else the named pipe \\.\pipe\kvd.
std::string DefaultSocketPath();

// A change a watch streams (PROTOCOL.md "watch").
struct Change {
  std::uint64_t revision = 0;
  std::string key;
  // "append", "delete", "trim" (a trim or a pop), "expire" or "persist"
  std::string kind;
  std::vector<std::string> values;  // append: the value; trim: those it removed
  std::uint64_t at_ms = 0;          // expire: when the key expires; append: its TTL's end; else 0
};

class Client final : public Backend {
 public:
  // Connects to the daemon at `socket_path` (a named pipe's name on
  // Windows); throws "unreachable" naming it. A request is retried (see
  // above) for up to `retry_timeout` (zero: never).
  explicit Client(const std::string& socket_path,
                  std::chrono::milliseconds retry_timeout = kDefaultRetryTimeout);
  static constexpr std::chrono::milliseconds kDefaultRetryTimeout{5000};
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Durable means: under the daemon's fsync policy. AppendMany is one
  // request and one commit.
  void Ping() override;
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

  // Streams the changes to keys starting with `prefix` after revision
  // `from` (none: after the store's revision now) to `on_change`, in
  // revision order, until it returns false. A stream that kvd ends throws
  // WatchEnded (compacted, slow_watcher: with the revision to watch from
  // again), or Error "connection_lost" (kvd stopped). The stream has a
  // connection of its own, closed once Watch returns or throws: the
  // Client's other calls go on as before (from other threads only while
  // they do not share the Client, as always).
  void Watch(std::string_view prefix, std::optional<std::uint64_t> from,
             const std::function<bool(const Change&)>& on_change);

  // This client's id in its writes: random, never 0.
  std::uint64_t id() const;

 private:
  friend struct ClientAccess;  // in-tree code's raw requests (client/call.h)
  std::unique_ptr<Connection> connection_;
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_CLIENT_H_
