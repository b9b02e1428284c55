// The HTTP API (kvd --http) against real clients: curl for every route,
// status and error, raw TCP connections for what curl will not send
// (pipelining, malformed and never-ending requests), kvctl for the same
// store seen through the socket.
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/integration/http_client.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The values of a {"key":K,"values":[...]} document.
std::vector<std::string> ValuesOf(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  std::vector<std::string> values;
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("values")) {
    ADD_FAILURE() << "not a values document: " << json;
    return values;
  }
  for (const auto& v : d["values"].GetArray())
    values.emplace_back(v.GetString(), v.GetStringLength());
  return values;
}

// The "error" of an {"error": "..."} document, or a description of why it is none.
std::string ErrorOf(const HttpResult& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("error") || !d["error"].IsString()) {
    return "<not an error document: " + r.body + ">";
  }
  EXPECT_EQ(r.Header("content-type"), "application/json");
  return d["error"].GetString();
}

class HttpTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--http", "0", "--name", kName});
    kvd_.emplace(dir_, args);
    http_.emplace(*kvd_, kName);
  }
  void SetUp() override { Start(); }
  // Whatever a test did, kvd exits clean on SIGTERM (in the ASan build: without leaks).
  // (A kvd that failed to start has failed the test in SetUp already.)
  void TearDown() override {
    if (kvd_) {
      EXPECT_EQ(kvd_->Stop(), 0) << kvd_->Log();
    }
  }

  static constexpr const char* kName = "Server 1";
  TestDir dir_;
  std::optional<Daemon> kvd_;
  std::optional<HttpClient> http_;
};

TEST_F(HttpTest, ContractRoutes) {
  HttpResult hello = http_->Curl({http_->Url("/hello")});
  EXPECT_EQ(hello.status, 200);
  EXPECT_EQ(hello.body, "Hello, World!\nServer 1");
  EXPECT_THAT(hello.Header("content-type"), StartsWith("text/plain"));

  HttpResult health = http_->Curl({http_->Url("/health")});
  EXPECT_EQ(health.status, 200);

  HttpResult post = http_->Curl({"-X", "POST", http_->Url("/api/v1/storage?key=fruit&val=apple")});
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, "{\"ok\":true}\n");
  http_->Curl({"-X", "POST", http_->Url("/api/v1/storage?key=fruit&val=pear")});
  HttpResult get = http_->Curl({http_->Url("/api/v1/storage?key=fruit")});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "{\"key\":\"fruit\",\"values\":[\"apple\",\"pear\"],\"revision\":2}\n");
  EXPECT_EQ(get.Header("content-type"), "application/json");

  // A missing key reads as no values, as kvctl prints an empty line.
  HttpResult missing = http_->Curl({http_->Url("/api/v1/storage?key=none")});
  EXPECT_EQ(missing.status, 200);
  EXPECT_EQ(missing.body, "{\"key\":\"none\",\"values\":[],\"revision\":0}\n");

  HttpResult docs = http_->Curl({http_->Url("/")});
  EXPECT_EQ(docs.status, 200);
  EXPECT_THAT(docs.body, HasSubstr("POST /api/v1/storage"));
}

TEST_F(HttpTest, NameDefaultsToTheHostName) {
  TestDir other;
  Daemon kvd(other, {"--http", "0"});
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  HttpClient http(kvd, host);
  EXPECT_EQ(http.Curl({http.Url("/hello")}).body, std::string("Hello, World!\n") + host);
}

// The "/" page's examples, run in table order on the fresh store, give the
// responses it documents; the HTML and text pages list every route.
TEST_F(HttpTest, DocumentationMatchesWhatTheServerDoes) {
  HttpResult json = http_->Curl({"-H", "Accept: application/json", http_->Url("/")});
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.Header("content-type"), "application/json");
  rapidjson::Document docs;
  docs.Parse(json.body.data(), json.body.size());
  ASSERT_FALSE(docs.HasParseError()) << json.body;
  EXPECT_EQ(std::string(docs["server"].GetString()), kName);
  HttpResult html = http_->Curl({"-H", "Accept: text/html,*/*", http_->Url("/")});
  EXPECT_THAT(html.Header("content-type"), StartsWith("text/html"));
  HttpResult text = http_->Curl({http_->Url("/")});
  EXPECT_THAT(text.Header("content-type"), StartsWith("text/plain"));
  ASSERT_GE(docs["routes"].Size(), 10u);
  for (const auto& route : docs["routes"].GetArray()) {
    const std::string method = route["method"].GetString(), path = route["path"].GetString();
    SCOPED_TRACE(method + " " + path);
    EXPECT_THAT(text.body, HasSubstr(method + " " + path + "\n"));
    EXPECT_THAT(html.body, HasSubstr(method + "</span> " + path + "</code>"));
    const auto& example = route["example"];
    if (path == "/api/v1/watch") {
      // A stream that does not end: its first events are the example's.
      Connection c(http_->port());
      c.Send("GET " + std::string(example["target"].GetString()) + " HTTP/1.1\r\nHost: x\r\n\r\n");
      std::optional<HttpResult> head = ReadHttpResponse(c);
      ASSERT_TRUE(head);
      EXPECT_EQ(head->status, 200);
      const std::string expected = example["response"].GetString();
      EXPECT_EQ(c.Read(expected.size()).value_or("<no events>"), expected);
      EXPECT_THAT(std::string(example["curl"].GetString()), HasSubstr("curl -N"));
      continue;
    }
    std::vector<std::string> args = {"-X", method};
    const std::string body = example["body"].GetString();
    if (!body.empty()) args.insert(args.end(), {"--data-binary", body});
    args.push_back(http_->Url(example["target"].GetString()));
    HttpResult r = http_->Curl(args);
    EXPECT_EQ(r.status, 200) << r.body;
    if (example["response"].IsString()) {
      EXPECT_EQ(r.body, example["response"].GetString());
    }
    EXPECT_THAT(std::string(example["curl"].GetString()), HasSubstr(example["target"].GetString()));
  }
  EXPECT_GE(docs["errors"].Size(), 5u);
}

