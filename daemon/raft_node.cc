#include "daemon/raft_node.h"

#include <uv.h>
// The Raft library's headers declare C functions without extern "C".
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}

#include <cstring>

#include <boost/asio/post.hpp>

#include "daemon/log.h"
#include "store/command.h"

namespace kvd::daemon {
namespace {

// Loop thread: how long the Raft back end waits before it connects to a
// peer again; short, so that a restarted node rejoins within a heartbeat or
// so (the library's default is a second).
constexpr unsigned kConnectRetryMs = 100;

Status FromRaft(int rv, const std::string& what) {
  switch (rv) {
    case RAFT_NOTLEADER:
      return Status::Unavailable("this node is not the leader");
    case RAFT_LEADERSHIPLOST:
      return Status::Unavailable("the leader lost its leadership before " + what +
                                 " was committed; it may or may not have been");
    case RAFT_SHUTDOWN:
    case RAFT_CANCELED:
      return Status::Unavailable("the node is stopping");
    default:
      return Status::IOError(what + ": " + raft_strerror(rv));
  }
}

Status Stopping() { return Status::Unavailable("the node is stopping"); }

// Loop thread, at the end of each turn of a leader. libraft (0.15 to 0.18)
// strands a follower that lost its disk: the leader keeps the index the
// follower had acknowledged (match_index), at or past the snapshot it now
// sends it, so the follower's answer (the snapshot's index) does not raise
// match_index and replicationUpdate (src/replication.c) returns at
// `if (!progressMaybeUpdate(...)) return 0;` without leaving the snapshot
// state; from then on the follower gets only heartbeats at the leader's last
// index, whose rejections progressMaybeDecrement ignores, until the
// install-snapshot timeout (30 s) ends that state. A follower that kept its
// log is never sent a snapshot at or below its match_index (only for an
// entry older than the leader's log, which is older than the snapshot), so
// such a match_index is stale: it is reset, and the follower's answer to
// the snapshot sets it again.
// Only where the library shows struct raft_progress (meson.build); where it
// hides it, such a follower waits for the install-snapshot timeout.
void ForgetStaleMatches([[maybe_unused]] struct raft& r) {
#ifdef KVD_RAFT_PROGRESS_VISIBLE
  constexpr unsigned short kProgressSnapshot = 2;  // PROGRESS__SNAPSHOT (src/progress.h)
  if (raft_state(&r) != RAFT_LEADER || r.leader_state.progress == nullptr) return;
  for (unsigned i = 0; i < r.configuration.n; ++i) {
    raft_progress& p = r.leader_state.progress[i];
    if (r.configuration.servers[i].id != r.id && p.state == kProgressSnapshot &&
        p.match_index >= p.snapshot_index) {
      log::Notice("cluster: node " + std::to_string(r.configuration.servers[i].id) +
                  " lost entries it had stored (its disk?); it is sent the snapshot at " +
                  std::to_string(p.snapshot_index) + ", then the entries after it");
      p.match_index = 0;
    }
  }
#endif
}

// Loop thread: sets TCP_NODELAY on every TCP handle of the loop, which the
// Raft library opens without it. With Nagle's algorithm a small message
// written while the last one is unacknowledged waits for the peer's delayed
// ACK, and replication stalled for 40 ms at a time under load.
void NoDelayOnEveryTcpHandle(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* handle, void*) {
        if (handle->type == UV_TCP && !uv_is_closing(handle)) {
          uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(handle), 1);
        }
      },
      nullptr);
}

// `entry` in a buffer of the Raft library's, zero-padded to a multiple of 8
// bytes: its disk format requires it (the padding decodes as nothing, see
// command::Decode). base is null if out of memory.
raft_buffer EntryBuffer(const std::string& entry) {
  const std::size_t size = (entry.size() + 7) / 8 * 8;
  raft_buffer buf{raft_malloc(size), size};
  if (buf.base != nullptr) {
    std::memcpy(buf.base, entry.data(), entry.size());
    std::memset(static_cast<char*>(buf.base) + entry.size(), 0, size - entry.size());
  }
  return buf;
}

}  // namespace

