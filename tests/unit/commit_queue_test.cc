#include "daemon/commit_queue.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "tests/test_dir.h"

namespace kvd::daemon {
namespace {

using ::testing::ElementsAre;

std::unique_ptr<Engine> MustOpen(const TestDir& dir, SyncPolicy sync) {
  EngineOptions options;
  options.sync = sync;
  std::unique_ptr<Engine> engine;
  const Status s = Engine::Open(dir / "storage.data", options, &engine);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return engine;
}

// Submits three batches from one handler, as sessions served in one turn
// of the event loop do; the second also deletes a key that is absent.
std::vector<std::optional<CommitResult>> SubmitThreeInOneTurn(CommitQueue& commits,
                                                              boost::asio::io_context& io) {
  std::vector<std::optional<CommitResult>> results(3);
  boost::asio::post(io, [&] {
    for (int i = 0; i < 3; ++i) {
      WriteBatch batch;
      batch.Append("k", "v" + std::to_string(i));
      if (i == 1) batch.Delete("absent");
      commits.Submit(std::move(batch), [&results, i](CommitResult r) { results[i] = r; });
    }
  });
  io.run();
  return results;
}

TEST(CommitQueueTest, InlineModeCommitsWhatOneTurnSubmittedAsOneWrite) {
  TestDir dir;
  auto engine = MustOpen(dir, SyncPolicy::kNo);
  boost::asio::io_context io;
  CommitQueue commits(*engine, CommitQueue::Mode::kInline, io.get_executor());
  const auto results = SubmitThreeInOneTurn(commits, io);
  EXPECT_EQ(commits.commits(), 1u) << "one Engine::Write for the whole turn";
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->status.ok());
  }
  EXPECT_THAT(results[0]->applied, ElementsAre(true));
  EXPECT_THAT(results[1]->applied, ElementsAre(true, false)) << "each gets its own part";
  EXPECT_THAT(results[2]->applied, ElementsAre(true));
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("v0", "v1", "v2"));
}

TEST(CommitQueueTest, ThreadModeCompletesEveryBatchInOrder) {
  TestDir dir;
  auto engine = MustOpen(dir, SyncPolicy::kAlways);
  boost::asio::io_context io;
  CommitQueue commits(*engine, CommitQueue::Mode::kThread, io.get_executor());
  auto work = std::make_optional(boost::asio::make_work_guard(io));
  std::vector<std::optional<CommitResult>> results(3);
  for (int i = 0; i < 3; ++i) {
    WriteBatch batch;
    batch.Append("k", "v" + std::to_string(i));
    commits.Submit(std::move(batch), [&, i](CommitResult r) {
      boost::asio::post(io, [&, i, r] {
        results[i] = r;
        if (results[0] && results[1] && results[2]) work.reset();
      });
    });
  }
  io.run();
  for (const auto& r : results) EXPECT_TRUE(r.has_value() && r->status.ok());
  EXPECT_GE(commits.commits(), 1u);
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("v0", "v1", "v2"));
}

TEST(CommitQueueTest, AfterStopSubmissionsFail) {
  TestDir dir;
  auto engine = MustOpen(dir, SyncPolicy::kNo);
  boost::asio::io_context io;
  CommitQueue commits(*engine, CommitQueue::Mode::kInline, io.get_executor());
  commits.Stop();
  std::optional<CommitResult> result;
  WriteBatch batch;
  batch.Append("k", "v");
  commits.Submit(std::move(batch), [&](CommitResult r) { result = r; });
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->status.ok());
  EXPECT_TRUE(engine->Get("k").view().ToStrings().empty());
}

}  // namespace
}  // namespace kvd::daemon
