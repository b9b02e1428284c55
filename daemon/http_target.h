// The target of an HTTP request ("/path?query"), decoded: the path split
// into segments and the query into name/value pairs, each percent-decoded
// (RFC 3986; in the query, and in form bodies, '+' is a space as HTML forms
// send it) and checked to be UTF-8, the one rule every key and value obeys.
#ifndef KVD_DAEMON_HTTP_TARGET_H_
#define KVD_DAEMON_HTTP_TARGET_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kvd::daemon::http {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Target {
  // "/" -> {}, "/a/b%2Fc" -> {"a", "b/c"}, "/a/" -> {"a", ""}.
  std::vector<std::string> segments;
  Params query;  // in the order given
};

// Decodes `target` (origin form: it starts with '/'). Returns why it could
// not be decoded: a bad %-escape or invalid UTF-8.
std::optional<std::string> ParseTarget(std::string_view target, Target* out);

// Appends the pairs of "a=1&b=x+y" (a query string or a form body) to *out.
std::optional<std::string> ParseForm(std::string_view text, Params* out);

// The value of the first parameter named `name`, or null.
const std::string* FindParam(const Params& params, std::string_view name);

}  // namespace kvd::daemon::http

#endif  // KVD_DAEMON_HTTP_TARGET_H_
