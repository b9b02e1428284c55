#include "daemon/commit_queue.h"

#include <algorithm>

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include "daemon/log.h"

namespace kvd::daemon {
namespace {

// Memory a group keeps for the next commit (a burst may have grown it).
constexpr std::size_t kKeepBytes = 1024 * 1024;

// Empties a committed batch for the next commit.
void Recycle(WriteBatch& batch) {
  batch.Clear();
  if (batch.capacity_bytes() > kKeepBytes) batch = WriteBatch();
}

}  // namespace

CommitQueue::CommitQueue(Engine& engine, Mode mode, boost::asio::any_io_executor network)
    : engine_(engine), mode_(mode), network_(std::move(network)) {
  if (mode_ == Mode::kThread) thread_ = std::thread([this] { Run(); });
}

CommitQueue::~CommitQueue() { Stop(); }

void CommitQueue::Submit(const WriteBatch& batch, Callback done) {
  // Not from inside a completion: a session resumed by a commit submits again
  // before the commit is over, and its batch waits for the turn's end. Nor
  // from the submit observer: its batch joins the one just submitted.
  if (mode_ == Mode::kInline && !completing_ && !observing_) {
    std::size_t queued;
    {
      std::lock_guard lock(mu_);
      queued = queued_.waiters.size();
    }
    if (queued >= inline_group_) CommitQueued();
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      boost::asio::post(network_, [done = std::move(done)]() mutable {
        const Status stopped = Status::IOError("the server is shutting down");
        done(CommitResult(stopped, nullptr, 0));
      });
      return;
    }
    queued_.batch.Absorb(batch);
    queued_.waiters.push_back(Waiter{batch.size(), std::move(done)});
    // Under the lock: measured faster at one client than signalling after
    // it (costs nothing while the thread is busy: nobody waits).
    if (mode_ == Mode::kThread && in_flight_ > 0) {
      handed_over_ = true;
      if (queued_.waiters.size() >= std::max<std::size_t>(gathering_for_, 1)) wake_.notify_one();
    }
  }
  if (mode_ == Mode::kThread) {
    if (in_flight_++ == 0) {
      work_ = boost::asio::prefer(network_, boost::asio::execution::outstanding_work.tracked);
      // The turn's end decides: alone, or hand over (see Mode).
      boost::asio::post(network_, [this] { CommitAloneOrHandOver(); });
    }
  } else if (!turn_end_posted_) {
    // Runs after the handlers already due in this turn of the event loop,
    // whose writes join the same commit.
    turn_end_posted_ = true;
    boost::asio::post(network_, [this] {
      turn_end_posted_ = false;
      CommitQueued();
    });
  }
  if (!observing_) {
    observing_ = true;
    ShowSubmitted(batch);
    observing_ = false;
  }
}

void CommitQueue::SetClients(std::size_t connections) {
  inline_group_ = std::max(kMinInlineGroup, connections / kInlineGroupsPerTurn);
}

void CommitQueue::AwaitReadable(Callback done) {
  boost::asio::post(network_, [done = std::move(done)]() mutable {
    done(CommitResult(Status::OK(), nullptr, 0));
  });
}

void CommitQueue::CommitAloneOrHandOver() {
  {
    std::lock_guard lock(mu_);
    if (queued_.waiters.empty()) return;  // the thread took it
    if (queued_.waiters.size() > 1 || in_flight_ > 1 || stopping_) {
      handed_over_ = true;
      wake_.notify_one();
      return;
    }
    std::swap(queued_.batch, committing_.batch);
    std::swap(queued_.waiters, committing_.waiters);
  }
  Write(committing_);
  in_flight_ -= committing_.waiters.size();
  Complete(committing_);
  Recycle(committing_.batch);
  if (in_flight_ == 0) work_ = {};
}

