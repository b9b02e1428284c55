// The watch streams waiting for changes (PROTOCOL.md "watch"), on the
// network thread. A stream that has sent every change it may waits on a
// timer of its own that never runs out, which Notify cancels: after each
// commit of this node's, and every kPollInterval while any stream is open,
// for changes that came without one (cluster mode: replicated from the
// leader) and to let streams notice a client that left.
#ifndef KVD_DAEMON_WATCHERS_H_
#define KVD_DAEMON_WATCHERS_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace kvd::daemon {

class Watchers {
 public:
  static constexpr std::chrono::milliseconds kPollInterval{50};

  explicit Watchers(boost::asio::io_context& io) : poll_(io) {}
  Watchers(const Watchers&) = delete;
  Watchers& operator=(const Watchers&) = delete;

  // Waits on `timer` (the stream's own) until Notify or a cancel of the
  // timer (the session stopping). True if the poll woke it: time to look
  // at the client.
  boost::asio::awaitable<bool> WaitForChanges(boost::asio::steady_timer& timer);
  // Wakes every waiting stream: a commit may have brought changes.
  void Notify();

  // A stream started or ended; while any is open, the poll runs.
  void Started();
  void Ended() { --streams_; }
  // A stream was ended for falling behind (slow_watcher).
  void CutOff() { ++cut_off_; }
  std::size_t streams() const { return streams_; }
  std::uint64_t cut_off() const { return cut_off_; }

 private:
  boost::asio::awaitable<void> Poll();

  boost::asio::steady_timer poll_;
  bool polling_ = false;
  std::uint64_t polls_ = 0;  // counts the poll's wake-ups
  std::vector<boost::asio::steady_timer*> waiting_;
  std::size_t streams_ = 0;
  std::uint64_t cut_off_ = 0;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_WATCHERS_H_
