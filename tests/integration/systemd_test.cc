// kvd under a service manager, played by the test: sd_notify messages
// arrive on a datagram socket the test binds (as systemd's NOTIFY_SOCKET),
// sockets are handed over by systemd-socket-activate, and log lines are what
// the journal expects. The real systemd is booted by tests/service/.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <regex>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Set by tests/meson.build: "0" when kvd was built without libsystemd.
bool BuiltWithSystemd() {
  const char* v = std::getenv("KVD_WITH_SYSTEMD");
  return v == nullptr || std::string(v) != "0";
}

#define SKIP_WITHOUT_SYSTEMD() \
  if (!BuiltWithSystemd()) GTEST_SKIP() << "kvd was built without libsystemd"

// The service manager's end of NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      throw std::runtime_error("cannot bind " + path_);
    }
  }
  ~NotifySocket() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // Receives messages until one has `field` as a line; returns it, and adds
  // it and those before it to `seen`. Nothing if none comes within `timeout`.
  std::optional<std::string> WaitFor(const std::string& field, std::vector<std::string>* seen,
                                     std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) {
        return std::nullopt;
      }
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n < 0) return std::nullopt;
      std::string message(buffer, static_cast<std::size_t>(n));
      seen->push_back(message);
      std::istringstream lines(message);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind(field, 0) == 0) return message;
      }
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// storage.data with `keys` keys of two values each.
void WriteStorageData(const std::filesystem::path& path, int keys) {
  std::string json = "{";
  for (int i = 0; i < keys; ++i) {
    if (i > 0) json += ',';
    const std::string n = std::to_string(i);
    json += "\"key-" + n + "\":[\"first value of " + n + "\",\"second value of " + n + "\"]";
  }
  WriteFile(path, json + "}");
}

// kvd on `dir`/storage.data, with --socket `dir`/`socket`.
std::vector<std::string> KvdArgs(const TestDir& dir, std::vector<std::string> more = {},
                                 const std::string& socket = "kvd.sock") {
  std::vector<std::string> args = {KvdBin(), "--socket", (dir / socket).string(), "--data",
                                   (dir / "storage.data").string()};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

RunResult Kvctl(const TestDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {KvctlBin(), "--socket", (dir / "kvd.sock").string()});
  return RunCommand(args);
}

// `kvctl ping` against `kvd` until it answers (or kvd ends, or 20 s pass).
RunResult PingUntilServed(const TestDir& dir, Process& kvd) {
  RunResult ping = Kvctl(dir, {"ping"});
  for (int i = 0; i < 2000 && ping.exit_code != 0 && kvd.Running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ping = Kvctl(dir, {"ping"});
  }
  return ping;
}

TEST(SystemdTest, ReadyOnlyOnceTheLoadedDataIsServedAndStoppingOnSigterm) {
  SKIP_WITHOUT_SYSTEMD();
  TestDir dir;
  constexpr int kKeys = 100000;
  WriteStorageData(dir / "storage.data", kKeys);
  NotifySocket notify(dir / "notify");
  Process kvd(KvdArgs(dir), ProcessOptions{.env = {{"NOTIFY_SOCKET", notify.path()}},
                                           .stdin_data = {},
                                           .stderr_file = dir / "log"});
  std::vector<std::string> seen;
  const auto ready = notify.WaitFor("READY=1", &seen);
  ASSERT_TRUE(ready) << ReadFile(dir / "log");
  // The moment READY=1 arrives, the loaded data is served.
  const RunResult get = Kvctl(dir, {"--key", "key-" + std::to_string(kKeys - 1)});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "first value of 99999, second value of 99999\n");
  EXPECT_THAT(*ready, HasSubstr("STATUS=serving 100000 keys, 200000 values, 0 clients"));
  // Before it: more time asked for the load, and a status saying so.
  ASSERT_GE(seen.size(), 3u);
  EXPECT_THAT(seen[0], StartsWith("EXTEND_TIMEOUT_USEC="));
  EXPECT_THAT(seen[1], StartsWith("STATUS=loading " + (dir / "storage.data").string()));

  kvd.Signal(SIGTERM);
  const auto stopping = notify.WaitFor("STOPPING=1", &seen);
  ASSERT_TRUE(stopping);
  EXPECT_THAT(*stopping, HasSubstr("STATUS=stopping"));
  EXPECT_EQ(kvd.Wait(), 0);
  EXPECT_THAT(ReadFile(dir / "log"), Not(HasSubstr("<3>")));
}

TEST(SystemdTest, StatusCountsTheClients) {
  SKIP_WITHOUT_SYSTEMD();
  TestDir dir;
  NotifySocket notify(dir / "notify");
  Process kvd(KvdArgs(dir), ProcessOptions{.env = {{"NOTIFY_SOCKET", notify.path()}},
                                           .stdin_data = {},
                                           .stderr_file = dir / "log"});
  std::vector<std::string> seen;
  ASSERT_TRUE(notify.WaitFor("READY=1", &seen)) << ReadFile(dir / "log");
  ASSERT_EQ(Kvctl(dir, {"--key", "k", "--val", "v"}).exit_code, 0);
  Connection client(dir / "kvd.sock");
  client.Send("{\"op\":\"ping\"}\n");
  ASSERT_EQ(client.ReadLine(), R"({"ok":true})");
  // Sent every few seconds while serving.
  EXPECT_TRUE(notify.WaitFor("STATUS=serving 1 keys, 1 values, 1 clients", &seen));
}

