// Many clients at once: nothing lost, per-client order kept, pipelining.
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/client.h"
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

}  // namespace
}  // namespace kvd::testing
