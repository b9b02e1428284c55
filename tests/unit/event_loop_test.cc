#include "daemon/event_loop.h"

#include "util/asio_prelude.h"

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

#include <gmock/gmock.h>
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

// `on_idle` runs once the ready handlers have run, each time the loop finds
// nothing more to run, with or without busy poll.
TEST_P(EventLoopRunTest, CallsIdleWhenNothingIsReady) {
  boost::asio::io_context io(1);
  auto work = boost::asio::make_work_guard(io);
  int handled = 0;
  std::vector<int> handled_when_idle;
  boost::asio::post(io, [&] { ++handled; });
  boost::asio::post(io, [&] { ++handled; });
  RunEventLoop(io, GetParam(), {}, [&] {
    handled_when_idle.push_back(handled);
    if (handled_when_idle.size() == 1) {
      boost::asio::post(io, [&] { ++handled; });
    } else {
      boost::asio::post(io, [&] { work.reset(); });  // the loop returns once idle again
    }
  });
  EXPECT_THAT(handled_when_idle, ::testing::ElementsAre(2, 3));
}

INSTANTIATE_TEST_SUITE_P(BusyPoll, EventLoopRunTest,
                         ::testing::Values(std::chrono::microseconds(0),
                                           std::chrono::microseconds(50),
                                           // Longer than the tests: stop() ends polling too.
                                           std::chrono::microseconds(60'000'000)));

#ifndef _WIN32
// Time the calling thread spent on a CPU (`cpu`), and awake: on a CPU or
// ready to run and waiting for one (`awake`). A polling loop is awake
// throughout, however little CPU a loaded machine, or its own yielding,
// gives it; a sleeping one is neither.
struct ThreadTimes {
  milliseconds cpu{0};
  milliseconds awake{0};
  ThreadTimes operator-(const ThreadTimes& o) const { return {cpu - o.cpu, awake - o.awake}; }
};

ThreadTimes TimesOfThisThread() {
  ThreadTimes times;
#ifdef __linux__
  // Nanoseconds on a CPU, waiting on a run queue, and time slices.
  std::ifstream schedstat("/proc/thread-self/schedstat");
  long long run = 0, wait = 0;
  if (schedstat >> run >> wait) {
    times.cpu = std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(run));
    times.awake = std::chrono::duration_cast<milliseconds>(std::chrono::nanoseconds(run + wait));
    return times;
  }
#endif
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  times.cpu = std::chrono::duration_cast<milliseconds>(std::chrono::seconds(ts.tv_sec) +
                                                       std::chrono::nanoseconds(ts.tv_nsec));
  times.awake = times.cpu;  // the CPU time at least
  return times;
}

// Runs `io` in RunEventLoop; returns the loop's times.
ThreadTimes TimesOfRunEventLoop(boost::asio::io_context& io, std::chrono::microseconds busy_poll,
                                const std::function<bool()>& commit_in_flight) {
  const ThreadTimes before = TimesOfThisThread();
  RunEventLoop(io, busy_poll, commit_in_flight);
  return TimesOfThisThread() - before;
}

// Runs one handler, then nothing until io is stopped after `idle`.
ThreadTimes TimesOfOneHandlerThenIdle(std::chrono::microseconds busy_poll, milliseconds idle,
                                      const std::function<bool()>& commit_in_flight = {}) {
  boost::asio::io_context io(1);
  boost::asio::post(io, [] {});
  boost::asio::steady_timer stop(io, idle);
  stop.async_wait([&](const boost::system::error_code&) { io.stop(); });
  return TimesOfRunEventLoop(io, busy_poll, commit_in_flight);
}

// The behaviour itself: after work the loop stays awake (on a CPU) for
// busy_poll, then sleeps. Awake, not CPU time, shows the polling: on loaded
// CI machines the poller is preempted (with CPU time, 100 ms of polling once
// got less than 30 ms, in the ASan build beside the integration tests on 2
// CPUs). One that never slept would take most of the 1.5 s of CPU.
TEST(EventLoopTest, PollsForBusyPollAfterWorkThenSleeps) {
  const ThreadTimes times = TimesOfOneHandlerThenIdle(milliseconds(300), milliseconds(1500));
  EXPECT_GE(times.awake, milliseconds(200));
  EXPECT_LE(times.cpu, milliseconds(500));
}

TEST(EventLoopTest, WithoutBusyPollSleepsRightAway) {
  EXPECT_LT(TimesOfOneHandlerThenIdle(std::chrono::microseconds(0), milliseconds(300)).cpu,
            milliseconds(30));
}

// An idle callback is no reason to poll: the loop calls it, then sleeps.
TEST(EventLoopTest, WithAnIdleCallbackButNoBusyPollSleepsRightAway) {
  boost::asio::io_context io(1);
  boost::asio::post(io, [] {});
  boost::asio::steady_timer stop(io, milliseconds(300));
  stop.async_wait([&](const boost::system::error_code&) { io.stop(); });
  int idle_calls = 0;
  const ThreadTimes before = TimesOfThisThread();
  RunEventLoop(io, std::chrono::microseconds(0), {}, [&] { ++idle_calls; });
  EXPECT_LT((TimesOfThisThread() - before).cpu, milliseconds(30));
  EXPECT_EQ(idle_calls, 1);
}

