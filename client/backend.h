// What kvctl talks to: the daemon over its socket (Client) or the data file
// directly through the storage engine (Embedded). Failures throw
// kvd::client::Error.
#ifndef KVD_CLIENT_BACKEND_H_
#define KVD_CLIENT_BACKEND_H_

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/request.h"

namespace kvd::client {

// A failure with a machine-readable code: the server's error code (see
// proto/PROTOCOL.md) or one of "unreachable", "connection_lost",
// "bad_response", "busy", "bad_input".
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual void Ping() = 0;
  // Returns once the value is durable.
  virtual void Append(std::string_view key, std::string_view val) = 0;
  // Appends all items in order, as one write.
  virtual void AppendMany(std::vector<proto::KeyValue> items) = 0;
  // The values of `key` in append order; empty when the key is missing.
  virtual std::vector<std::string> Get(std::string_view key) = 0;
  // Removes `key`; false if it did not exist.
  virtual bool Delete(std::string_view key) = 0;
  // Keys starting with `prefix` (all keys when empty), in byte order.
  virtual std::vector<std::string> Keys(std::string_view prefix = {}) = 0;
  virtual std::vector<std::pair<std::string, std::uint64_t>> Stats() = 0;
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_BACKEND_H_
