// The exceptions kvd's client library throws (installed as <kvd/error.h>):
// Error; Conflict, an Error with the code "conflict"; and WatchEnded.
#ifndef KVD_CLIENT_ERROR_H_
#define KVD_CLIENT_ERROR_H_

#include <cstdint>
#include <stdexcept>
#include <string>

namespace kvd::client {

// A failure with a machine-readable code: the server's error code (see
// proto/PROTOCOL.md: "invalid_utf8", "unavailable", ...) or one of the
// client's own: "unreachable" (no daemon at the endpoint), "connection_lost",
// "bad_response", "busy" (Embedded: the data file is in use), "storage_error"
// (Embedded: the data file cannot be read or written), "bad_input". A
// conditional append that was refused throws Conflict, an Error of its own.
// what() is one line for a human, naming the endpoint or file.
class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message);
  ~Error() override;
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// A conditional append (Backend::Append with a Condition) whose condition
// did not hold: nothing was appended. code() is "conflict"; revision() is
// the key's revision read right after (0: the key is absent), for the
// caller to read the key again and retry.
class Conflict : public Error {
 public:
  Conflict(const std::string& message, std::uint64_t revision);
  ~Conflict() override;
  std::uint64_t revision() const { return revision_; }

 private:
  std::uint64_t revision_;
};

// A watch (Client::Watch) that kvd ended: code() is "compacted" (the
// changes after the revision it asked for are no longer kept) or
// "slow_watcher" (it fell too far behind); revision() is the revision to
// watch from again: the oldest kept, or the last change the watch was sent.
class WatchEnded : public Error {
 public:
  WatchEnded(std::string code, const std::string& message, std::uint64_t revision);
  ~WatchEnded() override;
  std::uint64_t revision() const { return revision_; }

 private:
  std::uint64_t revision_;
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_ERROR_H_
