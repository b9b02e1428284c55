#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

  Request del = MustDecode(R"({"op":"delete","key":"k"})");
  EXPECT_EQ(del.op, Op::kDelete);
  EXPECT_EQ(del.key, "k");

  EXPECT_EQ(MustDecode(R"({"op":"keys"})").prefix, "");
  EXPECT_EQ(MustDecode(R"({"op":"keys","prefix":"user:"})").prefix, "user:");
}

TEST(RequestTest, WritesAreTheMutatingOps) {
  EXPECT_TRUE(IsWrite(Op::kAppend));
  EXPECT_TRUE(IsWrite(Op::kAppendMany));
  EXPECT_TRUE(IsWrite(Op::kDelete));
  EXPECT_FALSE(IsWrite(Op::kGet));
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
  EXPECT_THAT(MustFail(R"({"op":"delete"})").message, HasSubstr("\"key\""));
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
  return std::string(OpName(r.op)) + "|" + r.key + "|" + r.val + "|" + r.prefix + "|" + items +
         "|" + r.id;
}

TEST(FlatRequestTest, TakesTheCommonShapesAsTheDocumentPathDoes) {
  for (const std::string line : {
           R"({"op":"append","key":"k","val":"v"})",
           R"({"val":"v, w","op":"append","key":"cafÃ©"})",
           R"( { "op" : "get" , "key" : "" } )",
           "{\"op\":\"delete\",\"key\":\"k\"}\r\n",
           R"({"op":"keys","prefix":"p"})",
           R"({"op":"keys"})",
           R"({"op":"ping"})",
           R"({"op":"stats"})",
           "{\"op\":\"append\",\"key\":\"\x7f\",\"val\":\"x\"}",
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
           R"({"op":"append","key":"k","val":"v","id":1})",   // an id
           R"({"op":"append","key":"k\n","val":"v"})",        // an escape
           R"({"op":"append","key":"k","val":"v","x":"y"})",  // an unknown member
           R"({"op":"get","key":"k","val":"v"})",             // a member the op ignores
           R"({"op":"append","key":"k"})",                    // a missing member
           R"({"op":"get","key":"a","key":"b"})",             // a repeated member
           R"({"op":"get","key":5})",                         // not a string
           R"({"op":"nope"})",                                // an unknown op
           R"({"op":"append_many"})",                         // an op whose items are no string
           R"({"op":"get","key":"k"} x)",                     // trailing bytes
           R"({"op":"get","key":"k"})"
           "\n{}",                      // two lines
           R"({"op":"get","key":"k")",  // cut short
           R"({})", R"()", R"([])",
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
  for (const Request& original : {Request::Ping(), Request::Stats(), Request::Append("k", tricky),
                                  Request::Get("k"), Request::Delete(""), Request::Keys("p"),
                                  Request::AppendMany({{"a", "1"}, {"b", tricky}})}) {
    const std::string line = EncodeRequest(original);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_EQ(line.find('\n'), line.size() - 1) << "one line per request";
    Request decoded = MustDecode(line);
    EXPECT_EQ(decoded.op, original.op);
    EXPECT_EQ(decoded.key, original.key);
    EXPECT_EQ(decoded.val, original.val);
    EXPECT_EQ(decoded.prefix, original.prefix);
    EXPECT_EQ(decoded.items, original.items);
  }
}

TEST(ResponseTest, EncodesTheContractShapes) {
  EXPECT_EQ(EncodeResponse(Response{}), "{\"ok\":true}\n");
  Response get;
  get.values = std::vector<std::string>{"x", "y, z"};
  EXPECT_EQ(EncodeResponse(get), "{\"ok\":true,\"values\":[\"x\",\"y, z\"]}\n");
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
    Response r;
    r.id = id;
    r.values = values;
    const std::vector<std::string_view> views(values.begin(), values.end());
    std::string out = "before";
    AppendValuesResponse(id, views, &out);
    EXPECT_EQ(out, "before" + EncodeResponse(r)) << "id " << id;
  }
  std::string empty;
  AppendValuesResponse("", std::vector<std::string_view>{}, &empty);
  EXPECT_EQ(empty, "{\"ok\":true,\"values\":[]}\n");
}

TEST(ResponseTest, RoundTripsEveryPayload) {
  Response r;
  r.id = R"({"n":1})";
  r.values = std::vector<std::string>{"", "a\nb"};
  r.keys = std::vector<std::string>{"k1"};
  r.deleted = true;
  r.stats = {{"keys", 3}, {"values", 18446744073709551615ull}};
  Response back;
  ASSERT_FALSE(DecodeResponse(EncodeResponse(r), &back));
  EXPECT_TRUE(back.ok());
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.values, r.values);
  EXPECT_EQ(back.keys, r.keys);
  EXPECT_EQ(back.deleted, r.deleted);
  EXPECT_EQ(back.stats, r.stats);
}

TEST(ResponseTest, ErrorCodesRoundTripByName) {
  for (ErrorCode code :
       {ErrorCode::kInvalidJson, ErrorCode::kInvalidUtf8, ErrorCode::kInvalidRequest,
        ErrorCode::kUnknownOp, ErrorCode::kLineTooLong, ErrorCode::kStorageError,
        ErrorCode::kKeyTooLarge, ErrorCode::kValueTooLarge, ErrorCode::kTooManyConnections,
        ErrorCode::kPermissionDenied, ErrorCode::kInternal}) {
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

TEST(ResponseTest, MalformedResponsesAreRefused) {
  Response back;
  EXPECT_TRUE(DecodeResponse("{}", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":"yes"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"values":"x"})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":true,"values":[1]})", &back));
  EXPECT_TRUE(DecodeResponse(R"({"ok":false})", &back));
  EXPECT_TRUE(DecodeResponse("garbage", &back));
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
