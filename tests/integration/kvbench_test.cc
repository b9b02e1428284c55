// kvbench against a real kvd: every request sent is answered and counted,
// on a blocking connection (one connection, no pipelining) and on the
// event-driven ones, pops take each value once, and a daemon that stops is
// reported after --timeout either way.
#include <signal.h>

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;

struct Shape {
  const char* connections;
  const char* pipeline;
};
void PrintTo(const Shape& shape, std::ostream* out) {
  *out << shape.connections << " connections x " << shape.pipeline;
}

class KvbenchTest : public ::testing::TestWithParam<Shape> {
 protected:
  std::vector<std::string> Kvbench(std::vector<std::string> args) const {
    args.insert(args.begin(), {KvbenchBin(), "--socket", kvd_.socket(), "--connections",
                               GetParam().connections, "--pipeline", GetParam().pipeline});
    return args;
  }

  TestDir dir_;
  Daemon kvd_{dir_};
};

TEST_P(KvbenchTest, EveryAppendIsAnsweredAndStored) {
  RunResult run = RunCommand(Kvbench({"--hot-key", "--requests", "320", "--format", "json"}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out,
              HasSubstr(R"("ops":320,"appends":320,"gets":0,"deletes":0,"pops":0,"errors":0)"));
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("keys:1\nvalues:320\n"));
}

TEST_P(KvbenchTest, GetsReadThePreloadedValues) {
  RunResult run = RunCommand(
      Kvbench({"--mix", "get", "--keys", "3", "--preload-values", "40", "--requests", "128"}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(" ops=128 appends=0 gets=128 deletes=0 pops=0 errors=0 "));
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("keys:3\nvalues:120\n"));
}

// --range: gets read the part of the preload it names, counted exactly in
// the answers decoded in full (each connection's first among them).
TEST_P(KvbenchTest, RangedGetsReadThePartOfThePreloadTheyName) {
  for (const auto& [start, stop] : std::vector<std::pair<std::string, std::string>>{
           {"0", "9"}, {"-3", "-1"}, {"35", "100"}, {"3", "1"}}) {
    RunResult run = RunCommand(Kvbench({"--mix", "get", "--keys", "3", "--preload-values", "40",
                                        "--range", start, stop, "--requests", "64"}));
    ASSERT_EQ(run.exit_code, 0) << start << ".." << stop << ": " << run.err;
    EXPECT_THAT(run.out, HasSubstr(" range=" + start + ".." + stop + " "));
    EXPECT_THAT(run.out, HasSubstr(" ops=64 appends=0 gets=64 deletes=0 pops=0 errors=0 "));
  }
  RunResult appends = RunCommand(Kvbench({"--range", "0", "9", "--requests", "8"}));
  EXPECT_EQ(appends.exit_code, 2);
  EXPECT_THAT(appends.err, HasSubstr("--range is for gets"));
}

TEST_P(KvbenchTest, DeletesTakeTheirShareAndEmptyTheKey) {
  RunResult run = RunCommand(
      Kvbench({"--keys", "1", "--delete-percent", "50", "--requests", "400", "--format", "json"}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // Which requests delete is random: both kinds come up in 400 draws.
  const std::string out = run.out;
  const auto count = [&out](const std::string& name) {
    const auto at = out.find("\"" + name + "\":");
    return at == std::string::npos ? -1 : std::stol(out.substr(at + name.size() + 3));
  };
  EXPECT_EQ(count("ops"), 400) << out;
  EXPECT_EQ(count("appends") + count("deletes"), 400) << out;
  EXPECT_GT(count("deletes"), 100) << out;
  EXPECT_EQ(count("errors"), 0) << out;
  // What the last delete left: fewer values than were appended.
  const std::string stats = kvd_.Kvctl({"stats"}).out;
  const auto at = stats.find("values:");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_LT(std::stol(stats.substr(at + 7)), count("appends")) << stats;
}

// Each pop answers one value and takes it: as many pops as values preloaded
// leave the key empty, and one more answers nothing, which fails the run.
TEST_P(KvbenchTest, PopsTakeEachPreloadedValueOnce) {
  RunResult run = RunCommand(Kvbench({"--mix", "pop", "--hot-key", "--preload-values", "320",
                                      "--requests", "320", "--format", "json"}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(R"("preload_values":320,)"));
  EXPECT_THAT(run.out, HasSubstr(R"("ops":320,"appends":0,"gets":0,"deletes":0,"pops":320,)"
                                 R"("errors":0)"));
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("\nvalues:0\n"));

  RunResult drained = RunCommand(
      Kvbench({"--mix", "pop", "--hot-key", "--preload-values", "320", "--requests", "321"}));
  EXPECT_EQ(drained.exit_code, 1);
  EXPECT_THAT(drained.err, HasSubstr("pop returned 0 values; expected exactly 1"));
}

// A queue: the connections pop, waiting, what 2 producers append, numbered;
// kvbench fails unless each value is popped exactly once. The stop values
// that end the consumers are taken too: nothing is left.
TEST_P(KvbenchTest, WaitingPopsTakeEachValueAppendedOnce) {
  RunResult run = RunCommand(Kvbench({"--mix", "blocking-pop", "--hot-key", "--producers", "2",
                                      "--requests", "500", "--format", "json"}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(std::string(R"("connections":)") + GetParam().connections +
                                 R"(,"producers":2,)"));
  EXPECT_THAT(run.out, HasSubstr(R"("ops":500,"appends":500,"gets":0,"deletes":0,"pops":500,)"
                                 R"("errors":0)"));
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("\nvalues:0\n"));
}

TEST_P(KvbenchTest, PopMixesWithoutTheirOptionsAreRefused) {
  for (const auto& [args, error] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--mix", "pop"}, "needs --hot-key"},
           {{"--mix", "blocking-pop", "--keys", "3"}, "needs --hot-key"},
           {{"--producers", "2", "--hot-key"}, "--producers is for --mix blocking-pop"},
           {{"--mix", "blocking-pop", "--hot-key", "--value-size", "12"},
            "--value-size must be at least 13"}}) {
    RunResult run = RunCommand(Kvbench(args));
    EXPECT_EQ(run.exit_code, 2) << error;
    EXPECT_THAT(run.err, HasSubstr(error));
  }
}

TEST_P(KvbenchTest, AMixOverAHundredPercentIsRefused) {
  RunResult run = RunCommand(Kvbench({"--mix", "60", "--delete-percent", "50"}));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("more than 100 %"));
}

// Small requests: kvbench waits for the answer. 256 KiB values: the request
// does not fit the socket's buffers, and kvbench waits to write it.
TEST_P(KvbenchTest, ADaemonThatStopsIsReportedAfterTheTimeout) {
  kvd_.process().Signal(SIGSTOP);
  for (const char* value_size : {"16", "262144"}) {
    Process run(
        Kvbench({"--hot-key", "--duration", "30", "--timeout", "1", "--value-size", value_size}),
        {});
    const int code = run.Wait(std::chrono::seconds(15));
    EXPECT_EQ(code, 1) << value_size << "-byte values";
    EXPECT_THAT(run.Stderr(), HasSubstr("no response from kvd for 1 s")) << value_size;
  }
  kvd_.process().Signal(SIGCONT);
}

INSTANTIATE_TEST_SUITE_P(Connections, KvbenchTest,
                         ::testing::Values(Shape{"1", "1"}, Shape{"1", "4"}, Shape{"3", "1"}),
                         [](const auto& info) {
                           return std::string(info.param.connections) + "x" + info.param.pipeline;
                         });

}  // namespace
}  // namespace kvd::testing
