#include "daemon/commit_queue.h"

#include "util/asio_prelude.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tests/test_dir.h"

namespace kvd::daemon {
namespace {

using ::testing::ElementsAre;

// A commit queue in `mode` over an engine in a temp dir, and the io_context
// that stands for the network thread. kThread goes with fsync always and
// kInline with fsync no, as kvd pairs them.
struct QueueUnderTest {
  explicit QueueUnderTest(CommitQueue::Mode mode)
      : engine(Open(dir, mode)), commits(*engine, mode, io.get_executor()) {}

  static std::unique_ptr<Engine> Open(const TestDir& dir, CommitQueue::Mode mode) {
    EngineOptions options;
    options.sync = mode == CommitQueue::Mode::kThread ? SyncPolicy::kAlways : SyncPolicy::kNo;
    std::unique_ptr<Engine> engine;
    const Status s = Engine::Open(dir / "storage.data", options, &engine);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return engine;
  }

  TestDir dir;
  std::unique_ptr<Engine> engine;
  boost::asio::io_context io;
  CommitQueue commits;
};

// What a completion saw: its status, and the applied flags of its batch's
// `size` mutations (CommitResult is a view, valid only while it runs).
struct Seen {
  Status status;
  std::vector<bool> applied;
  std::thread::id thread;
};

CommitQueue::Callback Record(std::optional<Seen>* seen, std::size_t size) {
  return [seen, size](const CommitResult& r) {
    Seen s{r.status(), {}, std::this_thread::get_id()};
    if (r.status().ok()) {
      for (std::size_t i = 0; i < size; ++i) s.applied.push_back(r.applied(i));
    }
    *seen = s;
  };
}

// Submits three batches from one handler, as sessions served in one turn
// of the event loop do; the second also deletes a key that is absent.
std::vector<std::optional<Seen>> SubmitThreeInOneTurn(CommitQueue& commits,
                                                      boost::asio::io_context& io) {
  std::vector<std::optional<Seen>> results(3);
  boost::asio::post(io, [&] {
    for (int i = 0; i < 3; ++i) {
      WriteBatch batch;
      batch.Append("k", "v" + std::to_string(i));
      if (i == 1) batch.Delete("absent");
      commits.Submit(batch, Record(&results[i], batch.size()));
    }
  });
  io.run();
  return results;
}

TEST(CommitQueueTest, InlineModeCommitsWhatOneTurnSubmittedAsOneWrite) {
  QueueUnderTest t(CommitQueue::Mode::kInline);
  auto& [dir, engine, io, commits] = t;
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

// A turn with more submitters than one commit covers: the submitter after a
// full group commits it, so those clients are answered before the turn ends.
TEST(CommitQueueTest, InlineModeCommitsAFullGroupBeforeQueueingTheNext) {
  QueueUnderTest t(CommitQueue::Mode::kInline);
  auto& [dir, engine, io, commits] = t;
  constexpr std::size_t kGroup = CommitQueue::kMinInlineGroup;  // the first turn's
  std::vector<std::optional<Seen>> results(kGroup + 2);
  std::vector<std::size_t> completed_before;  // by each Submit's return
  boost::asio::post(io, [&] {
    for (std::size_t i = 0; i < results.size(); ++i) {
      WriteBatch batch;
      batch.Append("k", "v" + std::to_string(i));
      commits.Submit(batch, Record(&results[i], batch.size()));
      completed_before.push_back(static_cast<std::size_t>(
          std::count_if(results.begin(), results.end(), [](const auto& r) { return r; })));
    }
  });
  io.run();
  std::vector<std::size_t> expected(results.size(), 0);
  expected[kGroup] = expected[kGroup + 1] = kGroup;  // the group, not the submitter
  EXPECT_EQ(completed_before, expected);
  EXPECT_EQ(commits.commits(), 2u) << "the full group, then the rest at the turn's end";
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->status.ok());
    EXPECT_THAT(r->applied, ElementsAre(true));
  }
  std::vector<std::string> values;
  for (std::size_t i = 0; i < results.size(); ++i) values.push_back("v" + std::to_string(i));
  EXPECT_EQ(engine->Get("k").view().ToStrings(), values);
}

// A group is a quarter of the connections, at least kMinInlineGroup: a few
// journal writes a turn, however many clients write.
TEST(CommitQueueTest, InlineModeSizesItsGroupsByTheConnections) {
  QueueUnderTest t(CommitQueue::Mode::kInline);
  auto& [dir, engine, io, commits] = t;
  // Submits `n` batches in one turn; returns the commits that turn made.
  auto turn = [&](std::size_t n) {
    const std::uint64_t before = commits.commits();
    boost::asio::post(io, [&commits, n] {
      for (std::size_t i = 0; i < n; ++i) {
        WriteBatch batch;
        batch.Append("k", "v");
        commits.Submit(batch, [](const CommitResult& r) { EXPECT_TRUE(r.status().ok()); });
      }
    });
    io.restart();
    io.run();
    return commits.commits() - before;
  };
  constexpr std::size_t kMin = CommitQueue::kMinInlineGroup;
  commits.SetClients(40);
  EXPECT_EQ(turn(40), CommitQueue::kInlineGroupsPerTurn) << "groups of 10";
  commits.SetClients(8);
  EXPECT_EQ(turn(8), 8 / kMin) << "groups of the minimum, not of 2";
  commits.SetClients(0);
  EXPECT_EQ(turn(8), 8 / kMin) << "groups of the minimum";
  EXPECT_EQ(engine->Get("k").view().count(), 56u);
}

TEST(CommitQueueTest, ThreadModeCompletesEveryBatchInOrderOnTheNetworkThread) {
  QueueUnderTest t(CommitQueue::Mode::kThread);
  auto& [dir, engine, io, commits] = t;
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    WriteBatch batch;
    batch.Append("k", "v" + std::to_string(i));
    commits.Submit(batch, [&order, i](const CommitResult& r) {
      EXPECT_TRUE(r.status().ok());
      EXPECT_TRUE(r.applied(0));
      order.push_back(i);
    });
  }
  // No other work: run() returns only once every completion ran, because
  // submissions in flight keep the io_context busy.
  io.run();
  EXPECT_THAT(order, ElementsAre(0, 1, 2));
  EXPECT_GE(commits.commits(), 1u);
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("v0", "v1", "v2"));
}

