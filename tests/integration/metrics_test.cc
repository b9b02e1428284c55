// GET /metrics (doc/http.md, "/metrics") against a real kvd: requests sent
// over the socket and over HTTP, errors provoked on purpose, then the
// scraped samples checked value by value. The format itself is checked by
// promtool and the Python client's parser in metrics_format_test.sh.
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/http_client.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;

// The samples of a scrape, by `name{labels}` exactly as kvd writes them.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

// The value of `sample`, failing the test (with the scrape) if it is absent.
double Value(const std::map<std::string, double>& samples, const std::string& sample,
             const std::string& text) {
  const auto it = samples.find(sample);
  if (it == samples.end()) {
    ADD_FAILURE() << "no sample " << sample << " in:\n" << text;
    return -1;
  }
  return it->second;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kvd_.emplace(dir_,
                 std::vector<std::string>{"--http", "0", "--name", "m1", "--max-key-size", "16"});
    http_.emplace(*kvd_, "m1");
  }
  void TearDown() override { EXPECT_EQ(kvd_->Stop(), 0) << kvd_->Log(); }

  // A request line over the socket, and its answer.
  std::string Ask(Connection& c, const std::string& line) {
    c.Send(line + "\n");
    return c.ReadLine().value_or("<no answer>");
  }

  TestDir dir_;
  std::optional<Daemon> kvd_;
  std::optional<HttpClient> http_;
};

TEST_F(MetricsTest, CountsWhatWasSentOverBothTransports) {
  Connection c(kvd_->socket());
  // Socket: 3 appends (2 keys), 2 gets, 3 errors of 3 kinds.
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"a","val":"1"})"), R"({"ok":true})");
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"a","val":"2"})"), R"({"ok":true})");
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"b","val":"3"})"), R"({"ok":true})");
  EXPECT_THAT(Ask(c, R"({"op":"get","key":"a"})"), HasSubstr(R"(["1","2"])"));
  EXPECT_THAT(Ask(c, R"({"op":"get","key":"zz"})"), HasSubstr("[]"));
  EXPECT_EQ(ErrorCodeOf(Ask(c, "not json")), "invalid_json");
  EXPECT_EQ(ErrorCodeOf(Ask(c, R"({"op":"frobnicate"})")), "unknown_op");
  EXPECT_EQ(ErrorCodeOf(Ask(c, R"({"op":"append","key":"a-key-over-16-bytes","val":"x"})")),
            "key_too_large");
  // HTTP: 2 appends, 1 get, a route that does not exist, a key too large.
  EXPECT_EQ(http_->Curl({"-X", "POST", http_->Url("/api/v1/storage?key=c&val=4")}).status, 200);
  EXPECT_EQ(http_->Curl({"--data-binary", "5", http_->Url("/api/v1/keys/c")}).status, 200);
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/c")}).status, 200);
  EXPECT_EQ(http_->Curl({http_->Url("/no/such/route")}).status, 404);
  EXPECT_EQ(http_->Curl({http_->Url("/api/v1/keys/a-key-over-16-bytes")}).status, 413);

  const HttpResult scrape = http_->Curl({http_->Url("/metrics")});
  ASSERT_EQ(scrape.status, 200) << scrape.body;
  EXPECT_EQ(scrape.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = scrape.body;
  const auto s = Samples(text);
  auto value = [&](const std::string& sample) { return Value(s, sample, text); };

  EXPECT_THAT(text, HasSubstr("# HELP kvd_requests_total "));
  EXPECT_THAT(text, HasSubstr("# TYPE kvd_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE kvd_commit_duration_seconds histogram\n"));
  // Errors count as requests of their op (append: 3 and the key too large).
  EXPECT_EQ(value(R"(kvd_requests_total{transport="socket",op="append"})"), 4);
  EXPECT_EQ(value(R"(kvd_requests_total{transport="socket",op="get"})"), 2);
  // (ping: the harness's, until kvd answered)
  EXPECT_EQ(value(R"(kvd_requests_total{transport="socket",op="invalid"})"), 2);
  EXPECT_EQ(
      value(R"(kvd_request_errors_total{transport="socket",op="append",code="key_too_large"})"), 1);
  EXPECT_EQ(
      value(R"(kvd_request_errors_total{transport="socket",op="invalid",code="invalid_json"})"), 1);
  EXPECT_EQ(value(R"(kvd_request_errors_total{transport="socket",op="invalid",code="unknown_op"})"),
            1);
  EXPECT_EQ(value(R"(kvd_requests_total{transport="http",op="append"})"), 2);
  EXPECT_EQ(value(R"(kvd_requests_total{transport="http",op="get"})"), 2);
  EXPECT_EQ(value(R"(kvd_request_errors_total{transport="http",op="get",code="key_too_large"})"),
            1);
  EXPECT_EQ(value(R"(kvd_http_requests_total{method="POST",route="/api/v1/storage",status="2xx"})"),
            1);
  EXPECT_EQ(
      value(R"(kvd_http_requests_total{method="POST",route="/api/v1/keys/{key}",status="2xx"})"),
      1);
  EXPECT_EQ(
      value(R"(kvd_http_requests_total{method="GET",route="/api/v1/keys/{key}",status="4xx"})"), 1);
  EXPECT_EQ(value(R"(kvd_http_requests_total{method="GET",route="none",status="4xx"})"), 1);

  // This connection is open; the scrape's own is too.
  EXPECT_EQ(value(R"(kvd_connections{transport="socket"})"), 1);
  EXPECT_GE(value(R"(kvd_connections{transport="http"})"), 1);  // ended ones may linger
  // The harness's pings until kvd answered, and this connection.
  EXPECT_GE(value(R"(kvd_connections_accepted_total{transport="socket"})"), 2);
  EXPECT_EQ(value(R"(kvd_connections_accepted_total{transport="http"})"), 6);
  EXPECT_EQ(value(R"(kvd_connections_refused_total{transport="socket"})"), 0);

  EXPECT_EQ(value("kvd_keys"), 3);    // a, b, c
  EXPECT_EQ(value("kvd_values"), 5);  // 1, 2, 3, 4, 5
  EXPECT_EQ(value("kvd_revision"), 5) << "the store's revision: a change per value appended";
  EXPECT_THAT(text, HasSubstr("# TYPE kvd_revision gauge\n"));
  EXPECT_GT(value("kvd_journal_bytes"), 0);
  EXPECT_EQ(value("kvd_compactions_total"), 0);
  EXPECT_EQ(value("kvd_last_compaction_time_seconds"), 0);
  EXPECT_GT(value("kvd_start_time_seconds"), 1.6e9);
  EXPECT_EQ(value("kvd_commit_failures_total"), 0);

  // Each acknowledged write was a commit of its own: they came one by one.
  const double commits = value("kvd_commits_total");
  EXPECT_EQ(commits, 5);
  EXPECT_EQ(value("kvd_commit_duration_seconds_count"), commits);
  EXPECT_GT(value("kvd_commit_duration_seconds_sum"), 0);
  // Buckets are cumulative, in order, and end with +Inf holding them all.
  std::vector<double> buckets;
  std::istringstream lines(text);
  std::string line;
  std::string last_le;
  while (std::getline(lines, line)) {
    if (line.rfind("kvd_commit_duration_seconds_bucket{le=\"", 0) != 0) continue;
    const auto le_end = line.find('"', 39);
    last_le = line.substr(39, le_end - 39);
    buckets.push_back(std::stod(line.substr(line.rfind(' ') + 1)));
  }
  ASSERT_GE(buckets.size(), 2u);
  EXPECT_EQ(last_le, "+Inf");
  for (std::size_t i = 1; i < buckets.size(); ++i) EXPECT_LE(buckets[i - 1], buckets[i]);
  EXPECT_EQ(buckets.back(), commits);

  // Not a cluster node: no Raft figures.
  EXPECT_THAT(text, ::testing::Not(HasSubstr("kvd_raft_")));
}

