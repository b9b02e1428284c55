// The error object of the kvd wire protocol (see PROTOCOL.md, "Errors").
#ifndef KVD_PROTO_ERROR_H_
#define KVD_PROTO_ERROR_H_

#include <optional>
#include <string>
#include <string_view>

namespace kvd::proto {

// Stable, machine-readable error codes. Their snake_case names are part of the
// protocol: never rename one, only add new ones.
enum class ErrorCode {
  kInvalidJson,         // the line is not a JSON document
  kInvalidUtf8,         // the line (or a string escape in it) is not valid UTF-8
  kInvalidRequest,      // valid JSON, but not a request object of the right shape
  kUnknownOp,           // "op" names no operation this server knows
  kLineTooLong,         // the line exceeds the server's limit; the server closes the connection
  kKeyTooLarge,         // a key exceeds the server's limit; nothing of the request happened
  kValueTooLarge,       // a value exceeds the server's limit; nothing of the request happened
  kTooManyConnections,  // the server is at its connection limit; it closes this one
  kPermissionDenied,    // the peer's uid/gid is not allowed; the server closes the connection
  kStorageError,        // the write could not be made durable; it did not happen
  kUnavailable,         // cluster mode: no leader can take the request now; retry later
  kConflict,            // a conditional append's condition did not hold; nothing changed
  kCompacted,           // a watch from a revision whose changes are no longer kept
  kSlowWatcher,         // a watch that fell too far behind was ended; resume it
  kInternal,            // a bug in kvd, or (client side) a code this client does not know
};

std::string_view ErrorCodeName(ErrorCode code);
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);

struct Error {
  ErrorCode code;
  std::string message;
};

}  // namespace kvd::proto

#endif  // KVD_PROTO_ERROR_H_
