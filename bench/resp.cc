#include "bench/resp.h"

#include <charconv>

namespace kvd::bench {

std::string RespCommand(const std::vector<std::string_view>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string_view arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n";
    out += arg;
    out += "\r\n";
  }
  return out;
}

std::optional<RespHeader> ParseRespHeader(std::string_view line) {
  if (line.size() < 2 || line.back() != '\r') return std::nullopt;
  line.remove_suffix(1);
  RespHeader header{RespHeader::Kind::kSimple, line.substr(1)};
  switch (line.front()) {
    case '+':
      return header;
    case '-':
      header.kind = RespHeader::Kind::kError;
      return header;
    case ':':
      header.kind = RespHeader::Kind::kInteger;
      break;
    case '$':
      header.kind = RespHeader::Kind::kBulk;
      break;
    case '*':
      header.kind = RespHeader::Kind::kArray;
      break;
    default:
      return std::nullopt;
  }
  const char* end = header.text.data() + header.text.size();
  const auto [ptr, ec] = std::from_chars(header.text.data(), end, header.number);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return header;
}

}  // namespace kvd::bench
