// Access control and limits: only those who belong get in, and no client —
// buggy, slow or hostile — crashes kvd, stalls others, exhausts its memory or
// changes data it should not.
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "proto/response.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;

std::uint64_t Stat(const Daemon& kvd, const std::string& name) {
  for (const auto& [n, v] : client::Client(kvd.socket()).Stats()) {
    if (n == name) return v;
  }
  return ~0ull;
}

constexpr std::size_t kMiB = 1024 * 1024;
#ifdef __SANITIZE_ADDRESS__
// ASan keeps freed memory in quarantine (up to 256 MiB) instead of reusing it.
constexpr std::size_t kAllocatorSlack = 320 * kMiB;
#else
constexpr std::size_t kAllocatorSlack = 0;
#endif

TEST(AccessTest, SocketFileGetsItsModeAndGroup) {
  TestDir dir;
  {
    Daemon kvd(dir);
    struct stat st {};
    ASSERT_EQ(::lstat(kvd.socket().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u) << "default --socket-mode";
  }
  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's group needs root";
  Daemon kvd(dir, {"--socket-mode", "0600", "--socket-group", "1"});
  struct stat st {};
  ASSERT_EQ(::lstat(kvd.socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_gid, 1u);
  EXPECT_EQ(RunKvd({"--socket-mode", "rw-rw----"}).exit_code, 2);
}

TEST(AccessTest, WorldWritableDirectoryWithoutStickyBitIsRefused) {
  TestDir dir;
  std::filesystem::create_directory(dir / "open");
  std::filesystem::permissions(dir / "open", std::filesystem::perms::all);
  RunResult r = RunKvd({"--socket", (dir / "open" / "kvd.sock").string(), "--data",
                        (dir / "storage.data").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("anyone may write"));
  EXPECT_FALSE(std::filesystem::exists(dir / "open" / "kvd.sock"));
  // Like /tmp: the sticky bit keeps others from replacing the socket.
  std::filesystem::permissions(dir / "open", std::filesystem::perms::sticky_bit,
                               std::filesystem::perm_options::add);
  Daemon kvd(dir / "open" / "kvd.sock", dir / "storage.data");
  EXPECT_EQ(kvd.Kvctl({"ping"}).out, "PONG\n");
}

TEST(AccessTest, AnotherUsersStaleSocketIsLeftAlone) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to own a file as another user";
  TestDir dir;
  const std::string path = (dir / "kvd.sock").string();
  {
    // A socket nobody listens on, owned by uid 65534.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  }
  RunResult r = RunKvd({"--socket", path, "--data", (dir / "storage.data").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("belongs to uid 65534"));
  EXPECT_TRUE(std::filesystem::is_socket(path));
}

TEST(AccessTest, OnlyAllowedUidsGetIn) {
  if (::geteuid() != 0 || !std::filesystem::exists("/usr/bin/setpriv")) {
    GTEST_SKIP() << "needs root and setpriv to run a client as another user";
  }
  TestDir dir;
  // The other user must reach the socket and run kvctl.
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                               std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
  // A copy of kvctl the other user can run, wherever the build lives.
  std::filesystem::copy_file(KvctlBin(), dir / "kvctl");
  auto as_nobody = [&](const Daemon& kvd) {
    return RunCommand({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       (dir / "kvctl").string(), "--socket", kvd.socket(), "ping"});
  };
  {
    Daemon kvd(dir, {"--socket-mode", "0666", "--allow-uid", "0"});
    EXPECT_EQ(kvd.Kvctl({"ping"}).out, "PONG\n") << "uid 0 is allowed";
    RunResult refused = as_nobody(kvd);
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_THAT(refused.err, HasSubstr("may not use this kvd"));
    EXPECT_THAT(kvd.Log(), HasSubstr("uid 65534 gid 65534"));
    EXPECT_EQ(Stat(kvd, "refused_connections"), 1u);
  }
  Daemon kvd(dir, {"--socket-mode", "0666", "--allow-gid", "65534"});
  EXPECT_EQ(as_nobody(kvd).out, "PONG\n") << "gid 65534 is allowed";
  EXPECT_EQ(kvd.Kvctl({"ping"}).exit_code, 1) << "root is not on the list";
}

TEST(LimitTest, KeysAndValuesOverTheLimitAreRefusedWhole) {
  TestDir dir;
  Daemon kvd(dir, {"--max-key-size", "8", "--max-value-size", "16"});
  Connection conn(kvd.socket());
  conn.Send(R"({"op":"append","key":"123456789","val":"v"})"
            "\n");
  EXPECT_EQ(ErrorCodeOf(conn.ReadLine()), "key_too_large");
  conn.Send(R"({"op":"append","key":"k","val":"12345678901234567"})"
            "\n");
  EXPECT_EQ(ErrorCodeOf(conn.ReadLine()), "value_too_large");
  conn.Send(
      R"({"op":"append_many","items":[{"key":"k","val":"ok"},{"key":"k","val":"12345678901234567"}]})"
      "\n");
  EXPECT_EQ(ErrorCodeOf(conn.ReadLine()), "value_too_large");
  conn.Send(R"({"op":"append","key":"12345678","val":"1234567890123456"})"
            "\n");
  EXPECT_EQ(conn.ReadLine(), R"({"ok":true})") << "exactly at the limits";
  EXPECT_EQ(client::Client(kvd.socket()).Keys(), std::vector<std::string>{"12345678"});
}

TEST(LimitTest, ThousandsOfIdleConnectionsDoNotStallActiveClients) {
  constexpr int kIdle = 2000;
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_max < kIdle + 200) GTEST_SKIP() << "ulimit -Hn is too low";
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);
  TestDir dir;
  Daemon kvd(dir, {"--max-connections", std::to_string(kIdle + 1)});
  std::vector<std::unique_ptr<Connection>> idle;
  for (int i = 0; i < kIdle; ++i) idle.push_back(std::make_unique<Connection>(kvd.socket()));
  {
    // The one connection left is served as usual.
    client::Client active(kvd.socket());
    for (int i = 0; i < 100; ++i) active.Append("k", std::to_string(i));
    EXPECT_EQ(active.Get("k").size(), 100u);
    // Beyond the limit: an error, then the connection is closed.
    Connection extra(kvd.socket());
    const auto line = extra.ReadLine();
    EXPECT_EQ(ErrorCodeOf(line), "too_many_connections");
    EXPECT_TRUE(extra.ClosedByPeer());
  }
  EXPECT_THAT(kvd.Log(), HasSubstr("refused a connection (at --max-connections"));
  // Idle connections cost no read buffer: 2,000 of them stay well under this.
  EXPECT_LT(RssBytes(kvd.process().pid()), 200 * kMiB + kAllocatorSlack);
  idle.clear();
  EXPECT_EQ(kvd.Kvctl({"ping"}).out, "PONG\n");
}

TEST(LimitTest, ClientThatPipelinesAndNeverReadsCannotGrowMemory) {
  TestDir dir;
  Daemon kvd(dir, {"--idle-timeout", "30"});
  {
    client::Client setup(kvd.socket());
    std::vector<client::KeyValue> items;
    for (int i = 0; i < 100; ++i) items.push_back({"big", std::string(1000, 'x')});
    setup.AppendMany(items);  // each get of "big" answers ~100 KB
  }
  const std::size_t rss_before = RssBytes(kvd.process().pid());
  Connection greedy(kvd.socket());
  std::string requests;
  for (int i = 0; i < 100000; ++i)
    requests += R"({"op":"get","key":"big"})"
                "\n";
  const std::size_t sent = greedy.SendFor(requests, std::chrono::seconds(3));
  EXPECT_LT(sent, requests.size()) << "kvd kept reading although nobody took the answers";
  // Unbounded, the answers to what was sent would take gigabytes.
  EXPECT_LT(RssBytes(kvd.process().pid()), rss_before + 64 * kMiB + kAllocatorSlack);
  client::Client other(kvd.socket());
  EXPECT_EQ(other.Get("big").size(), 100u) << "others are served meanwhile";
}

TEST(LimitTest, IdleAndSlowlorisClientsAreCutOff) {
  TestDir dir;
  Daemon kvd(dir, {"--idle-timeout", "1"});
  Connection idle(kvd.socket());
  Connection slow(kvd.socket());
  Connection busy(kvd.socket());
  const std::string request = R"({"op":"ping"})";
  const auto start = std::chrono::steady_clock::now();
  bool slow_closed = false;
  // The slowloris sends a byte every 200 ms and never completes a line; the
  // busy client completes a request just as often and stays connected.
  for (std::size_t i = 0; i < request.size() && !slow_closed; ++i) {
    slow_closed = slow.SendFor(std::string(1, request[i]), std::chrono::milliseconds(100)) == 0;
    busy.Send(request + "\n");
    ASSERT_EQ(busy.ReadLine(), R"({"ok":true})");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(slow.ClosedByPeer(std::chrono::seconds(3)));
  EXPECT_TRUE(idle.ClosedByPeer(std::chrono::seconds(3)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  busy.Send(request + "\n");
  EXPECT_EQ(busy.ReadLine(), R"({"ok":true})");
  EXPECT_THAT(kvd.Log(), HasSubstr("idle for 1 s"));
}

TEST(LimitTest, GarbageGetsErrorsAndChangesNothing) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client(kvd.socket()).Append("keep", "me");
  std::mt19937 rng(7);
  std::string random(4096, '\0');
  for (auto& c : random) c = static_cast<char>(rng());
  std::erase(random, '\n');
  for (const std::string& garbage :
       {random, std::string("{\"op\":\"get\",\"key\":\"\0\"}", 22),
        std::string("\xff\xfe{\"op\":\"ping\"}"),
        std::string(100000, '[') + std::string(100000, ']'),
        std::string(R"({"op":"get","key":"keep","id":1e999999})"),
        std::string(R"({"op":"get","key":"keep","id":123456789012345678901234567890})")}) {
    Connection conn(kvd.socket());
    conn.Send(garbage + "\n");
    const auto line = conn.ReadLine();
    EXPECT_THAT(ErrorCodeOf(line),
                ::testing::AnyOf("invalid_json", "invalid_utf8", "invalid_request"))
        << line.value_or("<none>");
    conn.Send(R"({"op":"ping"})"
              "\n");
    EXPECT_EQ(conn.ReadLine(), R"({"ok":true})") << "the connection stays usable";
  }
  {
    // 100 MiB without a newline: refused once past the 1 MiB limit.
    Connection huge(kvd.socket());
    const std::string chunk(kMiB, 'x');
    std::size_t sent = 0;
    for (int i = 0; i < 100 && huge.SendFor(chunk, std::chrono::seconds(5)) == chunk.size(); ++i) {
      sent += chunk.size();
    }
    EXPECT_LT(sent, 100 * kMiB);
    EXPECT_EQ(ErrorCodeOf(huge.ReadLine()), "line_too_long");
  }
  EXPECT_TRUE(kvd.process().Running());
  EXPECT_EQ(client::Client(kvd.socket()).Keys(), std::vector<std::string>{"keep"});
  EXPECT_EQ(Stat(kvd, "values"), 1u);
}

TEST(LeakTest, DaemonThatServedTenThousandRequestsShutsDownClean) {
  // Under the ASan build LeakSanitizer checks kvd at exit (a leak fails the
  // exit status); elsewhere valgrind does, when it is installed.
  TestDir dir;
  std::vector<std::string> argv;
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  if (std::filesystem::exists("/usr/bin/valgrind")) {
    argv = {"/usr/bin/valgrind", "--quiet", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99"};
  }
#endif
  argv.insert(argv.end(), {KvdBin(), "--socket", (dir / "kvd.sock").string(), "--data",
                           (dir / "storage.data").string()});
  Process kvd(argv, ProcessOptions{});
  RunResult ping{1, {}, {}};
  for (int i = 0; i < 3000 && ping.exit_code != 0; ++i) {
    ping = RunCommand({KvctlBin(), "--socket", (dir / "kvd.sock").string(), "ping"});
  }
  ASSERT_EQ(ping.exit_code, 0);
  {
    Connection conn((dir / "kvd.sock").string());
    std::string burst;
    for (int i = 0; i < 10000; ++i) {
      burst += i % 2 == 0 ? R"({"op":"append","key":"k)" + std::to_string(i % 10) +
                                R"(","val":"v"})"
                                "\n"
                          : R"({"op":"get","key":"k1"})"
                            "\n";
    }
    conn.Send(burst);
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(conn.ReadLine(std::chrono::seconds(60)));
  }
  kvd.Signal(SIGTERM);
  EXPECT_EQ(kvd.Wait(std::chrono::seconds(120)), 0) << kvd.Stderr();
}

}  // namespace
}  // namespace kvd::testing
