// kvd's event loop: io_context::run(), except that when the loop runs out of
// ready work it may go on polling for new work a little before it sleeps.
//
// Why: a client that waits for each answer before it sends its next request
// finds kvd asleep every time, and where an idle CPU halts without polling
// first (a VM whose guest kernel does not halt-poll) the wake-up costs more
// than the request. Polling a little after the last piece of work finds the
// next request with the loop awake. The price is CPU time: a client that sends
// its requests just often enough keeps kvd polling, up to a whole core, as
// Linux's busy_poll does for network sockets. Under --fsync always the wait
// for the disk dominates and polling measured slower, so it is off there by
// default.
//
// What pays under --fsync always is narrower: polling while a commit is in
// flight on the commit thread, whose completion is due within about an
// fdatasync; being woken by the completion would cost another wake-up per
// commit. It needs a second CPU: the commit thread runs as SCHED_BATCH
// (batch_scheduling.h) and would wait for a poller on its only CPU to use up
// its time slice. Even with two, the commit thread often wakes from its
// fdatasync on the poller's CPU (the clients keep the other busy), so the
// poller yields that CPU each round (sched_yield: returns at once when
// nothing else waits for it). The plain busy poll does not yield: it waits
// for a client, which a wake-up preempts it for anyway.
//
// All of this assumes a CPU to spare. Where the host is short of CPU (a VM
// whose time is stolen, cpu_steal.h), polling takes from the very threads it
// waits for, and kvd does not poll at all. The reasons at length:
// doc/design.md, "Busy polling" and the sections after it.
#ifndef KVD_DAEMON_EVENT_LOOP_H_
#define KVD_DAEMON_EVENT_LOOP_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>

#include "store/engine.h"

namespace kvd::daemon {

// The busy poll kvd uses unless --busy-poll says otherwise: kDefaultBusyPoll
// with --fsync everysec or no, none with always (see above).
inline constexpr std::chrono::microseconds kDefaultBusyPoll{50};
std::chrono::microseconds DefaultBusyPoll(SyncPolicy sync);

// The longest the loop polls at a stretch while a commit is in flight.
inline constexpr std::chrono::microseconds kMaxDuePoll{1000};

// Runs `io`'s handlers on this thread until `io` is stopped or runs out of
// work, as io.run() does. After each stretch of work it keeps polling for
// `busy_poll` (0: not at all), and also while `commit_in_flight()` says that
// another thread is committing and will post the completion shortly (up to
// kMaxDuePoll; only where this process may run on more than one CPU), before
// it blocks for the next event; but only while `polling_pays()` (if given),
// asked before each round of polling (kvd's: the host is not short of CPU,
// see cpu_steal.h). Where it may poll (busy_poll or commit_in_flight given),
// it calls `on_idle()` (if given) each time it finds nothing to run, before
// it polls again or blocks: for work that can wait for such a moment (kvd's:
// Engine::ApplyQueued).
// Exceptions from handlers propagate, as from run().
void RunEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll,
                  const std::function<bool()>& commit_in_flight = {},
                  const std::function<bool()>& polling_pays = {},
                  const std::function<void()>& on_idle = {});

// How many CPUs this process may run on.
unsigned AvailableCpus();

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_EVENT_LOOP_H_
