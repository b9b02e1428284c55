// watch (proto/PROTOCOL.md, "watch") against a real kvd: a stream of every
// change under a prefix, in revision order, from a revision on; resumed
// after a disconnect and after restarts it sees every change exactly once;
// a watch from changes no longer kept is refused (compacted); a watcher
// that does not read is ended (slow_watcher) while writers go on.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "kvd/error.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The changes a watch streams, as text: "revision kind key values...".
std::vector<std::string> Collect(client::Client& kv, const std::string& prefix,
                                 std::optional<std::uint64_t> from, std::size_t count) {
  std::vector<std::string> seen;
  kv.Watch(prefix, from, [&](const client::Change& c) {
    std::string text = std::to_string(c.revision) + " " + c.kind + " " + c.key;
    for (const auto& v : c.values) text += " " + v;
    seen.push_back(text);
    return seen.size() < count;
  });
  return seen;
}

TEST(WatchTest, SocketWatchStreamsEachChangeUnderItsPrefixInOrder) {
  TestDir dir;
  Daemon kvd(dir);
  Connection writer(kvd.socket());
  ASSERT_EQ(Ask(writer, R"({"op":"append","key":"jobs/a","val":"x"})"), R"({"ok":true})");  // 1
  ASSERT_EQ(Ask(writer, R"({"op":"append","key":"other","val":"y"})"), R"({"ok":true})");   // 2
  Connection watcher(kvd.socket());
  // Requests before the watch on the same connection are answered first.
  watcher.Send(R"({"op":"ping","id":1})"
               "\n"
               R"({"op":"watch","prefix":"jobs/","from":0,"id":2})"
               "\n");
  EXPECT_EQ(watcher.ReadLine(), R"({"ok":true,"id":1})");
  EXPECT_EQ(watcher.ReadLine(), R"({"ok":true,"id":2,"revision":0})");
  EXPECT_EQ(watcher.ReadLine(), R"({"revision":1,"key":"jobs/a","kind":"append","values":["x"]})");
  ASSERT_EQ(Ask(writer, R"({"op":"append","key":"jobs/b","val":"1, \"2\""})"),
            R"({"ok":true})");                                                              // 3
  ASSERT_EQ(Ask(writer, R"({"op":"append","key":"other","val":"z"})"), R"({"ok":true})");   // 4
  ASSERT_EQ(Ask(writer, R"({"op":"append","key":"jobs/b","val":"3"})"), R"({"ok":true})");  // 5
  ASSERT_EQ(Ask(writer, R"({"op":"pop","key":"jobs/b","count":2})"),
            R"({"ok":true,"values":["1, \"2\"","3"]})");  // 6
  ASSERT_EQ(Ask(writer, R"({"op":"delete","key":"jobs/a"})"), R"({"ok":true,"deleted":true})");
  ASSERT_EQ(Ask(writer, R"({"op":"delete","key":"jobs/a"})"), R"({"ok":true,"deleted":false})")
      << "no change, no line";
  EXPECT_EQ(watcher.ReadLine(),
            R"({"revision":3,"key":"jobs/b","kind":"append","values":["1, \"2\""]})");
  EXPECT_EQ(watcher.ReadLine(), R"({"revision":5,"key":"jobs/b","kind":"append","values":["3"]})");
  EXPECT_EQ(watcher.ReadLine(),
            R"({"revision":6,"key":"jobs/b","kind":"trim","values":["1, \"2\"","3"]})");
  EXPECT_EQ(watcher.ReadLine(), R"({"revision":7,"key":"jobs/a","kind":"delete","values":[]})");
  EXPECT_FALSE(watcher.ReadLine(std::chrono::milliseconds(200))) << "nothing more";
  EXPECT_THAT(Ask(writer, R"({"op":"stats"})"), HasSubstr(R"("watchers":1,)"));

  // Without "from": the changes after the revision now.
  Connection now(kvd.socket());
  EXPECT_EQ(Ask(now, R"({"op":"watch"})"), R"({"ok":true,"revision":7})");
  ASSERT_EQ(Ask(writer, R"({"op":"append","key":"k","val":"v"})"), R"({"ok":true})");
  EXPECT_EQ(now.ReadLine(), R"({"revision":8,"key":"k","kind":"append","values":["v"]})");
}

