// The outcome of a storage operation, in the style of LevelDB's Status: OK, or
// a kind and a message that names the file and what went wrong.
#ifndef KVD_UTIL_STATUS_H_
#define KVD_UTIL_STATUS_H_

#include <string>
#include <utility>

namespace kvd {

class Status {
 public:
  enum class Code { kOk, kCorruption, kIOError, kInvalidArgument, kBusy, kUnavailable };

  Status() = default;
  static Status OK() { return Status(); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  // The resource (a data file) belongs to someone else.
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }
  // A cluster has no leader that can take the request now; trying again
  // later may succeed.
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK", or e.g. "corruption: /tmp/storage.data: line 1, column 7 (byte 6): ...".
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace kvd

#endif  // KVD_UTIL_STATUS_H_
