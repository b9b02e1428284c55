#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proto/change.h"
#include "proto/error.h"
#include "proto/flat_request.h"
#include "proto/line_framer.h"
#include "proto/request.h"
#include "proto/response.h"

namespace kvd::proto {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::string_literals;

Request MustDecode(const std::string& line) {
  Request r;
  auto error = DecodeRequest(line, &r);
  EXPECT_FALSE(error) << line << ": " << error->message;
  return r;
}

Error MustFail(const std::string& line) {
  Request r;
  auto error = DecodeRequest(line, &r);
  EXPECT_TRUE(error) << line << " was accepted";
  return error.value_or(Error{ErrorCode::kInternal, "accepted"});
}

TEST(RequestTest, DecodesEveryOperation) {
  EXPECT_EQ(MustDecode(R"({"op":"ping"})").op, Op::kPing);
  EXPECT_EQ(MustDecode(R"({"op":"stats"})").op, Op::kStats);

  Request append = MustDecode(R"({"op":"append","key":"k","val":"v"})");
  EXPECT_EQ(append.op, Op::kAppend);
  EXPECT_EQ(append.key, "k");
  EXPECT_EQ(append.val, "v");

  Request many =
      MustDecode(R"({"op":"append_many","items":[{"key":"a","val":"1"},{"key":"b","val":"2"}]})");
  EXPECT_EQ(many.op, Op::kAppendMany);
  EXPECT_THAT(many.items, ElementsAre(KeyValue{"a", "1"}, KeyValue{"b", "2"}));

  Request get = MustDecode(R"({"op":"get","key":"k"})");
  EXPECT_EQ(get.op, Op::kGet);
  EXPECT_EQ(get.key, "k");

  Request len = MustDecode(R"({"op":"len","key":"k"})");
  EXPECT_EQ(len.op, Op::kLen);
  EXPECT_EQ(len.key, "k");

  Request del = MustDecode(R"({"op":"delete","key":"k"})");
  EXPECT_EQ(del.op, Op::kDelete);
  EXPECT_EQ(del.key, "k");

  Request trim = MustDecode(R"({"op":"trim","key":"k","start":0,"stop":9})");
  EXPECT_EQ(trim.op, Op::kTrim);
  EXPECT_EQ(trim.key, "k");

  Request pop = MustDecode(R"({"op":"pop","key":"k"})");
  EXPECT_EQ(pop.op, Op::kPop);
  EXPECT_EQ(pop.key, "k");

  EXPECT_EQ(MustDecode(R"({"op":"keys"})").prefix, "");
  EXPECT_EQ(MustDecode(R"({"op":"keys","prefix":"user:"})").prefix, "user:");
}

TEST(RequestTest, WritesAreTheMutatingOps) {
  EXPECT_TRUE(IsWrite(Op::kAppend));
  EXPECT_TRUE(IsWrite(Op::kAppendMany));
  EXPECT_TRUE(IsWrite(Op::kDelete));
  EXPECT_TRUE(IsWrite(Op::kTrim));
  EXPECT_TRUE(IsWrite(Op::kPop));
  EXPECT_FALSE(IsWrite(Op::kGet));
  EXPECT_FALSE(IsWrite(Op::kLen));
  EXPECT_FALSE(IsWrite(Op::kKeys));
  EXPECT_FALSE(IsWrite(Op::kPing));
  EXPECT_FALSE(IsWrite(Op::kStats));
}

TEST(RequestTest, ToleratesLineTerminatorsAndUnknownFields) {
  EXPECT_EQ(MustDecode("{\"op\":\"get\",\"key\":\"k\"}\r\n").key, "k");
  EXPECT_EQ(MustDecode(R"({"op":"get","key":"k","future":[1,2]})").key, "k");
}

TEST(RequestTest, KeepsTheIdVerbatim) {
  EXPECT_EQ(MustDecode(R"({"op":"ping","id":42})").id, "42");
  EXPECT_EQ(MustDecode(R"({"op":"ping","id":"abc"})").id, R"("abc")");
  EXPECT_EQ(MustDecode(R"({"op":"ping","id":{"a":[1,null]}})").id, R"({"a":[1,null]})");
  EXPECT_EQ(MustDecode(R"({"op":"ping"})").id, "");
}

TEST(RequestTest, StringsSurviveEscapesUnicodeAndEmptiness) {
  Request r =
      MustDecode(R"({"op":"append","key":"","val":"a, \"b\"\n\u00e9\u20ac\ud83d\ude00\u0000z"})");
  EXPECT_EQ(r.key, "");
  EXPECT_EQ(r.val, "a, \"b\"\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z"s);
}

TEST(RequestTest, MalformedJsonIsInvalidJson) {
  for (const char* line : {"", "{", "{\"op\":\"ping\"", "not json", "{\"op\":\"ping\"} {}",
                           "{\"op\":\"ping\",}", "{\"op\":\"append\",\"key\":\"a\tb\"}"}) {
    EXPECT_EQ(MustFail(line).code, ErrorCode::kInvalidJson) << line;
  }
  EXPECT_EQ(MustFail("{\"op\":\"ping\"}\0x"s).code, ErrorCode::kInvalidJson);
}

TEST(RequestTest, InvalidUtf8IsRejected) {
  EXPECT_EQ(MustFail("{\"op\":\"append\",\"key\":\"k\",\"val\":\"\xff\"}").code,
            ErrorCode::kInvalidUtf8);
  EXPECT_EQ(MustFail("{\"op\":\"append\",\"key\":\"\xc3\",\"val\":\"v\"}").code,
            ErrorCode::kInvalidUtf8);
  // An overlong encoding of '/' and a lone surrogate escape.
  EXPECT_EQ(MustFail("{\"op\":\"get\",\"key\":\"\xc0\xaf\"}").code, ErrorCode::kInvalidUtf8);
  EXPECT_EQ(MustFail(R"({"op":"get","key":"\ud800"})").code, ErrorCode::kInvalidUtf8);
  EXPECT_EQ(MustFail(R"({"op":"get","key":"\udc00"})").code, ErrorCode::kInvalidUtf8);
  EXPECT_EQ(MustFail(R"({"op":"get","key":"k","\udfff":1})").code, ErrorCode::kInvalidUtf8);
}

TEST(RequestTest, ControlCharacterInAStringIsNamed) {
  Error e = MustFail("{\"op\":\"append\",\"key\":\"a\tb\",\"val\":\"v\"}");
  EXPECT_EQ(e.code, ErrorCode::kInvalidJson);
  EXPECT_THAT(e.message, HasSubstr("control character"));
}

TEST(RequestTest, DeepNestingIsRefusedBeforeParsing) {
  // Deep enough to overflow a recursive parser's stack.
  const std::string deep = "{\"op\":\"ping\",\"id\":" + std::string(300000, '[');
  Error e = MustFail(deep);
  EXPECT_EQ(e.code, ErrorCode::kInvalidRequest);
  EXPECT_THAT(e.message, HasSubstr("nested deeper than 32"));
  // Brackets inside strings are text, and moderate nesting is fine.
  EXPECT_EQ(MustDecode("{\"op\":\"get\",\"key\":\"" + std::string(100, '[') + "\\\"\"}").key,
            std::string(100, '[') + "\"");
  EXPECT_EQ(
      MustDecode("{\"op\":\"ping\",\"id\":" + std::string(20, '[') + std::string(20, ']') + "}").id,
      std::string(20, '[') + std::string(20, ']'));
}