// Expiry is streamed as the changes it is: an append's TTL as its "at_ms",
// expire and persist as kinds of their own, and the delete of a key whose
// time came as a delete.
TEST(WatchTest, ExpiryChangesAreStreamedToo) {
  TestDir dir;
  Daemon kvd(dir);
  Connection watcher(kvd.socket());
  ASSERT_EQ(Ask(watcher, R"({"op":"watch","prefix":"t"})"), R"({"ok":true,"revision":0})");
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"t","val":"v","ttl":100})"), R"({"ok":true})");
  ASSERT_THAT(Ask(c, R"({"op":"persist","key":"t"})"), StartsWith(R"({"ok":true)"));
  ASSERT_THAT(Ask(c, R"({"op":"expire","key":"t","seconds":1})"), StartsWith(R"({"ok":true)"));
  EXPECT_THAT(
      watcher.ReadLine(),
      ::testing::Optional(::testing::MatchesRegex(
          R"(\{"revision":1,"key":"t","kind":"append","values":\["v"\],"at_ms":[0-9]+\})")));
  EXPECT_EQ(watcher.ReadLine(), R"({"revision":2,"key":"t","kind":"persist","values":[]})");
  EXPECT_THAT(watcher.ReadLine(),
              ::testing::Optional(::testing::MatchesRegex(
                  R"(\{"revision":3,"key":"t","kind":"expire","values":\[\],"at_ms":[0-9]+\})")));
  EXPECT_EQ(watcher.ReadLine(std::chrono::seconds(10)),
            R"({"revision":4,"key":"t","kind":"delete","values":[]})")
      << "its time came";
}

TEST(WatchTest, BadWatchesAreRefused) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  for (const char* bad : {R"({"op":"watch","from":-1})", R"({"op":"watch","from":"0"})",
                          R"({"op":"watch","from":1.5})", R"({"op":"watch","prefix":5})"}) {
    EXPECT_EQ(ErrorCodeOf(Ask(c, bad)), "invalid_request") << bad;
  }
  EXPECT_EQ(Ask(c, R"({"op":"ping"})"), R"({"ok":true})") << "the connection goes on";
}

// A history of 64 KiB keeps about that many bytes of changes: a watch from
// before them is refused with the revision it may start from.
TEST(WatchTest, AWatchFromChangesNoLongerKeptIsRefusedWithTheOldestItMayStartFrom) {
  TestDir dir;
  Daemon kvd(dir, {"--watch-history", "65536"});
  client::Client kv(kvd.socket());
  const std::string value(1000, 'v');
  for (int i = 0; i < 10; ++i) {
    std::vector<client::KeyValue> items(20, client::KeyValue{"k", value});
    kv.AppendMany(items);  // revisions 1..200
  }
  Connection c(kvd.socket());
  const std::string refused = Ask(c, R"({"op":"watch","from":0})");
  EXPECT_EQ(ErrorCodeOf(refused), "compacted");
  const auto at = refused.find("\"revision\":");
  ASSERT_NE(at, std::string::npos) << refused;
  const std::uint64_t oldest = std::stoull(refused.substr(at + 11));
  EXPECT_GT(oldest, 100u);
  EXPECT_LT(oldest, 200u);
  client::Client watcher(kvd.socket());
  const auto seen = Collect(watcher, "", oldest, 1);
  EXPECT_THAT(seen, ElementsAre(StartsWith(std::to_string(oldest + 1) + " append k v")));

  const RunResult kvctl = kvd.Kvctl({"watch", "--from", "3"});
  EXPECT_EQ(kvctl.exit_code, 1);
  EXPECT_THAT(kvctl.err, HasSubstr("compacted"));
  EXPECT_THAT(kvctl.err, HasSubstr("--from " + std::to_string(oldest)));
}

// A watcher that resumes from the last revision it saw, after it went away,
// after a clean restart and after a kill -9, sees every change once, in
// order.
TEST(WatchTest, AResumedWatchSeesEveryChangeExactlyOnce) {
  TestDir dir;
  std::vector<std::string> expected, seen;
  int next = 0;
  // Appends `n` values to keys a and b in turn, as the expected changes.
  auto write = [&](const std::string& socket, int n) {
    client::Client kv(socket);
    for (int i = 0; i < n; ++i, ++next) {
      const std::string key = next % 2 == 0 ? "a" : "b";
      kv.Append(key, std::to_string(next));
      expected.push_back(std::to_string(next + 1) + " append " + key + " " + std::to_string(next));
    }
  };
  // Reads up to the end of `expected`, resuming after the last change seen.
  auto catch_up = [&](const std::string& socket) {
    client::Client kv(socket);
    const std::uint64_t last = seen.size();
    for (auto& line : Collect(kv, "", last, expected.size() - seen.size())) {
      seen.push_back(std::move(line));
    }
  };
  {
    Daemon kvd(dir);
    write(kvd.socket(), 10);
    catch_up(kvd.socket());
    write(kvd.socket(), 10);  // while the watcher is away
    ASSERT_EQ(kvd.Stop(), 0);
  }
  {
    Daemon kvd(dir);
    write(kvd.socket(), 5);
    catch_up(kvd.socket());
    write(kvd.socket(), 7);
    kvd.Kill();
  }
  Daemon kvd(dir);
  write(kvd.socket(), 3);
  catch_up(kvd.socket());
  EXPECT_EQ(seen, expected);
}