struct RaftNode::Loop {
  uv_loop_t uv{};
  uv_async_t wake{};
  uv_check_t turn_end{};
  raft_uv_transport transport{};
  raft_io io{};
  raft_fsm fsm{};
  struct raft raft {};
  struct raft_transfer transfer {};
  bool raft_initialized = false;
  std::uint64_t published_configuration = 0;  // configuration index of view_.members
  std::uint64_t published_uncommitted = 0;
};

// Writes merged into one entry, and who waits for them.
struct RaftNode::Proposal {
  WriteBatch batch;
  std::vector<std::pair<std::size_t, Committer::Callback>> waiters;  // mutations each, in order
  struct raft_apply request {};
  Status status;
  WriteResults results;
  boost::asio::any_io_executor work;  // keeps the network's io_context running meanwhile
  RaftNode* node = nullptr;
  std::chrono::steady_clock::time_point appended;  // when raft_apply took it
  // Reads that came before this entry was appended: its commit serves them
  // as a barrier would.
  std::vector<BarrierDone> readers;
};

RaftNode::RaftNode(RaftOptions options, StateMachine& machine, boost::asio::any_io_executor network)
    : options_(std::move(options)),
      machine_(machine),
      network_(std::move(network)),
      loop_(std::make_unique<Loop>()) {}

RaftNode::~RaftNode() { Stop(); }

