// A small synchronous client for kvd, for programs that embed it (kvctl is
// one). Each method sends one request and waits for its response. Failures
// throw kvd::client::Error (backend.h).
#ifndef KVD_CLIENT_CLIENT_H_
#define KVD_CLIENT_CLIENT_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

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
  // Windows); throws "unreachable" naming it.
  explicit Client(const std::string& socket_path);
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
  // is thrown as Error with the server's code.
  proto::Response Call(const proto::Request& request);

 private:
  std::string socket_path_;
  boost::asio::io_context io_;
  Stream socket_;
  std::string in_;  // bytes received after the last response line
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_CLIENT_H_