// A watch stream (GET /api/v1/watch) read off a raw connection.
class Watch {
 public:
  // Sends the request; `headers` each end in "\r\n".
  Watch(std::uint16_t port, const std::string& target, const std::string& headers = {}) : c_(port) {
    c_.Send("GET " + target + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n");
    head_ = ReadHttpResponse(c_).value_or(HttpResult{});
  }
  const HttpResult& head() const { return head_; }
  Connection& connection() { return c_; }
  // The next event's lines, joined by "\n" ("id: 4\ndata: {...}"); empty
  // at the end of the stream or after `timeout`.
  std::string Next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::string event;
    for (;;) {
      std::optional<std::string> line = c_.ReadLine(timeout);
      if (!line) return {};
      if (line->empty()) {
        if (!event.empty()) return event;
        continue;
      }
      if (line->starts_with(":")) continue;  // a comment (heartbeat)
      if (!event.empty()) event += "\n";
      event += *line;
    }
  }

 private:
  Connection c_;
  HttpResult head_;
};

// An event's text for a change.
std::string Event(std::uint64_t revision, const std::string& key, const std::string& kind,
                  const std::string& values) {
  const std::string r = std::to_string(revision);
  return "id: " + r + "\ndata: {\"revision\":" + r + ",\"key\":\"" + key + "\",\"kind\":\"" + kind +
         "\",\"values\":" + values + "}";
}

// GET /api/v1/watch: the changes to the keys with its prefix, as events in
// revision order as they are committed (over the socket or HTTP); an idle
// stream outlives --http-timeout; it counts in the stats' watchers, and a
// client that leaves ends it.
TEST_F(HttpTest, WatchStreamsTheChangesAsEventsInOrder) {
  ASSERT_EQ(kvd_->Stop(), 0);
  Start({"--http-timeout", "1"});
  Connection socket(kvd_->socket());
  auto ask = [&](const std::string& line) {
    socket.Send(line + "\n");
    return socket.ReadLine().value_or("<no answer>");
  };
  auto watchers = [&](int n) {
    return Eventually(
        [&] {
          return ask(R"({"op":"stats"})").find("\"watchers\":" + std::to_string(n) + ",") !=
                 std::string::npos;
        },
        std::chrono::seconds(10));
  };
  ASSERT_EQ(ask(R"({"op":"append","key":"other","val":"before"})"), R"({"ok":true})");  // 1
  auto watch = std::make_unique<Watch>(http_->port(), "/api/v1/watch?prefix=a");
  EXPECT_EQ(watch->head().status, 200);
  EXPECT_EQ(watch->head().Header("content-type"), "text/event-stream");
  EXPECT_EQ(watch->head().Header("cache-control"), "no-cache");
  EXPECT_EQ(watch->head().Header("connection"), "close");
  EXPECT_EQ(watch->head().Header("x-served-by"), kName);
  EXPECT_EQ(watch->Next(), "id: 1") << "from the store's revision";
  ASSERT_TRUE(watchers(1));
  // Idle for longer than --http-timeout.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  ASSERT_EQ(ask(R"({"op":"append","key":"a1","val":"x"})"), R"({"ok":true})");  // 2
  EXPECT_EQ(watch->Next(), Event(2, "a1", "append", R"(["x"])"));
  ASSERT_EQ(ask(R"({"op":"append","key":"b","val":"y"})"), R"({"ok":true})");  // 3: not a*
  EXPECT_EQ(http_->Curl({"--data-binary", "z\"\n", http_->Url("/api/v1/keys/a1")}).status,
            200);                                                               // 4
  ASSERT_EQ(ask(R"({"op":"append","key":"a2","val":"w"})"), R"({"ok":true})");  // 5
  EXPECT_EQ(http_->Curl({"-X", "POST", http_->Url("/api/v1/keys/a1/pop?count=2")}).status,
            200);                                                                    // 6
  ASSERT_EQ(ask(R"({"op":"delete","key":"a2"})"), R"({"ok":true,"deleted":true})");  // 7
  EXPECT_EQ(watch->Next(), Event(4, "a1", "append", R"(["z\"\n"])"));
  EXPECT_EQ(watch->Next(), Event(5, "a2", "append", R"(["w"])"));
  EXPECT_EQ(watch->Next(), Event(6, "a1", "trim", R"(["x","z\"\n"])"));
  EXPECT_EQ(watch->Next(), Event(7, "a2", "delete", "[]"));
  EXPECT_THAT(http_->Curl({http_->Url("/api/v1/stats")}).body, HasSubstr("\"watchers\":1,"));
  watch.reset();
  EXPECT_TRUE(watchers(0)) << "the client left";
  // A bad from or Last-Event-ID.
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/watch?from=x")}).status, 400);
  EXPECT_EQ(http_->Curl({"-H", "Last-Event-ID: -1", http_->Url("/api/v1/watch")}).status, 400);
  EXPECT_EQ(http_->Curl({"-I", http_->Url("/api/v1/watch")}).Header("content-type"),
            "text/event-stream")
      << "HEAD: the headers alone";
}

// A reconnecting EventSource sends the same URL, its from included, and
// the id of the last event it received: it gets each change exactly once.
TEST_F(HttpTest, WatchResumesAfterTheLastEventId) {
  auto post = [&](const std::string& key, const std::string& val) {
    return http_->Curl({"--data-binary", val, http_->Url("/api/v1/keys/" + key)}).status;
  };
  for (int i = 1; i <= 3; ++i) ASSERT_EQ(post("k", std::to_string(i)), 200);
  std::vector<std::string> seen;
  std::string last_id;
  for (int round = 0; round < 4; ++round) {
    {
      Watch watch(http_->port(), "/api/v1/watch?prefix=k&from=0",
                  last_id.empty() ? "" : "Last-Event-ID: " + last_id + "\r\n");
      ASSERT_EQ(watch.head().status, 200);
      EXPECT_EQ(watch.Next(), "id: " + (last_id.empty() ? "0" : last_id));
      // Takes what came, then leaves while more are being written.
      for (;;) {
        const std::string event = watch.Next(std::chrono::milliseconds(300));
        if (event.empty()) break;
        seen.push_back(event.substr(event.find("data: ") + 6));
        last_id = event.substr(4, event.find('\n') - 4);
      }
    }
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(post(i % 2 ? "k" : "other", "r" + std::to_string(round)), 200);
  }
  // 3 values, then per round 1 of 3 writes under the prefix (the last
  // round's come after the last watch).
  std::vector<std::string> expected;
  for (int i = 1; i <= 3; ++i) {
    expected.push_back(R"({"revision":)" + std::to_string(i) +
                       R"(,"key":"k","kind":"append","values":[")" + std::to_string(i) + R"("]})");
  }
  for (int round = 0; round < 3; ++round) {
    expected.push_back(R"({"revision":)" + std::to_string(3 + 3 * round + 2) +
                       R"(,"key":"k","kind":"append","values":["r)" + std::to_string(round) +
                       R"("]})");
  }
  EXPECT_EQ(seen, expected);
}

