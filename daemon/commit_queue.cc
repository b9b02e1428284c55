#include "daemon/commit_queue.h"

#include "daemon/log.h"

namespace kvd::daemon {

CommitQueue::CommitQueue(Engine& engine, Mode mode) : engine_(engine), mode_(mode) {
  if (mode_ == Mode::kThread) thread_ = std::thread([this] { Run(); });
}

CommitQueue::~CommitQueue() { Stop(); }

void CommitQueue::Submit(WriteBatch batch, Callback done) {
  if (mode_ == Mode::kInline) {
    std::deque<Pending> group;
    group.push_back(Pending{std::move(batch), std::move(done)});
    return Commit(group);
  }
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(batch), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(CommitResult{Status::IOError("the server is shutting down"), {}});
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
    std::deque<Pending> group;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to commit
      group.swap(queue_);
    }
    Commit(group);
  }
}

void CommitQueue::Commit(std::deque<Pending>& group) {
  WriteBatch merged;
  std::vector<std::size_t> sizes;
  sizes.reserve(group.size());
  for (auto& p : group) {
    sizes.push_back(p.batch.size());
    merged.Absorb(std::move(p.batch));
  }
  CommitResult all;
  all.status = engine_.Write(merged, &all.applied);
  {
    std::lock_guard lock(status_mu_);
    last_status_ = all.status;
  }
  (all.status.ok() ? commits_ : failed_commits_).fetch_add(1, std::memory_order_relaxed);
  if (!all.status.ok()) {
    log::Error("commit of " + std::to_string(merged.size()) +
               " writes failed: " + all.status.ToString());
  }
  std::size_t offset = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    group[i].done(all.Part(offset, sizes[i]));
    offset += sizes[i];
  }
}

}  // namespace kvd::daemon
