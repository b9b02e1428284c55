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
                  const std::function<bool()>& work_due, const std::function<bool()>& polling_pays,
                  const std::function<void()>& on_idle) {
  const bool poll_while_due = work_due && AvailableCpus() > 1;
  if (busy_poll.count() <= 0 && !poll_while_due) {
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
    const bool due_polling = !busy_polling && poll_while_due && idle < kMaxDuePoll && work_due();
    if ((busy_polling || due_polling) && (!polling_pays || polling_pays())) {
      // The thread the work is due from may be waiting for this CPU.
      if (due_polling) std::this_thread::yield();
      continue;
    }
    if (io.run_one() == 0) return;  // stopped while it slept
    idle_since = Clock::now();
  }
}

}  // namespace kvd::daemon
