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
#ifndef KVD_DAEMON_EVENT_LOOP_H_
#define KVD_DAEMON_EVENT_LOOP_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <chrono>

#include <boost/asio/io_context.hpp>

#include "store/engine.h"

namespace kvd::daemon {

// The busy poll kvd uses unless --busy-poll says otherwise: kDefaultBusyPoll
// with --fsync everysec or no, none with always (see above).
inline constexpr std::chrono::microseconds kDefaultBusyPoll{50};
std::chrono::microseconds DefaultBusyPoll(SyncPolicy sync);

// Runs `io`'s handlers on this thread until `io` is stopped or runs out of
// work, as io.run() does. After each stretch of work it keeps polling for
// `busy_poll` (0: not at all) before it blocks for the next event.
// Exceptions from handlers propagate, as from run().
void RunEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_EVENT_LOOP_H_
