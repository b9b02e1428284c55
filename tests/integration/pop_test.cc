// A list's writes (proto/PROTOCOL.md, "trim" and "pop") against a real kvd
// and the data file embedded: a trim keeps the values LRANGE's indices
// name, a pop takes values from either end and answers them in the order
// taken; a key left without values is deleted; each is durable once
// answered. Through raw protocol lines and through both backends of the
// client library.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "kvd/embedded.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Clock = std::chrono::steady_clock;

TEST(PopTest, SocketPopTakesValuesFromEitherEndInTheOrderTaken) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"other","val":"x"})"), R"({"ok":true})");  // 1
  for (const char* v : {"a", "b, c", "d\\n\\\"e\\\"", "\\u00e9", ""}) {               // 2..6
    ASSERT_EQ(Ask(c, std::string(R"({"op":"append","key":"k","val":")") + v + "\"}"),
              R"({"ok":true})");
  }
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"k"})"), R"({"ok":true,"values":["a"]})");  // 7
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"k","count":2,"id":"p"})"),
            R"({"ok":true,"id":"p","values":["b, c","d\n\"e\""]})");  // 8
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"k","from":"tail"})"),
            R"({"ok":true,"values":[""]})");  // 9
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"), R"({"ok":true,"values":["é"],"revision":9})")
      << "each pop that took values is one change";
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"k","count":5,"from":"head"})"),
            R"({"ok":true,"values":["é"]})")
      << "as many as there are";  // 10
  EXPECT_EQ(Ask(c, R"({"op":"keys"})"), R"({"ok":true,"keys":["other"]})")
      << "a key left without values is deleted";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"), R"({"ok":true,"values":[],"revision":0})");
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"k"})"), R"({"ok":true,"values":[]})");
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"absent","count":3,"from":"tail","id":1})"),
            R"({"ok":true,"id":1,"values":[]})");
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"other"})"), R"({"ok":true,"values":["x"],"revision":1})");
  EXPECT_THAT(Ask(c, R"({"op":"stats"})"), HasSubstr(R"("revision":10,)"))
      << "a pop that took nothing changed nothing";
  // From the tail, the last first; pipelined after the appends, it sees them.
  c.Send(R"({"op":"append_many","items":[{"key":"t","val":"x"},{"key":"t","val":"y"}]})"
         "\n"
         R"({"op":"append","key":"t","val":"z"})"
         "\n"
         R"({"op":"pop","key":"t","count":2,"from":"tail"})"
         "\n"
         R"({"op":"pop","key":"t","count":2,"from":"tail"})"
         "\n"
         R"({"op":"len","key":"t"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["z","y"]})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["x"]})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"length":0})");
}

// A key with values answers a pop at once, whatever it would wait.
TEST(PopTest, SocketPopWithAWaitAnswersAtOnceFromAKeyWithValues) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"k","val":"v"})"), R"({"ok":true})");
  const auto start = Clock::now();
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"k","wait":60})"), R"({"ok":true,"values":["v"]})");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Ask(c, R"({"op":"pop","key":"k","wait":0})"), R"({"ok":true,"values":[]})");
}

TEST(PopTest, SocketTrimKeepsTheValuesItNames) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append_many","items":[{"key":"k","val":"a"},{"key":"k","val":"b"},)"
                   R"({"key":"k","val":"c"},{"key":"k","val":"d"},{"key":"k","val":"e"},)"
                   R"({"key":"k","val":"f"}]})"),
            R"({"ok":true})");  // 1..6
  EXPECT_EQ(Ask(c, R"({"op":"trim","key":"k","start":1,"stop":-2,"id":"t"})"),
            R"({"ok":true,"id":"t"})");  // 7
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"),
            R"({"ok":true,"values":["b","c","d","e"],"revision":7})");
  EXPECT_EQ(Ask(c, R"({"op":"trim","key":"k","start":-100,"stop":100})"), R"({"ok":true})");
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"),
            R"({"ok":true,"values":["b","c","d","e"],"revision":7})")
      << "a trim that removed nothing changed nothing";
  EXPECT_EQ(Ask(c, R"({"op":"trim","key":"k","start":-2,"stop":9223372036854775807})"),
            R"({"ok":true})");  // 8
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"), R"({"ok":true,"values":["d","e"],"revision":8})");
  EXPECT_EQ(Ask(c, R"({"op":"trim","key":"k","start":1,"stop":0})"), R"({"ok":true})")
      << "a range that names none";  // 9
  EXPECT_EQ(Ask(c, R"({"op":"keys"})"), R"({"ok":true,"keys":[]})")
      << "a key left without values is deleted";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"), R"({"ok":true,"values":[],"revision":0})");
  EXPECT_EQ(Ask(c, R"({"op":"trim","key":"absent","start":0,"stop":0})"), R"({"ok":true})");
  EXPECT_THAT(Ask(c, R"({"op":"stats"})"), HasSubstr(R"("revision":9,)"));
}