TEST(RequestTest, NumbersThatCannotBeEchoedExactlyAreRefused) {
  EXPECT_EQ(MustFail(R"({"op":"ping","id":123456789012345678901234567890})").code,
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":"ping","id":1e999999})").code, ErrorCode::kInvalidJson);
  EXPECT_EQ(MustDecode(R"({"op":"ping","id":18446744073709551615})").id, "18446744073709551615");
  EXPECT_EQ(MustDecode(R"({"op":"ping","id":-2.5})").id, "-2.5");
}

TEST(RequestTest, WrongShapesAndTypesAreInvalidRequests) {
  EXPECT_EQ(MustFail("[1,2]").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail("\"ping\"").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"key":"k"})").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":7})").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":"append","key":1,"val":"v"})").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":"append","key":"k","val":["v"]})").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":"keys","prefix":null})").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":"append_many","items":{}})").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":"append_many","items":["a"]})").code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(MustFail(R"({"op":"append_many","items":[{"key":"a"}]})").code,
            ErrorCode::kInvalidRequest);
}

TEST(RequestTest, MissingFieldsAreNamed) {
  EXPECT_THAT(MustFail(R"({"op":"append","key":"k"})").message, HasSubstr("\"val\""));
  EXPECT_THAT(MustFail(R"({"op":"append","val":"v"})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"op":"get"})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"op":"get","start":0})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"op":"len"})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"op":"delete"})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"op":"trim","start":0,"stop":0})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"op":"pop"})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"op":"pop","count":2})").message, HasSubstr("\"key\""));
  EXPECT_THAT(MustFail(R"({"id":1})").message, HasSubstr("\"op\""));
}

TEST(RequestTest, UnknownOpIsNamed) {
  Error e = MustFail(R"({"op":"flushall"})");
  EXPECT_EQ(e.code, ErrorCode::kUnknownOp);
  EXPECT_THAT(e.message, HasSubstr("flushall"));
}

TEST(RequestTest, ErrorKeepsTheIdWhenTheLineWasAnObject) {
  Request r;
  ASSERT_TRUE(DecodeRequest(R"({"op":"nope","id":"x1"})", &r));
  EXPECT_EQ(r.id, R"("x1")");
}

// Requests as a request, for comparing in tests.
std::string Describe(const Request& r) {
  std::string items;
  for (const auto& kv : r.items) items += kv.key + "=" + kv.val + ";";
  auto number = [](const std::optional<std::int64_t>& n) {
    return n ? std::to_string(*n) : std::string("-");
  };
  return std::string(OpName(r.op)) + "|" + r.key + "|" + r.val + "|" + r.prefix + "|" + items +
         "|" + r.id + "|" + number(r.start) + ".." + number(r.stop) + "|" +
         std::to_string(r.count) + (r.from_tail ? " tail" : " head") + "|" +
         std::to_string(r.wait.count()) + "ms";
}

TEST(FlatRequestTest, TakesTheCommonShapesAsTheDocumentPathDoes) {
  for (const std::string line : {
           R"({"op":"append","key":"k","val":"v"})",
           R"({"val":"v, w","op":"append","key":"cafÃ©"})",
           R"( { "op" : "get" , "key" : "" } )",
           R"({"op":"len","key":"k"})",
           R"({"key":"q","op":"pop"})",
           "{\"op\":\"delete\",\"key\":\"k\"}\r\n",
           R"({"op":"keys","prefix":"p"})",
           R"({"op":"keys"})",
           R"({"op":"ping"})",
           R"({"op":"stats"})",
           R"({"op":"watch","prefix":"p"})",
           "{\"op\":\"append\",\"key\":\"\x7f\",\"val\":\"x\"}",
           R"({"op":"get","key":"k","start":0,"stop":9})",
           R"({"op":"get","key":"k","start":-9223372036854775808})",
           R"({"op":"get","key":"k","stop":9223372036854775807})",
           R"({"op":"trim","key":"k","start":-10,"stop":-1})",
           R"({"op":"pop","key":"q","count":3,"from":"tail"})",
           R"({"op":"pop","key":"q","from":"head","wait":10.0})",
           R"({"op":"pop","key":"q","wait":0.001})",
           R"({"op":"pop","key":"q","wait":1.5})",
           R"({"op":"pop","key":"q","wait":0})",
           R"({"op":"pop","key":"q","wait":86400})",
       }) {
    Request flat, general;
    flat.id = "stale";
    flat.items = {{"stale", "stale"}};
    EXPECT_TRUE(internal::DecodeFlatRequest(line, &flat)) << line;
    EXPECT_FALSE(internal::DecodeRequestDocument(line, &general)) << line;
    EXPECT_EQ(Describe(flat), Describe(general)) << line;
  }
}

TEST(FlatRequestTest, LeavesEverythingElseToTheDocumentPath) {
  for (const std::string line : {
           R"({"op":"append","key":"k","val":"v","id":1})",          // an id
           R"({"op":"append","key":"k\n","val":"v"})",               // an escape
           R"({"op":"append","key":"k","val":"v","x":"y"})",         // an unknown member
           R"({"op":"get","key":"k","val":"v"})",                    // a member the op ignores
           R"({"op":"len","key":"k","prefix":"p"})",                 // the same
           R"({"op":"get","key":"k","start":"0"})",                  // a range as a string
           R"({"op":"trim","key":"k","start":0})",                   // a missing member
           R"({"op":"get","key":"k","start":9223372036854775808})",  // past 64 bits
           R"({"op":"get","key":"k","start":-0})",                   // not the plain spelling
           R"({"op":"get","key":"k","start":01})",                   // the same
           R"({"op":"get","key":"k","start":1.0})",                  // not an integer
           R"({"op":"get","key":"k","start":1e2})",                  // an exponent
           R"({"op":"get","key":"k","start":1-2})",                  // no number
           R"({"op":"pop","key":"q","count":0})",                    // an error
           R"({"op":"pop","key":"q","count":-1})",                   // the same
           R"({"op":"pop","key":"q","from":"middle"})",              // the same
           R"({"op":"pop","key":"q","wait":86401})",                 // the same
           R"({"op":"pop","key":"q","wait":-1})",                    // the same
           R"({"op":"pop","key":"q","wait":0.0001})",                // more than ms
           R"({"op":"pop","key":"q","wait":1.})",                    // cut short
           R"({"op":"pop","key":"q","wait":"1"})",                   // a string
           R"({"op":"watch","from":5})",                             // a watch's from
           R"({"op":"get","key":"k","count":1})",                    // a member the op ignores
           R"({"op":"expire","key":"k"})",                           // an op with numbers
           R"({"op":"expire"})",                                     // the same, no key
           R"({"op":"pop","key":"q","prefix":"p"})",                 // a member the op ignores
           R"({"op":"len"})",                                        // a missing member
           R"({"op":"append","key":"k"})",                           // a missing member
           R"({"op":"get","key":"a","key":"b"})",                    // a repeated member
           R"({"op":"get","key":5})",                                // not a string
           R"({"op":"nope"})",                                       // an unknown op
           R"({"op":"append_many"})",      // an op whose items are no string
           R"({"op":"get","key":"k"} x)",  // trailing bytes
           R"({"op":"get","key":"k"})"
           "\n{}",                      // two lines
           R"({"op":"get","key":"k")",  // cut short
           R"({})",
           R"()",
           R"([])",
           "{\"op\":\"get\",\"key\":\"\xff\"}",  // invalid UTF-8
           "{\"op\":\"get\",\"key\":\"a\tb\"}",  // a control character
           "{\"op\":\"get\",\r\"key\":\"k\"}",   // JSON whitespace beyond ' ' and tab
       }) {
    Request r;
    EXPECT_FALSE(internal::DecodeFlatRequest(line, &r)) << line;
  }
}

