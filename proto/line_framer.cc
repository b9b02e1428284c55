#include "proto/line_framer.h"

namespace kvd::proto {

void LineFramer::Feed(std::string_view bytes) {
  if (too_long_) return;
  // Drop what was returned before growing, so the buffer stays about one line long.
  if (start_ > 0) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

LineFramer::Result LineFramer::Next(std::string_view* line) {
  if (too_long_) return Result::kTooLong;
  const std::size_t nl = buffer_.find('\n', start_);
  if (nl == std::string::npos) {
    // max_line bytes and a "\r" may still be followed by a valid "\n".
    if (buffered() > max_line_ + 1) too_long_ = true;
    return too_long_ ? Result::kTooLong : Result::kNeedMore;
  }
  std::size_t end = nl;
  if (end > start_ && buffer_[end - 1] == '\r') --end;
  if (end - start_ > max_line_) {
    too_long_ = true;
    return Result::kTooLong;
  }
  *line = std::string_view(buffer_).substr(start_, end - start_);
  start_ = nl + 1;
  return Result::kLine;
}

}  // namespace kvd::proto
