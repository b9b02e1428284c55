#include "daemon/batch_scheduling.h"

#ifdef __linux__
#include <sched.h>
#endif

#include <thread>

#include <gtest/gtest.h>

namespace kvd::daemon {
namespace {

#ifdef __linux__
TEST(BatchSchedulingTest, MakesTheCallingThreadAloneBatch) {
  Status status;
  int policy = -1;
  std::thread([&] {
    status = ScheduleThisThreadAsBatch();
    policy = ::sched_getscheduler(0);  // 0: the calling thread
  }).join();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(policy, SCHED_BATCH);
  EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
}
#else
TEST(BatchSchedulingTest, DoesNothingWithoutSchedBatch) {
  EXPECT_TRUE(ScheduleThisThreadAsBatch().ok());
}
#endif

}  // namespace
}  // namespace kvd::daemon