// What the event loop polls on: a commit in flight from a submission until it is
// done, in thread mode only (inline commits complete within the turn).
TEST(CommitQueueTest, ACommitIsInFlightFromSubmissionToCompletionInThreadModeOnly) {
  for (const auto mode : {CommitQueue::Mode::kThread, CommitQueue::Mode::kInline}) {
    QueueUnderTest t(mode);
    auto& [dir, engine, io, commits] = t;
    std::vector<bool> due;  // after each Submit, then in each completion
    boost::asio::post(io, [&] {
      for (int i = 0; i < 2; ++i) {
        WriteBatch batch;
        batch.Append("k", "v" + std::to_string(i));
        commits.Submit(batch,
                       [&](const CommitResult&) { due.push_back(commits.CommitInFlight()); });
        due.push_back(commits.CommitInFlight());
      }
    });
    EXPECT_FALSE(commits.CommitInFlight());
    io.run();
    EXPECT_FALSE(commits.CommitInFlight());
    if (mode == CommitQueue::Mode::kThread) {
      // The two made one commit: once it is done, nothing is due.
      EXPECT_THAT(due, ElementsAre(true, true, false, false));
    } else {
      EXPECT_THAT(due, ElementsAre(false, false, false, false));
    }
  }
}

// A lone submission (nothing in flight, nobody else in its turn) is
// committed at the end of its turn on the network thread: it completes
// before handlers posted after it, with no trip through the commit thread.
TEST(CommitQueueTest, ThreadModeCommitsALoneSubmissionAtTheEndOfItsTurn) {
  QueueUnderTest t(CommitQueue::Mode::kThread);
  auto& [dir, engine, io, commits] = t;
  std::vector<std::string> order;
  boost::asio::post(io, [&] {
    WriteBatch batch;
    batch.Append("k", "alone");
    commits.Submit(batch, [&](const CommitResult& r) {
      EXPECT_TRUE(r.status().ok());
      order.push_back("committed");
    });
    boost::asio::post(io, [&] { order.push_back("next handler"); });
  });
  io.run();
  EXPECT_THAT(order, ElementsAre("committed", "next handler"));
  EXPECT_EQ(commits.commits(), 1u);
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("alone"));
}

