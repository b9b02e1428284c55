// Splits a byte stream into request lines (PROTOCOL.md, "Framing" and
// "Limits"): each line ends with "\n", a "\r" before it is dropped, and no
// line may be longer than the limit.
#ifndef KVD_PROTO_LINE_FRAMER_H_
#define KVD_PROTO_LINE_FRAMER_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace kvd::proto {

class LineFramer {
 public:
  enum class Result {
    kLine,      // *line views the next line, without its terminator, until the next Feed
    kNeedMore,  // no complete line buffered yet
    kTooLong,   // the next line exceeds the limit; the stream cannot be framed any further
  };

  // `max_line`: longest line accepted, not counting "\r\n".
  explicit LineFramer(std::size_t max_line) : max_line_(max_line) {}

  void Feed(std::string_view bytes);
  // The next complete line. kTooLong is reported as soon as the buffered
  // part of a line is over the limit, without waiting for its end, and from
  // then on for good.
  Result Next(std::string_view* line);

  // Bytes buffered that are not part of a line returned yet.
  std::size_t buffered() const { return buffer_.size() - start_; }
  std::size_t max_line() const { return max_line_; }

 private:
  const std::size_t max_line_;
  std::string buffer_;
  std::size_t start_ = 0;  // buffer_[0, start_) has been returned
  bool too_long_ = false;
};

}  // namespace kvd::proto

#endif  // KVD_PROTO_LINE_FRAMER_H_
