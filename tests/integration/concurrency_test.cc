// Many clients at once: nothing lost, per-client order kept, pipelining.
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "proto/request.h"
#include "proto/response.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

TEST(ConcurrencyTest, TwoHundredKvctlProcessesAppendingToOneKeyLoseNothing) {
  TestDir dir;
  Daemon kvd(dir);
  constexpr int kClients = 200;
  std::vector<Process> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(std::vector<std::string>{KvctlBin(), "--socket", kvd.socket(), "--key",
                                                  "shared", "--val", "value-" + std::to_string(i)},
                         ProcessOptions{});
  }
  for (auto& c : clients) ASSERT_EQ(c.Wait(), 0) << c.Stderr();

  client::Client check(kvd.socket());
  const auto values = check.Get("shared");
  EXPECT_EQ(values.size(), std::size_t{kClients});
  std::set<std::string> distinct(values.begin(), values.end());
  for (int i = 0; i < kClients; ++i) EXPECT_TRUE(distinct.contains("value-" + std::to_string(i)));

  // And all of it is on disk, so it survives a restart.
  ASSERT_EQ(kvd.Stop(), 0);
  Daemon again(dir);
  EXPECT_EQ(client::Client(again.socket()).Get("shared").size(), std::size_t{kClients});
}

TEST(ConcurrencyTest, EachClientsWritesKeepTheirOrder) {
  TestDir dir;
  Daemon kvd(dir);
  constexpr int kThreads = 16, kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      client::Client c(kvd.socket());
      for (int i = 0; i < kPerThread; ++i)
        c.Append("k", std::to_string(t) + "/" + std::to_string(i));
    });
  }
  for (auto& t : threads) t.join();
  const auto values = client::Client(kvd.socket()).Get("k");
  ASSERT_EQ(values.size(), std::size_t{kThreads * kPerThread});
  std::vector<int> next(kThreads, 0);
  for (const auto& v : values) {
    const int t = std::stoi(v.substr(0, v.find('/')));
    EXPECT_EQ(v, std::to_string(t) + "/" + std::to_string(next[t]++));
  }
}

TEST(ConcurrencyTest, PipelinedRequestsAreAnsweredInOrder) {
  TestDir dir;
  Daemon kvd(dir);
  Connection conn(kvd.socket());
  constexpr int kRequests = 3000;
  std::string burst;
  for (int i = 0; i < kRequests; ++i) {
    proto::Request r =
        (i % 3 == 2) ? proto::Request::Get("p") : proto::Request::Append("p", std::to_string(i));
    r.id = std::to_string(i);
    burst += proto::EncodeRequest(r);
  }
  conn.Send(burst);  // all at once, before reading anything
  int appended = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto line = conn.ReadLine();
    ASSERT_TRUE(line) << "no response " << i;
    proto::Response response;
    ASSERT_FALSE(proto::DecodeResponse(*line, &response)) << *line;
    ASSERT_TRUE(response.ok()) << *line;
    ASSERT_EQ(response.id, std::to_string(i));
    if (i % 3 == 2) {
      // A read sees every write sent before it on the same connection.
      ASSERT_TRUE(response.values);
      ASSERT_EQ(response.values->size(), std::size_t(appended));
      EXPECT_EQ(response.values->back(), std::to_string(i - 1));
    } else {
      ++appended;
    }
  }
}

// Writes that many connections pipeline at once share commits and are
// completed from inside them; each connection still gets its answers in
// order, deletes their own results, and reads see its earlier writes. Some
// lines are longer than what a first read takes (4096 bytes, StreamReader),
// and the bursts longer than the server's shared buffer (64 KiB). Under every
// --fsync mode: without fsync, the sessions of one turn are committed in
// groups, and a group's sessions are resumed by the session after it while
// that one submits (CommitQueue::Mode).
class PipelinedWritesTest : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(FsyncModes, PipelinedWritesTest,
                         ::testing::Values("always", "everysec", "no"));

