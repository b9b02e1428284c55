// Group commit: sessions hand in write batches; one commit thread merges all
// that are waiting into a single Engine::Write (one fsync covers them all)
// and completes each submitter on its own executor. The I/O never runs on the
// network thread, so readers and other clients keep being served meanwhile.
#ifndef KVD_DAEMON_COMMIT_QUEUE_H_
#define KVD_DAEMON_COMMIT_QUEUE_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include "store/engine.h"

namespace kvd::daemon {

struct CommitResult {
  Status status;
  std::vector<bool> applied;  // per mutation of the submitted batch, as Engine::Write

  // The result of the `n` mutations from `offset` on, when several batches
  // were merged into this one.
  CommitResult Part(std::size_t offset, std::size_t n) const {
    CommitResult part{status, {}};
    if (status.ok()) {
      const auto from = applied.begin() + static_cast<std::ptrdiff_t>(offset);
      part.applied.assign(from, from + static_cast<std::ptrdiff_t>(n));
    }
    return part;
  }
};

class CommitQueue {
 public:
  using Callback = std::function<void(CommitResult)>;

  // kThread commits on a thread of its own, merging what waits meanwhile
  // (for fsync=always, where a commit waits for the disk); kInline commits
  // on the submitting thread (a commit without fsync is a write to the page
  // cache: cheaper done than handed over).
  enum class Mode { kThread, kInline };
  CommitQueue(Engine& engine, Mode mode);
  ~CommitQueue();  // Stop()
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues `batch`; `done` runs on the commit thread once it is durable (or
  // failed). After Stop(), fails at once.
  void Submit(WriteBatch batch, Callback done);

  // Asio form of Submit: completes with CommitResult on the executor
  // associated with the completion token (e.g. the awaiting coroutine's).
  template <typename Executor, typename Token>
  auto AsyncSubmit(WriteBatch batch, const Executor& executor, Token&& token) {
    return boost::asio::async_initiate<Token, void(CommitResult)>(
        [this, executor](auto handler, WriteBatch batch) {
          // A tracked executor counts as work: io_context::run() must not
          // return while a commit is in flight.
          auto ex = boost::asio::prefer(boost::asio::get_associated_executor(handler, executor),
                                        boost::asio::execution::outstanding_work.tracked);
          // std::function needs a copyable target; Asio handlers are move-only.
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          Submit(std::move(batch), [ex, shared](CommitResult result) {
            boost::asio::post(ex, [shared, result = std::move(result)]() mutable {
              (*shared)(std::move(result));
            });
          });
        },
        token, std::move(batch));
  }

  // Commits what is queued, then stops the thread. Idempotent.
  void Stop();

  // The outcome of the latest commit (OK before the first): whether kvd can
  // persist writes right now, as far as it knows. A failed commit (a full
  // disk, an I/O error) makes it the error until a later commit succeeds.
  Status LastCommitStatus() const;

  std::uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  std::uint64_t failed_commits() const { return failed_commits_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    WriteBatch batch;
    Callback done;
  };

  void Run();
  // Commits `group` as one Engine::Write and completes each of its batches.
  void Commit(std::deque<Pending>& group);

  Engine& engine_;
  const Mode mode_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  mutable std::mutex status_mu_;
  Status last_status_;  // guarded by status_mu_
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> failed_commits_{0};
  std::thread thread_;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_COMMIT_QUEUE_H_
