#include "daemon/event_loop.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <chrono>
#include <ctime>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace kvd::daemon {
namespace {

using std::chrono::milliseconds;

TEST(EventLoopTest, DefaultBusyPollIsOffOnlyUnderFsyncAlways) {
  EXPECT_EQ(DefaultBusyPoll(SyncPolicy::kAlways).count(), 0);
  EXPECT_EQ(DefaultBusyPoll(SyncPolicy::kEverySec), kDefaultBusyPoll);
  EXPECT_EQ(DefaultBusyPoll(SyncPolicy::kNo), kDefaultBusyPoll);
  EXPECT_GT(kDefaultBusyPoll.count(), 0);
}

class EventLoopRunTest : public ::testing::TestWithParam<std::chrono::microseconds> {};

TEST_P(EventLoopRunTest, RunsEveryHandlerAndReturnsOnceNoWorkIsLeft) {
  boost::asio::io_context io(1);
  int ran = 0;
  boost::asio::steady_timer timer(io, milliseconds(20));
  timer.async_wait([&](const boost::system::error_code& ec) {
    EXPECT_FALSE(ec);
    ++ran;
    // Work posted by a handler runs too.
    boost::asio::post(io, [&] { ++ran; });
  });
  boost::asio::post(io, [&] { ++ran; });
  RunEventLoop(io, GetParam());
  EXPECT_EQ(ran, 3);
  EXPECT_TRUE(io.stopped());
}

TEST_P(EventLoopRunTest, ReturnsWhenStoppedFromAnotherThreadAndRunsItsPosts) {
  boost::asio::io_context io(1);
  auto work = boost::asio::make_work_guard(io);
  bool ran = false;
  std::thread other([&] {
    std::this_thread::sleep_for(milliseconds(50));
    boost::asio::post(io, [&] {
      ran = true;
      io.stop();
    });
  });
  RunEventLoop(io, GetParam());
  other.join();
  EXPECT_TRUE(ran);
}

INSTANTIATE_TEST_SUITE_P(BusyPoll, EventLoopRunTest,
                         ::testing::Values(std::chrono::microseconds(0),
                                           std::chrono::microseconds(50),
                                           // Longer than the tests: stop() ends polling too.
                                           std::chrono::microseconds(60'000'000)));

#ifndef _WIN32
// CPU time of the calling thread.
milliseconds ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::duration_cast<milliseconds>(std::chrono::seconds(ts.tv_sec) +
                                                  std::chrono::nanoseconds(ts.tv_nsec));
}

// Runs one handler, then nothing until io is stopped after `idle`; returns
// the CPU time the loop took meanwhile.
milliseconds CpuTimeOfOneHandlerThenIdle(std::chrono::microseconds busy_poll, milliseconds idle) {
  boost::asio::io_context io(1);
  boost::asio::post(io, [] {});
  boost::asio::steady_timer stop(io, idle);
  stop.async_wait([&](const boost::system::error_code&) { io.stop(); });
  const milliseconds before = ThreadCpuTime();
  RunEventLoop(io, busy_poll);
  return ThreadCpuTime() - before;
}

// The behaviour itself: after work the loop stays awake (on a CPU) for
// busy_poll, then sleeps. The bounds are loose, for loaded CI machines: the
// polling thread may be preempted, and one that never slept would take
// most of the 1.5 s.
TEST(EventLoopTest, PollsForBusyPollAfterWorkThenSleeps) {
  const milliseconds cpu = CpuTimeOfOneHandlerThenIdle(milliseconds(100), milliseconds(1500));
  EXPECT_GE(cpu, milliseconds(30));
  EXPECT_LE(cpu, milliseconds(500));
}

TEST(EventLoopTest, WithoutBusyPollSleepsRightAway) {
  EXPECT_LT(CpuTimeOfOneHandlerThenIdle(std::chrono::microseconds(0), milliseconds(300)),
            milliseconds(30));
}
#endif

}  // namespace
}  // namespace kvd::daemon