// A from whose changes the store no longer keeps (the oldest, once more
// than the history's 16 MiB came after them) answers 410 with the
// revision a watch may start from.
TEST_F(HttpTest, WatchFromACompactedRevisionIs410) {
  const std::string file = (dir_ / "value").string();
  std::ofstream(file) << std::string(900 * 1024, 'v');
  for (int i = 0; i < 20; ++i) {  // about 18 MiB
    ASSERT_EQ(http_->Curl({"--data-binary", "@" + file, http_->Url("/api/v1/keys/big")}).status,
              200);
  }
  std::uint64_t oldest = 0;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{http_->Url("/api/v1/watch?prefix=k&from=1")},
        std::vector<std::string>{"-H", "Last-Event-ID: 0", http_->Url("/api/v1/watch")}}) {
    HttpResult gone = http_->Curl(args);
    EXPECT_EQ(gone.status, 410);
    EXPECT_EQ(gone.Header("content-type"), "application/json");
    rapidjson::Document d;
    d.Parse(gone.body.c_str(), gone.body.size());
    ASSERT_TRUE(d.IsObject()) << gone.body;
    EXPECT_THAT(std::string(d["error"].GetString()), HasSubstr("no longer kept"));
    oldest = d["revision"].GetUint64();
    EXPECT_GT(oldest, 1u);
    EXPECT_LT(oldest, 20u);
  }
  Watch watch(http_->port(), "/api/v1/watch?prefix=k&from=" + std::to_string(oldest));
  EXPECT_EQ(watch.head().status, 200);
  EXPECT_EQ(watch.Next(), "id: " + std::to_string(oldest));
  ASSERT_EQ(http_->Curl({"--data-binary", "w", http_->Url("/api/v1/keys/k")}).status, 200);
  EXPECT_EQ(watch.Next(), Event(21, "k", "append", R"(["w"])"));
}

// SIGTERM ends the streams at once: kvd exits clean.
TEST_F(HttpTest, SigtermEndsWatchStreams) {
  Watch watch(http_->port(), "/api/v1/watch");
  ASSERT_EQ(watch.Next(), "id: 0");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kvd_->Stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(watch.connection().ClosedByPeer());
  kvd_.reset();
}

// A stream whose client does not read while the changes pile up ends with
// an error event: slow_watcher, and the revision to watch again from, which
// gives the changes after those it sent.
TEST_F(HttpTest, AWatchThatFallsBehindEndsWithASlowWatcherEvent) {
  Watch watch(http_->port(), "/api/v1/watch");
  ASSERT_EQ(watch.Next(), "id: 0");
  // About 35 MiB of changes: more than the history keeps (16 MiB) and
  // than the socket's buffers hold.
  const std::string value(900 * 1024, 'v');
  const std::string file = (dir_ / "value").string();
  std::ofstream(file) << value;
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(http_->Curl({"--data-binary", "@" + file, http_->Url("/api/v1/keys/k")}).status, 200);
  }
  std::uint64_t sent = 0;
  std::string event;
  for (;;) {
    event = watch.Next();
    ASSERT_FALSE(event.empty()) << "the stream ended without an error event";
    if (!event.starts_with("id: ")) break;
    sent = std::stoull(event.substr(4));
  }
  ASSERT_THAT(event, StartsWith("event: error\nid: "));
  const std::string id = event.substr(17, event.find('\n', 17) - 17);
  rapidjson::Document d;
  const std::string data = event.substr(event.find("data: ") + 6);
  d.Parse(data.c_str(), data.size());
  ASSERT_TRUE(d.IsObject()) << data;
  EXPECT_FALSE(d["ok"].GetBool());
  EXPECT_EQ(std::string(d["error"]["code"].GetString()), "slow_watcher");
  const std::uint64_t resume = d["revision"].GetUint64();
  EXPECT_EQ(resume, sent) << "every change it looked at was sent";
  EXPECT_LT(resume, 40u);
  EXPECT_EQ(id, std::to_string(resume)) << "where an EventSource reconnects from";
  EXPECT_TRUE(watch.connection().ClosedByPeer());
  EXPECT_THAT(http_->Curl({http_->Url("/api/v1/stats")}).body,
              HasSubstr("\"slow_watchers_cut_off\":1,"));
}

TEST_F(HttpTest, KeysRoutes) {
  EXPECT_EQ(http_->Curl({"--data-binary", "one", http_->Url("/api/v1/keys/k1")}).status, 200);
  EXPECT_EQ(http_->Curl({"--data-binary", "", http_->Url("/api/v1/keys/k1")}).status, 200);
  EXPECT_EQ(http_->Curl({"--data-binary", "x", http_->Url("/api/v1/keys/k2")}).status, 200);
  // A client that waits for "100 Continue" before sending the body gets it.
  EXPECT_EQ(http_
                ->Curl({"-H", "Expect: 100-continue", "--data-binary", "y",
                        http_->Url("/api/v1/keys/k2")})
                .status,
            200);
  EXPECT_EQ(ValuesOf(http_->Curl({http_->Url("/api/v1/keys/k1")}).body),
            (std::vector<std::string>{"one", ""}));
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys")}).body, "{\"keys\":[\"k1\",\"k2\"]}\n");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys?prefix=k2")}).body, "{\"keys\":[\"k2\"]}\n");
  EXPECT_EQ(ValuesOf(http_->Curl({http_->Url("/api/v1/keys/k2")}).body),
            (std::vector<std::string>{"x", "y"}));
  HttpResult del = http_->Curl({"-X", "DELETE", http_->Url("/api/v1/keys/k1")});
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.body, "{\"deleted\":true}\n");
  HttpResult again = http_->Curl({"-X", "DELETE", http_->Url("/api/v1/keys/k1")});
  EXPECT_EQ(again.status, 404);
  EXPECT_EQ(ErrorOf(again), "no such key");
  HttpResult gone = http_->Curl({http_->Url("/api/v1/keys/k1")});
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(ErrorOf(gone), "no such key");
  HttpResult stats = http_->Curl({http_->Url("/api/v1/stats")});
  EXPECT_EQ(stats.status, 200);
  EXPECT_THAT(stats.body, HasSubstr("\"keys\":1,"));
  EXPECT_THAT(stats.body, HasSubstr("\"http_requests\":"));
  // A form body works like the query (curl -d).
  EXPECT_EQ(http_->Curl({"-d", "key=form+key&val=a%26b", http_->Url("/api/v1/storage")}).status,
            200);
  EXPECT_EQ(kvd_->Kvctl({"--key", "form key"}).out, "a&b\n");
}