TEST_P(PipelinedWritesTest, FromManyConnectionsAreAnsweredInOrder) {
  TestDir dir;
  Daemon kvd(dir, {"--fsync", GetParam()});
  constexpr int kConnections = 20, kRequests = 200;
  std::vector<std::unique_ptr<Connection>> connections;
  for (int c = 0; c < kConnections; ++c) {
    connections.push_back(std::make_unique<Connection>(kvd.socket()));
  }
  auto value = [](int c, int i) {
    return std::to_string(c) + "/" + std::to_string(i) + (i % 7 == 0 ? std::string(5000, 'x') : "");
  };
  // Every connection's whole burst goes out before any answer is read.
  for (int c = 0; c < kConnections; ++c) {
    const std::string key = "conn" + std::to_string(c);
    std::string burst;
    for (int i = 0; i < kRequests; ++i) {
      proto::Request r = i % 10 == 9   ? proto::Request::Delete("absent" + std::to_string(c))
                         : i % 10 == 5 ? proto::Request::AppendMany({{key, value(c, i)}})
                                       : proto::Request::Append(key, value(c, i));
      r.id = std::to_string(i);
      burst += proto::EncodeRequest(r);
    }
    proto::Request get = proto::Request::Get(key);
    get.id = "\"last\"";
    burst += proto::EncodeRequest(get);
    connections[c]->Send(burst);
  }
  for (int c = 0; c < kConnections; ++c) {
    std::vector<std::string> expected;
    for (int i = 0; i < kRequests; ++i) {
      auto line = connections[c]->ReadLine();
      ASSERT_TRUE(line) << "connection " << c << ": no response " << i;
      proto::Response response;
      ASSERT_FALSE(proto::DecodeResponse(*line, &response)) << *line;
      ASSERT_TRUE(response.ok()) << *line;
      ASSERT_EQ(response.id, std::to_string(i)) << "connection " << c;
      if (i % 10 == 9) {
        ASSERT_EQ(response.deleted, std::optional<bool>(false)) << *line;
      } else {
        expected.push_back(value(c, i));
      }
    }
    auto line = connections[c]->ReadLine();
    ASSERT_TRUE(line);
    proto::Response response;
    ASSERT_FALSE(proto::DecodeResponse(*line, &response));
    EXPECT_EQ(response.id, "\"last\"");
    ASSERT_TRUE(response.values);
    EXPECT_EQ(*response.values, expected) << "connection " << c;
  }
}

// A response far larger than the socket takes at once: written in part at
// once, the rest as the client reads.
TEST(ConcurrencyTest, ResponseLargerThanTheSocketBufferArrivesWhole) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client writer(kvd.socket());
  const std::string big(8 * 1024, 'b');
  for (int batch = 0; batch < 4; ++batch) {
    std::vector<client::KeyValue> items;
    for (int i = 0; i < 100; ++i) items.push_back({"big", big + std::to_string(batch * 100 + i)});
    writer.AppendMany(items);
  }
  Connection reader(kvd.socket());
  reader.Send(proto::EncodeRequest(proto::Request::Get("big")) +
              proto::EncodeRequest(proto::Request::Ping()));
  const auto line = reader.ReadLine();
  ASSERT_TRUE(line);
  EXPECT_GT(line->size(), 3u * 1024 * 1024);
  proto::Response response;
  ASSERT_FALSE(proto::DecodeResponse(*line, &response));
  ASSERT_TRUE(response.values);
  ASSERT_EQ(response.values->size(), 400u);
  for (int i = 0; i < 400; ++i) EXPECT_EQ((*response.values)[i], big + std::to_string(i));
  const auto pong = reader.ReadLine();
  ASSERT_TRUE(pong);
  EXPECT_EQ(*pong, R"({"ok":true})");
}

}  // namespace
}  // namespace kvd::testing
