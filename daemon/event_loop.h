// kvd's event loop: io_context::run(), except that when the loop runs out of
// ready work it may go on polling for new work a little before it sleeps.
//
// Why: a client that waits for each answer before it sends its next request
// finds kvd asleep every time, and the wake-up costs more than the request
// where an idle CPU halts: about 20 us per wake-up on this project's VMs
// (their guest kernels do not halt-poll), against 2-3 us of work for an
// append without fsync. Polling for a few tens of microseconds after the last
// piece of work finds the next request with the loop awake: one client's
// appends under --fsync no went from 18-20k to 37-40k a second
// (bench/compare-redis.sh; README, "Performance"). The price is CPU time: a
// client that sends its requests just often enough keeps kvd polling, up to
// a whole core, as Linux's busy_poll does for network sockets. Under
// --fsync always the wait for the disk dominates, and polling measured slower
// (one client: 8.8k -> 7.4k appends a second, 50 clients: 7% fewer; on 2
// cores, presumably the CPU time that the disk's I/O needs), so it is off
// there by default.
//
// What pays under --fsync always is narrower: polling while a commit is in
// flight on the commit thread, whose completion is due within about an
// fdatasync (~100 us here). The network thread is often idle then, and
// being woken by the completion cost another of those wake-ups per commit.
// Polling instead took 50 clients' appends from 118-124k to 134-138k a
// second to random keys and from 144-156k to 164-178k to one key, 8 clients
// from 40-43k to 43-47k (3 interleaved runs against the build before, on
// this project's 2-core VMs; 1 client: unchanged). It needs a second CPU:
// the commit thread runs as SCHED_BATCH (batch_scheduling.h) and would wait
// for a poller on its only CPU to use up its time slice. Even with two, the
// commit thread often wakes from its fdatasync on the poller's CPU (the
// clients keep the other busy), so the poller yields that CPU each round
// (sched_yield: returns at once when nothing else waits for it): 50 clients'
// appends went from 122-147k to 130-156k a second to random keys and from
// 144-170k to 142-184k to one key (8 interleaved runs each; medians 132k ->
// 142k and 164k -> 169k), 8 clients' from 39-44k to 42-46k. The plain busy
// poll does not yield: it waits for a client, which a wake-up preempts it
// for anyway, and one client's appends under --fsync no lost 8% with it.
//
// All of this assumes a CPU to spare. Where the host is short of CPU (a VM
// whose time is stolen, cpu_steal.h), polling takes from the very threads it
// waits for, and kvd does not poll at all.
#ifndef KVD_DAEMON_EVENT_LOOP_H_
#define KVD_DAEMON_EVENT_LOOP_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>

#include "store/engine.h"

namespace kvd::daemon {

// The busy poll kvd uses unless --busy-poll says otherwise: kDefaultBusyPoll
// with --fsync everysec or no, none with always (see above).
inline constexpr std::chrono::microseconds kDefaultBusyPoll{50};
std::chrono::microseconds DefaultBusyPoll(SyncPolicy sync);

// The longest the loop polls at a stretch because work is due.
inline constexpr std::chrono::microseconds kMaxDuePoll{1000};

// Runs `io`'s handlers on this thread until `io` is stopped or runs out of
// work, as io.run() does. After each stretch of work it keeps polling for
// `busy_poll` (0: not at all), and also while `work_due()` says that another
// thread will post work shortly (up to kMaxDuePoll; only where this process
// may run on more than one CPU), before it blocks for the next event; but
// only while `polling_pays()` (if given), asked before each round of
// polling (kvd's: the host is not short of CPU, see cpu_steal.h). Where it
// may poll (busy_poll or work_due given), it calls `on_idle()` (if given)
// each time it finds nothing to run, before it polls again or blocks: for
// work that can wait for such a moment (kvd's: Engine::ApplyQueued).
// Exceptions from handlers propagate, as from run().
void RunEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll,
                  const std::function<bool()>& work_due = {},
                  const std::function<bool()>& polling_pays = {},
                  const std::function<void()>& on_idle = {});

// How many CPUs this process may run on.
unsigned AvailableCpus();

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_EVENT_LOOP_H_
