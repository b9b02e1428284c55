// Percent-decoding of HTTP request targets and form bodies.
#include "daemon/http_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kvd::daemon::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(HttpTargetTest, SplitsThePathAndDecodesEachSegment) {
  Target t;
  ASSERT_EQ(ParseTarget("/", &t), std::nullopt);
  EXPECT_TRUE(t.segments.empty());
  ASSERT_EQ(ParseTarget("/api/v1/keys/a%2Fb+c%20d", &t), std::nullopt);
  EXPECT_THAT(t.segments, ElementsAre("api", "v1", "keys", "a/b+c d"));
  ASSERT_EQ(ParseTarget("/keys/", &t), std::nullopt);
  EXPECT_THAT(t.segments, ElementsAre("keys", ""));
  ASSERT_EQ(ParseTarget("/caf%C3%A9?", &t), std::nullopt);
  EXPECT_THAT(t.segments, ElementsAre("caf\xc3\xa9"));
  EXPECT_TRUE(t.query.empty());
}

TEST(HttpTargetTest, DecodesTheQueryWithPlusAsSpace) {
  Target t;
  ASSERT_EQ(ParseTarget("/s?key=a+b%2Bc&val=&flag&&key=second&x=%3D%26", &t), std::nullopt);
  EXPECT_THAT(t.query, ElementsAre(Pair("key", "a b+c"), Pair("val", ""), Pair("flag", ""),
                                   Pair("key", "second"), Pair("x", "=&")));
  EXPECT_EQ(*FindParam(t.query, "key"), "a b+c");
  EXPECT_EQ(FindParam(t.query, "missing"), nullptr);
}

TEST(HttpTargetTest, RejectsBadEscapesInvalidUtf8AndNonPaths) {
  Target t;
  for (const char* bad : {"/a%", "/a%4", "/a%zz", "/?k=%g0", "/?k=%ff", "/%C3", "/?%ed%a0%80=1"}) {
    EXPECT_NE(ParseTarget(bad, &t), std::nullopt) << bad;
  }
  EXPECT_THAT(ParseTarget("*", &t).value_or(""), HasSubstr("starting with '/'"));
  EXPECT_THAT(ParseTarget("http://host/a", &t).value_or(""), HasSubstr("starting with '/'"));
  Params form;
  EXPECT_THAT(ParseForm("key=%ff", &form).value_or(""), HasSubstr("not valid UTF-8"));
}

}  // namespace
}  // namespace kvd::daemon::http