TEST(RequestTest, EncodeDecodeRoundTrip) {
  const std::string tricky = "v, \"q\"\n\xc3\xa9\0"s;
  for (const Request& original :
       {Request::Ping(), Request::Stats(), Request::Append("k", tricky), Request::Get("k"),
        Request::Len(tricky), Request::Delete(""), Request::Keys("p"), Request::Trim(tricky, 1, -2),
        Request::Pop(tricky, 3, true), Request::AppendMany({{"a", "1"}, {"b", tricky}})}) {
    const std::string line = EncodeRequest(original);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_EQ(line.find('\n'), line.size() - 1) << "one line per request";
    Request decoded = MustDecode(line);
    EXPECT_EQ(decoded.op, original.op);
    EXPECT_EQ(decoded.key, original.key);
    EXPECT_EQ(decoded.val, original.val);
    EXPECT_EQ(decoded.prefix, original.prefix);
    EXPECT_EQ(decoded.items, original.items);
    EXPECT_EQ(decoded.start, original.start);
    EXPECT_EQ(decoded.stop, original.stop);
    EXPECT_EQ(decoded.count, original.count);
    EXPECT_EQ(decoded.from_tail, original.from_tail);
  }
}

TEST(RequestTest, WritesCarryTheirClientAndSeq) {
  Request append = MustDecode(R"({"op":"append","key":"k","val":"v","client":7,"seq":3})");
  EXPECT_EQ(append.client, 7u);
  EXPECT_EQ(append.seq, 3u);
  Request many = MustDecode(
      R"({"op":"append_many","items":[],"client":18446744073709551615,"seq":18446744073709551615})");
  EXPECT_EQ(many.client, 18446744073709551615u);
  EXPECT_EQ(many.seq, 18446744073709551615u);
  Request del = MustDecode(R"({"op":"delete","key":"k","seq":1,"client":2})");
  EXPECT_EQ(del.client, 2u);
  EXPECT_EQ(del.seq, 1u);
  Request trim = MustDecode(R"({"op":"trim","key":"k","start":0,"stop":0,"client":4,"seq":5})");
  EXPECT_EQ(trim.client, 4u);
  EXPECT_EQ(trim.seq, 5u);
  Request pop = MustDecode(R"({"op":"pop","key":"k","client":6,"seq":7})");
  EXPECT_EQ(pop.client, 6u);
  EXPECT_EQ(pop.seq, 7u);
  pop = Request::Pop("k");
  pop.client = 8;
  pop.seq = 9;
  EXPECT_EQ(EncodeRequest(pop), "{\"op\":\"pop\",\"client\":8,\"seq\":9,\"key\":\"k\"}\n");
  Request plain = MustDecode(R"({"op":"append","key":"k","val":"v","id":1})");
  EXPECT_EQ(plain.client, 0u) << "nobody's";
  EXPECT_EQ(plain.seq, 0u);
}

TEST(RequestTest, ClientAndSeqGoTogetherAboveZero) {
  for (const char* line : {
           R"({"op":"append","key":"k","val":"v","client":7})",
           R"({"op":"append","key":"k","val":"v","seq":3})",
           R"({"op":"delete","key":"k","client":7,"seq":0})",
           R"({"op":"delete","key":"k","client":0,"seq":3})",
           R"({"op":"append_many","items":[],"client":7})",
           R"({"op":"pop","key":"k","seq":3})",
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("\"client\" and \"seq\"")) << line;
  }
}

TEST(RequestTest, ClientAndSeqMustBeNonNegativeIntegers) {
  for (const char* line : {
           R"({"op":"append","key":"k","val":"v","client":-7,"seq":3})",
           R"({"op":"append","key":"k","val":"v","client":"7","seq":3})",
           R"({"op":"append","key":"k","val":"v","client":7,"seq":3.5})",
           R"({"op":"delete","key":"k","client":7,"seq":null})",
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("non-negative integer")) << line;
  }
  EXPECT_EQ(MustFail(R"({"op":"delete","key":"k","client":18446744073709551616,"seq":1})").code,
            ErrorCode::kInvalidRequest)
      << "above 64 bits";
}

TEST(RequestTest, ReadsMayBeStale) {
  EXPECT_TRUE(MustDecode(R"({"op":"get","key":"k","stale":true})").stale);
  EXPECT_TRUE(MustDecode(R"({"op":"keys","stale":true})").stale);
  EXPECT_TRUE(MustDecode(R"({"op":"stats","stale":true})").stale);
  EXPECT_TRUE(MustDecode(R"({"op":"len","key":"k","stale":true})").stale);
  EXPECT_TRUE(MustDecode(R"({"op":"get","key":"k","start":1,"stale":true})").stale);
  EXPECT_FALSE(MustDecode(R"({"op":"get","key":"k","stale":false})").stale);
  EXPECT_FALSE(MustDecode(R"({"op":"get","key":"k"})").stale);
}

TEST(RequestTest, StaleMustBeABoolean) {
  for (const char* line : {R"({"op":"get","key":"k","stale":1})", R"({"op":"keys","stale":"true"})",
                           R"({"op":"stats","stale":null})"}) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("\"stale\" must be a boolean")) << line;
  }
}

TEST(RequestTest, DecodesTheClusterOps) {
  Request status = MustDecode(R"({"op":"cluster"})");
  EXPECT_EQ(status.op, Op::kCluster);
  EXPECT_FALSE(status.local);
  EXPECT_TRUE(MustDecode(R"({"op":"cluster","local":true})").local);

  Request add = MustDecode(R"({"op":"cluster_add","node":4,"address":"10.0.0.4:7004"})");
  EXPECT_EQ(add.op, Op::kClusterAdd);
  EXPECT_EQ(add.node, 4u);
  EXPECT_EQ(add.address, "10.0.0.4:7004");

  Request remove = MustDecode(R"({"op":"cluster_remove","node":4})");
  EXPECT_EQ(remove.op, Op::kClusterRemove);
  EXPECT_EQ(remove.node, 4u);

  Request reg = MustDecode(R"({"op":"cluster_register","node":2,"address":"10.0.0.2:9002"})");
  EXPECT_EQ(reg.op, Op::kClusterRegister);
  EXPECT_EQ(reg.node, 2u);
  EXPECT_EQ(reg.address, "10.0.0.2:9002");

  EXPECT_EQ(MustDecode(R"({"op":"read_index"})").op, Op::kReadIndex);
}

TEST(RequestTest, LocalMustBeABoolean) {
  const Error e = MustFail(R"({"op":"cluster","local":"yes"})");
  EXPECT_EQ(e.code, ErrorCode::kInvalidRequest);
  EXPECT_THAT(e.message, HasSubstr("\"local\""));
}

TEST(RequestTest, ClusterAddAndRegisterNeedAnAddress) {
  for (const char* line :
       {R"({"op":"cluster_add","node":4})", R"({"op":"cluster_register","node":2})",
        R"({"op":"cluster_add","node":4,"address":7})"}) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("\"address\"")) << line;
  }
}

TEST(RequestTest, ClusterMembershipOpsNeedANodeAboveZero) {
  for (const char* line : {
           R"({"op":"cluster_add","node":0,"address":"10.0.0.4:7004"})",
           R"({"op":"cluster_add","address":"10.0.0.4:7004"})",
           R"({"op":"cluster_register","node":0,"address":"10.0.0.2:9002"})",
           R"({"op":"cluster_remove","node":0})",
           R"({"op":"cluster_remove","node":-1})",
           R"({"op":"cluster_remove","node":"4"})",
           R"({"op":"cluster_remove","id":1})",
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("\"node\"")) << line;
  }
}

