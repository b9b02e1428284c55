#include "daemon/batch_scheduling.h"

#ifdef __linux__
#include <sched.h>
#endif

#include <thread>

#include <gtest/gtest.h>

namespace kvd::daemon {
namespace {

TEST(BatchSchedulingTest, MakesTheCallingThreadAloneBatch) {
  Status status;
  int policy = -1;
  std::thread([&] {
    status = ScheduleThisThreadAsBatch();
#ifdef __linux__
    policy = ::sched_getscheduler(0);  // 0: the calling thread
#endif
  }).join();
  EXPECT_TRUE(status.ok()) << status.ToString();
#ifdef __linux__
  EXPECT_EQ(policy, SCHED_BATCH);
  EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
#endif
}

}  // namespace
}  // namespace kvd::daemon