Status RaftNode::Start() {
  std::string address;
  for (const RaftPeer& p : options_.peers) {
    if (p.id == options_.id) address = p.address;
  }
  if (address.empty()) {
    return Status::InvalidArgument("node " + std::to_string(options_.id) + " is not in --peers");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) return Status::IOError("cannot make " + options_.dir.string() + ": " + ec.message());

  Loop& l = *loop_;
  if (int rv = uv_loop_init(&l.uv); rv != 0) {
    return Status::IOError(std::string("uv_loop_init: ") + uv_strerror(rv));
  }
  l.wake.data = this;
  uv_async_init(&l.uv, &l.wake, [](uv_async_t* h) { static_cast<RaftNode*>(h->data)->OnWake(); });
  l.turn_end.data = this;
  uv_check_init(&l.uv, &l.turn_end);
  uv_check_start(&l.turn_end, [](uv_check_t* h) { static_cast<RaftNode*>(h->data)->OnTurnEnd(); });

  // Snapshots are asynchronous (version 3): the state machine is frozen on
  // this thread, its text made on libuv's thread pool while entries go on
  // being applied, and the buffers are ours (snapshot_finalize frees them):
  // a large store made the loop miss heartbeats while it was written out.
  l.fsm.version = 3;
  l.fsm.data = this;
  l.fsm.apply = [](raft_fsm* fsm, const raft_buffer* buf, void** result) {
    auto* node = static_cast<RaftNode*>(fsm->data);
    node->machine_.Apply(std::string_view(static_cast<const char*>(buf->base), buf->len),
                         &node->results_);
    *result = &node->results_;
    return 0;  // an entry that does not decode is skipped alike on every node
  };
  l.fsm.snapshot = [](raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
    static_cast<RaftNode*>(fsm->data)->machine_.BeginSnapshot();
    *bufs = nullptr;
    *n = 0;
    return 0;
  };
  l.fsm.snapshot_async = [](raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
    auto* node = static_cast<RaftNode*>(fsm->data);
    node->snapshot_ = std::make_unique<std::string>(node->machine_.FinishSnapshot());
    *bufs = new raft_buffer[1]{{node->snapshot_->data(), node->snapshot_->size()}};
    *n = 1;
    return 0;
  };
  l.fsm.snapshot_finalize = [](raft_fsm* fsm, raft_buffer* bufs[], unsigned* n) {
    auto* node = static_cast<RaftNode*>(fsm->data);
    node->machine_.EndSnapshot();
    delete[] * bufs;
    *bufs = nullptr;
    *n = 0;
    node->snapshot_.reset();
    return 0;
  };
  l.fsm.restore = [](raft_fsm* fsm, raft_buffer* buf) {
    auto* node = static_cast<RaftNode*>(fsm->data);
    const Status s =
        node->machine_.Restore(std::string_view(static_cast<const char*>(buf->base), buf->len));
    if (!s.ok()) return RAFT_CORRUPT;
    raft_free(buf->base);  // ours once restored
    return 0;
  };

  auto fail = [&](const std::string& what, const char* message) {
    Close();
    uv_run(&l.uv, UV_RUN_DEFAULT);  // runs the closes
    uv_loop_close(&l.uv);
    return Status::IOError(what + ": " + message);
  };
  if (int rv = raft_uv_tcp_init(&l.transport, &l.uv); rv != 0) {
    return fail("raft_uv_tcp_init", raft_strerror(rv));
  }
  if (int rv = raft_uv_init(&l.io, &l.uv, options_.dir.c_str(), &l.transport); rv != 0) {
    const std::string message = l.io.errmsg;
    raft_uv_tcp_close(&l.transport);
    return fail("cannot use " + options_.dir.string(), message.c_str());
  }
  raft_uv_set_connect_retry_delay(&l.io, kConnectRetryMs);
  // The libuv back end has async_work, which asynchronous snapshots need,
  // though libraft 0.15 still labels it version 1.
  if (l.io.async_work != nullptr && l.io.version < 2) l.io.version = 2;
  if (int rv = raft_init(&l.raft, &l.io, &l.fsm, options_.id, address.c_str()); rv != 0) {
    const std::string message = raft_errmsg(&l.raft);
    raft_uv_close(&l.io);
    raft_uv_tcp_close(&l.transport);
    return fail("raft_init", message.c_str());
  }
  l.raft.data = this;
  l.raft_initialized = true;
  if (!options_.join) {
    // Every node bootstraps the same configuration: its first entry is the
    // same everywhere, so a node that starts afresh later is caught up from
    // it like any follower.
    raft_configuration configuration;
    raft_configuration_init(&configuration);
    int rv = 0;
    for (const RaftPeer& p : options_.peers) {
      if (rv == 0) rv = raft_configuration_add(&configuration, p.id, p.address.c_str(), RAFT_VOTER);
    }
    if (rv == 0) rv = raft_bootstrap(&l.raft, &configuration);
    raft_configuration_close(&configuration);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
      return fail("cannot bootstrap the cluster in " + options_.dir.string(), raft_errmsg(&l.raft));
    }
  }
  raft_set_election_timeout(&l.raft, static_cast<unsigned>(options_.election_timeout.count()));
  raft_set_heartbeat_timeout(&l.raft, static_cast<unsigned>(options_.heartbeat_timeout.count()));
  raft_set_snapshot_threshold(&l.raft, options_.snapshot_threshold);
  raft_set_snapshot_trailing(&l.raft, options_.snapshot_trailing);
  // A node cut off for a while does not depose the leader when it returns.
  raft_set_pre_vote(&l.raft, true);
  if (int rv = raft_start(&l.raft); rv != 0) {
    return fail("cannot start Raft in " + options_.dir.string(), raft_errmsg(&l.raft));
  }
  started_ = true;
  thread_ = std::thread([this] { uv_run(&loop_->uv, UV_RUN_DEFAULT); });
  return Status::OK();
}

void RaftNode::Close() {
  Loop& l = *loop_;
  if (l.transfer.data != nullptr) {
    // raft_close during a leadership transfer crashes the library: close
    // once it is over (OnTurnEnd), which also lets the transfer succeed.
    close_after_transfer_ = true;
    return;
  }
  if (closing_) return;
  closing_ = true;
  FailReaders(barrier_next_, Stopping());
  for (auto& [index, done] : applied_waiters_) {
    Complete([done = std::move(done)] { done(Stopping()); });
  }
  applied_waiters_.clear();
  auto close_handles = [](Loop& l) {
    uv_close(reinterpret_cast<uv_handle_t*>(&l.wake), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&l.turn_end), nullptr);
  };
  if (!l.raft_initialized) {
    close_handles(l);
    return;
  }
  raft_close(&l.raft, [](struct raft* r) {
    auto* node = static_cast<RaftNode*>(r->data);
    Loop& l = *node->loop_;
    raft_uv_close(&l.io);
    raft_uv_tcp_close(&l.transport);
    uv_close(reinterpret_cast<uv_handle_t*>(&l.wake), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&l.turn_end), nullptr);
  });
}