// After a commit of two submitters, one submission alone does not make a
// commit while the next comes within the wait (CommitQueue::kMaxGatherWait):
// the two make one commit.
TEST(CommitQueueTest, ThreadModeWaitsForAsManySubmittersAsTheLastCommitCarried) {
#ifdef _WIN32
  GTEST_SKIP() << "the commit thread does not wait on Windows";
#endif
  QueueUnderTest t(CommitQueue::Mode::kThread);
  auto& [dir, engine, io, commits] = t;
  // Run again if the test thread oversleeps the wait (a loaded machine): the
  // wait is capped at 2 ms, the second submission comes after 200 us.
  constexpr int kAttempts = 3;
  std::vector<std::uint64_t> commits_of_the_pair;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<std::optional<Seen>> results(4);
    boost::asio::post(io, [&] {
      const std::uint64_t before = commits.commits();
      // Two submitters, one of them with 16 MB: a commit of several ms, so
      // the wait is its cap. In flight both, the thread takes them together.
      WriteBatch big;
      for (int i = 0; i < 16; ++i) big.Append("big", std::string(1 << 20, 'b'));
      commits.Submit(big, Record(&results[0], big.size()));
      WriteBatch small;
      small.Append("k", "first pair");
      commits.Submit(small, Record(&results[1], small.size()));
      // Their completions wait behind this handler, so they stay in flight,
      // as under load, and the next submission goes to the thread.
      while (commits.commits() == before) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      WriteBatch one, two;
      one.Append("k", "one");
      two.Append("k", "two");
      commits.Submit(one, Record(&results[2], one.size()));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      // Once it completes, its commit has been counted.
      commits.Submit(two, [&, before, record = Record(&results[3], two.size())](
                              const CommitResult& r) mutable {
        record(r);
        commits_of_the_pair.push_back(commits.commits() - before);
      });
    });
    io.run();
    io.restart();
    for (const auto& r : results) {
      ASSERT_TRUE(r.has_value());
      EXPECT_TRUE(r->status.ok()) << r->status.ToString();
    }
    if (commits_of_the_pair.back() == 2) break;  // the big one's, and one for one and two
  }
  EXPECT_EQ(commits_of_the_pair.back(), 2u)
      << "commits of each attempt: " << ::testing::PrintToString(commits_of_the_pair);
}

TEST(CommitQueueTest, InlineCompletionThatSubmitsAgainJoinsTheNextCommit) {
  QueueUnderTest t(CommitQueue::Mode::kInline);
  auto& [dir, engine, io, commits] = t;
  std::vector<std::string> done;
  // Each completion submits the next batch right from inside the commit that
  // completes it, and the one after it in the same commit sees its own result.
  std::function<void(int)> submit = [&](int i) {
    WriteBatch batch;
    batch.Append("chain", std::to_string(i));
    commits.Submit(batch, [&, i](const CommitResult& r) {
      EXPECT_TRUE(r.status().ok());
      done.push_back("chain" + std::to_string(i));
      if (i < 4) submit(i + 1);
    });
  };
  boost::asio::post(io, [&] {
    submit(0);
    WriteBatch other;
    other.Append("other", "x");
    commits.Submit(other, [&](const CommitResult& r) {
      EXPECT_TRUE(r.status().ok());
      done.push_back("other");
    });
  });
  io.run();
  EXPECT_THAT(done, ElementsAre("chain0", "other", "chain1", "chain2", "chain3", "chain4"));
  EXPECT_EQ(commits.commits(), 5u);
  EXPECT_THAT(engine->Get("chain").view().ToStrings(), ElementsAre("0", "1", "2", "3", "4"));
}