TEST(SystemdTest, AnUnreachableNotifySocketIsLoggedAndKvdServesAnyway) {
  SKIP_WITHOUT_SYSTEMD();
  TestDir dir;
  Process kvd(KvdArgs(dir),
              ProcessOptions{.env = {{"NOTIFY_SOCKET", (dir / "nobody-listens").string()}},
                             .stdin_data = {},
                             .stderr_file = dir / "log"});
  const RunResult ping = PingUntilServed(dir, kvd);
  EXPECT_EQ(ping.out, "PONG\n");
  EXPECT_THAT(ReadFile(dir / "log"),
              HasSubstr("<3>cannot notify the service manager at NOTIFY_SOCKET=" +
                        (dir / "nobody-listens").string()));
  kvd.Signal(SIGTERM);
  EXPECT_EQ(kvd.Wait(), 0);
}

TEST(SystemdTest, ServesTheSocketItIsHandedAndLeavesItsFileAlone) {
  SKIP_WITHOUT_SYSTEMD();
  const std::string activate = FindProgram("systemd-socket-activate");
  if (activate.empty()) GTEST_SKIP() << "systemd-socket-activate is not installed";
  TestDir dir;
  NotifySocket notify(dir / "notify");
  const std::string socket = (dir / "kvd.sock").string();
  // Neither kvd's --socket nor its --socket-mode apply to a handed socket.
  std::vector<std::string> argv = {activate, "-l", socket, "-E", "NOTIFY_SOCKET=" + notify.path()};
  for (const auto& a : KvdArgs(dir, {"--socket-mode", "0600"}, "unused.sock")) argv.push_back(a);
  Process kvd(argv, ProcessOptions{.env = {}, .stdin_data = {}, .stderr_file = dir / "log"});
  struct stat before {};
  for (int i = 0; i < 2000 && ::stat(socket.c_str(), &before) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(socket));
  // The first connection starts kvd (as a .socket unit's would), which serves it.
  const RunResult append = Kvctl(dir, {"--key", "a", "--val", "x"});
  EXPECT_EQ(append.exit_code, 0) << append.err << ReadFile(dir / "log");
  std::vector<std::string> seen;
  EXPECT_TRUE(notify.WaitFor("READY=1", &seen)) << ReadFile(dir / "log");
  EXPECT_EQ(Kvctl(dir, {"--key", "a"}).out, "x\n");
  EXPECT_THAT(ReadFile(dir / "log"),
              HasSubstr("serving " + socket + " (socket from the service manager)"));
  EXPECT_FALSE(std::filesystem::exists(dir / "unused.sock"));
  struct stat after {};
  ASSERT_EQ(::stat(socket.c_str(), &after), 0);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_NE(after.st_mode & 0777, 0600u);

  kvd.Signal(SIGTERM);
  EXPECT_EQ(kvd.Wait(), 0);
  // The socket file is the service manager's: it stays.
  ASSERT_EQ(::stat(socket.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
}

TEST(SystemdTest, RefusesMoreThanOneHandedSocket) {
  SKIP_WITHOUT_SYSTEMD();
  const std::string activate = FindProgram("systemd-socket-activate");
  if (activate.empty()) GTEST_SKIP() << "systemd-socket-activate is not installed";
  TestDir dir;
  std::vector<std::string> argv = {activate, "-l", (dir / "a.sock").string(), "-l",
                                   (dir / "b.sock").string()};
  for (const auto& a : KvdArgs(dir)) argv.push_back(a);
  Process kvd(argv, ProcessOptions{.env = {}, .stdin_data = {}, .stderr_file = dir / "log"});
  // The socket file appears at bind(), a moment before listen(): until then
  // a connection is refused.
  std::optional<Connection> first;  // starts kvd
  for (int i = 0; i < 2000 && !first; ++i) {
    try {
      first.emplace(dir / "a.sock");
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ASSERT_TRUE(first) << "systemd-socket-activate never listened on a.sock";
  EXPECT_EQ(kvd.Wait(), 1);
  EXPECT_THAT(ReadFile(dir / "log"), HasSubstr("passed 2 sockets"));
}

// The journal (JOURNAL_STREAM set to stderr's device:inode) reads the <N>
// prefix as the priority and adds its own timestamp: kvd's lines carry none,
// there or anywhere.
TEST(SystemdTest, LogLinesHavePrioritiesAndNoTimestamps) {
  TestDir dir;
  WriteFile(dir / "log", "");
  struct stat log {};
  ASSERT_EQ(::stat((dir / "log").c_str(), &log), 0);
  Process kvd(KvdArgs(dir),
              ProcessOptions{.env = {{"JOURNAL_STREAM", std::to_string(log.st_dev) + ":" +
                                                            std::to_string(log.st_ino)}},
                             .stdin_data = {},
                             .stderr_file = dir / "log"});
  const RunResult ping = PingUntilServed(dir, kvd);
  ASSERT_EQ(ping.exit_code, 0);
  kvd.Signal(SIGTERM);
  ASSERT_EQ(kvd.Wait(), 0);
  std::istringstream lines(ReadFile(dir / "log"));
  const std::regex line_format("<[0-7]>[^<].*");
  const std::regex timestamp(
      R"(\d\d:\d\d:\d\d|\d{4}-\d\d-\d\d|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) )");
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_TRUE(std::regex_match(line, line_format)) << line;
    EXPECT_FALSE(std::regex_search(line, timestamp)) << line;
  }
  EXPECT_GE(count, 3);  // loaded, serving, received SIGTERM, stopped
}

}  // namespace
}  // namespace kvd::testing
