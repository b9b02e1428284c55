// HTTP clients for tests of kvd --http: curl runs and raw responses read
// off a Connection.
#ifndef KVD_TESTS_INTEGRATION_HTTP_CLIENT_H_
#define KVD_TESTS_INTEGRATION_HTTP_CLIENT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace kvd::testing {

struct HttpResult {
  int status = 0;                              // 0: no response (curl failed; body holds its error)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string Header(const std::string& lower_case_name) const;
};

// The next response on `c` (status line, headers, Content-Length bytes).
std::optional<HttpResult> ReadHttpResponse(Connection& c);

// curl against a kvd started with --http 0 (the port is read from its log).
class HttpClient {
 public:
  // `name`: the X-Served-By every response must carry (unchecked if empty).
  HttpClient(const Daemon& kvd, std::string name);

  std::uint16_t port() const { return port_; }
  std::string Url(const std::string& target) const;
  // `curl -sS -i args...`.
  HttpResult Curl(const std::vector<std::string>& args) const;

 private:
  std::uint16_t port_ = 0;
  std::string name_;
};

}  // namespace kvd::testing

#endif  // KVD_TESTS_INTEGRATION_HTTP_CLIENT_H_
