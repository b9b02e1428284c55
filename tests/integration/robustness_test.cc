// Bad clients get a clear error, lose nothing and disturb nobody else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "proto/response.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;

class RobustnessTest : public ::testing::Test {
 protected:
  // A well-behaved client working alongside the bad one.
  void ExpectOthersServed() {
    client::Client c(kvd_.socket());
    c.Append("good", "still here");
    EXPECT_EQ(c.Get("good").back(), "still here");
  }

  TestDir dir_;
  Daemon kvd_{dir_};
};

TEST_F(RobustnessTest, GarbageGetsErrorsAndTheConnectionStaysUsable) {
  Connection bad(kvd_.socket());
  bad.Send("hello\n{\"op\":\n[1,2]\n{\"op\":\"nope\"}\n{\"op\":\"append\",\"key\":1}\n\n");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_json");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_json");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_request");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "unknown_op");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_request");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_json");
  bad.Send("{\"op\":\"ping\",\"id\":\"after\"}\n");
  EXPECT_EQ(bad.ReadLine(), R"({"ok":true,"id":"after"})");
  ExpectOthersServed();
  EXPECT_EQ(client::Client(kvd_.socket()).Keys(), std::vector<std::string>{"good"});
}

TEST_F(RobustnessTest, DeeplyNestedLineIsRefusedWithoutCrashing) {
  Connection bad(kvd_.socket());
  bad.Send("{\"op\":\"ping\",\"id\":" + std::string(500000, '[') + "\n");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_request");
  bad.Send("{\"op\":\"ping\"}\n");
  EXPECT_EQ(bad.ReadLine(), R"({"ok":true})");
  EXPECT_TRUE(kvd_.process().Running());
}

TEST_F(RobustnessTest, InvalidUtf8IsRejectedAndNotStored) {
  Connection bad(kvd_.socket());
  bad.Send("{\"op\":\"append\",\"key\":\"k\",\"val\":\"\xfe\xff\"}\n");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_utf8");
  bad.Send("{\"op\":\"append\",\"key\":\"k\",\"val\":\"\\udc00\"}\n");
  EXPECT_EQ(ErrorCodeOf(bad.ReadLine()), "invalid_utf8");
  EXPECT_TRUE(client::Client(kvd_.socket()).Get("k").empty());
}

TEST_F(RobustnessTest, DisconnectMidLineExecutesNothing) {
  {
    Connection quitter(kvd_.socket());
    quitter.Send(R"({"op":"append","key":"half","val":"never finished"})");
  }
  ExpectOthersServed();
  EXPECT_TRUE(client::Client(kvd_.socket()).Get("half").empty());
}

TEST_F(RobustnessTest, StalledClientDoesNotBlockOthers) {
  Connection staller(kvd_.socket());
  staller.Send(R"({"op":"append","key":"slow","val":)");  // and then nothing
  ExpectOthersServed();
  staller.Send("\"done\"}\n");
  EXPECT_EQ(staller.ReadLine(), R"({"ok":true})");
}

TEST_F(RobustnessTest, TwoMebibyteLineIsRefusedAndTheConnectionClosed) {
  Connection big(kvd_.socket());
  const std::string line =
      R"({"op":"append","key":"big","val":")" + std::string(2 << 20, 'x') + "\"}\n";
  // The daemon may close before taking it all; that is the point.
  try {
    big.Send(line);
  } catch (const std::exception&) {
  }
  const auto response = big.ReadLine();
  EXPECT_EQ(ErrorCodeOf(response), "line_too_long");
  EXPECT_THAT(response.value_or(""), HasSubstr("1048576"));
  EXPECT_TRUE(big.ClosedByPeer());
  ExpectOthersServed();
  EXPECT_TRUE(client::Client(kvd_.socket()).Get("big").empty());
}

TEST_F(RobustnessTest, RequestsBeforeAnOversizeLineAreStillAnswered) {
  Connection conn(kvd_.socket());
  try {
    conn.Send("{\"op\":\"append\",\"key\":\"first\",\"val\":\"1\"}\n" + std::string(3 << 20, 'y'));
  } catch (const std::exception&) {
  }
  EXPECT_EQ(conn.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(ErrorCodeOf(conn.ReadLine()), "line_too_long");
  EXPECT_EQ(client::Client(kvd_.socket()).Get("first"), std::vector<std::string>{"1"});
}

TEST(LineLimitTest, MaxLineIsConfigurable) {
  TestDir dir;
  Daemon kvd(dir, {"--max-line", "100"});
  Connection conn(kvd.socket());
  conn.Send(R"({"op":"append","key":"k","val":")" + std::string(60, 'v') + "\"}\n");
  EXPECT_EQ(conn.ReadLine(), R"({"ok":true})");
  conn.Send(R"({"op":"append","key":"k","val":")" + std::string(100, 'v') + "\"}\n");
  EXPECT_EQ(ErrorCodeOf(conn.ReadLine()), "line_too_long");
  EXPECT_TRUE(conn.ClosedByPeer());
  EXPECT_EQ(client::Client(kvd.socket()).Get("k").size(), 1u);
}

}  // namespace
}  // namespace kvd::testing
