// A list's parts and length (proto/PROTOCOL.md, "get" with "start"/"stop",
// and "len") against a real kvd and the data file embedded: a ranged get
// answers the values that LRANGE's indices name, with the key's revision;
// len the key's number of values; through raw protocol lines and through
// both backends of the client library.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
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

TEST(RangeTest, SocketGetWithARangeAnswersItsValuesAndTheKeysRevision) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"other","val":"x"})"), R"({"ok":true})");  // 1
  for (const char* line :
       {R"({"op":"append","key":"k","val":"a"})",  // 2..6
        R"({"op":"append","key":"k","val":"b, c"})",
        R"({"op":"append","key":"k","val":"d\n\"e\""})",
        R"({"op":"append","key":"k","val":"\u00e9"})", R"({"op":"append","key":"k","val":""})"}) {
    ASSERT_EQ(Ask(c, line), R"({"ok":true})") << line;
  }
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":1,"stop":3})"),
            R"({"ok":true,"values":["b, c","d\n\"e\"","é"],"revision":6})");
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":-2})"),
            R"({"ok":true,"values":["é",""],"revision":6})")
      << "stop defaults to -1";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","stop":0})"),
            R"({"ok":true,"values":["a"],"revision":6})")
      << "start defaults to 0";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":-100,"stop":1})"),
            R"({"ok":true,"values":["a","b, c"],"revision":6})")
      << "clamped at the head";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":3,"stop":9223372036854775807})"),
            R"({"ok":true,"values":["é",""],"revision":6})")
      << "clamped at the tail";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":0,"stop":-1})"),
            Ask(c, R"({"op":"get","key":"k"})"))
      << "the whole list";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":3,"stop":1})"),
            R"({"ok":true,"values":[],"revision":6})");
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":5})"),
            R"({"ok":true,"values":[],"revision":6})")
      << "past the end: none, and the revision of the key that exists";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"absent","start":0,"stop":-1})"),
            R"({"ok":true,"values":[],"revision":0})");
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":-1,"id":"r","stale":true})"),
            R"({"ok":true,"id":"r","values":[""],"revision":6})");
}

TEST(RangeTest, SocketLenAnswersTheNumberOfValues) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  EXPECT_EQ(Ask(c, R"({"op":"len","key":"k"})"), R"({"ok":true,"length":0})");
  // Pipelined after the writes: it reads them.
  c.Send(R"({"op":"append","key":"k","val":"1"})"
         "\n"
         R"({"op":"append_many","items":[{"key":"k","val":"2"},{"key":"j","val":"3"}]})"
         "\n"
         R"({"op":"len","key":"k","id":7})"
         "\n"
         R"({"op":"get","key":"k","start":-1})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"id":7,"length":2})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["2"],"revision":2})");
  EXPECT_EQ(Ask(c, R"({"op":"delete","key":"k"})"), R"({"ok":true,"deleted":true})");
  EXPECT_EQ(Ask(c, R"({"op":"len","key":"k","stale":true})"), R"({"ok":true,"length":0})");
  EXPECT_EQ(Ask(c, R"({"op":"len","key":"j"})"), R"({"ok":true,"length":1})");
}