// A line of just the op is flat (proto/flat_request.h), yet these ops need
// members that such a line lacks.
TEST(RequestTest, ClusterMembershipOpsAloneAreRefused) {
  for (const char* line :
       {R"({"op":"cluster_add"})", R"({"op":"cluster_register"})", R"({"op":"cluster_remove"})"}) {
    EXPECT_EQ(MustFail(line).code, ErrorCode::kInvalidRequest) << line;
  }
}

TEST(RequestTest, ReadsAreTheOpsThatReadTheStore) {
  EXPECT_TRUE(IsRead(Op::kGet));
  EXPECT_TRUE(IsRead(Op::kLen));
  EXPECT_TRUE(IsRead(Op::kKeys));
  EXPECT_TRUE(IsRead(Op::kStats));
  for (Op op : {Op::kPing, Op::kAppend, Op::kAppendMany, Op::kDelete, Op::kCluster, Op::kClusterAdd,
                Op::kClusterRemove, Op::kClusterRegister, Op::kReadIndex}) {
    EXPECT_FALSE(IsRead(op)) << OpName(op);
  }
}

TEST(RequestTest, ClusterOpsAreTheClusterModesOwn) {
  for (Op op :
       {Op::kCluster, Op::kClusterAdd, Op::kClusterRemove, Op::kClusterRegister, Op::kReadIndex}) {
    EXPECT_TRUE(IsClusterOp(op)) << OpName(op);
    EXPECT_FALSE(IsWrite(op)) << OpName(op);
    EXPECT_EQ(OpFromName(OpName(op)), op);
  }
  for (Op op : {Op::kPing, Op::kAppend, Op::kAppendMany, Op::kGet, Op::kLen, Op::kDelete, Op::kKeys,
                Op::kStats}) {
    EXPECT_FALSE(IsClusterOp(op)) << OpName(op);
  }
}

TEST(RequestTest, ClusterFieldsRoundTrip) {
  auto with = [](Request r, auto&& change) {
    change(r);
    return r;
  };
  for (const Request& original : {
           with(Request::Append("k", "v"),
                [](Request& r) {
                  r.client = 7;
                  r.seq = 3;
                }),
           with(Request::Delete("k"),
                [](Request& r) {
                  r.client = 18446744073709551615u;
                  r.seq = 1;
                }),
           with(Request::AppendMany({{"a", "1"}}),
                [](Request& r) {
                  r.client = 1;
                  r.seq = 18446744073709551615u;
                }),
           with(Request::Get("k"), [](Request& r) { r.stale = true; }),
           with(Request::Keys("p"), [](Request& r) { r.stale = true; }),
           with(Request::Stats(), [](Request& r) { r.stale = true; }),
           with(Request{}, [](Request& r) { r.op = Op::kCluster; }),
           with(Request{},
                [](Request& r) {
                  r.op = Op::kCluster;
                  r.local = true;
                }),
           with(Request{},
                [](Request& r) {
                  r.op = Op::kClusterAdd;
                  r.node = 4;
                  r.address = "10.0.0.4:7004";
                }),
           with(Request{},
                [](Request& r) {
                  r.op = Op::kClusterRemove;
                  r.node = 18446744073709551615u;
                }),
           with(Request{},
                [](Request& r) {
                  r.op = Op::kClusterRegister;
                  r.node = 2;
                  r.address = "10.0.0.2:9002";
                }),
           with(Request{}, [](Request& r) { r.op = Op::kReadIndex; }),
       }) {
    const std::string line = EncodeRequest(original);
    Request decoded = MustDecode(line);
    EXPECT_EQ(decoded.op, original.op) << line;
    EXPECT_EQ(decoded.key, original.key) << line;
    EXPECT_EQ(decoded.items, original.items) << line;
    EXPECT_EQ(decoded.client, original.client) << line;
    EXPECT_EQ(decoded.seq, original.seq) << line;
    EXPECT_EQ(decoded.stale, original.stale) << line;
    EXPECT_EQ(decoded.local, original.local) << line;
    EXPECT_EQ(decoded.node, original.node) << line;
    EXPECT_EQ(decoded.address, original.address) << line;
  }
}

// A connection decodes each of its requests into the Request its last one
// left (daemon/session.cc): nothing of that one may carry over, or a plain
// append would pass for a retry of the client's last request.
TEST(RequestTest, NothingCarriesOverFromTheRequestDecodedBefore) {
  for (const std::string line : {
           R"({"op":"append","key":"k","val":"v"})",
           R"({"op":"delete","key":"k","id":1})",
           R"({"op":"get","key":"k"})",
           R"({"op":"get","key":"k","stale":false})",
           R"({"op":"len","key":"k"})",
           R"({"op":"pop","key":"k"})",
           R"({"op":"pop","key":"k","id":2})",
           R"({"op":"persist","key":"k"})",
           R"({"op":"ttl","key":"k"})",
           R"({"op":"cluster"})",
           R"({"op":"read_index"})",
       }) {
    Request r;
    ASSERT_FALSE(DecodeRequest(
        R"({"op":"append","key":"k","val":"v","client":7,"seq":3,"stale":true})", &r));
    ASSERT_EQ(r.client, 7u);
    r.stale = true;  // what a get or keys may leave
    r.local = true;  // a cluster op's
    r.node = 2;
    r.address = "10.0.0.2:9002";
    r.if_revision = 4;  // a conditional append's
    r.if_length = 5;
    r.start = 1;  // a ranged get's
    r.stop = 2;
    r.count = 3;  // a pop's
    r.from_tail = true;
    r.wait = std::chrono::seconds(4);
    r.seconds = 6;  // an expire's
    r.ttl = 7;      // an append's
    r.at_ms = 8;
    ASSERT_FALSE(DecodeRequest(line, &r)) << line;
    EXPECT_EQ(r.seconds, 0) << line;
    EXPECT_EQ(r.ttl, 0u) << line;
    EXPECT_EQ(r.at_ms, 0u) << line;
    EXPECT_FALSE(r.if_revision) << line;
    EXPECT_FALSE(r.if_length) << line;
    EXPECT_FALSE(r.start) << line;
    EXPECT_FALSE(r.stop) << line;
    EXPECT_EQ(r.count, 1u) << line;
    EXPECT_FALSE(r.from_tail) << line;
    EXPECT_EQ(r.wait.count(), 0) << line;
    EXPECT_EQ(r.client, 0u) << line;
    EXPECT_EQ(r.seq, 0u) << line;
    EXPECT_FALSE(r.stale) << line;
    EXPECT_FALSE(r.local) << line;
    EXPECT_EQ(r.node, 0u) << line;
    EXPECT_EQ(r.address, "") << line;
  }
}

TEST(RequestTest, AnAppendMayCarryOneCondition) {
  Request r = MustDecode(R"({"op":"append","key":"k","val":"v","if_revision":0})");
  EXPECT_EQ(r.if_revision, 0u) << "0: the key is absent";
  EXPECT_FALSE(r.if_length);
  r = MustDecode(R"({"op":"append","key":"k","val":"v","if_length":18446744073709551615})");
  EXPECT_EQ(r.if_length, 18446744073709551615u);
  EXPECT_FALSE(r.if_revision);
  r = MustDecode(R"({"op":"append","key":"k","val":"v"})");
  EXPECT_FALSE(r.if_revision);
  EXPECT_FALSE(r.if_length);
  // Round trip.
  Request original = Request::Append("k", "v");
  original.if_revision = 42;
  r = MustDecode(EncodeRequest(original));
  EXPECT_EQ(r.if_revision, 42u);
  EXPECT_FALSE(r.if_length);
  original = Request::Append("k", "v");
  original.if_length = 3;
  EXPECT_EQ(EncodeRequest(original),
            "{\"op\":\"append\",\"key\":\"k\",\"val\":\"v\",\"if_length\":3}\n");
  EXPECT_EQ(MustDecode(EncodeRequest(original)).if_length, 3u);
}

