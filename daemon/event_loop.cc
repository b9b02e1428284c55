#include "daemon/event_loop.h"

namespace kvd::daemon {

std::chrono::microseconds DefaultBusyPoll(SyncPolicy sync) {
  return sync == SyncPolicy::kAlways ? std::chrono::microseconds(0) : kDefaultBusyPoll;
}

void RunEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll) {
  if (busy_poll.count() <= 0) {
    io.run();
    return;
  }
  using Clock = std::chrono::steady_clock;
  auto idle_since = Clock::now();
  for (;;) {
    // Runs what is ready, the reactor polled without blocking.
    if (io.poll() > 0) {
      idle_since = Clock::now();
      continue;
    }
    if (io.stopped()) return;  // poll() stops it once no work is left
    if (Clock::now() - idle_since < busy_poll) continue;
    if (io.run_one() == 0) return;  // stopped while it slept
    idle_since = Clock::now();
  }
}

}  // namespace kvd::daemon
