// Logging to stderr with systemd's "<N>" priority prefixes (sd-daemon(3)),
// one line per message, safe from any thread. No timestamps, ever: under
// systemd stderr is the journal (JOURNAL_STREAM), which stamps each line
// itself and reads the prefix as the priority, and elsewhere whoever
// collects stderr stamps it; kvd's own would be doubled.
#ifndef KVD_DAEMON_LOG_H_
#define KVD_DAEMON_LOG_H_

#include <chrono>
#include <string_view>

namespace kvd::log {

enum class Priority { kErr = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };

void Write(Priority priority, std::string_view message);

inline void Error(std::string_view m) { Write(Priority::kErr, m); }
inline void Warning(std::string_view m) { Write(Priority::kWarning, m); }
inline void Notice(std::string_view m) { Write(Priority::kNotice, m); }
inline void Info(std::string_view m) { Write(Priority::kInfo, m); }

// For a message that a flood could repeat (refused connections): Allow() is
// true at most once per `interval`.
class Throttle {
 public:
  explicit Throttle(std::chrono::steady_clock::duration interval) : interval_(interval) {}
  bool Allow() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < interval_) return false;
    last_ = now;
    return true;
  }

 private:
  const std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace kvd::log

#endif  // KVD_DAEMON_LOG_H_
