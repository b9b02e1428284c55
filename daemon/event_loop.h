// kvd's event loop: io_context::run(), except that when the loop runs out of
// ready work it may go on polling for new work a little before it sleeps,
// because a wake-up can cost more than a request (doc/design.md, "Busy
// polling" and "Polling while a commit is in flight").
#ifndef KVD_DAEMON_EVENT_LOOP_H_
#define KVD_DAEMON_EVENT_LOOP_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>

#include "store/engine.h"

namespace kvd::daemon {

// The busy poll kvd uses unless --busy-poll says otherwise: kDefaultBusyPoll
// with --fsync everysec or no, none with always (where the wait for the disk
// dominates).
inline constexpr std::chrono::microseconds kDefaultBusyPoll{50};
std::chrono::microseconds DefaultBusyPoll(SyncPolicy sync);

// The longest the loop polls at a stretch while a commit is in flight.
inline constexpr std::chrono::microseconds kMaxDuePoll{1000};

// Runs `io`'s handlers on this thread until `io` is stopped or runs out of
// work, as io.run() does. After each stretch of work it keeps polling for
// `busy_poll` (0: not at all), and also while `commit_in_flight()` says that
// another thread is committing and will post the completion shortly: up to
// kMaxDuePoll, yielding the CPU each round (the committing thread may have
// woken on it), and only where this process may run on more than one CPU
// (that thread needs one). Then it blocks for the next event. Each time it
// finds nothing to run, before it polls again or blocks, it calls `on_idle()`
// (if given): for work that can wait for such a moment (kvd's:
// Engine::ApplyQueued). Exceptions from handlers propagate, as from run().
void RunEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll,
                  const std::function<bool()>& commit_in_flight = {},
                  const std::function<void()>& on_idle = {});

// How many CPUs this process may run on.
unsigned AvailableCpus();

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_EVENT_LOOP_H_