// Malformed trims and pops and keys over the limit are refused, each with
// its error, and the connection goes on with nothing taken.
TEST(PopTest, BadTrimsAndPopsAreRefused) {
  TestDir dir;
  Daemon kvd(dir, {"--max-key-size", "16"});
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"k","val":"v"})"), R"({"ok":true})");
  for (const auto& [line, message] : {
           std::pair{R"({"op":"trim","key":"k","start":0,"id":1})", "missing integer field"},
           std::pair{R"({"op":"trim","key":"k","start":0,"stop":"1","id":1})",
                     "must be an integer"},
           std::pair{R"({"op":"pop","key":"k","count":0,"id":1})", R"(\"count\" must be)"},
           std::pair{R"({"op":"pop","key":"k","from":"middle","id":1})", R"(\"from\" must be)"},
           std::pair{R"({"op":"pop","key":"k","wait":-1,"id":1})", R"(\"wait\" must be)"},
           std::pair{R"({"op":"pop","key":"k","wait":86401,"id":1})", R"(\"wait\" must be)"},
           std::pair{R"({"op":"pop","key":"k","start":0,"id":1})", "only for get and trim"},
       }) {
    const std::string answer = Ask(c, line);
    EXPECT_THAT(answer, HasSubstr(R"({"ok":false,"id":1,"error":{"code":"invalid_request",)"))
        << line;
    EXPECT_THAT(answer, HasSubstr(message)) << line;
  }
  EXPECT_THAT(Ask(c, R"({"op":"pop","key":"a-key-over-16-bytes"})"),
              HasSubstr(R"("code":"key_too_large")"));
  EXPECT_THAT(Ask(c, R"({"op":"trim","key":"a-key-over-16-bytes","start":0,"stop":0})"),
              HasSubstr(R"("code":"key_too_large")"));
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"), R"({"ok":true,"values":["v"],"revision":1})")
      << "nothing was taken, and the connection goes on";
}

// A clean stop folds what pops and trims left into storage.data; a kill -9
// leaves it to the journal; either way a restart has it.
TEST(PopTest, PopsAndTrimsSurviveARestartAndACrash) {
  TestDir dir;
  {
    Daemon kvd(dir);
    client::Client kv(kvd.socket());
    kv.AppendMany({{"q", "a"}, {"q", "b"}, {"q", "c"}, {"q", "d"}, {"gone", "x"}});
    EXPECT_THAT(kv.Pop("q"), ElementsAre("a"));
    EXPECT_THAT(kv.Pop("gone"), ElementsAre("x"));
    kv.Trim("q", 0, 1);
    ASSERT_EQ(kvd.Stop(), 0);
  }
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"q":["b","c"]})");
  {
    Daemon kvd(dir);
    client::Client kv(kvd.socket());
    std::uint64_t revision = 0;
    EXPECT_THAT(kv.Get("q", &revision), ElementsAre("b", "c"));
    EXPECT_EQ(revision, 8u);
    kv.AppendMany({{"q", "d"}, {"q", "e"}, {"t", "y"}});       // 9..11
    EXPECT_THAT(kv.Pop("q", 2, true), ElementsAre("e", "d"));  // 12
    kv.Trim("q", -1, -1);                                      // 13
    EXPECT_THAT(kv.Pop("t"), ElementsAre("y"));                // 14
    kvd.Kill();
  }
  Daemon kvd(dir);
  client::Client kv(kvd.socket());
  std::uint64_t revision = 0;
  EXPECT_THAT(kv.Get("q", &revision), ElementsAre("c"));
  EXPECT_EQ(revision, 13u);
  EXPECT_THAT(kv.Keys(), ElementsAre("q"));
  EXPECT_THAT(kv.Pop("q"), ElementsAre("c"));
  EXPECT_THAT(kv.Keys(), IsEmpty());
}