TEST(RequestTest, AMalformedConditionIsAnInvalidRequest) {
  for (const std::string line : {
           R"({"op":"append","key":"k","val":"v","if_revision":1,"if_length":1})",
           R"({"op":"append","key":"k","val":"v","if_revision":-1})",
           R"({"op":"append","key":"k","val":"v","if_revision":2.5})",
           R"({"op":"append","key":"k","val":"v","if_length":"3"})",
           R"({"op":"append","key":"k","val":"v","if_length":true})",
           R"({"op":"append","key":"k","val":"v","if_revision":null})",
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("if_")) << line;
  }
}

TEST(RequestTest, AGetMayNameARange) {
  Request r = MustDecode(R"({"op":"get","key":"k","start":1,"stop":-2})");
  EXPECT_EQ(r.start, 1);
  EXPECT_EQ(r.stop, -2);
  r = MustDecode(R"({"op":"get","key":"k","stop":0})");
  EXPECT_FALSE(r.start) << "either alone: the other is its default";
  EXPECT_EQ(r.stop, 0);
  r = MustDecode(R"({"op":"get","key":"k","start":-1})");
  EXPECT_EQ(r.start, -1);
  EXPECT_FALSE(r.stop);
  r = MustDecode(
      R"({"op":"get","key":"k","start":-9223372036854775808,"stop":9223372036854775807})");
  EXPECT_EQ(r.start, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(r.stop, std::numeric_limits<std::int64_t>::max());
  r = MustDecode(R"({"op":"get","key":"k"})");
  EXPECT_FALSE(r.start);
  EXPECT_FALSE(r.stop);
  // Round trip: each bound only when set.
  Request original = Request::Get("k");
  original.start = -3;
  EXPECT_EQ(EncodeRequest(original), "{\"op\":\"get\",\"key\":\"k\",\"start\":-3}\n");
  original.stop = 7;
  original.stale = true;
  EXPECT_EQ(EncodeRequest(original),
            "{\"op\":\"get\",\"stale\":true,\"key\":\"k\",\"start\":-3,\"stop\":7}\n");
  r = MustDecode(EncodeRequest(original));
  EXPECT_EQ(r.start, -3);
  EXPECT_EQ(r.stop, 7);
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(EncodeRequest(Request::Len("k")), "{\"op\":\"len\",\"key\":\"k\"}\n");
}

TEST(RequestTest, AMalformedRangeOrOneOnAnotherOpIsAnInvalidRequest) {
  for (const std::string line : {
           R"({"op":"get","key":"k","start":"1"})",
           R"({"op":"get","key":"k","start":1.5})",
           R"({"op":"get","key":"k","start":1.0})",
           R"({"op":"get","key":"k","stop":true})",
           R"({"op":"get","key":"k","stop":null})",
           R"({"op":"get","key":"k","stop":[1]})",
           R"({"op":"get","key":"k","stop":9223372036854775808})",
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, ::testing::AnyOf(HasSubstr("\"start\" must be an integer"),
                                            HasSubstr("\"stop\" must be an integer")))
        << line;
  }
  for (const std::string line : {
           R"({"op":"len","key":"k","start":0})",
           R"({"op":"delete","key":"k","stop":-1})",
           R"({"op":"append","key":"k","val":"v","start":1})",
           R"({"op":"keys","start":0,"stop":9})",
           R"({"op":"ping","stop":"x"})",
           R"({"op":"pop","key":"k","start":1})",
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("is only for get and trim")) << line;
  }
  // Below int64's range, a number no double holds exactly, refused as such.
  EXPECT_EQ(MustFail(R"({"op":"get","key":"k","start":-9223372036854775809})").code,
            ErrorCode::kInvalidRequest);
}

TEST(RequestTest, ATrimNamesTheValuesItKeepsWithBothIndices) {
  Request r = MustDecode(R"({"op":"trim","key":"k","start":1,"stop":-2})");
  EXPECT_EQ(r.start, 1);
  EXPECT_EQ(r.stop, -2);
  r = MustDecode(
      R"({"op":"trim","key":"k","stop":9223372036854775807,"start":-9223372036854775808})");
  EXPECT_EQ(r.start, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(r.stop, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(EncodeRequest(Request::Trim("k", 0, -3)),
            "{\"op\":\"trim\",\"key\":\"k\",\"start\":0,\"stop\":-3}\n");
  // Unlike a get's, neither index has a default.
  for (const auto& [line, missing] : {
           std::pair{R"({"op":"trim","key":"k","stop":0})", "\"start\""},
           std::pair{R"({"op":"trim","key":"k","start":0})", "\"stop\""},
           std::pair{R"({"op":"trim","key":"k"})", "\"start\""},
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("missing integer field " + std::string(missing))) << line;
  }
  for (const std::string line : {
           R"({"op":"trim","key":"k","start":"0","stop":1})",
           R"({"op":"trim","key":"k","start":0,"stop":1.5})",
           R"({"op":"trim","key":"k","start":null,"stop":1})",
           R"({"op":"trim","key":"k","start":0,"stop":9223372036854775808})",
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr("must be an integer")) << line;
  }
}

TEST(RequestTest, APopTakesOneFromTheHeadAtOnceByDefault) {
  Request r = MustDecode(R"({"op":"pop","key":"q"})");
  EXPECT_EQ(r.count, 1u);
  EXPECT_FALSE(r.from_tail);
  EXPECT_EQ(r.wait.count(), 0);
  r = MustDecode(R"({"op":"pop","key":"q","count":3,"from":"tail","wait":2})");
  EXPECT_EQ(r.count, 3u);
  EXPECT_TRUE(r.from_tail);
  EXPECT_EQ(r.wait, std::chrono::seconds(2));
  r = MustDecode(R"({"op":"pop","key":"q","from":"head","count":18446744073709551615})");
  EXPECT_EQ(r.count, 18446744073709551615u);
  EXPECT_FALSE(r.from_tail);
  // Seconds, as a number: a fraction of a millisecond rounds up, so that a
  // wait asked for is never none.
  EXPECT_EQ(MustDecode(R"({"op":"pop","key":"q","wait":1.5})").wait.count(), 1500);
  EXPECT_EQ(MustDecode(R"({"op":"pop","key":"q","wait":0.0001})").wait.count(), 1);
  EXPECT_EQ(MustDecode(R"({"op":"pop","key":"q","wait":0.0015})").wait.count(), 2);
  EXPECT_EQ(MustDecode(R"({"op":"pop","key":"q","wait":0})").wait.count(), 0);
  EXPECT_EQ(MustDecode(R"({"op":"pop","key":"q","wait":0.0})").wait.count(), 0);
  EXPECT_EQ(MustDecode(R"({"op":"pop","key":"q","wait":86400})").wait, std::chrono::hours(24));
  // Encoded with only what differs from the defaults.
  EXPECT_EQ(EncodeRequest(Request::Pop("q")), "{\"op\":\"pop\",\"key\":\"q\"}\n");
  Request pop = Request::Pop("q", 3, true);
  pop.wait = std::chrono::milliseconds(1500);
  EXPECT_EQ(EncodeRequest(pop),
            "{\"op\":\"pop\",\"key\":\"q\",\"count\":3,\"from\":\"tail\",\"wait\":1.5}\n");
  r = MustDecode(EncodeRequest(pop));
  EXPECT_EQ(r.count, 3u);
  EXPECT_TRUE(r.from_tail);
  EXPECT_EQ(r.wait.count(), 1500);
  // Whole milliseconds, as a client encodes them, come back the same:
  // rounding up is for fractions of one, not a double's error.
  EXPECT_EQ(MustDecode(R"({"op":"pop","key":"q","wait":2.007})").wait.count(), 2007);
  for (std::int64_t ms = 0; ms <= 86'400'000; ms += ms < 100'000 ? 1 : 9'973) {
    pop.wait = std::chrono::milliseconds(ms);
    ASSERT_EQ(MustDecode(EncodeRequest(pop)).wait.count(), ms);
  }
}

TEST(RequestTest, AMalformedPopIsAnInvalidRequest) {
  for (const auto& [line, message] : {
           std::pair{R"({"op":"pop","key":"q","count":0})", "\"count\" must be an integer from 1"},
           std::pair{R"({"op":"pop","key":"q","count":-1})", "\"count\" must be an integer from 1"},
           std::pair{R"({"op":"pop","key":"q","count":1.5})",
                     "\"count\" must be an integer from 1"},
           std::pair{R"({"op":"pop","key":"q","count":"2"})",
                     "\"count\" must be an integer from 1"},
           std::pair{R"({"op":"pop","key":"q","count":null})",
                     "\"count\" must be an integer from 1"},
           std::pair{R"({"op":"pop","key":"q","from":"middle"})", "\"from\" must be \"head\" or"},
           std::pair{R"({"op":"pop","key":"q","from":"TAIL"})", "\"from\" must be \"head\" or"},
           std::pair{R"({"op":"pop","key":"q","from":""})", "\"from\" must be \"head\" or"},
           std::pair{R"({"op":"pop","key":"q","from":true})", "\"from\""},
           std::pair{R"({"op":"pop","key":"q","wait":-1})", "\"wait\" must be a number of seconds"},
           std::pair{R"({"op":"pop","key":"q","wait":-0.001})", "from 0 to 86400"},
           std::pair{R"({"op":"pop","key":"q","wait":86400.001})", "from 0 to 86400"},
           std::pair{R"({"op":"pop","key":"q","wait":1e6})", "from 0 to 86400"},
           std::pair{R"({"op":"pop","key":"q","wait":"1"})", "\"wait\" must be a number"},
           std::pair{R"({"op":"pop","key":"q","wait":null})", "\"wait\" must be a number"},
           std::pair{R"({"op":"pop","key":"q","wait":true})", "\"wait\" must be a number"},
       }) {
    const Error e = MustFail(line);
    EXPECT_EQ(e.code, ErrorCode::kInvalidRequest) << line;
    EXPECT_THAT(e.message, HasSubstr(message)) << line;
  }
}

TEST(RequestTest, AWatchMayNameAPrefixAndTheRevisionItStartsAfter) {
  const Request all = MustDecode(R"({"op":"watch"})");
  EXPECT_EQ(all.op, Op::kWatch);
  EXPECT_EQ(all.prefix, "");
  EXPECT_FALSE(all.from_revision) << "from now";
  const Request some = MustDecode(R"({"op":"watch","prefix":"jobs/"})");
  EXPECT_EQ(some.prefix, "jobs/");
  EXPECT_FALSE(some.from_revision);
  const Request from = MustDecode(R"({"prefix":"j","from":0,"op":"watch","id":7})");
  EXPECT_EQ(from.from_revision, 0u);
  EXPECT_EQ(from.id, "7");
  EXPECT_EQ(MustDecode(EncodeRequest(Request::Watch("j", 12))).from_revision, 12u);
  EXPECT_EQ(EncodeRequest(Request::Watch("j", 12)),
            "{\"op\":\"watch\",\"prefix\":\"j\",\"from\":12}\n");
  for (const char* line : {R"({"op":"watch","from":-1})", R"({"op":"watch","from":"1"})",
                           R"({"op":"watch","from":1.5})", R"({"op":"watch","prefix":1})"}) {
    EXPECT_EQ(MustFail(line).code, ErrorCode::kInvalidRequest) << line;
  }
  // A flat request of the slot before leaves no "from" behind.
  Request slot;
  ASSERT_FALSE(DecodeRequest(R"({"op":"watch","from":5})", &slot));
  ASSERT_FALSE(DecodeRequest(R"({"op":"watch"})", &slot));
  EXPECT_FALSE(slot.from_revision);
}

TEST(ChangeLineTest, EncodesAndDecodesEachKind) {
  std::string out;
  const std::vector<std::string_view> appended = {"a \"b\"\n"};
  AppendChangeLine(5, "jobs/1", ChangeKind::kAppend, appended, 0, &out);
  AppendChangeLine(6, "k", ChangeKind::kDelete, std::vector<std::string_view>{}, 0, &out);
  EXPECT_EQ(
      out,
      "{\"revision\":5,\"key\":\"jobs/1\",\"kind\":\"append\",\"values\":[\"a \\\"b\\\"\\n\"]}\n"
      "{\"revision\":6,\"key\":\"k\",\"kind\":\"delete\",\"values\":[]}\n");
  WatchLine line;
  ASSERT_FALSE(DecodeWatchLine(out.substr(0, out.find('\n') + 1), &line));
  ASSERT_TRUE(line.change);
  EXPECT_EQ(line.change->revision, 5u);
  EXPECT_EQ(line.change->key, "jobs/1");
  EXPECT_EQ(line.change->kind, ChangeKind::kAppend);
  EXPECT_THAT(line.change->values, ElementsAre("a \"b\"\n"));
  ASSERT_FALSE(DecodeWatchLine(
      R"({"revision":9,"key":"q","kind":"trim","values":["x","y"],"later":1})", &line));
  EXPECT_EQ(line.change->kind, ChangeKind::kTrim);
  EXPECT_THAT(line.change->values, ElementsAre("x", "y"));
  EXPECT_EQ(line.change->at_ms, 0u);
  std::string expire;
  AppendChangeLine(7, "k", ChangeKind::kExpire, std::vector<std::string_view>{}, 1765000000000,
                   &expire);
  EXPECT_EQ(
      expire,
      "{\"revision\":7,\"key\":\"k\",\"kind\":\"expire\",\"values\":[],\"at_ms\":1765000000000}\n");
  ASSERT_FALSE(DecodeWatchLine(expire, &line));
  EXPECT_EQ(line.change->kind, ChangeKind::kExpire);
  EXPECT_EQ(line.change->at_ms, 1765000000000u);

  Response slow = Response::Failure({ErrorCode::kSlowWatcher, "behind"});
  slow.revision = 8;
  ASSERT_FALSE(DecodeWatchLine(EncodeResponse(slow), &line));
  ASSERT_TRUE(line.end);
  EXPECT_FALSE(line.change);
  EXPECT_EQ(line.end->error->code, ErrorCode::kSlowWatcher);
  EXPECT_EQ(line.end->revision, 8u);
  for (const char* bad :
       {R"({"key":"q","kind":"trim","values":[]})", R"({"revision":1,"kind":"trim","values":[]})",
        R"({"revision":1,"key":"q","kind":"expire?","values":[]})",
        R"({"revision":1,"key":"q","kind":"append","values":[1]})", "[]"}) {
    EXPECT_TRUE(DecodeWatchLine(bad, &line)) << bad;
  }
}

TEST(ResponseTest, AConflictCarriesTheKeysRevision) {
  Response conflict = Response::Failure({ErrorCode::kConflict, "not appended"}, "3");
  conflict.revision = 9;
  const std::string line = EncodeResponse(conflict);
  EXPECT_EQ(line,
            "{\"ok\":false,\"id\":3,\"error\":{\"code\":\"conflict\",\"message\":\"not "
            "appended\"},\"revision\":9}\n");
  Response decoded;
  ASSERT_FALSE(DecodeResponse(line, &decoded));
  ASSERT_TRUE(decoded.error);
  EXPECT_EQ(decoded.error->code, ErrorCode::kConflict);
  EXPECT_EQ(decoded.error->message, "not appended");
  EXPECT_EQ(decoded.revision, 9u);
  EXPECT_EQ(ErrorCodeName(ErrorCode::kConflict), "conflict");
  EXPECT_EQ(ErrorCodeFromName("conflict"), ErrorCode::kConflict);
}

TEST(ResponseTest, EncodesTheContractShapes) {
  EXPECT_EQ(EncodeResponse(Response{}), "{\"ok\":true}\n");
  Response get;
  get.values = std::vector<std::string>{"x", "y, z"};
  EXPECT_EQ(EncodeResponse(get), "{\"ok\":true,\"values\":[\"x\",\"y, z\"]}\n");
  // The contract's {"ok":true,"values":[...]} first, then the revision.
  get.revision = 42;
  EXPECT_EQ(EncodeResponse(get), "{\"ok\":true,\"values\":[\"x\",\"y, z\"],\"revision\":42}\n");
  Response failure = Response::Failure({ErrorCode::kUnknownOp, "no"}, "7");
  EXPECT_EQ(EncodeResponse(failure),
            "{\"ok\":false,\"id\":7,\"error\":{\"code\":\"unknown_op\",\"message\":\"no\"}}\n");
}

TEST(ResponseTest, EscapesStringsLikeRapidJson) {
  Response r;
  r.values = std::vector<std::string>{"plain",    "q\"b\\s/", "\b\f\n\r\t\x01\x1f\x7f",
                                      "\xc3\xa9", ""s,        "\0x"s};
  EXPECT_EQ(
      EncodeResponse(r),
      "{\"ok\":true,\"values\":[\"plain\",\"q\\\"b\\\\s/\",\"\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\","
      "\"\xc3\xa9\",\"\",\"\\u0000x\"]}\n");
}

TEST(ResponseTest, ValuesFromAnyRangeEncodeLikeAResponse) {
  const std::vector<std::string> values = {"plain", "q\"b\\", "\n\x01", "\xc3\xa9", ""s, "\0x"s};
  for (const std::string id : {"", "7", R"({"n":[1]})"}) {
    for (const std::uint64_t revision : {0ull, 7ull, 18446744073709551615ull}) {
      Response r;
      r.id = id;
      r.values = values;
      r.revision = revision;
      const std::vector<std::string_view> views(values.begin(), values.end());
      std::string out = "before";
      AppendValuesResponse(id, views, revision, &out);
      EXPECT_EQ(out, "before" + EncodeResponse(r)) << "id " << id << ", revision " << revision;
    }
  }
  std::string empty;
  AppendValuesResponse("", std::vector<std::string_view>{}, 0, &empty);
  EXPECT_EQ(empty, "{\"ok\":true,\"values\":[],\"revision\":0}\n");
}

TEST(RequestTest, AnExpireTakesSecondsOrAnAbsoluteTime) {
  Request r = MustDecode(R"({"op":"expire","key":"k","seconds":60})");
  EXPECT_EQ(r.op, Op::kExpire);
  EXPECT_EQ(r.key, "k");
  EXPECT_EQ(r.seconds, 60);
  EXPECT_EQ(r.at_ms, 0u);
  EXPECT_EQ(MustDecode(R"({"op":"expire","key":"k","seconds":-5})").seconds, -5)
      << "deletes now, as EXPIRE";
  EXPECT_EQ(MustDecode(R"({"op":"expire","key":"k","at_ms":1700000000000})").at_ms, 1700000000000u);
  EXPECT_EQ(MustDecode(R"({"op":"persist","key":"k"})").op, Op::kPersist);
  EXPECT_EQ(MustDecode(R"({"op":"ttl","key":"k"})").op, Op::kTtl);
  EXPECT_TRUE(IsWrite(Op::kExpire));
  EXPECT_TRUE(IsWrite(Op::kPersist));
  EXPECT_TRUE(IsRead(Op::kTtl));
  for (const std::string line : {
           R"({"op":"expire","key":"k"})",
           R"({"op":"expire","key":"k","seconds":"60"})",
           R"({"op":"expire","key":"k","seconds":1.5})",
           R"({"op":"expire","key":"k","seconds":3153600001})",
           R"({"op":"expire","key":"k","at_ms":0})",
           R"({"op":"expire","key":"k","at_ms":-1})",
           R"({"op":"expire","key":"k","seconds":1,"at_ms":2})",
           R"({"op":"expire","seconds":1})",
           R"({"op":"persist"})",
           R"({"op":"ttl"})",
       }) {
    EXPECT_EQ(MustFail(line).code, ErrorCode::kInvalidRequest) << line;
  }
}

TEST(RequestTest, AnAppendMayCarryATtl) {
  Request r = MustDecode(R"({"op":"append","key":"k","val":"v","ttl":30})");
  EXPECT_EQ(r.ttl, 30u);
  r = MustDecode(R"({"op":"append","key":"k","val":"v","ttl":30,"if_length":0})");
  EXPECT_EQ(r.ttl, 30u);
  EXPECT_EQ(r.if_length, 0u) << "a lease: appended only to an empty key, then expiring";
  EXPECT_EQ(MustDecode(R"({"op":"append","key":"k","val":"v","at_ms":9})").at_ms, 9u);
  for (const std::string line : {
           R"({"op":"append","key":"k","val":"v","ttl":0})",
           R"({"op":"append","key":"k","val":"v","ttl":-1})",
           R"({"op":"append","key":"k","val":"v","ttl":3153600001})",
           R"({"op":"append","key":"k","val":"v","ttl":1,"at_ms":9})",
       }) {
    EXPECT_EQ(MustFail(line).code, ErrorCode::kInvalidRequest) << line;
  }
  for (Request original : {Request::Expire("k", -3), Request::Expire("k", 60),
                           Request::Persist("k"), Request::Ttl("k"), Request::Append("k", "v")}) {
    if (original.op == Op::kAppend) original.ttl = 5;
    Request decoded = MustDecode(EncodeRequest(original));
    EXPECT_EQ(decoded.op, original.op);
    EXPECT_EQ(decoded.key, original.key);
    EXPECT_EQ(decoded.seconds, original.seconds);
    EXPECT_EQ(decoded.ttl, original.ttl);
  }
  Request at = Request::Expire("k", 0);
  at.at_ms = 1234;
  EXPECT_EQ(MustDecode(EncodeRequest(at)).at_ms, 1234u);
}

TEST(ResponseTest, ExpiryAnswersRoundTrip) {
  Response r;
  r.existed = true;
  r.persisted = false;
  r.ttl_ms = -2;
  const std::string line = EncodeResponse(r);
  EXPECT_EQ(line, "{\"ok\":true,\"existed\":true,\"persisted\":false,\"ttl_ms\":-2}\n");
  Response back;
  ASSERT_FALSE(DecodeResponse(line, &back));
  EXPECT_EQ(back.existed, r.existed);
  EXPECT_EQ(back.persisted, r.persisted);
  EXPECT_EQ(back.ttl_ms, r.ttl_ms);
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"ttl_ms":"5"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"existed":1})", &back));
}

TEST(ResponseTest, RoundTripsEveryPayload) {
  Response r;
  r.id = R"({"n":1})";
  r.values = std::vector<std::string>{"", "a\nb"};
  r.revision = 18446744073709551615ull;
  r.keys = std::vector<std::string>{"k1"};
  r.deleted = true;
  r.stats = {{"keys", 3}, {"values", 18446744073709551615ull}};
  Response back;
  ASSERT_FALSE(DecodeResponse(EncodeResponse(r), &back));
  EXPECT_TRUE(back.ok());
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.values, r.values);
  EXPECT_EQ(back.revision, r.revision);
  EXPECT_EQ(back.keys, r.keys);
  EXPECT_EQ(back.deleted, r.deleted);
  EXPECT_EQ(back.stats, r.stats);
}