void RaftNode::Stop() {
  if (!started_) return;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    tasks_.push_back([this] { Close(); });
    uv_async_send(&loop_->wake);
  }
  thread_.join();
  uv_loop_close(&loop_->uv);
  // What the loop never took: fail it.
  std::unique_ptr<Proposal> left;
  {
    std::lock_guard lock(mu_);
    left = std::move(proposing_);
    tasks_.clear();
    view_.role = Role::kUnavailable;
    view_.leader = 0;
  }
  if (left) {
    left->status = Stopping();
    Complete([p = std::shared_ptr<Proposal>(std::move(left))] {
      for (auto& [n, done] : p->waiters) done(CommitResult(p->status, nullptr, 0));
    });
  }
}

void RaftNode::Complete(std::function<void()> fn) { boost::asio::post(network_, std::move(fn)); }

bool RaftNode::Post(std::function<void()> task) {
  // Under the lock, as in Propose and Stop: the handle is closed only after
  // Stop, so a send that found the node running is never to a closed one.
  std::lock_guard lock(mu_);
  if (stopped_) return false;
  tasks_.push_back(std::move(task));
  uv_async_send(&loop_->wake);
  return true;
}

RaftNode::View RaftNode::view() const {
  std::lock_guard lock(mu_);
  return view_;
}

bool RaftNode::LeaseHeld() const {
  return std::chrono::steady_clock::now().time_since_epoch().count() <
         lease_until_.load(std::memory_order_acquire);
}

void RaftNode::ExtendLease(std::chrono::steady_clock::time_point appended) {
  if (options_.lease.count() == 0 || lease_holds_ > 0) return;
  const std::int64_t until = (appended + options_.lease).time_since_epoch().count();
  if (until > lease_until_.load(std::memory_order_relaxed)) {
    lease_until_.store(until, std::memory_order_release);
  }
}

void RaftNode::DropLease(bool hold) {
  if (hold) ++lease_holds_;
  lease_until_.store(0, std::memory_order_release);
}

RaftNode::Role RaftNode::role() const {
  std::lock_guard lock(mu_);
  return view_.role;
}

void RaftNode::Propose(const WriteBatch& batch, Committer::Callback done) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      if (!proposing_) {
        proposing_ = std::make_unique<Proposal>();
        proposing_->work =
            boost::asio::prefer(network_, boost::asio::execution::outstanding_work.tracked);
        wake = true;
      }
      proposing_->batch.Absorb(batch);
      proposing_->waiters.emplace_back(batch.size(), std::move(done));
      if (wake) uv_async_send(&loop_->wake);
      return;
    }
  }
  boost::asio::post(network_, [done = std::move(done)]() mutable {
    const Status stopping = Stopping();
    done(CommitResult(stopping, nullptr, 0));
  });
}

void RaftNode::OnWake() {
  std::vector<std::function<void()>> tasks;
  std::vector<BarrierDone> readers;
  bool riding = false;
  {
    std::lock_guard lock(mu_);
    tasks.swap(tasks_);
    readers.swap(readers_);
    // Reads ride on the write entry due next, if any: it is appended after
    // they came.
    if (proposing_ && !closing_) {
      proposing_->readers.insert(proposing_->readers.end(),
                                 std::make_move_iterator(readers.begin()),
                                 std::make_move_iterator(readers.end()));
      readers.clear();
      riding = true;
    }
  }
  if (closing_) {
    FailReaders(readers, Stopping());
  } else if (!riding) {
    barrier_next_.insert(barrier_next_.end(), std::make_move_iterator(readers.begin()),
                         std::make_move_iterator(readers.end()));
    IssueBarrier();
  }
  ProposeWaiting();
  for (auto& task : tasks) task();
}