// The key's revision with its values, the store's in the stats
// (proto/PROTOCOL.md, "Revisions"), the same as the socket's.
TEST_F(HttpTest, ReadsAnswerTheKeysRevisionAndStatsTheStores) {
  auto post = [&](const std::string& key, const std::string& val) {
    return http_->Curl({"--data-binary", val, http_->Url("/api/v1/keys/" + key)}).status;
  };
  auto stats = [&] { return http_->Curl({http_->Url("/api/v1/stats")}).body; };
  EXPECT_THAT(stats(), HasSubstr("\"revision\":0,"));
  EXPECT_EQ(post("k1", "a"), 200);  // 1
  EXPECT_EQ(http_->Curl({"-X", "POST", http_->Url("/api/v1/storage?key=k1&val=b")}).status,
            200);                   // 2
  EXPECT_EQ(post("k2", "c"), 200);  // 3
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/storage?key=k1")}).body,
            "{\"key\":\"k1\",\"values\":[\"a\",\"b\"],\"revision\":2}\n");
  EXPECT_EQ(http_->Curl({"-X", "DELETE", http_->Url("/api/v1/keys/k1")}).status, 200);  // 4
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/storage?key=k2")}).body,
            "{\"key\":\"k2\",\"values\":[\"c\"],\"revision\":3}\n");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/k2")}).body,
            "{\"key\":\"k2\",\"values\":[\"c\"],\"revision\":3}\n");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/storage?key=k1")}).body,
            "{\"key\":\"k1\",\"values\":[],\"revision\":0}\n")
      << "a deleted key";
  EXPECT_THAT(stats(), HasSubstr("\"revision\":4,"));
  EXPECT_EQ(http_->Curl({"-X", "DELETE", http_->Url("/api/v1/keys/k1")}).status, 404);
  EXPECT_THAT(stats(), HasSubstr("\"revision\":4,")) << "deleting nothing changes nothing";
  // The socket's clients see the same revisions.
  Connection c(kvd_->socket());
  c.Send(R"({"op":"get","key":"k2"})"
         "\n"
         R"({"op":"append","key":"k3","val":"d"})"  // 5
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["c"],"revision":3})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/k3")}).body,
            "{\"key\":\"k3\",\"values\":[\"d\"],\"revision\":5}\n");
}