// Through either backend of the client library.
void ExpectTrimsAndPops(client::Backend& kv) {
  kv.Append("other", "x");
  kv.AppendMany({{"k", "a"}, {"k", "b, c"}, {"k", "d\n"}, {"k", ""}, {"k", "e"}});  // 2..6
  EXPECT_THAT(kv.Pop("k"), ElementsAre("a"));
  EXPECT_THAT(kv.Pop("k", 2), ElementsAre("b, c", "d\n"));
  EXPECT_THAT(kv.Pop("k", 1, true), ElementsAre("e"));
  std::uint64_t revision = 0;
  EXPECT_THAT(kv.Get("k", &revision), ElementsAre(""));
  EXPECT_EQ(revision, 9u);
  EXPECT_THAT(kv.Pop("k", 9, true), ElementsAre(""));
  EXPECT_THAT(kv.Keys(), ElementsAre("other")) << "a key left without values is deleted";
  EXPECT_THAT(kv.Pop("k"), IsEmpty());
  EXPECT_THAT(kv.Pop("absent", 3, true), IsEmpty());
  kv.AppendMany({{"t", "x"}, {"t", "y"}, {"t", "z"}});  // 11..13
  EXPECT_THAT(kv.Pop("t", 3, true), ElementsAre("z", "y", "x")) << "the last first";

  kv.AppendMany({{"r", "a"}, {"r", "b"}, {"r", "c"}, {"r", "d"}});  // 15..18
  kv.Trim("r", 1, -2);                                              // 19
  EXPECT_THAT(kv.Get("r", &revision), ElementsAre("b", "c"));
  EXPECT_EQ(revision, 19u);
  kv.Trim("r", -100, 100);
  EXPECT_THAT(kv.Get("r", &revision), ElementsAre("b", "c"));
  EXPECT_EQ(revision, 19u) << "a trim that removed nothing changed nothing";
  kv.Trim("r", 2, 1);  // 20
  EXPECT_THAT(kv.Keys(), ElementsAre("other"));
  kv.Trim("absent", 0, 0);
  for (const auto& [name, value] : kv.Stats()) {
    if (name == "revision") {
      EXPECT_EQ(value, 20u);
    }
  }

  // A wait ends at once when the key has values, and with none when it
  // ends without one.
  kv.Append("w", "v");
  EXPECT_THAT(kv.Pop("w", 1, false, std::chrono::seconds(60)), ElementsAre("v"));
  EXPECT_THAT(kv.Pop("w", 1, false, std::chrono::milliseconds(100)), IsEmpty());

  // What the daemon refuses, both refuse.
  for (const auto& [count, wait] :
       {std::pair{std::uint64_t{0}, std::chrono::milliseconds(0)},
        std::pair{std::uint64_t{1}, std::chrono::milliseconds(std::chrono::hours(25))}}) {
    try {
      kv.Pop("other", count, false, wait);
      ADD_FAILURE() << "count " << count << ", wait " << wait.count() << " ms: no error";
    } catch (const client::Error& e) {
      EXPECT_EQ(e.code(), "invalid_request");
    }
  }
  EXPECT_THAT(kv.Get("other"), ElementsAre("x"));
}

TEST(PopTest, ClientTrimsAndPops) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client kv(kvd.socket());
  ExpectTrimsAndPops(kv);
}

TEST(PopTest, EmbeddedTrimsAndPops) {
  TestDir dir;
  client::Embedded kv(dir / "storage.data", std::chrono::seconds(5));
  ExpectTrimsAndPops(kv);
  kv.Close();
}

// Client sends its wait, and the daemon holds the pop until another client
// appends; a wait without a value ends empty once its time is up.
TEST(PopTest, ClientPopWaitsForAValueAnotherClientAppends) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client kv(kvd.socket());
  auto start = Clock::now();
  EXPECT_THAT(kv.Pop("q", 1, false, std::chrono::milliseconds(300)), IsEmpty());
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
  std::thread appender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    client::Client(kvd.socket()).AppendMany({{"q", "a"}, {"q", "b"}});
  });
  start = Clock::now();
  const std::vector<std::string> taken = kv.Pop("q", 5, true, std::chrono::seconds(30));
  const auto waited = Clock::now() - start;
  appender.join();
  EXPECT_THAT(taken, ElementsAre("b", "a"));
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::seconds(20));
}

// Embedded waits by polling: a value another thread appends meanwhile is
// taken, and a wait without one ends empty once its time is up.
TEST(PopTest, EmbeddedPopWaitsForAValueAnotherThreadAppends) {
  TestDir dir;
  client::Embedded kv(dir / "storage.data", std::chrono::seconds(5));
  auto start = Clock::now();
  EXPECT_THAT(kv.Pop("q", 1, false, std::chrono::milliseconds(300)), IsEmpty());
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(300));
  std::thread appender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    kv.AppendMany({{"q", "a"}, {"q", "b"}});
  });
  start = Clock::now();
  EXPECT_THAT(kv.Pop("q", 5, true, std::chrono::seconds(30)), ElementsAre("b", "a"));
  const auto waited = Clock::now() - start;
  appender.join();
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::seconds(20));
  EXPECT_THAT(kv.Keys(), IsEmpty());
  kv.Close();
}

// The server's errors reach the library's callers as errors.
TEST(PopTest, ClientRaisesTheServersErrors) {
  TestDir dir;
  Daemon kvd(dir, {"--max-key-size", "16"});
  client::Client kv(kvd.socket());
  try {
    kv.Pop("a-key-over-16-bytes");
    ADD_FAILURE() << "no error";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), "key_too_large");
  }
  try {
    kv.Trim("a-key-over-16-bytes", 0, 0);
    ADD_FAILURE() << "no error";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), "key_too_large");
  }
}

}  // namespace
}  // namespace kvd::testing
