// The watch streams waiting for changes (PROTOCOL.md "watch"), on the
// network thread. A stream that has sent every change it may waits on a
// timer of its own, which Notify cancels after each commit of this node's;
// the timer also runs out every kPollInterval, for changes that came
// without one (cluster mode: replicated from the leader) and to notice a
// client that left.
#ifndef KVD_DAEMON_WATCHERS_H_
#define KVD_DAEMON_WATCHERS_H_

#include "util/asio_prelude.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kvd::daemon {

class Watchers {
 public:
  static constexpr std::chrono::milliseconds kPollInterval{50};

  // Waits on `timer` (the stream's own) until Notify, kPollInterval or a
  // cancel of the timer (the session stopping).
  boost::asio::awaitable<void> WaitForChanges(boost::asio::steady_timer& timer) {
    timer.expires_after(kPollInterval);
    waiting_.push_back(&timer);
    boost::system::error_code ignored;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &timer));
  }
  // Wakes every waiting stream: a commit may have brought changes.
  void Notify() {
    for (boost::asio::steady_timer* timer : waiting_) timer->cancel();
  }

  // A stream started, ended, or was ended for falling behind.
  void Started() { ++streams_; }
  void Ended() { --streams_; }
  void CutOff() { ++cut_off_; }
  // Streams open now, and those ended for falling behind (slow_watcher).
  std::size_t streams() const { return streams_; }
  std::uint64_t cut_off() const { return cut_off_; }

 private:
  std::vector<boost::asio::steady_timer*> waiting_;
  std::size_t streams_ = 0;
  std::uint64_t cut_off_ = 0;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_WATCHERS_H_