// GET /api/v1/keys/{key} with start or stop: the values that LRANGE's
// indices name (proto/PROTOCOL.md, "get"); GET /api/v1/keys/{key}/length:
// how many values the key holds ("len").
TEST_F(HttpTest, KeyRoutesReadARangeAndTheLength) {
  for (const char* v : {"a", "b, c", "d", "e"}) {
    ASSERT_EQ(http_->Curl({"--data-binary", v, http_->Url("/api/v1/keys/k")}).status, 200);
  }
  auto get = [&](const std::string& target) { return http_->Curl({http_->Url(target)}); };
  HttpResult part = get("/api/v1/keys/k?start=1&stop=2");
  EXPECT_EQ(part.status, 200);
  EXPECT_EQ(part.body, "{\"key\":\"k\",\"values\":[\"b, c\",\"d\"],\"revision\":4}\n");
  EXPECT_EQ(part.Header("content-type"), "application/json");
  EXPECT_EQ(ValuesOf(get("/api/v1/keys/k?start=-2").body), (std::vector<std::string>{"d", "e"}));
  EXPECT_EQ(ValuesOf(get("/api/v1/keys/k?stop=0").body), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ValuesOf(get("/api/v1/keys/k?start=-100&stop=100").body),
            (std::vector<std::string>{"a", "b, c", "d", "e"}));
  EXPECT_EQ(get("/api/v1/keys/k?start=0&stop=-1").body, get("/api/v1/keys/k").body);
  HttpResult none = get("/api/v1/keys/k?start=3&stop=1");
  EXPECT_EQ(none.status, 200) << "a key that exists, a range that names none of it";
  EXPECT_EQ(none.body, "{\"key\":\"k\",\"values\":[],\"revision\":4}\n");
  EXPECT_EQ(get("/api/v1/keys/k?start=10").status, 200);
  HttpResult absent = get("/api/v1/keys/absent?start=0");
  EXPECT_EQ(absent.status, 404);
  EXPECT_EQ(ErrorOf(absent), "no such key");
  for (const char* bad :
       {"/api/v1/keys/k?start=x", "/api/v1/keys/k?stop=", "/api/v1/keys/k?start=1.5",
        "/api/v1/keys/k?stop=%2B1", "/api/v1/keys/k?start=99999999999999999999",
        "/api/v1/keys/k?start=0&stop=2x"}) {
    HttpResult r = get(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_THAT(ErrorOf(r), HasSubstr("must be a whole number")) << bad;
  }

  HttpResult length = get("/api/v1/keys/k/length");
  EXPECT_EQ(length.status, 200);
  EXPECT_EQ(length.body, "{\"key\":\"k\",\"length\":4}\n");
  EXPECT_EQ(get("/api/v1/keys/absent/length").body, "{\"key\":\"absent\",\"length\":0}\n")
      << "a missing key holds no values";
  ASSERT_EQ(http_->Curl({"--data-binary", "x", http_->Url("/api/v1/keys/a%2Fb")}).status, 200);
  EXPECT_EQ(get("/api/v1/keys/a%2Fb/length").body, "{\"key\":\"a/b\",\"length\":1}\n");
  EXPECT_EQ(get("/api/v1/keys/length").status, 404) << "a key named length, which is absent";
  EXPECT_EQ(http_->Curl({"-I", http_->Url("/api/v1/keys/k/length")}).status, 200);
  EXPECT_EQ(http_->Curl({"-X", "POST", http_->Url("/api/v1/keys/k/length")}).status, 405);
  // The socket sees the same, and the metrics count the op each route ran.
  Connection c(kvd_->socket());
  c.Send(R"({"op":"len","key":"k"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"length":4})");
  EXPECT_THAT(get("/metrics").body,
              HasSubstr("kvd_requests_total{transport=\"http\",op=\"len\"} 4\n"));
}

// POST /api/v1/keys/{key}/pop: the values taken, in the order taken; POST
// /api/v1/keys/{key}/trim: only the values a range names are kept
// (proto/PROTOCOL.md, "pop" and "trim").
TEST_F(HttpTest, KeyRoutesPopAndTrim) {
  for (const char* v : {"a", "b, c", "d", "e", "f", "g"}) {
    ASSERT_EQ(http_->Curl({"--data-binary", v, http_->Url("/api/v1/keys/k")}).status, 200);
  }
  auto post = [&](const std::string& target) {
    return http_->Curl({"-X", "POST", http_->Url(target)});
  };
  HttpResult one = post("/api/v1/keys/k/pop");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body, "{\"key\":\"k\",\"values\":[\"a\"]}\n");
  EXPECT_EQ(one.Header("content-type"), "application/json");
  EXPECT_EQ(post("/api/v1/keys/k/pop?count=2").body,
            "{\"key\":\"k\",\"values\":[\"b, c\",\"d\"]}\n");
  EXPECT_EQ(post("/api/v1/keys/k/pop?from=tail&wait=30").body,
            "{\"key\":\"k\",\"values\":[\"g\"]}\n")
      << "a key with values answers at once";
  // The parameters as a form body; from the tail, the last first.
  EXPECT_EQ(http_->Curl({"-d", "count=5&from=tail", http_->Url("/api/v1/keys/k/pop")}).body,
            "{\"key\":\"k\",\"values\":[\"f\",\"e\"]}\n");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/k")}).status, 404)
      << "a key left without values is deleted";
  HttpResult none = post("/api/v1/keys/k/pop");
  EXPECT_EQ(none.status, 200) << "none to take is no error";
  EXPECT_EQ(none.body, "{\"key\":\"k\",\"values\":[]}\n");
  EXPECT_EQ(post("/api/v1/keys/absent/pop?count=3&from=head&wait=0").body,
            "{\"key\":\"absent\",\"values\":[]}\n");
  ASSERT_EQ(http_->Curl({"--data-binary", "x", http_->Url("/api/v1/keys/a%2Fb")}).status, 200);
  EXPECT_EQ(post("/api/v1/keys/a%2Fb/pop?client=5&seq=1").body,
            "{\"key\":\"a/b\",\"values\":[\"x\"]}\n");

  for (const char* v : {"a", "b", "c", "d"}) {
    ASSERT_EQ(http_->Curl({"--data-binary", v, http_->Url("/api/v1/keys/t")}).status, 200);
  }
  HttpResult trim = post("/api/v1/keys/t/trim?start=1&stop=-2");
  EXPECT_EQ(trim.status, 200);
  EXPECT_EQ(trim.body, "{\"ok\":true}\n");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/t")}).body,
            "{\"key\":\"t\",\"values\":[\"b\",\"c\"],\"revision\":17}\n");
  EXPECT_EQ(post("/api/v1/keys/t/trim?start=-100&stop=100").status, 200);
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/t")}).body,
            "{\"key\":\"t\",\"values\":[\"b\",\"c\"],\"revision\":17}\n")
      << "a trim that removed nothing changed nothing";
  EXPECT_EQ(http_->Curl({"-d", "start=1&stop=0", http_->Url("/api/v1/keys/t/trim")}).status, 200);
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/t")}).status, 404);
  EXPECT_EQ(post("/api/v1/keys/absent/trim?start=0&stop=0").status, 200);
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys")}).body, "{\"keys\":[]}\n");

  ASSERT_EQ(http_->Curl({"--data-binary", "v", http_->Url("/api/v1/keys/k")}).status, 200);
  for (const auto& [target, error] : {
           std::pair{"/api/v1/keys/k/pop?count=0", "count must be a whole number from 1"},
           std::pair{"/api/v1/keys/k/pop?count=-1", "count must be"},
           std::pair{"/api/v1/keys/k/pop?count=1.5", "count must be"},
           std::pair{"/api/v1/keys/k/pop?count=", "count must be"},
           std::pair{"/api/v1/keys/k/pop?from=middle", "from must be head or tail"},
           std::pair{"/api/v1/keys/k/pop?wait=-1",
                     "wait must be a number of seconds from 0 to "
                     "86400"},
           std::pair{"/api/v1/keys/k/pop?wait=86401", "wait must be"},
           std::pair{"/api/v1/keys/k/pop?wait=x", "wait must be"},
           std::pair{"/api/v1/keys/k/pop?wait=nan", "wait must be"},
           std::pair{"/api/v1/keys/k/pop?wait=inf", "wait must be"},
           std::pair{"/api/v1/keys/k/pop?wait=1s", "wait must be"},
           std::pair{"/api/v1/keys/k/pop?client=5", "client and seq go together"},
           std::pair{"/api/v1/keys/k/trim?start=0", "missing parameter: stop"},
           std::pair{"/api/v1/keys/k/trim?stop=0", "missing parameter: start"},
           std::pair{"/api/v1/keys/k/trim?start=x&stop=0", "start must be a whole number"},
           std::pair{"/api/v1/keys/k/trim?start=0&stop=0.5", "stop must be a whole number"},
       }) {
    HttpResult r = post(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_THAT(ErrorOf(r), HasSubstr(error)) << target;
  }
  EXPECT_EQ(ValuesOf(http_->Curl({http_->Url("/api/v1/keys/k")}).body),
            (std::vector<std::string>{"v"}))
      << "no malformed request took anything";
  HttpResult get = http_->Curl({http_->Url("/api/v1/keys/k/pop")});
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Header("allow"), "POST");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/k/trim?start=0&stop=0")}).status, 405);
  // The socket sees the same, and the metrics count the op each route ran.
  Connection c(kvd_->socket());
  c.Send(R"({"op":"pop","key":"k"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["v"]})");
  const std::string metrics = http_->Curl({http_->Url("/metrics")}).body;
  EXPECT_THAT(metrics, HasSubstr("kvd_requests_total{transport=\"http\",op=\"pop\"} 7\n"));
  EXPECT_THAT(metrics, HasSubstr("kvd_requests_total{transport=\"http\",op=\"trim\"} 4\n"));
}

