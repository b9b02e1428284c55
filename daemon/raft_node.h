// One member of a kvd cluster: the Raft library (libraft, with its libuv
// disk and TCP back end) on a thread of its own, applying committed entries
// to the StateMachine. Every raft_* call happens on that thread: the public
// methods, callable from any thread, hand their work over with
// uv_async_send, and completions come back on the `network` executor. The
// writes proposed while the loop is busy are merged into one log entry, so
// that a burst of writes costs one Raft round (doc/cluster.md, "Threads").
#ifndef KVD_DAEMON_RAFT_NODE_H_
#define KVD_DAEMON_RAFT_NODE_H_

#include "util/asio_prelude.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "daemon/cluster_options.h"
#include "daemon/committer.h"
#include "store/state_machine.h"
#include "store/write_batch.h"
#include "util/status.h"

namespace kvd::daemon {

class RaftNode {
 public:
  enum class Role { kUnavailable, kFollower, kCandidate, kLeader };
  struct Member {
    std::uint64_t id = 0;
    std::string address;
    bool voter = false;
  };
  // The node's Raft state as of the end of the loop's last turn.
  struct View {
    Role role = Role::kUnavailable;
    std::uint64_t leader = 0;  // 0: none known
    std::uint64_t term = 0;
    std::uint64_t applied = 0;
    std::uint64_t last_index = 0;
    std::vector<Member> members;
  };
  using Completion = std::function<void(const Status&)>;
  // With the index of the barrier's entry: applied up to it, this node's
  // state holds every write acknowledged before the barrier started.
  using BarrierDone = std::function<void(const Status&, std::uint64_t index)>;

  RaftNode(RaftOptions options, StateMachine& machine, boost::asio::any_io_executor network);
  ~RaftNode();  // Stop()
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  // Opens the Raft directory (made if missing), bootstraps the cluster of
  // options.peers if the directory is empty (unless options.join), and
  // starts the loop's thread. The state machine is restored from the
  // directory's snapshot and log as the loop runs.
  Status Start();
  // Hands leadership to another voter if this node leads, so that the
  // cluster need not wait for an election timeout once it stops; `done`
  // runs (on the network executor) once that happened or the election
  // timeout passed.
  void StepDown(Completion done);
  // Closes Raft; whatever still waits fails with Unavailable. Idempotent.
  void Stop();

  View view() const;
  // Whether this node leads with a lease: a majority stored an entry it
  // appended less than RaftOptions::lease ago, and no other node grants a
  // vote within an election timeout of hearing from its leader, so no other
  // leader can have been elected since (doc/cluster.md, "Leases"). Any
  // thread.
  bool LeaseHeld() const;
  RaftNode::Role role() const;
  std::uint64_t id() const { return options_.id; }

  // Proposes `batch` (copied, with its origins) as part of the next log
  // entry; `done` runs once the entry is committed and applied here, with
  // its results, or with Unavailable (this node does not lead, or lost the
  // lead before the entry was committed: then it may or may not be).
  void Propose(const WriteBatch& batch, Committer::Callback done);
  // Records in the directory that `node` serves its peers at `address`.
  void ProposeNodeAddress(std::uint64_t node, std::string address, Completion done);
  // A barrier shared by every caller waiting for one: `done` runs once an
  // entry appended after the call was committed and applied here: the next
  // write entry, or a barrier entry if no write is due (at most
  // kMaxBarriersInFlight in flight: the reads that come meanwhile share the
  // next, as fewer and fuller barriers cost the cluster less than a shorter
  // wait saves; doc/performance.md).
  void Barrier(BarrierDone done);
  // `done` runs once this node applied the log up to `index`, or with
  // Unavailable when it stops; a node cut off from its leader waits until
  // then, so the caller sets a deadline of its own.
  void WaitApplied(std::uint64_t index, Completion done);
  // Membership (leader only): adds `id` as a voter, once it caught up; or
  // removes it.
  void AddVoter(std::uint64_t id, std::string address, Completion done);
  void Remove(std::uint64_t id, Completion done);

 private:
  struct Loop;
  struct Proposal;

  // Runs `task` on the loop's thread; false once stopped (it never runs).
  bool Post(std::function<void()> task);
  // Loop thread: proposes the writes waiting (proposing_) as one entry,
  // unless kMaxEntriesInFlight are in flight: then they wait for one of
  // those, and what arrives meanwhile joins them (doc/cluster.md, "Threads").
  void ProposeWaiting();
  // Loop thread: hands a proposal's results to its waiters.
  void Finish(std::unique_ptr<Proposal> proposal);
  // Loop thread: an entry appended at `appended` was committed: the lease
  // runs until `appended` + RaftOptions::lease, unless a hold is on.
  void ExtendLease(std::chrono::steady_clock::time_point appended);
  // Loop thread: ends the lease; with `hold`, extends none until Release.
  void DropLease(bool hold);
  void ReleaseLease() { --lease_holds_; }
  // Completes `readers` with `status` (on the network executor) and empties it.
  void FailReaders(std::vector<BarrierDone>& readers, const Status& status);
  // Loop thread: proposes what Propose queued, runs the posted tasks.
  void OnWake();
  // Loop thread: OnWake runs on the next turn. What a library callback
  // starts next goes through here, not a raft_* call from the callback: the
  // library fails requests in the middle of a state change (a leader
  // stepping down), where a new request would touch leader state being freed.
  void WakeLoop();
  // Loop thread, after each turn: publishes the view, completes WaitApplied.
  void OnTurnEnd();
  void IssueBarrier();
  void Close();
  // Hands `fn` to the network executor.
  void Complete(std::function<void()> fn);

  const RaftOptions options_;
  StateMachine& machine_;
  const boost::asio::any_io_executor network_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  bool started_ = false;

  mutable std::mutex mu_;
  // Guarded by mu_: handed over to the loop's thread.
  std::vector<std::function<void()>> tasks_;
  std::unique_ptr<Proposal> proposing_;  // writes waiting for the next entry
  std::vector<BarrierDone> readers_;     // reads waiting for the next entry
  bool stopped_ = false;
  View view_;

  // Loop thread only.
  static constexpr int kMaxBarriersInFlight = 1;
  static constexpr int kMaxEntriesInFlight = 1;
  int entries_in_flight_ = 0;
  std::vector<BarrierDone> barrier_next_;  // waiting for the next barrier
  int barriers_in_flight_ = 0;
  std::multimap<std::uint64_t, Completion> applied_waiters_;
  WriteResults results_;  // the state machine's, for the apply callback
  // The snapshot being written, made on libuv's thread pool (the fsm's
  // snapshot_async) and freed on the loop's thread (snapshot_finalize).
  std::unique_ptr<std::string> snapshot_;
  Completion transfer_done_;  // StepDown's, while a transfer is in flight
  bool close_after_transfer_ = false;
  // Leadership transfers and membership changes in flight, during which the
  // lease's premise (this node, and only it, can be elected) may not hold.
  int lease_holds_ = 0;
  // Until when the lease runs, in steady_clock ticks; written by the loop.
  std::atomic<std::int64_t> lease_until_{0};  // Stop came during a transfer
  bool closing_ = false;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_RAFT_NODE_H_
