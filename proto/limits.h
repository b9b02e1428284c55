// Size limits of the kvd wire protocol (see PROTOCOL.md, "Limits").
#ifndef KVD_PROTO_LIMITS_H_
#define KVD_PROTO_LIMITS_H_

#include <cstddef>

namespace kvd::proto {

// Longest request line a server accepts by default, not counting the '\n'.
// Servers may be configured otherwise; a longer line is answered with
// line_too_long and the connection is closed, since the rest of it cannot be
// framed reliably.
inline constexpr std::size_t kDefaultMaxLine = 1024 * 1024;

}  // namespace kvd::proto

#endif  // KVD_PROTO_LIMITS_H_
