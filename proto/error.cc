#include "proto/error.h"

#include <array>
#include <utility>

namespace kvd::proto {
namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 15> kNames{{
    {ErrorCode::kInvalidJson, "invalid_json"},
    {ErrorCode::kInvalidUtf8, "invalid_utf8"},
    {ErrorCode::kInvalidRequest, "invalid_request"},
    {ErrorCode::kUnknownOp, "unknown_op"},
    {ErrorCode::kLineTooLong, "line_too_long"},
    {ErrorCode::kKeyTooLarge, "key_too_large"},
    {ErrorCode::kValueTooLarge, "value_too_large"},
    {ErrorCode::kTooManyConnections, "too_many_connections"},
    {ErrorCode::kPermissionDenied, "permission_denied"},
    {ErrorCode::kStorageError, "storage_error"},
    {ErrorCode::kUnavailable, "unavailable"},
    {ErrorCode::kConflict, "conflict"},
    {ErrorCode::kCompacted, "compacted"},
    {ErrorCode::kSlowWatcher, "slow_watcher"},
    {ErrorCode::kInternal, "internal"},
}};

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) {
  for (const auto& [c, name] : kNames) {
    if (c == code) return name;
  }
  return "internal";
}

std::optional<ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (const auto& [c, n] : kNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

}  // namespace kvd::proto
