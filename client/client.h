// A small synchronous client for kvd, for programs that embed it (kvctl is
// one). Each method sends one request and waits for its response. Failures
// throw kvd::client::Error (backend.h).
//
// Against a cluster (doc/cluster.md) it does what a user should not have
// to: every write carries this client's id and a sequence number, so that
// the cluster applies it once however often it is sent; and a request
// answered `unavailable` (no leader: an election, a partition), or whose
// connection was lost, is sent again, the same, until the retry timeout.
#ifndef KVD_CLIENT_CLIENT_H_
#define KVD_CLIENT_CLIENT_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "client/backend.h"
#include "client/transport.h"
#include "proto/request.h"
#include "proto/response.h"

namespace kvd::client {

class Client final : public Backend {
 public:
  // Connects to the daemon at `socket_path` (a named pipe's name on
  // Windows); throws "unreachable" naming it. A request is retried (see
  // above) for up to `retry_timeout` (zero: never).
  explicit Client(const std::string& socket_path,
                  std::chrono::milliseconds retry_timeout = kDefaultRetryTimeout);
  static constexpr std::chrono::milliseconds kDefaultRetryTimeout{5000};
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Durable means: under the daemon's fsync policy. AppendMany is one
  // request and one commit.
  void Ping() override;
  void Append(std::string_view key, std::string_view val) override;
  void AppendMany(std::vector<proto::KeyValue> items) override;
  std::vector<std::string> Get(std::string_view key) override;
  bool Delete(std::string_view key) override;
  std::vector<std::string> Keys(std::string_view prefix = {}) override;
  std::vector<std::pair<std::string, std::uint64_t>> Stats() override;

  // Sends `request` and returns its successful response; a server-side error
  // is thrown as Error with the server's code. Retries as above; a write
  // should carry an origin (Write does that).
  proto::Response Call(const proto::Request& request);
  // Call for a write, with this client's id and its next sequence number.
  proto::Response Write(proto::Request request);

  std::uint64_t id() const { return id_; }

 private:
  // One attempt of Call.
  proto::Response Send(const proto::Request& request);

  std::string socket_path_;
  const std::chrono::milliseconds retry_timeout_;
  const std::uint64_t id_;  // random, never 0
  std::uint64_t last_seq_ = 0;
  boost::asio::io_context io_;
  Stream socket_;
  std::string in_;  // bytes received after the last response line
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_CLIENT_H_
