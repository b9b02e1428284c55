// Pops that wait for a value (proto/PROTOCOL.md, "pop" with "wait") against
// a real kvd: a waiting pop takes the next value appended, waiters are
// served in arrival order, each value goes to exactly one of them, a wait
// runs out with no values, and a stopping kvd answers its waiters.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// The pops kvd holds waiting now (stats "pops_waiting").
bool PopsWaiting(Connection& c, int n) {
  return Ask(c, R"({"op":"stats"})").find("\"pops_waiting\":" + std::to_string(n) + ",") !=
         std::string::npos;
}

TEST(BlockingPopTest, AWaitingPopTakesTheNextValueAppended) {
  TestDir dir;
  Daemon kvd(dir);
  Connection waiter(kvd.socket()), producer(kvd.socket());
  waiter.Send(R"({"op":"pop","key":"jobs","wait":30,"id":1})"
              "\n");
  ASSERT_TRUE(Eventually([&] { return PopsWaiting(producer, 1); }, 10s));
  EXPECT_EQ(waiter.ReadLine(100ms), std::nullopt) << "answered before any value came";
  ASSERT_EQ(Ask(producer, R"({"op":"append","key":"jobs","val":"job 1"})"), R"({"ok":true})");
  EXPECT_EQ(waiter.ReadLine(), R"({"ok":true,"id":1,"values":["job 1"]})");
  EXPECT_EQ(Ask(producer, R"({"op":"get","key":"jobs"})"),
            R"({"ok":true,"values":[],"revision":0})")
      << "the value went to the waiter alone";
  EXPECT_TRUE(PopsWaiting(producer, 0));
}

// The stat "commits" in a stats answer.
std::uint64_t CommitsOf(const std::string& stats) {
  const auto at = stats.find("\"commits\":");
  return at == std::string::npos ? ~std::uint64_t{0} : std::stoull(stats.substr(at + 10));
}

// A value appended for a waiter reaches it in the append's own commit: the
// waiter's pop is submitted right behind the append, not after its commit.
TEST(BlockingPopTest, AnAppendAndTheWaitersPopCommitTogether) {
  for (const char* fsync : {"always", "everysec", "no"}) {
    SCOPED_TRACE(std::string("--fsync ") + fsync);
    TestDir dir;
    Daemon kvd(dir, {"--fsync", fsync});
    Connection waiter(kvd.socket()), producer(kvd.socket());
    waiter.Send(R"({"op":"pop","key":"jobs","wait":30})"
                "\n");
    ASSERT_TRUE(Eventually([&] { return PopsWaiting(producer, 1); }, 10s));
    const std::uint64_t before = CommitsOf(Ask(producer, R"({"op":"stats"})"));
    ASSERT_EQ(Ask(producer, R"({"op":"append","key":"jobs","val":"job"})"), R"({"ok":true})");
    EXPECT_EQ(waiter.ReadLine(), R"({"ok":true,"values":["job"]})");
    EXPECT_EQ(CommitsOf(Ask(producer, R"({"op":"stats"})")), before + 1);
    EXPECT_EQ(Ask(producer, R"({"op":"get","key":"jobs"})"),
              R"({"ok":true,"values":[],"revision":0})");
  }
}

// A waiter whose client went away takes nothing: the value goes to the
// next waiter, or stays. One that only shut down its sending half (as socat
// does at the end of its input) still gets its value.
TEST(BlockingPopTest, AWaiterWhoseClientIsGoneTakesNothing) {
  TestDir dir;
  Daemon kvd(dir);
  Connection producer(kvd.socket());
  auto gone = std::make_unique<Connection>(kvd.socket());
  gone->Send(R"({"op":"pop","key":"q","wait":30})"
             "\n");
  ASSERT_TRUE(Eventually([&] { return PopsWaiting(producer, 1); }, 10s));
  Connection half(kvd.socket());
  half.Send(R"({"op":"pop","key":"q","wait":30})"
            "\n");
  ASSERT_TRUE(Eventually([&] { return PopsWaiting(producer, 2); }, 10s));
  half.ShutdownSending();
  gone.reset();  // closed
  ASSERT_EQ(Ask(producer, R"({"op":"append","key":"q","val":"a"})"), R"({"ok":true})");
  EXPECT_EQ(half.ReadLine(), R"({"ok":true,"values":["a"]})");
  ASSERT_EQ(Ask(producer, R"({"op":"append","key":"q","val":"b"})"), R"({"ok":true})");
  EXPECT_TRUE(Eventually([&] { return PopsWaiting(producer, 0); }, 10s));
  EXPECT_EQ(Ask(producer, R"({"op":"get","key":"q"})"),
            R"({"ok":true,"values":["b"],"revision":3})");
}

