// What kvbench needs of RESP, Redis's protocol: commands out, and the lines
// of replies in. Enough to drive Redis with the same client as kvd, so that
// a comparison measures the servers, not two clients (bench/README.md).
#ifndef KVD_BENCH_RESP_H_
#define KVD_BENCH_RESP_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kvd::bench {

// `args` as a RESP command: an array of bulk strings.
std::string RespCommand(const std::vector<std::string_view>& args);

// The first line of a reply, without its "\r\n".
struct RespHeader {
  enum class Kind { kSimple, kError, kInteger, kBulk, kArray };
  Kind kind;
  std::string_view text;  // after the type byte: a message, a number
  long long number = 0;   // kInteger, and the length of kBulk and kArray
};
// Parses `line`, as read up to its "\n"; nullopt if it is no RESP header.
std::optional<RespHeader> ParseRespHeader(std::string_view line);

}  // namespace kvd::bench

#endif  // KVD_BENCH_RESP_H_