// POST /api/v1/keys/{key}/pop?wait=S on a key without values waits for a
// value, in one line with the socket's waiting pops; one whose wait runs
// out answers [].
TEST_F(HttpTest, APopThatWaitsTakesAValueAppendedMeanwhile) {
  Connection socket(kvd_->socket());
  auto ask = [&](const std::string& line) {
    socket.Send(line + "\n");
    return socket.ReadLine().value_or("<no answer>");
  };
  auto waiting = [&](int n) {
    return Eventually(
        [&] {
          return ask(R"({"op":"stats"})").find("\"pops_waiting\":" + std::to_string(n) + ",") !=
                 std::string::npos;
        },
        std::chrono::seconds(10));
  };
  const std::string pop = "POST /api/v1/keys/jobs/pop?wait=30 HTTP/1.1\r\nHost: x\r\n\r\n";
  Connection waiter(http_->port());
  waiter.Send(pop);
  ASSERT_TRUE(waiting(1));
  ASSERT_EQ(ask(R"({"op":"append","key":"jobs","val":"job"})"), R"({"ok":true})");
  std::optional<HttpResult> taken = ReadHttpResponse(waiter);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->status, 200);
  EXPECT_EQ(taken->body, "{\"key\":\"jobs\",\"values\":[\"job\"]}\n");
  EXPECT_EQ(ask(R"({"op":"len","key":"jobs"})"), R"({"ok":true,"length":0})")
      << "the value went to the waiter alone";
  // A socket's waiting pop, then an HTTP one: served in that order.
  Connection first(kvd_->socket());
  first.Send(R"({"op":"pop","key":"jobs","wait":30})"
             "\n");
  ASSERT_TRUE(waiting(1));
  waiter.Send(pop);
  ASSERT_TRUE(waiting(2));
  ASSERT_EQ(ask(R"({"op":"append","key":"jobs","val":"a"})"), R"({"ok":true})");
  EXPECT_EQ(first.ReadLine(), R"({"ok":true,"values":["a"]})");
  ASSERT_EQ(ask(R"({"op":"append","key":"jobs","val":"b"})"), R"({"ok":true})");
  taken = ReadHttpResponse(waiter);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->body, "{\"key\":\"jobs\",\"values\":[\"b\"]}\n");
  // A wait that runs out.
  const auto start = std::chrono::steady_clock::now();
  HttpResult none = http_->Curl({"-X", "POST", http_->Url("/api/v1/keys/none/pop?wait=0.3")});
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.body, "{\"key\":\"none\",\"values\":[]}\n");
  EXPECT_TRUE(waiting(0));
}

// A conditional append: 200 while the key is as given, else 409 with the
// key's revision, on both append routes; a malformed condition is a 400.
TEST_F(HttpTest, ConditionalAppendAnswers409WithTheRevision) {
  auto post = [&](const std::string& target, const std::string& body = {}) {
    if (body.empty()) return http_->Curl({"-X", "POST", http_->Url(target)});
    return http_->Curl({"--data-binary", body, http_->Url(target)});
  };
  HttpResult r = post("/api/v1/storage?key=k&val=a&if_revision=0");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"ok\":true}\n");
  r = post("/api/v1/storage?key=k&val=x&if_revision=0");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_THAT(r.body, StartsWith("{\"error\":\""));
  EXPECT_THAT(r.body, ::testing::EndsWith("\",\"revision\":1}\n"));
  EXPECT_THAT(ErrorOf(r), HasSubstr("revision"));
  EXPECT_EQ(post("/api/v1/storage?key=k&val=b&if_length=1").status, 200);
  r = post("/api/v1/keys/k?if_revision=1", "x");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(r.body, ::testing::EndsWith("\",\"revision\":2}\n"));
  EXPECT_EQ(post("/api/v1/keys/k?if_revision=2", "c").status, 200);
  EXPECT_EQ(post("/api/v1/keys/k?if_length=2", "x").status, 409);
  for (const char* bad :
       {"/api/v1/storage?key=k&val=x&if_revision=-1", "/api/v1/storage?key=k&val=x&if_revision=1.5",
        "/api/v1/storage?key=k&val=x&if_length=",
        "/api/v1/storage?key=k&val=x&if_revision=3&if_length=3"}) {
    r = post(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_THAT(ErrorOf(r), HasSubstr("if_")) << bad;
  }
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/storage?key=k")}).body,
            "{\"key\":\"k\",\"values\":[\"a\",\"b\",\"c\"],\"revision\":3}\n");
  EXPECT_THAT(http_->Curl({http_->Url("/")}).body, HasSubstr("if_revision"));
}

TEST_F(HttpTest, HeadIsGetWithoutTheBody) {
  HttpResult get = http_->Curl({http_->Url("/hello")});
  HttpResult head = http_->Curl({"-I", http_->Url("/hello")});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.Header("content-length"), std::to_string(get.body.size()));
}

// Keys and values with every awkward character, written over HTTP and read
// by kvctl, and the other way round.
TEST_F(HttpTest, HttpAndKvctlSeeEachOthersWrites) {
  const std::string key = "a/b c+d,\"e\"\n\xc3\xa9?&=%";
  const std::string encoded = "a%2Fb%20c%2Bd%2C%22e%22%0A%C3%A9%3F%26%3D%25";
  const std::string value = "x, \"y\"\n\xe2\x82\xac&=+%";
  EXPECT_EQ(http_->Curl({"--data-binary", value, http_->Url("/api/v1/keys/" + encoded)}).status,
            200);
  // In the query '+' is a space and %2B a plus.
  EXPECT_EQ(
      http_->Curl({"-X", "POST", http_->Url("/api/v1/storage?key=" + encoded + "&val=p+q%2B")})
          .status,
      200);
  RunResult read = kvd_->Kvctl({"--key", key, "--json"});
  EXPECT_EQ(read.out, "[\"x, \\\"y\\\"\\n\xe2\x82\xac&=+%\",\"p q+\"]\n");
  ASSERT_EQ(kvd_->Kvctl({"--key", key, "--val", "from kvctl"}).exit_code, 0);
  EXPECT_EQ(ValuesOf(http_->Curl({http_->Url("/api/v1/storage?key=" + encoded)}).body),
            (std::vector<std::string>{value, "p q+", "from kvctl"}));
  EXPECT_EQ(ValuesOf(http_->Curl({http_->Url("/api/v1/keys/" + encoded)}).body).size(), 3u);
}

