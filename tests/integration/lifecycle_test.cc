// Starting, stopping and restarting kvd: sockets, data files, signals.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;

TEST(LifecycleTest, DataSurvivesACleanRestart) {
  TestDir dir;
  {
    Daemon kvd(dir);
    ASSERT_EQ(kvd.Kvctl({"--key", "a", "--val", "x"}).exit_code, 0);
    ASSERT_EQ(kvd.Kvctl({"--key", "a", "--val", "y, z"}).exit_code, 0);
    ASSERT_EQ(kvd.Kvctl({"--key", "b", "--val", "\xe2\x82\xac"}).exit_code, 0);
    ASSERT_EQ(kvd.Stop(), 0);
  }
  Daemon kvd(dir);
  EXPECT_EQ(kvd.Kvctl({"--key", "a"}).out, "x, y, z\n");
  EXPECT_EQ(kvd.Kvctl({"--key", "b"}).out, "\xe2\x82\xac\n");
}

TEST(LifecycleTest, SigtermAndSigintExitZeroAndRemoveTheSocket) {
  for (int signo : {SIGTERM, SIGINT}) {
    TestDir dir;
    Daemon kvd(dir);
    kvd.process().Signal(signo);
    EXPECT_EQ(kvd.process().Wait(), 0);
    EXPECT_FALSE(std::filesystem::exists(kvd.socket()));
    EXPECT_THAT(kvd.Log(), HasSubstr("<5>"));
    EXPECT_THAT(kvd.Log(), HasSubstr(signo == SIGTERM ? "SIGTERM" : "SIGINT"));
  }
}

TEST(LifecycleTest, SigtermAnswersEveryRequestAlreadyReceived) {
  TestDir dir;
  Daemon kvd(dir);
  Connection conn(kvd.socket());
  std::string burst;
  constexpr int kAppends = 2000;
  for (int i = 0; i < kAppends; ++i) {
    burst += R"({"op":"append","key":"k","val":")" + std::to_string(i) + "\"}\n";
  }
  conn.Send(burst);
  ASSERT_EQ(conn.ReadLine(), R"({"ok":true})");  // it is working on them
  kvd.process().Signal(SIGTERM);
  int acknowledged = 1;
  while (auto line = conn.ReadLine()) {
    ASSERT_EQ(*line, R"({"ok":true})");
    ++acknowledged;
  }
  EXPECT_EQ(kvd.process().Wait(), 0);
  // Whatever was acknowledged is on disk; typically all of it was received and answered.
  Daemon again(dir);
  const auto values = client::Client(again.socket()).Get("k");
  EXPECT_GE(values.size(), std::size_t(acknowledged));
  for (int i = 0; i < acknowledged; ++i) EXPECT_EQ(values[i], std::to_string(i));
}

TEST(LifecycleTest, SecondDaemonOnTheSameSocketRefusesAndTheFirstKeepsServing) {
  TestDir dir;
  Daemon first(dir);
  RunResult second = RunKvd({"--socket", first.socket(), "--data", (dir / "other.data").string()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("another kvd"));
  EXPECT_THAT(second.err, HasSubstr(first.socket()));
  EXPECT_EQ(first.Kvctl({"ping"}).out, "PONG\n");
}

TEST(LifecycleTest, SecondDaemonOnTheSameDataFileRefuses) {
  TestDir dir;
  Daemon first(dir);
  RunResult second = RunKvd({"--socket", (dir / "other.sock").string(), "--data", first.data()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("owned by a running kvd"));
  EXPECT_FALSE(std::filesystem::exists(dir / "other.sock"));
  EXPECT_EQ(first.Kvctl({"ping"}).out, "PONG\n");
}

TEST(LifecycleTest, StaleSocketFromADeadDaemonIsReplaced) {
  TestDir dir;
  {
    Daemon crashed(dir);
    ASSERT_EQ(crashed.Kvctl({"--key", "a", "--val", "kept"}).exit_code, 0);
    crashed.Kill();
  }
  ASSERT_TRUE(std::filesystem::is_socket(dir / "kvd.sock")) << "kill -9 leaves the socket";
  Daemon kvd(dir);
  EXPECT_EQ(kvd.Kvctl({"--key", "a"}).out, "kept\n");
  EXPECT_THAT(kvd.Log(), HasSubstr("stale socket"));
}

TEST(LifecycleTest, NonSocketFileAtTheSocketPathIsLeftAlone) {
  TestDir dir;
  WriteFile(dir / "kvd.sock", "precious");
  RunResult r =
      RunKvd({"--socket", (dir / "kvd.sock").string(), "--data", (dir / "storage.data").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not a socket"));
  EXPECT_EQ(ReadFile(dir / "kvd.sock"), "precious");
}

TEST(LifecycleTest, DamagedDataFileIsRefusedWithItsPositionAndKept) {
  TestDir dir;
  const std::string damaged = "{\"a\": [\"x\"],\n \"b\": [\"y\"";
  WriteFile(dir / "storage.data", damaged);
  RunResult r =
      RunKvd({"--socket", (dir / "kvd.sock").string(), "--data", (dir / "storage.data").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr((dir / "storage.data").string()));
  EXPECT_THAT(r.err, HasSubstr("line 2"));
  EXPECT_EQ(ReadFile(dir / "storage.data"), damaged);
  EXPECT_FALSE(std::filesystem::exists(dir / "kvd.sock"));
}

// The busy poll (daemon/event_loop.h) is on by default without fsync, off
// under fsync always, and serves as the plain loop does either way; the log's
// start-up line tells which is in effect.
TEST(LifecycleTest, BusyPollDependsOnFsyncUnlessGivenAndIsLogged) {
  struct Case {
    std::vector<std::string> args;
    std::string logged;
  };
  const Case cases[] = {
      {{}, "(fsync always, busy-poll 0 us)"},
      {{"--fsync", "everysec"}, "(fsync everysec, busy-poll 50 us)"},
      {{"--fsync", "no"}, "(fsync no, busy-poll 50 us)"},
      {{"--fsync", "always", "--busy-poll", "200"}, "(fsync always, busy-poll 200 us)"},
      {{"--fsync", "no", "--busy-poll", "0"}, "(fsync no, busy-poll 0 us)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.logged);
    TestDir dir;
    Daemon kvd(dir, c.args);
    EXPECT_THAT(kvd.Log(), HasSubstr(c.logged));
    ASSERT_EQ(kvd.Kvctl({"--key", "a", "--val", "x"}).exit_code, 0);
    ASSERT_EQ(kvd.Kvctl({"--key", "a", "--val", "y"}).exit_code, 0);
    EXPECT_EQ(kvd.Kvctl({"--key", "a"}).out, "x, y\n");
    EXPECT_EQ(kvd.Stop(), 0);
  }
}

TEST(LifecycleTest, BadFlagsExitTwo) {
  EXPECT_EQ(RunKvd({"--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(RunKvd({"--max-line", "ten"}).exit_code, 2);
  EXPECT_EQ(RunKvd({"--busy-poll", "-1"}).exit_code, 2);
  EXPECT_EQ(RunKvd({"--busy-poll", "1000001"}).exit_code, 2);
  RunResult help = RunKvd({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--data"));
  EXPECT_THAT(help.out, HasSubstr("--socket"));
  EXPECT_THAT(help.out, HasSubstr("--busy-poll"));
}

}  // namespace
}  // namespace kvd::testing