// Runs `writers` coroutines that each await AsyncSubmit `each` times in a
// loop, as sessions do: fill(w, i, &batch) makes writer w's batch i, and
// check(w, i, result) runs when the coroutine is resumed with its result.
// Returns how many writers finished.
int RunWriters(QueueUnderTest& t, int writers, int each,
               const std::function<void(int, int, WriteBatch*)>& fill,
               const std::function<void(int, int, const CommitResult&)>& check) {
  int finished = 0;
  for (int w = 0; w < writers; ++w) {
    boost::asio::co_spawn(
        t.io,
        [&, w]() -> boost::asio::awaitable<void> {
          WriteBatch batch;
          for (int i = 0; i < each; ++i) {
            batch.Clear();
            fill(w, i, &batch);
            check(w, i, co_await t.commits.AsyncSubmit(batch, boost::asio::use_awaitable));
          }
          ++finished;
        },
        boost::asio::detached);
  }
  t.io.run();
  return finished;
}

// Each writer is resumed from inside the commit and submits again before the
// commit is over.
TEST(CommitQueueTest, CoroutinesResumedByACommitSubmitAgainAndKeepTheirOrder) {
  for (const auto mode : {CommitQueue::Mode::kInline, CommitQueue::Mode::kThread}) {
    QueueUnderTest t(mode);
    constexpr int kWriters = 8, kEach = 50;
    const int finished = RunWriters(
        t, kWriters, kEach,
        [](int w, int i, WriteBatch* batch) {
          batch->Append("w" + std::to_string(w), std::to_string(i));
          batch->Delete("absent");
        },
        [](int, int, const CommitResult& r) {
          EXPECT_TRUE(r.status().ok());
          EXPECT_TRUE(r.applied(0));
          EXPECT_FALSE(r.applied(1));
        });
    EXPECT_EQ(finished, kWriters);
    EXPECT_LT(t.commits.commits(), std::uint64_t{kWriters * kEach}) << "writers share commits";
    for (int w = 0; w < kWriters; ++w) {
      const auto values = t.engine->Get("w" + std::to_string(w)).view().ToStrings();
      ASSERT_EQ(values.size(), std::size_t{kEach});
      for (int i = 0; i < kEach; ++i) EXPECT_EQ(values[i], std::to_string(i));
    }
  }
}

// In thread mode appends are answered while the commit thread applies them
// (Engine::Write's acknowledgement): a client that reads as soon as it is
// answered, on the network thread, still reads its own writes.
TEST(CommitQueueTest, ThreadModeCompletionsReadWhatTheyWrote) {
  QueueUnderTest t(CommitQueue::Mode::kThread);
  constexpr int kWriters = 8, kEach = 50;
  // A key per write: a new key costs the apply most.
  auto key = [](int w, int i) { return "w" + std::to_string(w) + ":" + std::to_string(i); };
  const int finished = RunWriters(
      t, kWriters, kEach, [&](int w, int i, WriteBatch* batch) { batch->Append(key(w, i), "v"); },
      [&](int w, int i, const CommitResult& r) {
        EXPECT_TRUE(r.status().ok());
        EXPECT_THAT(t.engine->Get(key(w, i)).view().ToStrings(), ElementsAre("v")) << key(w, i);
      });
  EXPECT_EQ(finished, kWriters);
  EXPECT_EQ(t.engine->GetStats().keys, std::size_t{kWriters * kEach});
}

TEST(CommitQueueTest, AfterStopSubmissionsFail) {
  QueueUnderTest t(CommitQueue::Mode::kInline);
  auto& [dir, engine, io, commits] = t;
  commits.Stop();
  std::optional<Seen> result;
  WriteBatch batch;
  batch.Append("k", "v");
  commits.Submit(batch, Record(&result, batch.size()));
  io.run();
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->status.ok());
  EXPECT_TRUE(engine->Get("k").view().ToStrings().empty());
}

}  // namespace
}  // namespace kvd::daemon
