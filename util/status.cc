#include "util/status.h"

namespace kvd {

std::string Status::ToString() const {
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kCorruption:
      return "corruption: " + message_;
    case Code::kIOError:
      return "I/O error: " + message_;
    case Code::kInvalidArgument:
      return "invalid argument: " + message_;
    case Code::kBusy:
      return "busy: " + message_;
    case Code::kUnavailable:
      return "unavailable: " + message_;
  }
  return message_;
}

}  // namespace kvd