void RaftNode::WakeLoop() {
  if (!closing_) uv_async_send(&loop_->wake);  // closing: the handle may be closed
}

void RaftNode::ProposeWaiting() {
  if (entries_in_flight_ >= kMaxEntriesInFlight && !closing_) return;
  std::unique_ptr<Proposal> proposal;
  {
    std::lock_guard lock(mu_);
    proposal = std::move(proposing_);
  }
  if (!proposal) return;
  if (closing_) {
    proposal->status = Stopping();
    return Finish(std::move(proposal));
  }
  std::string entry;
  command::EncodeWrites(proposal->batch, &entry);
  raft_buffer buf = EntryBuffer(entry);
  int rv = RAFT_NOMEM;
  if (buf.base != nullptr) {
    proposal->request.data = proposal.get();
    proposal->node = this;
    proposal->appended = std::chrono::steady_clock::now();
    rv = raft_apply(&loop_->raft, &proposal->request, &buf, 1,
                    [](struct raft_apply* request, int status, void* result) {
                      std::unique_ptr<Proposal> p(static_cast<Proposal*>(request->data));
                      auto* node = static_cast<RaftNode*>(p->node);
                      --node->entries_in_flight_;
                      if (status == 0) {
                        node->ExtendLease(p->appended);
                        p->results = std::move(*static_cast<WriteResults*>(result));
                        if (p->results.size() != p->batch.size()) {
                          p->status = Status::IOError("the state machine refused the entry");
                        }
                      } else {
                        p->status = FromRaft(status, "the write");
                      }
                      node->Finish(std::move(p));
                      node->WakeLoop();  // proposes what waits, outside the library's call
                    });
  }
  if (rv != 0) {
    if (buf.base != nullptr) raft_free(buf.base);
    proposal->status = FromRaft(rv, "the write");
    Finish(std::move(proposal));
  } else {
    ++entries_in_flight_;
    proposal.release();  // the callback's
  }
}

void RaftNode::Finish(std::unique_ptr<Proposal> proposal) {
  Complete([p = std::shared_ptr<Proposal>(std::move(proposal))] {
    std::size_t offset = 0;
    for (auto& [n, done] : p->waiters) {
      done(CommitResult(p->status, &p->results, offset));
      offset += n;
    }
    for (BarrierDone& done : p->readers) done(p->status, p->request.index);
  });
}

void RaftNode::FailReaders(std::vector<BarrierDone>& readers, const Status& status) {
  if (readers.empty()) return;
  Complete([readers = std::move(readers), status] {
    for (const BarrierDone& done : readers) done(status, 0);
  });
  readers.clear();
}

void RaftNode::OnTurnEnd() {
  Loop& l = *loop_;
  if (close_after_transfer_ && l.transfer.data == nullptr) {
    close_after_transfer_ = false;
    Close();
  }
  if (closing_) return;
  struct raft& r = l.raft;
  ForgetStaleMatches(r);
  NoDelayOnEveryTcpHandle(&l.uv);
  if (raft_state(&r) != RAFT_LEADER) DropLease(false);
  const std::uint64_t applied = raft_last_applied(&r);
  while (!applied_waiters_.empty() && applied_waiters_.begin()->first <= applied) {
    Complete([done = std::move(applied_waiters_.begin()->second)] { done(Status::OK()); });
    applied_waiters_.erase(applied_waiters_.begin());
  }
  raft_id leader = 0;
  const char* leader_address = nullptr;
  raft_leader(&r, &leader, &leader_address);
  std::lock_guard lock(mu_);
  switch (raft_state(&r)) {
    case RAFT_FOLLOWER:
      view_.role = Role::kFollower;
      break;
    case RAFT_CANDIDATE:
      view_.role = Role::kCandidate;
      break;
    case RAFT_LEADER:
      view_.role = Role::kLeader;
      break;
    default:
      view_.role = Role::kUnavailable;
      break;
  }
  view_.leader = leader;
  view_.term = r.current_term;
  view_.applied = applied;
  view_.last_index = raft_last_index(&r);
  if (l.published_configuration != r.configuration_index ||
      l.published_uncommitted != r.configuration_uncommitted_index) {
    l.published_configuration = r.configuration_index;
    l.published_uncommitted = r.configuration_uncommitted_index;
    view_.members.clear();
    for (unsigned i = 0; i < r.configuration.n; ++i) {
      const raft_server& server = r.configuration.servers[i];
      view_.members.push_back(Member{server.id, server.address, server.role == RAFT_VOTER});
    }
  }
}