TEST(ResponseTest, ErrorCodesRoundTripByName) {
  for (ErrorCode code :
       {ErrorCode::kInvalidJson, ErrorCode::kInvalidUtf8, ErrorCode::kInvalidRequest,
        ErrorCode::kUnknownOp, ErrorCode::kLineTooLong, ErrorCode::kStorageError,
        ErrorCode::kKeyTooLarge, ErrorCode::kValueTooLarge, ErrorCode::kTooManyConnections,
        ErrorCode::kPermissionDenied, ErrorCode::kCompacted, ErrorCode::kSlowWatcher,
        ErrorCode::kInternal}) {
    Response back;
    ASSERT_FALSE(DecodeResponse(EncodeResponse(Response::Failure({code, "m"})), &back));
    ASSERT_TRUE(back.error);
    EXPECT_EQ(back.error->code, code);
    EXPECT_EQ(back.error->message, "m");
    EXPECT_EQ(ErrorCodeFromName(ErrorCodeName(code)), code);
  }
}

TEST(ResponseTest, UnknownErrorCodeStaysVisible) {
  Response back;
  ASSERT_FALSE(DecodeResponse(R"({"ok":false,"error":{"code":"new_thing","message":"m"}})", &back));
  ASSERT_TRUE(back.error);
  EXPECT_THAT(back.error->message, HasSubstr("new_thing"));
}

