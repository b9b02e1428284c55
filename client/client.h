// A small synchronous client for kvd, for programs that embed it (kvctl is
// one). Each method sends one request and waits for its response. Failures
// throw kvd::client::Error with a machine-readable code: the server's error
// code (see proto/PROTOCOL.md) or one of "unreachable", "connection_lost",
// "bad_response".
#ifndef KVD_CLIENT_CLIENT_H_
#define KVD_CLIENT_CLIENT_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "proto/request.h"
#include "proto/response.h"

namespace kvd::client {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

class Client {
 public:
  // Connects to the daemon at `socket_path`; throws "unreachable" naming it.
  explicit Client(const std::string& socket_path);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void Ping();
  // Returns once the value is durable under the daemon's fsync policy.
  void Append(std::string_view key, std::string_view val);
  // Appends all items in order with one request and one commit.
  void AppendMany(std::vector<proto::KeyValue> items);
  // The values of `key` in append order; empty when the key is missing.
  std::vector<std::string> Get(std::string_view key);
  // Removes `key`; false if it did not exist.
  bool Delete(std::string_view key);
  // Keys starting with `prefix` (all keys when empty), in byte order.
  std::vector<std::string> Keys(std::string_view prefix = {});
  std::vector<std::pair<std::string, std::uint64_t>> Stats();

  // Sends `request` and returns its successful response; a server-side error
  // is thrown as Error with the server's code.
  proto::Response Call(const proto::Request& request);

 private:
  std::string socket_path_;
  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::socket socket_;
  std::string in_;  // bytes received after the last response line
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_CLIENT_H_