void RaftNode::ProposeNodeAddress(std::uint64_t node, std::string address, Completion done) {
  auto work = boost::asio::prefer(network_, boost::asio::execution::outstanding_work.tracked);
  struct Request {
    struct raft_apply request {};
    Completion done;
    RaftNode* node;
    boost::asio::any_io_executor work;
  };
  auto task = [this, node, address = std::move(address), done, work]() {
    std::string entry;
    command::EncodeNodeAddress(node, address, &entry);
    raft_buffer buf = EntryBuffer(entry);
    if (buf.base == nullptr) return Complete([done] { done(Status::IOError("out of memory")); });
    auto* r = new Request{{}, done, this, work};
    r->request.data = r;
    const int rv = raft_apply(
        &loop_->raft, &r->request, &buf, 1, [](struct raft_apply* request, int status, void*) {
          std::unique_ptr<Request> r(static_cast<Request*>(request->data));
          const Status s = status == 0 ? Status::OK() : FromRaft(status, "the address");
          r->node->Complete([r = std::shared_ptr<Request>(std::move(r)), s] { r->done(s); });
        });
    if (rv != 0) {
      raft_free(buf.base);
      delete r;
      const Status s = FromRaft(rv, "the address");
      Complete([done, s] { done(s); });
    }
  };
  if (!Post(std::move(task))) Complete([done] { done(Stopping()); });
}

void RaftNode::Barrier(BarrierDone done) {
  auto work = boost::asio::prefer(network_, boost::asio::execution::outstanding_work.tracked);
  BarrierDone tracked = [done = std::move(done), work](const Status& s, std::uint64_t index) {
    done(s, index);
  };
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      readers_.push_back(std::move(tracked));
      uv_async_send(&loop_->wake);
      return;
    }
  }
  Complete([tracked] { tracked(Stopping(), 0); });
}

void RaftNode::IssueBarrier() {
  if (barrier_next_.empty() || closing_ || barriers_in_flight_ == kMaxBarriersInFlight) return;
  struct Request {
    struct raft_barrier request {};
    std::vector<BarrierDone> waiters;
    RaftNode* node;
    std::chrono::steady_clock::time_point appended;
  };
  auto* r = new Request{{}, std::move(barrier_next_), this, std::chrono::steady_clock::now()};
  barrier_next_.clear();
  r->request.data = r;
  const int rv =
      raft_barrier(&loop_->raft, &r->request, [](struct raft_barrier* request, int status) {
        std::unique_ptr<Request> r(static_cast<Request*>(request->data));
        RaftNode* node = r->node;
        --node->barriers_in_flight_;
        if (status == 0) node->ExtendLease(r->appended);
        const Status s = status == 0 ? Status::OK() : FromRaft(status, "the read barrier");
        const std::uint64_t index = r->request.index;
        node->Complete([waiters = std::move(r->waiters), s, index] {
          for (const BarrierDone& done : waiters) done(s, index);
        });
        node->WakeLoop();  // issues the barrier for those who came meanwhile
      });
  if (rv != 0) {
    FailReaders(r->waiters, FromRaft(rv, "the read barrier"));
    delete r;
    return;
  }
  ++barriers_in_flight_;
}

