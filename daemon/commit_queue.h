// Group commit: sessions hand in write batches, and what waits is merged into
// a single Engine::Write (one fsync covers them all). With fsync the I/O runs
// on a thread of its own, so readers and other clients keep being served
// meanwhile. Submitters are completed on the network thread, in the order
// they submitted, without an allocation per batch.
#ifndef KVD_DAEMON_COMMIT_QUEUE_H_
#define KVD_DAEMON_COMMIT_QUEUE_H_

#include "util/asio_prelude.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "daemon/committer.h"
#include "daemon/inline_callback.h"
#include "store/engine.h"
#include "store/write_batch.h"

namespace kvd::daemon {

class CommitQueue final : public Committer {
 public:
  // kThread commits on a thread of its own, merging what waits meanwhile
  // (for fsync=always, where a commit waits for the disk); each commit's
  // completions come back to the network thread in one go. Except a lone
  // submission: when nothing is in flight and one submitter is all that a
  // turn of the event loop brought, it is committed on the network thread
  // at the turn's end, as Redis does every commit (the hand-over to the
  // thread and back, two wake-ups across cores, cost more than the other
  // clients' wait for that fsync). Under steady load the thread waits a
  // little before each commit for as many submitters as the last commit
  // carried (see kMaxGatherWait). kInline commits
  // on the network thread, once per turn of its event loop, merging what the
  // sessions handed in during that turn (a commit without fsync is a write to
  // the page cache: cheaper done than handed over, and one write for all the
  // clients served in a turn rather than one each), and completes the
  // submitters right there. A turn's commit covers at most a quarter of
  // the connections (SetClients), and at least kMinInlineGroup submitters:
  // the one after them commits them first, so their clients get their
  // answers, and go on, while the rest of the turn is served (all at the
  // end kept a few busy clients in lock step with the server: it idled
  // while they worked, and they while it did), in a few journal writes a
  // turn however many clients write (doc/design.md, "Inline commits").
  enum class Mode { kThread, kInline };
  static constexpr std::size_t kMinInlineGroup = 4;
  // kInline: a group is at most this share of the connections (a quarter).
  static constexpr std::size_t kInlineGroupsPerTurn = 4;
  // kThread: when fewer submitters wait than the last commit carried, the
  // thread waits for that many, up to half the last commit's time and at
  // most kMaxGatherWait. Why: the clients of the last commit are on their
  // way back; committing the first few alone makes the rest wait for that
  // whole fsync before theirs begins, so commits alternate between a few
  // clients and the rest. Waiting a fraction of a commit for them makes one
  // commit of the two (doc/design.md, "The gather wait"). When load falls, a
  // wait that runs out commits what has come, and that size becomes the
  // next target. Not on Windows, where a timed wait lasts a clock tick
  // (15.6 ms by default).
  static constexpr std::chrono::microseconds kMaxGatherWait{2000};
  // `network` is the executor of the thread that submits (the sessions').
  CommitQueue(Engine& engine, Mode mode, boost::asio::any_io_executor network);
  ~CommitQueue();  // Stop()
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues a copy of `batch`; on the network thread only. `done` runs on the
  // network thread once the batch is durable (or failed), never inside this
  // call for this batch (kInline: earlier submitters' may run inside it, see
  // Mode). The completions of one commit run one after the other,
  // in submission order; one that submits again joins a later commit. After
  // Stop(), fails (through a post).
  void Submit(const WriteBatch& batch, Callback done) override;

  // Commits what is queued, then stops the thread. Idempotent.
  void Stop();

  // The outcome of the latest commit (OK before the first): whether kvd can
  // persist writes right now, as far as it knows. A failed commit (a full
  // disk, an I/O error) makes it the error until a later commit succeeds.
  Status LastCommitStatus() const override;

  // Network thread: whether submissions wait for the commit thread (kThread),
  // whose completion is then due within about a commit's time.
  bool CommitInFlight() const override { return in_flight_ > 0; }

  // kInline: sizes a turn's commits (see Mode).
  void SetClients(std::size_t connections) override;

  // A single node reads what it has written: reads never wait.
  void AwaitReadable(Callback done) override;

  std::uint64_t commits() const override { return commits_.load(std::memory_order_relaxed); }
  std::uint64_t failed_commits() const override {
    return failed_commits_.load(std::memory_order_relaxed);
  }
  // Engine::Write's time until it acknowledged, per successful commit.
  std::optional<LatencyHistogram::Snapshot> commit_durations() const override {
    return durations_.Read();
  }

 private:
  struct Waiter {
    std::size_t size;  // mutations in its batch
    Callback done;
  };
  // The batches of one commit, merged, and who waits for them.
  struct Group {
    WriteBatch batch;
    std::vector<Waiter> waiters;
    Status status;
    WriteResults results;
  };

  void Run();
  // Run, before a commit (mu_ held): waits for as many submitters as the
  // last commit carried (see kMaxGatherWait).
  void AwaitLastGroupSize(std::unique_lock<std::mutex>& lock);
  // Commits what is queued, if anything, and completes it (kInline).
  void CommitQueued();
  // kThread, at the end of a turn that started with nothing in flight:
  // commits a lone submission here, or wakes the thread for more.
  void CommitAloneOrHandOver();
  // Commits `group` as one Engine::Write and records its status; then calls
  // `hand_back`, if given, as soon as the engine acknowledges the commit
  // (for appends: before they are applied, see Engine::Write), or once the
  // commit failed. Without `hand_back` (a commit on the network thread, which
  // has nothing to overlap with the rest of Write) the caller completes the
  // group after.
  void Write(Group& group, const std::function<void()>& hand_back = {});
  // Runs the completions of `group` on the network thread, in order, and
  // empties its waiters (their memory stays for the next commit). The batch
  // is left to the committing thread.
  void Complete(Group& group);

  Engine& engine_;
  const Mode mode_;
  const boost::asio::any_io_executor network_;
  std::mutex mu_;
  std::condition_variable wake_;
  Group queued_;                               // batch and waiters guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::vector<std::unique_ptr<Group>> spare_;  // guarded by mu_; kThread: done with
  std::size_t gathering_for_ = 0;              // guarded by mu_: submitters Run waits for; 0: any
  bool handed_over_ = false;                   // guarded by mu_: Run may take what is queued
  bool turn_end_posted_ = false;               // network thread; kInline
  bool completing_ = false;                    // network thread: in Complete()
  bool observing_ = false;                     // network thread: in ShowSubmitted()
  // Network thread, kInline: the most submitters a commit covers (see Mode).
  std::size_t inline_group_ = kMinInlineGroup;
  Group committing_;  // the group being committed on the network thread
  // kThread, network thread: submissions not completed yet, and while there
  // are any, a tracked executor: io_context::run() must not return while a
  // commit is in flight.
  std::size_t in_flight_ = 0;
  boost::asio::any_io_executor work_;
  mutable std::mutex status_mu_;
  Status last_status_;  // guarded by status_mu_
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> failed_commits_{0};
  LatencyHistogram durations_;  // observed before commits_ counts the commit
  // Run's thread: what the last commit it made carried and how long it took.
  std::size_t last_group_size_ = 0;
  std::chrono::steady_clock::duration last_commit_time_{};
  std::thread thread_;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_COMMIT_QUEUE_H_