// A handler every 2 ms for 300 ms, the loop idle in between, without busy
// poll; `commit_in_flight` says whether a commit is in flight.
ThreadTimes TimesOfHandlersEvery2Ms(const std::function<bool()>& commit_in_flight) {
  boost::asio::io_context io(1);
  boost::asio::steady_timer tick(io);
  const auto end = std::chrono::steady_clock::now() + milliseconds(300);
  std::function<void(const boost::system::error_code&)> again =
      [&](const boost::system::error_code&) {
        if (std::chrono::steady_clock::now() >= end) return;
        tick.expires_after(milliseconds(2));
        tick.async_wait(again);
      };
  boost::asio::post(io, [&] { again({}); });
  return TimesOfRunEventLoop(io, std::chrono::microseconds(0), commit_in_flight);
}

#ifdef __linux__
// Confines the calling thread to `cpu`.
bool ConfineThisThreadTo(int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return sched_setaffinity(0, sizeof(one), &one) == 0;
}

// Makes the calling thread SCHED_BATCH.
bool ScheduleThisThreadAsBatch() {
  const sched_param param{};  // SCHED_BATCH takes priority 0
  return pthread_setschedparam(pthread_self(), SCHED_BATCH, &param) == 0;
}

// Runs `f` on a thread of its own confined to one CPU.
template <typename F>
void OnOneCpu(F f) {
  std::thread([&] {
    ASSERT_TRUE(ConfineThisThreadTo(sched_getcpu()));
    ASSERT_EQ(AvailableCpus(), 1u);
    f();
  }).join();
}
#endif

// Work due (a commit in flight): between the handlers the loop polls, up to
// kMaxDuePoll each time, instead of sleeping at once: awake about 1 ms of
// every 2 ms here (yielding its CPU each round), where sleeping
// takes next to no CPU.
TEST(EventLoopTest, PollsWhileWorkIsDueOnMoreThanOneCpu) {
  if (AvailableCpus() < 2) GTEST_SKIP() << "one CPU: the loop never polls for due work";
  EXPECT_GE(TimesOfHandlersEvery2Ms([] { return true; }).awake, milliseconds(60));
  EXPECT_LT(TimesOfHandlersEvery2Ms([] { return false; }).cpu, milliseconds(30));
  EXPECT_LT(TimesOfHandlersEvery2Ms({}).cpu, milliseconds(30));
}

TEST(EventLoopTest, PollsForDueWorkAtMostMaxDuePollAtAStretch) {
  if (AvailableCpus() < 2) GTEST_SKIP() << "one CPU: the loop never polls for due work";
  static_assert(kMaxDuePoll < milliseconds(2));
  EXPECT_LT(TimesOfOneHandlerThenIdle(std::chrono::microseconds(0), milliseconds(300),
                                      [] { return true; })
                .cpu,
            milliseconds(30))
      << "polled the whole 300 ms";
}

#ifdef __linux__
// The thread that would post the due work needs a CPU too.
TEST(EventLoopTest, NeverPollsForDueWorkOnOneCpu) {
  OnOneCpu([] { EXPECT_LT(TimesOfHandlersEvery2Ms([] { return true; }).cpu, milliseconds(30)); });
}

// The commit thread's case: the thread that will post the due work is woken
// on the CPU the loop polls on. The loop gives it that CPU at once, rather
// than polling on until its time slice or kMaxDuePoll runs out (hundreds of
// rounds at least, even under TSan). The poster runs as SCHED_BATCH, which
// is never woken into preempting (sched(7)): only the loop's yield lets it
// run, whatever the kernel's wake-up preemption would have done.
TEST(EventLoopTest, PollingForDueWorkYieldsTheCpuToTheThreadItIsDueFrom) {
  if (AvailableCpus() < 2) GTEST_SKIP() << "one CPU: the loop never polls for due work";
  boost::asio::io_context io(1);
  auto work = boost::asio::make_work_guard(io);
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false, go = false;  // guarded by mu
  // The loop's thread alone touches these: its commit_in_flight and its handlers.
  bool posted = false;
  int polls = 0;
  int polls_before_post = -1;
  std::thread poster;
  // Set up in the loop's first handler and the poster; checked at the end,
  // as a failed assertion there would leave the loop waiting for ever.
  bool loop_confined = false, poster_set_up = false;
  boost::asio::post(io, [&] {
    const int cpu = sched_getcpu();
    loop_confined = ConfineThisThreadTo(cpu);
    poster = std::thread([&, cpu] {
      const bool set_up = ConfineThisThreadTo(cpu) && ScheduleThisThreadAsBatch();
      std::unique_lock lock(mu);
      poster_set_up = set_up;
      ready = true;
      cv.notify_one();
      cv.wait(lock, [&] { return go; });
      boost::asio::post(io, [&] {
        polls_before_post = polls;
        posted = true;
        work.reset();
      });
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return ready; });
    // Wakes the poster on this CPU, where it waits until the loop lets it run.
    go = true;
    cv.notify_one();
  });
  std::thread loop([&] {
    RunEventLoop(io, std::chrono::microseconds(0), [&] {
      ++polls;
      return !posted;
    });
  });
  loop.join();
  poster.join();
  ASSERT_TRUE(loop_confined && poster_set_up) << "could not confine or schedule the threads";
  EXPECT_GE(polls_before_post, 0) << "the poster's work never ran";
  EXPECT_LT(polls_before_post, 20);
}
#endif  // __linux__
#endif  // _WIN32

}  // namespace
}  // namespace kvd::daemon