void RaftNode::WaitApplied(std::uint64_t index, Completion done) {
  // Not tracked as work of the network's io_context: a node cut off from
  // the leader may wait for ever, and its caller has a deadline of its own.
  Completion tracked = std::move(done);
  const bool posted = Post([this, index, tracked] {
    if (closing_) return Complete([tracked] { tracked(Stopping()); });
    if (raft_last_applied(&loop_->raft) >= index)
      return Complete([tracked] { tracked(Status::OK()); });
    applied_waiters_.emplace(index, tracked);
  });
  if (!posted) Complete([tracked] { tracked(Stopping()); });
}

namespace {

// A membership change in flight: raft_add, then raft_assign to make the
// node a voter (the library catches it up first).
struct Change {
  raft_change request{};
  std::function<void(int)> next;
};

void ChangeDone(raft_change* request, int status) {
  std::unique_ptr<Change> c(static_cast<Change*>(request->data));
  c->next(status);
}

}  // namespace

void RaftNode::AddVoter(std::uint64_t id, std::string address, Completion done) {
  auto work = boost::asio::prefer(network_, boost::asio::execution::outstanding_work.tracked);
  auto finish = [this, done, work](int rv) {
    ReleaseLease();
    const Status s = rv == 0 ? Status::OK() : FromRaft(rv, "the membership change");
    Complete([done, s] { done(s); });
  };
  const bool posted = Post([this, id, address, finish] {
    DropLease(true);
    auto assign = [this, id, finish] {
      auto* change = new Change{{}, finish};
      change->request.data = change;
      const int rv = raft_assign(&loop_->raft, &change->request, id, RAFT_VOTER, ChangeDone);
      if (rv != 0) {
        delete change;
        finish(rv);
      }
    };
    auto* add = new Change{{}, [this, assign, finish](int rv) {
                             if (rv != 0) return finish(rv);
                             if (!Post(assign)) finish(RAFT_SHUTDOWN);
                           }};
    add->request.data = add;
    const int rv = raft_add(&loop_->raft, &add->request, id, address.c_str(), ChangeDone);
    if (rv != 0) {
      delete add;
      finish(rv);
    }
  });
  if (!posted) Complete([done] { done(Stopping()); });
}

void RaftNode::Remove(std::uint64_t id, Completion done) {
  auto work = boost::asio::prefer(network_, boost::asio::execution::outstanding_work.tracked);
  auto finish = [this, done, work](int rv) {
    ReleaseLease();
    const Status s = rv == 0 ? Status::OK() : FromRaft(rv, "the membership change");
    Complete([done, s] { done(s); });
  };
  const bool posted = Post([this, id, finish] {
    DropLease(true);
    auto* change = new Change{{}, finish};
    change->request.data = change;
    const int rv = raft_remove(&loop_->raft, &change->request, id, ChangeDone);
    if (rv != 0) {
      delete change;
      finish(rv);
    }
  });
  if (!posted) Complete([done] { done(Stopping()); });
}

void RaftNode::StepDown(Completion done) {
  auto work = boost::asio::prefer(network_, boost::asio::execution::outstanding_work.tracked);
  Completion tracked = [done = std::move(done), work](const Status& s) { done(s); };
  const bool posted = Post([this, tracked] {
    Loop& l = *loop_;
    if (closing_ || raft_state(&l.raft) != RAFT_LEADER || l.transfer.data != nullptr) {
      return Complete([tracked] { tracked(Status::OK()); });
    }
    transfer_done_ = tracked;
    l.transfer.data = this;
    // The node it hands over to is elected without waiting a timeout.
    DropLease(true);
    const int rv = raft_transfer(&l.raft, &l.transfer, 0, [](struct raft_transfer* t) {
      auto* node = static_cast<RaftNode*>(t->data);
      t->data = nullptr;
      node->ReleaseLease();
      node->Complete([done = std::move(node->transfer_done_)] { done(Status::OK()); });
    });
    if (rv != 0) {
      ReleaseLease();
      l.transfer.data = nullptr;
      Complete([done = std::move(transfer_done_)] { done(Status::OK()); });
    }
  });
  if (!posted) Complete([tracked] { tracked(Status::OK()); });
}

}  // namespace kvd::daemon
