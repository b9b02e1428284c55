#include "daemon/cpu_steal.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "tests/test_dir.h"

namespace kvd::daemon {
namespace {

using std::chrono::milliseconds;

// /proc/stat as Linux writes it, with busy and steal ticks such that busy =
// user + nice + system + irq + softirq.
std::string ProcStat(std::uint64_t busy, std::uint64_t steal) {
  return "cpu  " + std::to_string(busy - 15) + " 5 7 123456 42 2 1 " + std::to_string(steal) +
         " 0 0\n"
         "cpu0 1 2 3 4 5 6 7 8 0 0\n"
         "intr 9999 0 0\n";
}

TEST(ParseCpuTimesTest, AddsUpTheBusyFieldsAndTakesSteal) {
  const auto times = ParseCpuTimes("cpu  100 20 30 4000 50 6 7 8 0 0");
  ASSERT_TRUE(times);
  EXPECT_EQ(times->busy, 100u + 20 + 30 + 6 + 7);  // not idle (4000) or iowait (50)
  EXPECT_EQ(times->steal, 8u);
  const auto from_proc_stat = ParseCpuTimes(ProcStat(1000, 77));
  ASSERT_TRUE(from_proc_stat);
  EXPECT_EQ(from_proc_stat->busy, 1000u);
  EXPECT_EQ(from_proc_stat->steal, 77u);
}

TEST(ParseCpuTimesTest, RefusesAnythingButTheMachinesCpuLineWithSteal) {
  EXPECT_FALSE(ParseCpuTimes(""));
  EXPECT_FALSE(ParseCpuTimes("cpu0 1 2 3 4 5 6 7 8 0 0"));
  EXPECT_FALSE(ParseCpuTimes("intr 1 2 3 4 5 6 7 8"));
  EXPECT_FALSE(ParseCpuTimes("cpu  1 2 3 4 5 6 7")) << "no steal field (Linux before 2.6.11)";
  EXPECT_FALSE(ParseCpuTimes("cpu  1 2 3 x 5 6 7 8"));
}

class CpuStealTest : public ::testing::Test {
 protected:
  // The machine's times from now on, as /proc/stat would say them.
  void Set(std::uint64_t busy, std::uint64_t steal) {
    WriteFile(dir_ / "stat", ProcStat(busy, steal));
  }
  // Whether `steal` finds the host contended, asked `after` the first call.
  bool ContendedAfter(CpuSteal& steal, CpuSteal::Clock::duration after) {
    return steal.Contended(start_ + after);
  }
  CpuSteal Meter() { return CpuSteal(dir_ / "stat"); }

  TestDir dir_;
  const CpuSteal::Clock::time_point start_ = CpuSteal::Clock::now();
};

TEST_F(CpuStealTest, JudgesTheShareOfStolenTimeSinceTheLastSample) {
  Set(1000, 500);  // high, but since boot: not judged
  CpuSteal steal = Meter();
  EXPECT_FALSE(ContendedAfter(steal, milliseconds(0)));
  const auto interval = CpuSteal::kSampleInterval;
  Set(1080, 520);  // 20 of 100 stolen
  EXPECT_TRUE(ContendedAfter(steal, interval));
  Set(1180, 522);  // 2 of 102
  EXPECT_FALSE(ContendedAfter(steal, 2 * interval));
  Set(1270, 532);  // 10 of 100: not more than kMaxShare
  static_assert(CpuSteal::kMaxShare == 0.1);
  EXPECT_FALSE(ContendedAfter(steal, 3 * interval));
}

TEST_F(CpuStealTest, SamplesAtMostEverySampleInterval) {
  Set(1000, 0);
  CpuSteal steal = Meter();
  EXPECT_FALSE(ContendedAfter(steal, milliseconds(0)));
  Set(1050, 50);
  EXPECT_FALSE(ContendedAfter(steal, CpuSteal::kSampleInterval - milliseconds(1)));
  EXPECT_TRUE(ContendedAfter(steal, CpuSteal::kSampleInterval));
  Set(2000, 50);
  EXPECT_TRUE(ContendedAfter(steal, CpuSteal::kSampleInterval + milliseconds(1)))
      << "judged again before the interval passed";
  EXPECT_FALSE(ContendedAfter(steal, 2 * CpuSteal::kSampleInterval));
}

TEST_F(CpuStealTest, AddsUpSamplesTooSmallToJudge) {
  static_assert(CpuSteal::kMinTicks == 10);
  Set(1000, 0);
  CpuSteal steal = Meter();
  EXPECT_FALSE(ContendedAfter(steal, milliseconds(0)));
  Set(1004, 5);  // 5 of 9: too little time to say
  EXPECT_FALSE(ContendedAfter(steal, CpuSteal::kSampleInterval));
  Set(1005, 5);  // 5 of 10 since the first sample
  EXPECT_TRUE(ContendedAfter(steal, 2 * CpuSteal::kSampleInterval));
}

TEST_F(CpuStealTest, WithoutProcStatNeverContended) {
  CpuSteal steal = Meter();  // no file
  EXPECT_FALSE(ContendedAfter(steal, milliseconds(0)));
  EXPECT_FALSE(ContendedAfter(steal, CpuSteal::kSampleInterval));
  // It keeps asking: a judgement once the file is there.
  Set(1000, 0);
  EXPECT_FALSE(ContendedAfter(steal, 2 * CpuSteal::kSampleInterval));
  Set(1050, 50);
  EXPECT_TRUE(ContendedAfter(steal, 3 * CpuSteal::kSampleInterval));
}

}  // namespace
}  // namespace kvd::daemon