TEST(BlockingPopTest, WaitersAreServedInArrivalOrder) {
  TestDir dir;
  Daemon kvd(dir);
  Connection producer(kvd.socket());
  std::vector<std::unique_ptr<Connection>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::make_unique<Connection>(kvd.socket()));
    waiters.back()->Send(R"({"op":"pop","key":"q","count":2,"wait":30})"
                         "\n");
    ASSERT_TRUE(Eventually([&] { return PopsWaiting(producer, i + 1); }, 10s));
  }
  ASSERT_EQ(Ask(producer, R"({"op":"append","key":"q","val":"a"})"), R"({"ok":true})");
  EXPECT_EQ(waiters[0]->ReadLine(), R"({"ok":true,"values":["a"]})");
  EXPECT_EQ(waiters[1]->ReadLine(100ms), std::nullopt);
  ASSERT_EQ(Ask(producer, R"({"op":"append_many","items":[{"key":"q","val":"b"},)"
                          R"({"key":"q","val":"c"},{"key":"q","val":"d"}]})"),
            R"({"ok":true})");
  // The first waiter left takes up to its count; the next takes what is left.
  EXPECT_EQ(waiters[1]->ReadLine(), R"({"ok":true,"values":["b","c"]})");
  EXPECT_EQ(waiters[2]->ReadLine(), R"({"ok":true,"values":["d"]})");
}

TEST(BlockingPopTest, AWaitRunsOutWithNoValuesAndTheConnectionGoesOn) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  const auto start = std::chrono::steady_clock::now();
  // Pipelined: the get is answered after the pop, whose wait runs out.
  c.Send(R"({"op":"pop","key":"none","wait":0.3})"
         "\n"
         R"({"op":"get","key":"none"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":[]})");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms) << "it did not wait";
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":[],"revision":0})");
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"none","wait":0})"), R"({"ok":true,"values":[]})")
      << "a wait of 0 does not wait";
}

TEST(BlockingPopTest, AWaitLongerThanTheIdleTimeoutKeepsTheConnection) {
  TestDir dir;
  Daemon kvd(dir, {"--idle-timeout", "1"});
  Connection c(kvd.socket());
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"q","wait":2.5})"), R"({"ok":true,"values":[]})");
  EXPECT_EQ(Ask(c, R"({"op":"ping"})"), R"({"ok":true})") << "closed as idle while it waited";
}

TEST(BlockingPopTest, APopThatFindsValuesDoesNotWait) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"q","val":"x"})"), R"({"ok":true})");
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"q","wait":30})"), R"({"ok":true,"values":["x"]})");
}

TEST(BlockingPopTest, StoppingKvdAnswersItsWaitersWithNothing) {
  TestDir dir;
  Daemon kvd(dir);
  Connection waiter(kvd.socket()), other(kvd.socket());
  waiter.Send(R"({"op":"pop","key":"q","wait":60})"
              "\n");
  ASSERT_TRUE(Eventually([&] { return PopsWaiting(other, 1); }, 10s));
  other.Close();
  EXPECT_EQ(kvd.Stop(), 0);
  EXPECT_EQ(waiter.ReadLine(), R"({"ok":true,"values":[]})");
}

// The issue's job queue: 20 workers pop with a wait from one list while 4
// producers append 10,000 jobs; every job is taken exactly once.
TEST(BlockingPopTest, TwentyWorkersTakeEachOfTenThousandJobsExactlyOnce) {
  TestDir dir;
  Daemon kvd(dir);
  constexpr int kWorkers = 20, kProducers = 4, kJobs = 10'000;
  constexpr int kPerProducer = kJobs / kProducers, kPipeline = 50;
  std::atomic<bool> produced{false};
  std::vector<std::vector<std::string>> taken(kWorkers);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      Connection c(kvd.socket());
      for (;;) {
        // Once the producers are done, a wait that runs out means the list
        // is drained.
        const bool last = produced.load();
        const std::optional<std::string> answer = [&] {
          c.Send(R"({"op":"pop","key":"jobs","wait":1})"
                 "\n");
          return c.ReadLine(30s);
        }();
        ASSERT_TRUE(answer.has_value());
        const std::string prefix = R"({"ok":true,"values":[)";
        ASSERT_TRUE(answer->starts_with(prefix)) << *answer;
        if (*answer == prefix + "]}") {
          if (last) return;
          continue;
        }
        taken[w].push_back(answer->substr(prefix.size(), answer->size() - prefix.size() - 2));
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      Connection c(kvd.socket());
      for (int i = 0; i < kPerProducer; i += kPipeline) {
        std::string lines;
        for (int j = i; j < i + kPipeline; ++j) {
          lines += R"({"op":"append","key":"jobs","val":"job )" + std::to_string(p) + "-" +
                   std::to_string(j) + "\"}\n";
        }
        c.Send(lines);
        for (int j = 0; j < kPipeline; ++j) ASSERT_EQ(c.ReadLine(), R"({"ok":true})");
      }
    });
  }
  for (std::thread& t : producers) t.join();
  produced = true;
  for (std::thread& t : threads) t.join();
  std::multiset<std::string> all;
  std::size_t busy = 0;  // workers that took some
  for (const auto& jobs : taken) {
    all.insert(jobs.begin(), jobs.end());
    busy += jobs.empty() ? 0 : 1;
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size())
      << "a job was taken twice";
  for (int p = 0; p < kProducers; ++p) {
    for (int j = 0; j < kPerProducer; ++j) {
      EXPECT_EQ(all.count("\"job " + std::to_string(p) + "-" + std::to_string(j) + "\""), 1u);
    }
  }
  EXPECT_GT(busy, 1u) << "the jobs were shared out";
  Connection c(kvd.socket());
  EXPECT_EQ(Ask(c, R"({"op":"len","key":"jobs"})"), R"({"ok":true,"length":0})");
}

}  // namespace
}  // namespace kvd::testing