void CommitQueue::CommitQueued() {
  {
    std::lock_guard lock(mu_);
    if (queued_.waiters.empty()) return;
    std::swap(queued_.batch, committing_.batch);
    std::swap(queued_.waiters, committing_.waiters);
  }
  Write(committing_);
  Complete(committing_);
  Recycle(committing_.batch);
}

void CommitQueue::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

Status CommitQueue::LastCommitStatus() const {
  std::lock_guard lock(status_mu_);
  return last_status_;
}

void CommitQueue::Run() {
  for (;;) {
    std::unique_ptr<Group> group;
    {
      std::unique_lock lock(mu_);
      // Only what was handed over: a lone submission is the network thread's
      // (see Mode), also when this thread starts late or wakes spuriously.
      wake_.wait(lock, [this] { return stopping_ || (handed_over_ && !queued_.waiters.empty()); });
      if (queued_.waiters.empty()) return;  // stopping, and nothing left to commit
      AwaitLastGroupSize(lock);
      last_group_size_ = queued_.waiters.size();
      if (spare_.empty()) {
        group = std::make_unique<Group>();
      } else {
        group = std::move(spare_.back());
        spare_.pop_back();
      }
      std::swap(queued_.batch, group->batch);
      std::swap(queued_.waiters, group->waiters);
      handed_over_ = false;
    }
    const auto start = std::chrono::steady_clock::now();
    Group& committing = *group;
    // One hand-back for the whole commit, as soon as it is acknowledged:
    // appends are answered before they are applied. The network thread
    // completes the waiters and leaves the batch to this thread, which
    // recycles it once the engine is done with it (the group itself goes
    // back to spare_ only from the network thread, and only this thread
    // takes it from there).
    Write(committing, [this, &group] {
      boost::asio::post(network_, [this, group = std::move(group)]() mutable {
        in_flight_ -= group->waiters.size();
        Complete(*group);
        if (in_flight_ == 0) work_ = {};
        std::lock_guard lock(mu_);
        spare_.push_back(std::move(group));
      });
    });
    last_commit_time_ = std::chrono::steady_clock::now() - start;
    Recycle(committing.batch);
  }
}

void CommitQueue::AwaitLastGroupSize(std::unique_lock<std::mutex>& lock) {
#ifndef _WIN32
  if (stopping_ || queued_.waiters.size() >= last_group_size_) return;
  gathering_for_ = last_group_size_;
  const auto wait =
      std::min<std::chrono::steady_clock::duration>(last_commit_time_ / 2, kMaxGatherWait);
  wake_.wait_for(lock, wait,
                 [this] { return stopping_ || queued_.waiters.size() >= gathering_for_; });
  gathering_for_ = 0;
#else
  (void)lock;
#endif
}

void CommitQueue::Write(Group& group, const std::function<void()>& hand_back) {
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](const Status& status) {
    if (status.ok()) durations_.Observe(std::chrono::steady_clock::now() - start);
    group.status = status;
    {
      std::lock_guard lock(status_mu_);
      last_status_ = status;
    }
    (status.ok() ? commits_ : failed_commits_).fetch_add(1, std::memory_order_relaxed);
    if (!status.ok()) {
      log::Error("commit of " + std::to_string(group.batch.size()) +
                 " writes failed: " + status.ToString());
    }
    if (hand_back) hand_back();
  };
  const Status status = engine_.Write(group.batch, &group.results, [&] { finish(Status::OK()); });
  if (!status.ok()) finish(status);  // the engine acknowledged every success
}

void CommitQueue::Complete(Group& group) {
  // A completion may submit again: that goes to queued_, never to `group`.
  std::size_t offset = 0;
  completing_ = true;
  for (Waiter& waiter : group.waiters) {
    waiter.done(CommitResult(group.status, &group.results, offset));
    offset += waiter.size;
  }
  completing_ = false;
  group.waiters.clear();
  // Not the batch: the commit thread may be recycling it by now.
  if (group.status.ok()) ShowCommitted();
}

}  // namespace kvd::daemon
