// Pops that wait for a value ({"op":"pop",...,"wait":S}, PROTOCOL.md "pop"),
// on the network thread. A pop that found its key empty parks here, in
// arrival order per key. When a key with waiters holds values again (seen
// after a commit, or by the poll below), the pops of as many
// of its first waiters as it holds values are committed again, together and
// in that order: each value goes to exactly one of them, by the same trim
// mutations a replay or a replica applies. A waiter whose pop took nothing
// (another client's pop came first) keeps its place. When an append to a
// key with waiters is submitted, their pops are submitted right after it,
// ahead of its commit: one commit then carries both (as Redis serves BLPOP
// within the push), not the append's and then the pops' own.
#ifndef KVD_DAEMON_POP_WAITERS_H_
#define KVD_DAEMON_POP_WAITERS_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/committer.h"
#include "daemon/inline_callback.h"
#include "proto/request.h"
#include "store/engine.h"
#include "store/write_batch.h"

namespace kvd::daemon {

class PopWaiters {
 public:
  // Completes a wait: the values taken, in the order the pop answers them
  // (PoppedInOrder), or none when its wait ran out or kvd is stopping; or a
  // failed commit's status.
  using Done = InlineCallback<const Status&, std::vector<std::string>>;

  // Commits the waiters' pops to `commits`, and reads `engine` to tell
  // whether a key holds values.
  PopWaiters(boost::asio::io_context& io, const Engine& engine, Committer& commits);
  PopWaiters(const PopWaiters&) = delete;
  PopWaiters& operator=(const PopWaiters&) = delete;

  // Whether the client that waits is still there to take values (see Wait).
  using Alive = std::function<bool()>;

  // Parks `pop` (whose key was empty) until it takes values or its wait
  // (pop.wait from now) runs out. If `alive` is given, a waiter whose client
  // it finds gone is dropped (answered with nothing) before its pop would
  // take values that nobody then receives.
  void Wait(const proto::Request& pop, Done done, Alive alive = {});

  template <typename Token>
  auto AsyncWait(const proto::Request& pop, Token&& token, Alive alive = {}) {
    return boost::asio::async_initiate<Token, void(Status, std::vector<std::string>)>(
        [this](auto handler, const proto::Request* pop, Alive alive) {
          Wait(
              *pop,
              [handler = std::move(handler)](const Status& s,
                                             std::vector<std::string> values) mutable {
                std::move(handler)(s, std::move(values));
              },
              std::move(alive));
        },
        token, &pop, std::move(alive));
  }

  // Serves the waiters of every key that holds values now: after each
  // commit (Committer::SetCommitObserver) and each poll. Cheap: few keys
  // have waiters, and those are empty while they do.
  void ServeAll();

  // Serves the waiters of the keys that `batch`, just submitted, appends to,
  // counting its values as there (Committer::SetSubmitObserver): their pops
  // commit after it. If that commit fails, they wait on, as if the append
  // had never come.
  void ServeAhead(const WriteBatch& batch);

  // Answers every waiter with nothing, and takes no more (kvd is stopping).
  void Stop();

  // Pops waiting now.
  std::size_t waiting() const { return waiting_; }

 private:
  struct Waiter {
    Waiter(std::uint64_t id, const proto::Request& pop, Done done, Alive alive,
           boost::asio::io_context& io)
        : id(id), pop(pop), done(std::move(done)), alive(std::move(alive)), deadline(io) {}
    std::uint64_t id;
    proto::Request pop;  // key, count, end
    Done done;
    Alive alive;
    boost::asio::steady_timer deadline;
    bool in_flight = false;  // its pop is being committed
    bool expired = false;    // the wait ran out meanwhile
  };
  struct Key {
    std::list<Waiter> waiters;  // in arrival order
    bool serving = false;       // a commit of the first waiters' pops is in flight
    bool again = false;         // values may have come meanwhile: serve once more
  };

  // Commits the pops of the first waiters of `key`, if it holds values, or
  // will once `arriving` values submitted before them are committed.
  void Serve(const std::string& key, std::size_t arriving = 0);
  // The waiter `it` of `k` is done: forgets it and answers it (posted: the
  // answer resumes its session, which may park again).
  void Finish(Key& k, std::list<Waiter>::iterator it, const Status& s,
              std::vector<std::string> values);
  // The waiter `id` of `key`, or null.
  std::list<Waiter>::iterator Find(Key& k, std::uint64_t id);
  // The deadline of waiter `id` of `key` passed.
  void Expire(const std::string& key, std::uint64_t id);
  // Keys whose values came without a commit of this node's (cluster mode:
  // another node's, replicated): looked at every kPollInterval while any
  // waiter waits.
  void SchedulePoll();

  boost::asio::io_context& io_;
  const Engine& engine_;
  Committer& commits_;
  std::unordered_map<std::string, Key> keys_;
  std::size_t waiting_ = 0;
  std::uint64_t next_id_ = 0;
  bool stopped_ = false;
  boost::asio::steady_timer poll_;
  bool polling_ = false;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_POP_WAITERS_H_