// Malformed ranges, a range on another op and keys over the limit are
// refused, each with its error, and the connection goes on.
TEST(RangeTest, BadRangesAndKeysAreRefused) {
  TestDir dir;
  Daemon kvd(dir, {"--max-key-size", "16"});
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"k","val":"v"})"), R"({"ok":true})");
  for (const char* line : {
           R"({"op":"get","key":"k","start":"0","id":1})",
           R"({"op":"get","key":"k","stop":-1.5,"id":1})",
           R"({"op":"get","key":"k","start":null,"id":1})",
           R"({"op":"get","key":"k","stop":18446744073709551615,"id":1})",
       }) {
    const std::string answer = Ask(c, line);
    EXPECT_THAT(answer, HasSubstr(R"({"ok":false,"id":1,"error":{"code":"invalid_request",)"))
        << line;
    EXPECT_THAT(answer, HasSubstr("must be an integer")) << line;
  }
  EXPECT_EQ(
      Ask(c, R"({"op":"len","key":"k","start":0})"),
      R"({"ok":false,"error":{"code":"invalid_request","message":"\"start\" is only for get and trim"}})");
  EXPECT_EQ(
      Ask(c, R"({"op":"delete","key":"k","stop":0})"),
      R"({"ok":false,"error":{"code":"invalid_request","message":"\"stop\" is only for get and trim"}})");
  EXPECT_THAT(Ask(c, R"({"op":"len"})"), HasSubstr(R"("code":"invalid_request")"));
  EXPECT_THAT(Ask(c, R"({"op":"len","key":"a-key-over-16-bytes"})"),
              HasSubstr(R"("code":"key_too_large")"));
  EXPECT_THAT(Ask(c, R"({"op":"get","key":"a-key-over-16-bytes","start":0})"),
              HasSubstr(R"("code":"key_too_large")"));
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k","start":0})"),
            R"({"ok":true,"values":["v"],"revision":1})")
      << "nothing was deleted, and the connection goes on";
}

// Through either backend of the client library.
void ExpectRanges(client::Backend& kv) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(kv.Length("k"), 0u);
  kv.Append("other", "x");
  kv.AppendMany({{"k", "a"}, {"k", "b, c"}, {"k", "d\n"}, {"k", ""}});  // 2..5
  EXPECT_EQ(kv.Length("k"), 4u);
  EXPECT_EQ(kv.Length("other"), 1u);
  EXPECT_EQ(kv.Length("absent"), 0u);
  std::uint64_t revision = 99;
  EXPECT_THAT(kv.GetRange("k", 1, 2, &revision), ElementsAre("b, c", "d\n"));
  EXPECT_EQ(revision, 5u);
  EXPECT_THAT(kv.GetRange("k", -2, -1), ElementsAre("d\n", ""));
  EXPECT_THAT(kv.GetRange("k", -100, 0), ElementsAre("a"));
  EXPECT_THAT(kv.GetRange("k", 2, kMax), ElementsAre("d\n", ""));
  EXPECT_EQ(kv.GetRange("k", 0, -1), kv.Get("k"));
  EXPECT_THAT(kv.GetRange("k", 2, 1), IsEmpty());
  revision = 99;
  EXPECT_THAT(kv.GetRange("k", 4, 10, &revision), IsEmpty());
  EXPECT_EQ(revision, 5u) << "past the end of a key that exists";
  revision = 99;
  EXPECT_THAT(kv.GetRange("absent", 0, -1, &revision), IsEmpty());
  EXPECT_EQ(revision, 0u);
  EXPECT_TRUE(kv.Delete("k"));
  EXPECT_EQ(kv.Length("k"), 0u);
  EXPECT_THAT(kv.GetRange("k", 0, -1), IsEmpty());
}

TEST(RangeTest, ClientReadsRangesAndLengths) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client kv(kvd.socket());
  ExpectRanges(kv);
}

TEST(RangeTest, EmbeddedReadsRangesAndLengths) {
  TestDir dir;
  client::Embedded kv(dir / "storage.data", std::chrono::seconds(5));
  ExpectRanges(kv);
  kv.Close();
}

// The server's errors reach the library's callers as errors.
TEST(RangeTest, ClientRaisesTheServersErrors) {
  TestDir dir;
  Daemon kvd(dir, {"--max-key-size", "16"});
  client::Client kv(kvd.socket());
  try {
    kv.GetRange("a-key-over-16-bytes", 0, -1);
    ADD_FAILURE() << "no error";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), "key_too_large");
  }
  try {
    kv.Length("a-key-over-16-bytes");
    ADD_FAILURE() << "no error";
  } catch (const client::Error& e) {
    EXPECT_EQ(e.code(), "key_too_large");
  }
}

}  // namespace
}  // namespace kvd::testing
