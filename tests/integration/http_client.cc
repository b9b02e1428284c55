#include "tests/integration/http_client.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <stdexcept>

#include <gtest/gtest.h>

namespace kvd::testing {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (no blank line) into *r.
void ParseHead(const std::string& head, HttpResult* r) {
  std::size_t at = head.find("\r\n");
  const std::string status_line = head.substr(0, at);
  if (status_line.size() >= 12) r->status = std::stoi(status_line.substr(9, 3));
  while (at != std::string::npos && at + 2 < head.size()) {
    const std::size_t next = head.find("\r\n", at + 2);
    const std::string line = head.substr(at + 2, next == std::string::npos ? next : next - at - 2);
    if (const auto colon = line.find(':'); colon != std::string::npos) {
      r->headers[Lower(line.substr(0, colon))] =
          line.substr(line.find_first_not_of(' ', colon + 1));
    }
    at = next;
  }
}

}  // namespace

std::string HttpResult::Header(const std::string& lower_case_name) const {
  const auto it = headers.find(lower_case_name);
  return it == headers.end() ? "<no " + lower_case_name + " header>" : it->second;
}

std::optional<HttpResult> ReadHttpResponse(Connection& c) {
  std::string head;
  for (;;) {
    auto line = c.ReadLine();
    if (!line) return std::nullopt;
    if (*line == "\r") break;
    head += *line + "\n";  // *line ends in the CR
  }
  HttpResult r;
  ParseHead(head, &r);
  const auto length = r.headers.find("content-length");
  if (length != r.headers.end()) {
    auto body = c.Read(std::stoul(length->second));
    if (!body) return std::nullopt;
    r.body = *body;
  }
  return r;
}

HttpClient::HttpClient(const Daemon& kvd, std::string name) : name_(std::move(name)) {
  // The last address logged: the log file may hold earlier runs'.
  const std::string log = kvd.Log();
  const std::regex address("HTTP API on http://127\\.0\\.0\\.1:([0-9]+)/");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), address);
       it != std::sregex_iterator(); ++it) {
    port_ = static_cast<std::uint16_t>(std::stoul((*it)[1]));
  }
  if (port_ == 0) throw std::runtime_error("kvd logged no HTTP address:\n" + log);
}

std::string HttpClient::Url(const std::string& target) const {
  return "http://127.0.0.1:" + std::to_string(port_) + target;
}

HttpResult HttpClient::Curl(const std::vector<std::string>& args) const {
  static const std::string curl = FindProgram("curl");
  if (curl.empty()) throw std::runtime_error("curl is not installed (scripts/install-deps.sh)");
  std::vector<std::string> argv = {curl, "-sS", "-i", "--max-time", "60"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult run = RunCommand(argv);
  HttpResult r;
  if (run.exit_code != 0) {
    r.body = run.err;
    return r;
  }
  std::string out = run.out;
  // Interim responses (100 Continue) come first, each with its own head.
  std::size_t end;
  while ((end = out.find("\r\n\r\n")) != std::string::npos && out.starts_with("HTTP/1.1 1")) {
    out.erase(0, end + 4);
  }
  end = out.find("\r\n\r\n");
  ParseHead(out.substr(0, end), &r);
  r.body = end == std::string::npos ? "" : out.substr(end + 4);
  if (!name_.empty()) {
    EXPECT_EQ(r.Header("x-served-by"), name_) << "curl " << args.back();
  }
  return r;
}

}  // namespace kvd::testing