TEST_F(MetricsTest, CountsTheScrapesAndKeepsStatsInStep) {
  EXPECT_EQ(http_->Curl({http_->Url("/metrics")}).status, 200);
  EXPECT_EQ(http_->Curl({"-I", http_->Url("/metrics")}).status, 200);
  const std::string text = http_->Curl({http_->Url("/metrics")}).body;
  const auto s = Samples(text);
  auto value = [&](const std::string& sample) { return Value(s, sample, text); };
  // The scrapes before this one, by the method sent.
  EXPECT_EQ(value(R"(kvd_http_requests_total{method="GET",route="/metrics",status="2xx"})"), 1);
  EXPECT_EQ(value(R"(kvd_http_requests_total{method="HEAD",route="/metrics",status="2xx"})"), 1);
  // Before the first append, its counter is there at 0.
  EXPECT_EQ(value(R"(kvd_requests_total{transport="socket",op="append"})"), 0);
  // `stats` reports the totals of these families.
  double socket_requests = 0;
  for (const auto& [sample, count] : s) {
    if (sample.rfind(R"(kvd_requests_total{transport="socket",)", 0) == 0) socket_requests += count;
  }
  EXPECT_GE(socket_requests, 1);  // the harness's pings until kvd answered
  EXPECT_EQ(kvd_->Kvctl({"ping"}).exit_code, 0);
  const RunResult stats = kvd_->Kvctl({"stats"});
  EXPECT_THAT(
      stats.out,
      HasSubstr("\nrequests:" + std::to_string(static_cast<int>(socket_requests) + 1) + "\n"));
  // The HTTP server's: the three scrapes before.
  EXPECT_THAT(http_->Curl({http_->Url("/api/v1/stats")}).body, HasSubstr("\"http_requests\":3,"));
}

}  // namespace
}  // namespace kvd::testing
