// Where sessions send their writes, and what their reads wait for: the
// single node's commit queue (commit_queue.h), or in cluster mode the
// replicated log (cluster.h). Both complete on the network thread.
#ifndef KVD_DAEMON_COMMITTER_H_
#define KVD_DAEMON_COMMITTER_H_

#include "util/asio_prelude.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <boost/asio/async_result.hpp>

#include "daemon/inline_callback.h"
#include "daemon/latency_histogram.h"
#include "store/write_batch.h"
#include "store/write_results.h"
#include "util/status.h"

namespace kvd::daemon {

// The outcome of one submitted batch, as its completion sees it. A view of
// its commit's results: valid while the completion runs (a coroutine resumed
// by it: until it next suspends).
class CommitResult {
 public:
  // `revisions`, if given, holds per mutation of the commit the key's
  // revision for an append whose condition did not hold, as the node that
  // decided read it (a follower's forwarded writes).
  CommitResult(const Status& status, const WriteResults* results, std::size_t offset,
               const std::vector<std::uint64_t>* revisions = nullptr)
      : status_(&status), results_(results), offset_(offset), revisions_(revisions) {}

  // Unavailable (cluster mode): no leader could take the batch, or the
  // leader was lost before it answered; only a batch with an origin
  // (WriteBatch::SetOrigin) is then safe to submit again.
  const Status& status() const { return *status_; }
  // Engine::Write's result for mutation `i` of the batch (WriteResults);
  // only if status() is OK.
  bool applied(std::size_t i) const { return results_->applied(offset_ + i); }
  ValueView removed(std::size_t i) const { return results_->removed(offset_ + i); }
  // For mutation `i`, an append whose condition did not hold: the key's
  // revision right after the commit, if the result carries it (a write
  // forwarded to the leader: the leader's); nullopt: the committing node
  // applied it, and its engine has it (Engine::KeyRevision).
  std::optional<std::uint64_t> conflict_revision(std::size_t i) const {
    if (revisions_ == nullptr) return std::nullopt;
    return (*revisions_)[offset_ + i];
  }

 private:
  const Status* status_;
  const WriteResults* results_;                  // the whole commit's
  std::size_t offset_;                           // where the batch's mutations start in it
  const std::vector<std::uint64_t>* revisions_;  // the whole commit's, if carried
};

class Committer {
 public:
  using Callback = InlineCallback<const CommitResult&>;

  virtual ~Committer() = default;

  // Commits a copy of `batch`; on the network thread only. `done` runs on
  // the network thread once the batch is durable and applied (or failed),
  // never inside this call for this batch. One submitter's batches commit
  // in the order submitted.
  virtual void Submit(const WriteBatch& batch, Callback done) = 0;

  // Asio form of Submit: completes with CommitResult. `batch` must stay
  // unchanged until the operation has started (with use_awaitable: the
  // awaiting coroutine has suspended).
  template <typename Token>
  auto AsyncSubmit(const WriteBatch& batch, Token&& token) {
    return boost::asio::async_initiate<Token, void(CommitResult)>(
        [this](auto handler, const WriteBatch* batch) {
          Submit(*batch, [handler = std::move(handler)](const CommitResult& result) mutable {
            std::move(handler)(result);
          });
        },
        token, &batch);
  }

  // Whether a read must wait before it may read the engine, so that it sees
  // every write acknowledged before it started (cluster mode: linearizable
  // reads); if so, AwaitReadable says when.
  virtual bool ReadsWait() const { return false; }
  // `done` runs on the network thread once a read that starts now may read
  // the engine: with an OK status (no results), or with the
  // reason it may not (Unavailable).
  virtual void AwaitReadable(Callback done) = 0;

  template <typename Token>
  auto AsyncAwaitReadable(Token&& token) {
    return boost::asio::async_initiate<Token, void(CommitResult)>(
        [this](auto handler) {
          AwaitReadable([handler = std::move(handler)](const CommitResult& result) mutable {
            std::move(handler)(result);
          });
        },
        token);
  }

  // Network thread: how many connections the server holds now, which may
  // submit (the single node sizes its commits by it).
  virtual void SetClients(std::size_t connections) { (void)connections; }

  // Whether kvd can persist writes right now, as far as it knows: the
  // outcome of the latest commit (OK before the first).
  virtual Status LastCommitStatus() const = 0;
  // Network thread: whether a commit is in flight on another thread, whose
  // completion is then due within about a commit's time (the event loop
  // polls for it meanwhile).
  virtual bool CommitInFlight() const { return false; }

  // Network thread: `observer` is called after each commit that succeeded,
  // once its submitters' completions ran (pop waiters look for values then,
  // pop_waiters.h). A committer that calls none leaves them to poll.
  void SetCommitObserver(std::function<void()> observer) { commit_observer_ = std::move(observer); }

  // Network thread: `observer` sees each batch just submitted, and may
  // submit in turn: what it submits commits after that batch, in the same
  // commit if the committer can (pop waiters' pops join the append they
  // wait for, pop_waiters.h). A committer that calls none leaves them to the
  // commit observer.
  void SetSubmitObserver(std::function<void(const WriteBatch&)> observer) {
    submit_observer_ = std::move(observer);
  }

  virtual std::uint64_t commits() const = 0;
  virtual std::uint64_t failed_commits() const = 0;
  // How long the successful commits took, if this committer times them (the
  // single node's commit queue; cluster mode's commits are Raft's).
  virtual std::optional<LatencyHistogram::Snapshot> commit_durations() const {
    return std::nullopt;
  }

 protected:
  // Tells the observer, if there is one, that a commit succeeded.
  void ShowCommitted() const {
    if (commit_observer_) commit_observer_();
  }
  // Shows the observer, if there is one, a batch just submitted.
  void ShowSubmitted(const WriteBatch& batch) const {
    if (submit_observer_) submit_observer_(batch);
  }

 private:
  std::function<void()> commit_observer_;
  std::function<void(const WriteBatch&)> submit_observer_;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_COMMITTER_H_
