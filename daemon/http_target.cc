#include "daemon/http_target.h"

#include "util/utf8.h"

namespace kvd::daemon::http {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Decode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      const bool complete = i + 2 < in.size();
      const int hi = complete ? HexDigit(in[i + 1]) : -1;
      const int lo = complete ? HexDigit(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return "'%' not followed by two hex digits";
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(plus_is_space && in[i] == '+' ? ' ' : in[i]);
    }
  }
  if (!IsValidUtf8(*out)) return std::string("not valid UTF-8 once percent-decoded");
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ParseTarget(std::string_view target, Target* out) {
  out->segments.clear();
  out->query.clear();
  if (target.empty() || target.front() != '/') {
    return std::string("the request target must be a path starting with '/'");
  }
  const auto question = target.find('?');
  std::string_view path =
      target.substr(1, question == std::string_view::npos ? target.npos : question - 1);
  if (question != std::string_view::npos) {
    if (auto e = ParseForm(target.substr(question + 1), &out->query)) return "query: " + *e;
  }
  if (path.empty()) return std::nullopt;
  for (;;) {
    const auto slash = path.find('/');
    std::string segment;
    if (auto e = Decode(path.substr(0, slash), false, &segment)) return "path: " + *e;
    out->segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return std::nullopt;
}

std::optional<std::string> ParseForm(std::string_view text, Params* out) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const auto eq = pair.find('=');
    std::string name, value;
    if (auto e = Decode(pair.substr(0, eq), true, &name)) return *e;
    if (eq != std::string_view::npos) {
      if (auto e = Decode(pair.substr(eq + 1), true, &value))
        return "parameter " + name + ": " + *e;
    }
    out->emplace_back(std::move(name), std::move(value));
  }
  return std::nullopt;
}

const std::string* FindParam(const Params& params, std::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return &v;
  }
  return nullptr;
}

}  // namespace kvd::daemon::http