// A watcher that stops reading holds up no writer, and is ended once it has
// fallen half of the history behind: it reads what was sent, then the
// slow_watcher error naming the last revision sent, from which it resumes.
TEST(WatchTest, AWatcherThatDoesNotReadIsEndedWhileWritersGoOn) {
  TestDir dir;
  Daemon kvd(dir, {"--watch-history", "1048576"});
  Connection watcher(kvd.socket());
  ASSERT_EQ(Ask(watcher, R"({"op":"watch","from":0})"), R"({"ok":true,"revision":0})");
  client::Client kv(kvd.socket());
  const std::string value(1000, 'v');
  for (int i = 0; i < 40; ++i) {
    std::vector<client::KeyValue> items(100, client::KeyValue{"k", value});
    kv.AppendMany(items);  // 4 MB of changes: more than the socket's buffers take
  }
  EXPECT_THAT(kv.Get("k").size(), 4000u);
  std::uint64_t last = 0;
  std::optional<std::string> line;
  while ((line = watcher.ReadLine()) && line->starts_with("{\"revision\":")) {
    const std::uint64_t revision = std::stoull(line->substr(12));
    ASSERT_EQ(revision, last + 1) << "in order, none left out";
    last = revision;
  }
  ASSERT_TRUE(line) << "no slow_watcher error";
  EXPECT_EQ(ErrorCodeOf(*line), "slow_watcher");
  EXPECT_THAT(*line, HasSubstr("\"revision\":" + std::to_string(last) + "}"));
  EXPECT_LT(last, 4000u);
  EXPECT_TRUE(watcher.ClosedByPeer());
  bool counted = false;
  for (const auto& [name, value] : kv.Stats()) {
    if (name == "slow_watchers_cut_off") counted = value == 1;
  }
  EXPECT_TRUE(counted);
}

TEST(WatchTest, KvctlWatchPrintsALinePerChange) {
  TestDir dir;
  Daemon kvd(dir);
  ASSERT_EQ(kvd.Kvctl({"append", "jobs/1", "a, b"}).exit_code, 0);
  ASSERT_EQ(kvd.Kvctl({"append", "x", "1"}).exit_code, 0);
  Process watch({KvctlBin(), "--socket", kvd.socket(), "watch", "jobs/", "--from", "0"}, {});
  Process json({KvctlBin(), "--socket", kvd.socket(), "watch", "--json"}, {});
  // The second watch starts from now: wait until both stream.
  for (int i = 0; i < 100; ++i) {
    bool two = false;
    for (const auto& [name, value] : client::Client(kvd.socket()).Stats()) {
      if (name == "watchers") two = value == 2;
    }
    if (two) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(kvd.Kvctl({"pop", "jobs/1"}).exit_code, 0);
  ASSERT_EQ(kvd.Kvctl({"del", "x"}).exit_code, 0);
  const std::string expect_watch = "1 append jobs/1 a, b\n3 trim jobs/1 a, b\n";
  const std::string expect_json =
      "{\"revision\":3,\"key\":\"jobs/1\",\"kind\":\"trim\",\"values\":[\"a, b\"]}\n"
      "{\"revision\":4,\"key\":\"x\",\"kind\":\"delete\",\"values\":[]}\n";
  for (int i = 0; i < 250 && (watch.Stdout() != expect_watch || json.Stdout() != expect_json);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(watch.Stdout(), expect_watch);
  EXPECT_EQ(json.Stdout(), expect_json);
  // A stopping kvd ends the streams.
  ASSERT_EQ(kvd.Stop(), 0);
  EXPECT_EQ(watch.Wait(), 1);
  EXPECT_THAT(watch.Stderr(), HasSubstr("lost the connection"));
}

}  // namespace
}  // namespace kvd::testing