TEST(ResponseTest, RevisionZeroIsARevisionAndAnOldServersGetHasNone) {
  Response back;
  ASSERT_FALSE(DecodeResponse(R"({"ok":true,"values":[],"revision":0})", &back));
  EXPECT_EQ(back.revision, std::optional<std::uint64_t>(0));
  ASSERT_FALSE(DecodeResponse(R"({"ok":true,"values":["v"]})", &back));
  EXPECT_FALSE(back.revision) << "a kvd from before revisions";
}

TEST(ResponseTest, MalformedResponsesAreRefused) {
  Response back;
  EXPECT_TRUE(DecodeResponse("{}", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":"yes"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"values":"x"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"values":[1]})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"values":[],"revision":-1})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"values":[],"revision":"1"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":false})", &back));
  EXPECT_TRUE(DecodeResponse("garbage", &back));
}

TEST(ResponseTest, ClusterStatusAndIndexRoundTrip) {
  Response r;
  r.cluster = R"({"node":1,"leader":2,"members":[{"id":1,"address":"127.0.0.1:7001"}]})";
  r.index = 18446744073709551615u;
  const std::string line = EncodeResponse(r);
  EXPECT_EQ(line, "{\"ok\":true,\"cluster\":" + r.cluster + ",\"index\":18446744073709551615}\n");
  Response back;
  ASSERT_FALSE(DecodeResponse(line, &back));
  EXPECT_EQ(back.cluster, r.cluster);
  EXPECT_EQ(back.index, r.index);
}

