#include "daemon/event_loop.h"

#include <algorithm>
#include <thread>

#ifdef __linux__
#include <sched.h>
#endif

namespace kvd::daemon {

std::chrono::microseconds DefaultBusyPoll(SyncPolicy sync) {
  return sync == SyncPolicy::kAlways ? std::chrono::microseconds(0) : kDefaultBusyPoll;
}

unsigned AvailableCpus() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return static_cast<unsigned>(CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

void RunEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll,
                  const std::function<bool()>& commit_in_flight,
                  const std::function<void()>& on_idle) {
  const bool poll_while_in_flight = commit_in_flight && AvailableCpus() > 1;
  if (busy_poll.count() <= 0 && !poll_while_in_flight && !on_idle) {
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
    if (on_idle) on_idle();
    const auto idle = Clock::now() - idle_since;
    const bool busy_polling = idle < busy_poll;
    const bool in_flight_polling =
        !busy_polling && poll_while_in_flight && idle < kMaxDuePoll && commit_in_flight();
    if (busy_polling || in_flight_polling) {
      if (in_flight_polling) std::this_thread::yield();
      continue;
    }
    if (io.run_one() == 0) return;  // stopped while it slept
    idle_since = Clock::now();
  }
}

}  // namespace kvd::daemon