TEST_F(HttpTest, ErrorsAreJsonWithTheRightStatus) {
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{"-X", "POST", "/api/v1/storage?val=v"}, 400, "missing parameter: key"},
      {{"-X", "POST", "/api/v1/storage?key=k"}, 400, "missing parameter: val"},
      {{"/api/v1/storage"}, 400, "missing parameter: key"},
      {{"/api/v1/storage?key=%zz"}, 400, "two hex digits"},
      {{"/api/v1/storage?key=%ff"}, 400, "not valid UTF-8"},
      {{"/api/v1/keys/%C3"}, 400, "not valid UTF-8"},
      {{"--data-binary", "\xff", "/api/v1/keys/k"}, 400, "the body is not valid UTF-8"},
      {{"/nothing/here"}, 404, "no such route"},
      {{"/api/v1/keys/nothing"}, 404, "no such key"},
      {{"-X", "PUT", "/hello"}, 405, "allowed: GET, HEAD"},
      {{"-X", "DELETE", "/api/v1/storage?key=k"}, 405, "allowed: POST, GET, HEAD"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.back() = http_->Url(args.back());
    HttpResult r = http_->Curl(args);
    SCOPED_TRACE(args.back());
    EXPECT_EQ(r.status, c.status);
    EXPECT_THAT(ErrorOf(r), HasSubstr(c.error));
  }
  HttpResult put = http_->Curl({"-X", "PUT", http_->Url("/api/v1/keys/k")});
  EXPECT_EQ(put.Header("allow"), "POST, GET, HEAD, DELETE");
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys")}).body, "{\"keys\":[]}\n")
      << "no failed request wrote anything";
}

TEST_F(HttpTest, SizeLimitsGive413And431) {
  Start({"--max-key-size", "8", "--max-value-size", "16", "--http-max-header", "4096"});
  auto status = [&](std::vector<std::string> args) {
    args.back() = http_->Url(args.back());
    HttpResult r = http_->Curl(args);
    if (r.status >= 400) {
      EXPECT_THAT(ErrorOf(r), Not(StartsWith("<"))) << args.back();
    }
    return r.status;
  };
  EXPECT_EQ(status({"-X", "POST", "/api/v1/storage?key=12345678&val=1234567890123456"}), 200);
  EXPECT_EQ(status({"-X", "POST", "/api/v1/storage?key=123456789&val=v"}), 413);
  EXPECT_EQ(status({"-X", "POST", "/api/v1/storage?key=k&val=12345678901234567"}), 413);
  EXPECT_EQ(status({"/api/v1/storage?key=123456789"}), 413);
  EXPECT_EQ(status({"/api/v1/keys/123456789?start=-1"}), 413);
  EXPECT_EQ(status({"/api/v1/keys/123456789/length"}), 413);
  EXPECT_EQ(status({"-X", "POST", "/api/v1/keys/123456789/pop"}), 413);
  EXPECT_EQ(status({"-X", "POST", "/api/v1/keys/123456789/trim?start=0&stop=0"}), 413);
  EXPECT_EQ(status({"--data-binary", std::string(17, 'v'), "/api/v1/keys/k"}), 413);
  // Over the body limit: refused before the body is read (Expect: 100-continue too).
  EXPECT_EQ(status({"--data-binary", std::string(4000, 'v'), "/api/v1/keys/k"}), 413);
  EXPECT_EQ(status({"-H", "Expect: 100-continue", "--data-binary", std::string(4000, 'v'),
                    "/api/v1/keys/k"}),
            413);
  EXPECT_EQ(status({"-H", "X-Big: " + std::string(5000, 'h'), "/hello"}), 431);
  EXPECT_EQ(status({"/api/v1/storage?key=" + std::string(5000, 'k')}), 431);
  EXPECT_EQ(ValuesOf(http_->Curl({http_->Url("/api/v1/storage?key=12345678")}).body),
            (std::vector<std::string>{"1234567890123456"}));
}

TEST_F(HttpTest, KeepAliveAndPipelining) {
  Connection c(http_->port());
  c.Send(
      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /api/v1/keys/p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
      "POST /api/v1/storage?key=p&val=two HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /api/v1/keys/p HTTP/1.1\r\nHost: x\r\n\r\n");
  auto hello = ReadHttpResponse(c);
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->body, "Hello, World!\nServer 1");
  EXPECT_EQ(hello->Header("x-served-by"), kName);
  EXPECT_EQ(ReadHttpResponse(c)->body, "{\"ok\":true}\n");
  EXPECT_EQ(ReadHttpResponse(c)->body, "{\"ok\":true}\n");
  EXPECT_EQ(ReadHttpResponse(c)->body,
            "{\"key\":\"p\",\"values\":[\"one\",\"two\"],\"revision\":2}\n");
  // Still open for more; HTTP/1.0 and Connection: close end it.
  c.Send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto last = ReadHttpResponse(c);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(last->Header("connection"), "close");
  EXPECT_TRUE(c.ClosedByPeer());
  Connection old(http_->port());
  old.Send("GET /health HTTP/1.0\r\n\r\n");
  EXPECT_EQ(ReadHttpResponse(old)->status, 200);
  EXPECT_TRUE(old.ClosedByPeer());
}

// 50 clients, each appending 20 values over one keep-alive connection.
TEST_F(HttpTest, FiftyConcurrentClientsAppendingToOneKeyLoseNothing) {
  constexpr int kClients = 50, kEach = 20;
  std::vector<Process> clients;
  for (int i = 0; i < kClients; ++i) {
    std::vector<std::string> argv = {
        FindProgram("curl"), "-sS", "--max-time", "120", "-X", "POST", "-w", "%{http_code}\\n"};
    for (int j = 0; j < kEach; ++j) {
      argv.insert(argv.end(), {"-o", "/dev/null"});
      argv.push_back(http_->Url("/api/v1/storage?key=shared&val=c" + std::to_string(i) + "-" +
                                std::to_string(j)));
    }
    clients.emplace_back(argv, ProcessOptions{});
  }
  for (auto& c : clients) {
    ASSERT_EQ(c.Wait(std::chrono::seconds(150)), 0) << c.Stderr();
    std::string expected;
    for (int j = 0; j < kEach; ++j) expected += "200\n";
    EXPECT_EQ(c.Stdout(), expected);
  }
  const auto values = ValuesOf(http_->Curl({http_->Url("/api/v1/storage?key=shared")}).body);
  EXPECT_EQ(values.size(), std::size_t{kClients * kEach});
  std::set<std::string> distinct(values.begin(), values.end());
  EXPECT_EQ(distinct.size(), std::size_t{kClients * kEach});
  for (int i = 0; i < kClients; ++i) {
    // Each client's values in the order it sent them.
    std::vector<std::string> mine;
    for (const auto& v : values) {
      if (v.starts_with("c" + std::to_string(i) + "-")) mine.push_back(v);
    }
    ASSERT_EQ(mine.size(), std::size_t{kEach});
    for (int j = 0; j < kEach; ++j)
      EXPECT_EQ(mine[j], "c" + std::to_string(i) + "-" + std::to_string(j));
  }
  RunResult kvctl = kvd_->Kvctl({"--key", "shared", "--json"});
  EXPECT_EQ(std::count(kvctl.out.begin(), kvctl.out.end(), ','), kClients * kEach - 1);
}