TEST(ResponseTest, IndexZeroIsAnIndex) {
  Response r;
  r.index = 0;
  EXPECT_EQ(EncodeResponse(r), "{\"ok\":true,\"index\":0}\n");
  Response back;
  ASSERT_FALSE(DecodeResponse(EncodeResponse(r), &back));
  EXPECT_EQ(back.index, 0u);
  ASSERT_FALSE(DecodeResponse("{\"ok\":true}", &back));
  EXPECT_FALSE(back.index) << "no index";
  EXPECT_EQ(back.cluster, "");
}

TEST(ResponseTest, UnavailableIsAnErrorCodeOfItsOwn) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUnavailable), "unavailable");
  Response back;
  ASSERT_FALSE(DecodeResponse(
      EncodeResponse(Response::Failure({ErrorCode::kUnavailable, "no leader"}, "3")), &back));
  ASSERT_TRUE(back.error);
  EXPECT_EQ(back.error->code, ErrorCode::kUnavailable);
  EXPECT_EQ(back.error->message, "no leader");
  EXPECT_EQ(back.id, "3");
}

TEST(ResponseTest, LenAnswersALength) {
  Response r;
  r.id = "1";
  r.length = 0;
  EXPECT_EQ(EncodeResponse(r), "{\"ok\":true,\"id\":1,\"length\":0}\n") << "0 is a length";
  r.length = 18446744073709551615ull;
  Response back;
  ASSERT_FALSE(DecodeResponse(EncodeResponse(r), &back));
  EXPECT_EQ(back.length, r.length);
  ASSERT_FALSE(DecodeResponse(R"({"ok":true})", &back));
  EXPECT_FALSE(back.length);
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"length":-1})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"length":"3"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"length":2.5})", &back));
}

TEST(ResponseTest, MalformedClusterOrIndexIsRefused) {
  Response back;
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"cluster":"x"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"cluster":[1]})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"index":-1})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"index":"7"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"index":1.5})", &back));
}

TEST(LineFramerTest, SplitsLinesAcrossFeeds) {
  LineFramer framer(100);
  std::string_view line;
  framer.Feed("{\"a\":1}\r\n{\"b\"");
  ASSERT_EQ(framer.Next(&line), LineFramer::Result::kLine);
  EXPECT_EQ(line, "{\"a\":1}");
  EXPECT_EQ(framer.Next(&line), LineFramer::Result::kNeedMore);
  framer.Feed(":2}\n\n");
  ASSERT_EQ(framer.Next(&line), LineFramer::Result::kLine);
  EXPECT_EQ(line, "{\"b\":2}");
  ASSERT_EQ(framer.Next(&line), LineFramer::Result::kLine);
  EXPECT_EQ(line, "");
  EXPECT_EQ(framer.Next(&line), LineFramer::Result::kNeedMore);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramerTest, AcceptsALineOfExactlyTheLimit) {
  LineFramer framer(10);
  std::string_view line;
  framer.Feed(std::string(10, 'x') + "\r");
  EXPECT_EQ(framer.Next(&line), LineFramer::Result::kNeedMore);
  framer.Feed("\n");
  ASSERT_EQ(framer.Next(&line), LineFramer::Result::kLine);
  EXPECT_EQ(line, std::string(10, 'x'));
}

TEST(LineFramerTest, OversizeLineIsReportedBeforeItEnds) {
  LineFramer framer(10);
  std::string_view line;
  framer.Feed("ok\n" + std::string(12, 'x'));
  ASSERT_EQ(framer.Next(&line), LineFramer::Result::kLine);
  EXPECT_EQ(framer.Next(&line), LineFramer::Result::kTooLong);
  framer.Feed("\n{}\n");
  EXPECT_EQ(framer.Next(&line), LineFramer::Result::kTooLong) << "framing is lost for good";
}

TEST(LineFramerTest, OversizeCompleteLineIsReported) {
  LineFramer framer(10);
  std::string_view line;
  framer.Feed(std::string(11, 'x') + "\n");
  EXPECT_EQ(framer.Next(&line), LineFramer::Result::kTooLong);
}

}  // namespace
}  // namespace kvd::proto
