// The one exception kvd's client library throws (installed as <kvd/error.h>).
#ifndef KVD_CLIENT_ERROR_H_
#define KVD_CLIENT_ERROR_H_

#include <stdexcept>
#include <string>

namespace kvd::client {

// A failure with a machine-readable code: the server's error code (see
// proto/PROTOCOL.md: "invalid_utf8", "unavailable", ...) or one of the
// client's own: "unreachable" (no daemon at the endpoint), "connection_lost",
// "bad_response", "busy" (Embedded: the data file is in use), "storage_error"
// (Embedded: the data file cannot be read or written), "bad_input".
// what() is one line for a human, naming the endpoint or file.
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message);
  ~Error() override;
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_ERROR_H_
