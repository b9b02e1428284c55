// Commits the expired deletes of keys whose expiry time has come
// (Mutation::kDeleteExpired), on the network thread: readers hide such a key
// at once, and this makes its deletion a change that a replay and every
// replica apply alike. Only the node that commits writes does it (the
// single node, or the cluster's leader), by its own clock.
#ifndef KVD_DAEMON_EXPIRER_H_
#define KVD_DAEMON_EXPIRER_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/committer.h"
#include "store/engine.h"
#include "store/write_batch.h"

namespace kvd::daemon {

class Expirer {
 public:
  // How often expired keys are looked for, and how many a commit deletes at
  // most (the rest go in the next ones, without waiting for the timer).
  static constexpr std::chrono::milliseconds kInterval{100};
  static constexpr std::size_t kMaxPerCommit = 1000;

  // Commits to `commits` the expired deletes of `engine`'s keys while
  // `commits_here` says this node commits writes.
  Expirer(boost::asio::io_context& io, const Engine& engine, Committer& commits,
          std::function<bool()> commits_here);
  Expirer(const Expirer&) = delete;
  Expirer& operator=(const Expirer&) = delete;

  void Start();
  // Commits nothing more (kvd is stopping).
  void Stop();

  // Expired deletes committed (those that deleted a key).
  std::uint64_t expired() const { return expired_; }

 private:
  void Schedule(std::chrono::milliseconds after);
  // Commits the expired deletes due now, if any and none is in flight.
  void Sweep();

  const Engine& engine_;
  Committer& commits_;
  const std::function<bool()> commits_here_;
  boost::asio::steady_timer timer_;
  WriteBatch batch_;
  bool in_flight_ = false;
  bool stopped_ = false;
  std::uint64_t expired_ = 0;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_EXPIRER_H_