// Acknowledged means durable (--fsync always): a crash right after loses nothing.
TEST_F(HttpTest, AcknowledgedWritesSurviveACrash) {
  ASSERT_EQ(http_->Curl({"--data-binary", "durable", http_->Url("/api/v1/keys/d")}).status, 200);
  kvd_->Kill();
  kvd_.reset();
  Start();
  EXPECT_EQ(kvd_->Kvctl({"--key", "d"}).out, "durable\n");
}

TEST_F(HttpTest, MalformedAndEndlessRequestsDoNotDisturbOthers) {
  Start({"--http-timeout", "2", "--max-key-size", "100", "--max-value-size", "1000"});
  // A bad request line: 400, then the connection is closed.
  Connection garbage(http_->port());
  garbage.Send("HELLO THERE\r\n\r\n");
  auto bad = ReadHttpResponse(garbage);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->Header("x-served-by"), kName);
  EXPECT_TRUE(garbage.ClosedByPeer());
  Connection binary(http_->port());
  binary.Send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11));  // a TLS hello
  auto tls = ReadHttpResponse(binary);
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->status, 400);

  // Huge headers: 431 before they are all read.
  Connection huge(http_->port());
  huge.SendFor("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(1 << 20, 'h'),
               std::chrono::seconds(2));
  auto big = ReadHttpResponse(huge);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);

  // A chunked body that never ends: cut off by the body limit, or when it stalls, by the timeout.
  Connection endless(http_->port());
  endless.Send("POST /api/v1/keys/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 10000; ++i) {
    if (endless.SendFor("10\r\n0123456789abcdef\r\n", std::chrono::seconds(1)) == 0) break;
  }
  auto over = ReadHttpResponse(endless);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 413);
  Connection stalled(http_->port());
  stalled.Send(
      "POST /api/v1/keys/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\nhello\r\n");
  // Slowloris: a header byte every 100 ms never completes a request in time.
  Connection slow(http_->port());
  Connection idle(http_->port());

  // Meanwhile others are served.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(http_->Curl({http_->Url("/hello")}).status, 200);
    slow.SendFor("X", std::chrono::milliseconds(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  bool slow_closed = false;
  for (int i = 0; i < 100 && !slow_closed; ++i) {
    slow.SendFor("X", std::chrono::milliseconds(100));
    slow_closed = slow.ClosedByPeer(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(slow_closed);
  EXPECT_TRUE(stalled.ClosedByPeer(std::chrono::seconds(10)));
  EXPECT_TRUE(idle.ClosedByPeer(std::chrono::seconds(10)));
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/k")}).status, 404) << "no partial body stored";
  EXPECT_EQ(kvd_->Kvctl({"ping"}).exit_code, 0);
}

TEST_F(HttpTest, ConnectionsOverTheLimitGet503) {
  Start({"--max-connections", "2"});
  Connection a(http_->port()), b(http_->port());
  for (Connection* c : {&a, &b}) {
    c->Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(ReadHttpResponse(*c)->status, 200);
  }
  HttpResult refused = http_->Curl({http_->Url("/hello")});
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(ErrorOf(refused), HasSubstr("at most 2 HTTP connections"));
  a.Close();
  HttpResult served = refused;
  for (int i = 0; i < 100 && served.status == 503; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    served = http_->Curl({http_->Url("/hello")});
  }
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(kvd_->Kvctl({"ping"}).exit_code, 0) << "the socket has a limit of its own";
}

TEST_F(HttpTest, SigtermClosesIdleKeepAliveConnectionsAndExitsClean) {
  Connection c(http_->port());
  c.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(ReadHttpResponse(c)->status, 200);
  EXPECT_EQ(kvd_->Stop(), 0);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST(HttpOptionsTest, BadAddressIsUsageAndBusyPortIsAClearError) {
  EXPECT_EQ(RunKvd({"--http", "no-port:"}).exit_code, 2);
  EXPECT_EQ(RunKvd({"--http", "70000"}).exit_code, 2);
  TestDir dir;
  Daemon first(dir, {"--http", "0"});
  HttpClient http(first, "");
  TestDir other;
  RunResult second = RunKvd({"--socket", (other / "kvd.sock").string(), "--data",
                             (other / "storage.data").string(), "--http",
                             "127.0.0.1:" + std::to_string(http.port())});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_THAT(second.err, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(http.port())));
}

TEST(HttpHealthTest, FullDiskGives503UntilAWriteSucceedsAgain) {
  TestDir dir;
  TmpfsMount disk(dir / "disk");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a tmpfs";
  Daemon kvd(dir / "kvd.sock", dir / "disk" / "storage.data", {"--http", "0", "--name", "n"});
  HttpClient http(kvd, "n");
  EXPECT_EQ(http.Curl({http.Url("/health")}).status, 200);
  {
    std::ofstream filler(dir / "disk" / "filler", std::ios::binary);
    filler << std::string(300 * 1024, 'f');
  }
  HttpResult failed;
  for (int i = 0; i < 10000; ++i) {
    failed = http.Curl({"--data-binary", std::string(200, 'x'), http.Url("/api/v1/keys/k")});
    if (failed.status != 200) break;
  }
  ASSERT_EQ(failed.status, 503) << failed.body;
  EXPECT_THAT(ErrorOf(failed), HasSubstr("No space left"));
  HttpResult health = http.Curl({http.Url("/health")});
  EXPECT_EQ(health.status, 503);
  EXPECT_THAT(ErrorOf(health), HasSubstr("No space left"));
  EXPECT_EQ(http.Curl({http.Url("/api/v1/storage?key=k")}).status, 200) << "reads go on";
  std::filesystem::remove(dir / "disk" / "filler");
  EXPECT_EQ(http.Curl({"--data-binary", "after", http.Url("/api/v1/keys/k")}).status, 200);
  EXPECT_EQ(http.Curl({http.Url("/health")}).status, 200);
}

}  // namespace
}  // namespace kvd::testing
