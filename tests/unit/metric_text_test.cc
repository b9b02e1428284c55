#include "daemon/metric_text.h"

#include <limits>

#include <gtest/gtest.h>

namespace kvd::daemon {
namespace {

TEST(MetricTextTest, FamilyAndSamples) {
  MetricText out;
  out.Family("kvd_x_total", "counter", "What x counts.");
  out.Sample("kvd_x_total", {{"op", "get"}, {"transport", "socket"}}, std::uint64_t{3});
  out.Sample("kvd_x_total", std::uint64_t{0});
  EXPECT_EQ(out.text(),
            "# HELP kvd_x_total What x counts.\n"
            "# TYPE kvd_x_total counter\n"
            "kvd_x_total{op=\"get\",transport=\"socket\"} 3\n"
            "kvd_x_total 0\n");
}

TEST(MetricTextTest, EscapesHelpAndLabelValues) {
  MetricText out;
  out.Family("kvd_y", "gauge", "a \\ and a\nnewline, \"quotes\" kept");
  out.Sample("kvd_y", {{"route", "a\"b\\c\nd"}}, 1.5);
  EXPECT_EQ(out.text(),
            "# HELP kvd_y a \\\\ and a\\nnewline, \"quotes\" kept\n"
            "# TYPE kvd_y gauge\n"
            "kvd_y{route=\"a\\\"b\\\\c\\nd\"} 1.5\n");
}

TEST(MetricTextTest, Numbers) {
  EXPECT_EQ(MetricText::Number(0.00005), "5e-05");
  EXPECT_EQ(MetricText::Number(0.0001), "0.0001");
  EXPECT_EQ(MetricText::Number(1700000000.0), "1700000000");
  EXPECT_EQ(MetricText::Number(0.25), "0.25");
  EXPECT_EQ(MetricText::Number(1), "1");
  EXPECT_EQ(MetricText::Number(1700000000.5), "1700000000.5");
  EXPECT_EQ(MetricText::Number(std::numeric_limits<double>::infinity()), "+Inf");
}

}  // namespace
}  // namespace kvd::daemon
