// Cluster mode with real processes: three kvd nodes on loopback, real kvctl
// and client-library writers. Nothing acknowledged is lost or written twice
// while leaders are killed, nodes lose their disks or the cluster loses its
// quorum; reads see every write acknowledged before they began.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/call.h"
#include "kvd/client.h"
#include "proto/request.h"
#include "tests/integration/cluster_harness.h"
#include "tests/integration/http_client.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Leader kills of the failover test: 30 unless KVD_CLUSTER_CYCLES says
// otherwise (the sanitizer builds run fewer, see tests/meson.build).
int Cycles() {
  const char* env = std::getenv("KVD_CLUSTER_CYCLES");
  return env != nullptr ? std::atoi(env) : 30;
}

std::int64_t Ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A writer that appends w<id>-<n> for n = 0, 1, ... to its keys, each append
// with its own client id and n + 1 as seq, through any running node: when a
// node is killed under it, the same request goes to the next one. What was
// acknowledged, and what was only sent, is kept for the checks.
class Writer {
 public:
  Writer(ClusterNodes& cluster, int id, std::vector<std::string> keys)
      : cluster_(cluster), id_(id), keys_(std::move(keys)) {}

  // Appends until `stop`; a request unanswered once `stop` is set is given
  // up (it may or may not be applied).
  void Run(const std::atomic<bool>& stop) {
    for (std::uint64_t n = 0; !stop; ++n) {
      const std::string& key = keys_[n % keys_.size()];
      const std::string value = "w" + std::to_string(id_) + "-" + std::to_string(n);
      proto::Request request = proto::Request::Append(key, value);
      request.client = 1000 + static_cast<std::uint64_t>(id_);
      request.seq = n + 1;
      {
        std::lock_guard lock(mu_);
        sent_[value] = key;
      }
      if (!Send(request, stop)) break;
      const auto now = Clock::now();
      std::lock_guard lock(mu_);
      acked_.emplace_back(value, now);
    }
  }

  std::vector<std::string> acked() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> values;
    for (const auto& [value, at] : acked_) values.push_back(value);
    return values;
  }
  // Each acknowledged value with when its call returned (no earlier than
  // the acknowledgement itself).
  std::vector<std::pair<std::string, Clock::time_point>> acked_at() const {
    std::lock_guard lock(mu_);
    return acked_;
  }
  std::map<std::string, std::string> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }
  std::uint64_t retries() const { return retries_; }

 private:
  bool Send(const proto::Request& request, const std::atomic<bool>& stop) {
    for (;;) {
      try {
        if (!client_) {
          client_ =
              std::make_unique<client::Client>(cluster_.socket(node_), std::chrono::seconds(2));
        }
        client::Call(*client_, request);
        return true;
      } catch (const std::exception&) {
        if (stop) return false;
        ++retries_;
        client_.reset();
        node_ = node_ % cluster_.size() + 1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

  ClusterNodes& cluster_;
  const int id_;
  const std::vector<std::string> keys_;
  int node_ = id_ % 3 + 1;
  std::unique_ptr<client::Client> client_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, Clock::time_point>> acked_;
  std::map<std::string, std::string> sent_;  // value -> key
  std::atomic<std::uint64_t> retries_{0};
};

// Appends "v<from>" .. "v<to - 1>" to key "k" through `writer`, and to
// `expected`.
void AppendNumbered(client::Client& writer, int from, int to, std::vector<std::string>* expected) {
  for (int i = from; i < to; ++i) {
    writer.Append("k", "v" + std::to_string(i));
    expected->push_back("v" + std::to_string(i));
  }
}

// Node `id`'s values of `key` once it has caught up (a linearizable read,
// retried while the cluster settles).
std::vector<std::string> ValuesOn(ClusterNodes& cluster, int id, const std::string& key) {
  std::optional<std::vector<std::string>> values;
  EXPECT_TRUE(Eventually([&] { return (values = cluster.Get(id, key)).has_value(); },
                         std::chrono::seconds(20)))
      << "node " << id << " did not answer a read of " << key;
  return values.value_or(std::vector<std::string>{});
}

// Checks the writers' keys on every node: each acknowledged value is there
// exactly once, every value there was sent (at most once), each writer's
// values are in the order it sent them, and all nodes hold the same lists.
void ExpectExactlyOnce(ClusterNodes& cluster, const std::vector<std::unique_ptr<Writer>>& writers,
                       const std::vector<std::string>& keys) {
  std::map<std::string, std::string> sent;
  std::set<std::string> acked;
  for (const auto& w : writers) {
    for (const auto& [value, key] : w->sent()) sent[value] = key;
    for (const auto& value : w->acked()) acked.insert(value);
  }
  for (const std::string& key : keys) {
    const std::vector<std::string> first = ValuesOn(cluster, 1, key);
    std::set<std::string> seen;
    std::map<std::string, long> last_n;  // writer -> n of its last value so far
    for (const std::string& value : first) {
      EXPECT_TRUE(seen.insert(value).second) << value << " is stored twice under " << key;
      ASSERT_TRUE(sent.contains(value)) << value << " under " << key << " was never sent";
      EXPECT_EQ(sent[value], key) << value << " is under the wrong key";
      const std::string writer = value.substr(0, value.find('-'));
      const long n = std::stol(value.substr(value.find('-') + 1));
      if (last_n.contains(writer)) {
        EXPECT_LT(last_n[writer], n) << writer << "'s values out of order under " << key;
      }
      last_n[writer] = n;
    }
    for (const auto& [value, k] : sent) {
      if (k == key && acked.contains(value)) {
        EXPECT_TRUE(seen.contains(value)) << "acknowledged " << value << " is lost from " << key;
      }
    }
    for (int id = 2; id <= cluster.size(); ++id) {
      EXPECT_EQ(ValuesOn(cluster, id, key), first) << "node " << id << " differs on " << key;
    }
  }
}

TEST(ClusterTest, AnyNodeServesWritesAndReadsOfTheWholeCluster) {
  TestDir dir;
  ClusterNodes cluster(dir);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  for (int id = 1; id <= 3; ++id) {
    const RunResult append =
        cluster.Kvctl(id, {"--key", "k", "--val", "from " + std::to_string(id)});
    ASSERT_EQ(append.exit_code, 0) << append.err;
  }
  for (int id = 1; id <= 3; ++id) {
    const RunResult read = cluster.Kvctl(id, {"--key", "k"});
    EXPECT_EQ(read.exit_code, 0) << read.err;
    EXPECT_EQ(read.out, "from 1, from 2, from 3\n") << "node " << id;
    EXPECT_EQ(cluster.Kvctl(id, {"range", "k", "-2", "-1"}).out, "from 2, from 3\n")
        << "node " << id;
    EXPECT_EQ(cluster.Kvctl(id, {"len", "k"}).out, "3\n") << "node " << id;
  }
  // Every node applied the same changes in the same order: the same
  // revisions, whichever node answers.
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(cluster.Kvctl(id, {"revision", "k"}).out, "3\n") << "node " << id;
    EXPECT_EQ(cluster.Kvctl(id, {"revision", "absent"}).out, "0\n") << "node " << id;
    EXPECT_THAT(cluster.Kvctl(id, {"stats"}).out, HasSubstr("\nrevision:3\n")) << "node " << id;
  }
  ASSERT_EQ(cluster.Kvctl(leader % 3 + 1, {"del", "k"}).out, "1\n");
  ASSERT_EQ(cluster.Kvctl(leader % 3 + 1, {"del", "k"}).out, "0\n");
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(cluster.Kvctl(id, {"revision", "k"}).out, "0\n") << "node " << id;
    EXPECT_THAT(cluster.Kvctl(id, {"stats"}).out, HasSubstr("\nrevision:4\n")) << "node " << id;
    EXPECT_EQ(cluster.Kvctl(id, {"len", "k"}).out, "0\n") << "node " << id;
  }
  // Each node tells the others where it takes forwarded requests (through
  // the log) soon after it found the leader; until then it shows as
  // unavailable in others' status.
  EXPECT_TRUE(cluster.WaitUntilAllReachable(1));
  const RunResult status = cluster.Kvctl(1, {"cluster", "status", "--json"});
  EXPECT_THAT(status.out, HasSubstr("\"leader\":" + std::to_string(leader)));
  for (int id = 1; id <= 3; ++id) {
    EXPECT_THAT(status.out, HasSubstr("{\"id\":" + std::to_string(id) + ",\"address\":\"" +
                                      cluster.address(id) + "\",\"voter\":true,\"role\":\"" +
                                      (id == leader ? "leader" : "follower") + "\""));
  }
  const RunResult text = cluster.Kvctl(2, {"cluster", "status"});
  EXPECT_THAT(text.out, HasSubstr("leader: " + std::to_string(leader) + "\n"));
}

TEST(ClusterTest, AcknowledgedAppendsSurviveLeaderKills) {
  TestDir dir;
  ClusterNodes cluster(dir);
  ASSERT_NE(cluster.WaitForLeader(), 0);
  const std::vector<std::string> keys = {"hot", "a", "b", "c"};
  std::vector<std::unique_ptr<Writer>> writers;
  for (int w = 0; w < 8; ++w) {
    // Every writer appends to the hot key and to one of the others.
    writers.push_back(
        std::make_unique<Writer>(cluster, w, std::vector<std::string>{"hot", keys[1 + w % 3]}));
  }
  ClientThreads clients;
  for (auto& w : writers) clients.Start([&w, &clients] { w->Run(clients.stopping()); });

  std::vector<std::int64_t> failovers;
  std::uint64_t probe_seq = 0;
  for (int cycle = 0; cycle < Cycles(); ++cycle) {
    const int leader = cluster.WaitForLeader();
    ASSERT_NE(leader, 0) << "cycle " << cycle << ": no leader";
    const auto killed = Clock::now();
    cluster.Kill(leader);
    // The first write acknowledged after the kill, through another node.
    const int other = leader % 3 + 1;
    client::Client probe(cluster.socket(other), std::chrono::seconds(30));
    proto::Request append = proto::Request::Append("probe", std::to_string(cycle));
    append.client = 999;
    append.seq = ++probe_seq;
    client::Call(probe, append);
    failovers.push_back(Ms(Clock::now() - killed));
    cluster.Start(leader);
  }
  clients.Stop();

  std::sort(failovers.begin(), failovers.end());
  std::uint64_t acked = 0, retries = 0;
  for (const auto& w : writers) {
    acked += w->acked().size();
    retries += w->retries();
  }
  std::cout << "[ cluster  ] " << failovers.size()
            << " leader kills; kill -9 to the first acknowledged write: median "
            << failovers[failovers.size() / 2] << " ms, max " << failovers.back() << " ms; "
            << acked << " appends acknowledged, " << retries << " retries\n";
  ASSERT_NE(cluster.WaitForLeader(), 0);
  ExpectExactlyOnce(cluster, writers, keys);
  std::vector<std::string> probes;
  for (int cycle = 0; cycle < Cycles(); ++cycle) probes.push_back(std::to_string(cycle));
  EXPECT_EQ(ValuesOn(cluster, 1, "probe"), probes);
}

// Every client logs when each request began and ended. A read must be a
// prefix of the key's final list holding every append acknowledged before
// the read began; no value may appear twice. A leader is killed midway.
TEST(ClusterTest, ReadsSeeEveryAppendAcknowledgedBeforeThem) {
  TestDir dir;
  ClusterNodes cluster(dir);
  ASSERT_NE(cluster.WaitForLeader(), 0);
  std::vector<std::unique_ptr<Writer>> writers;
  for (int w = 0; w < 6; ++w) {
    writers.push_back(std::make_unique<Writer>(cluster, w, std::vector<std::string>{"hot"}));
  }
  struct Read {
    Clock::time_point began;
    std::vector<std::string> values;
  };
  std::mutex mu;
  std::vector<Read> reads;
  ClientThreads clients;
  for (auto& w : writers) clients.Start([&w, &clients] { w->Run(clients.stopping()); });
  for (int r = 0; r < 3; ++r) {
    clients.Start([&, r] {
      for (int n = 0; !clients.stopping(); ++n) {
        const int node = (r + n) % 3 + 1;
        const auto began = Clock::now();
        if (auto values = cluster.Get(node, "hot")) {
          std::lock_guard lock(mu);
          reads.push_back(Read{began, std::move(*values)});
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  cluster.Kill(leader);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  cluster.Start(leader);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  clients.Stop();

  const std::vector<std::string> final_list = ValuesOn(cluster, 1, "hot");
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < final_list.size(); ++i) {
    ASSERT_TRUE(position.emplace(final_list[i], i).second) << final_list[i] << " twice";
  }
  // A writer's acknowledgement time is taken after its call returned, so
  // it is no earlier than the acknowledgement: the check is not looser.
  std::vector<std::pair<std::string, Clock::time_point>> acks;
  for (const auto& w : writers) {
    for (auto& ack : w->acked_at()) acks.push_back(std::move(ack));
  }
  ASSERT_GT(reads.size(), 10u);
  for (const Read& read : reads) {
    ASSERT_LE(read.values.size(), final_list.size());
    ASSERT_TRUE(std::equal(read.values.begin(), read.values.end(), final_list.begin()))
        << "a read is not a prefix of the final list";
    const std::set<std::string> seen(read.values.begin(), read.values.end());
    for (const auto& [value, at] : acks) {
      if (at < read.began) {
        ASSERT_TRUE(seen.contains(value)) << "a read missed " << value << ", acknowledged "
                                          << Ms(read.began - at) << " ms before it began";
      }
    }
  }
  ExpectExactlyOnce(cluster, writers, {"hot"});
}

// The survivor is a follower: a leader left alone may already have appended
// a write to its log when it steps down, and that write is committed once a
// quorum is back (its client was told it may or may not have been).
TEST(ClusterTest, WithoutAQuorumRequestsFailUnavailableAndStaleReadsGoOn) {
  TestDir dir;
  ClusterNodes cluster(dir);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int survivor = leader % 3 + 1;
  const int other = 6 - leader - survivor;
  ASSERT_EQ(cluster.Kvctl(survivor, {"--key", "k", "--val", "before"}).exit_code, 0);
  ASSERT_TRUE(Eventually(
      [&] { return cluster.Get(survivor, "k", true) == std::vector<std::string>{"before"}; },
      std::chrono::seconds(10)));
  // Killed, not stopped: a stopping leader hands over, here to the survivor.
  cluster.Kill(leader);
  cluster.Kill(other);
  const auto began = Clock::now();
  const RunResult write =
      cluster.Kvctl(survivor, {"--timeout", "1", "--key", "k", "--val", "lost"});
  EXPECT_EQ(write.exit_code, 1);
  EXPECT_THAT(write.err, HasSubstr("no leader"));
  EXPECT_LT(Ms(Clock::now() - began), 10000) << "kvctl waited past its timeout";
  const RunResult read = cluster.Kvctl(survivor, {"--timeout", "0", "--key", "k"});
  EXPECT_EQ(read.exit_code, 1);
  EXPECT_EQ(cluster.Get(survivor, "k", true), std::vector<std::string>{"before"});
  cluster.Start(other);
  ASSERT_NE(cluster.WaitForLeader(), 0);
  const RunResult after = cluster.Kvctl(survivor, {"--key", "k", "--val", "after"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(cluster.Kvctl(other, {"--key", "k"}).out, "before, after\n");
}

// A conditional append sent to a follower goes to the leader with its
// condition, and the leader's state machine decides: a stale revision is a
// conflict with the leader's revision of the key, whichever node took it.
TEST(ClusterTest, AConditionalAppendToAFollowerIsDecidedByTheLeader) {
  TestDir dir;
  ClusterNodes cluster(dir);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  const int other = follower % 3 + 1;
  RunResult r = cluster.Kvctl(follower, {"--key", "k", "--val", "a", "--if-revision", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const int id : {other, leader, follower}) {
    r = cluster.Kvctl(id, {"--key", "k", "--val", "x", "--if-revision", "0"});
    EXPECT_EQ(r.exit_code, 3) << "node " << id << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("conflict")) << "node " << id;
    EXPECT_THAT(r.err, HasSubstr("(revision 1)")) << "node " << id;
  }
  // Pipelined on a follower: forwarded in order, each with its own answer.
  Connection c(cluster.socket(follower));
  c.Send(R"({"op":"append","key":"k","val":"b","if_revision":1})"
         "\n"
         R"({"op":"append","key":"k","val":"x","if_revision":1})"
         "\n"
         R"({"op":"append","key":"k","val":"c","if_length":2})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  const std::string refused = c.ReadLine().value_or("");
  EXPECT_EQ(ErrorCodeOf(refused), "conflict");
  // The leader's revision of the key after the commit that refused it (the
  // next append may have shared that commit).
  EXPECT_THAT(refused, ::testing::AnyOf(::testing::EndsWith(R"(},"revision":2})"),
                                        ::testing::EndsWith(R"(},"revision":3})")));
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  // The client library on a follower: the leader's revision in the Conflict.
  client::Client kv(cluster.socket(other));
  try {
    kv.Append("k", "x", client::Condition::Revision(2));
    ADD_FAILURE() << "appended with a stale revision";
  } catch (const client::Conflict& e) {
    EXPECT_EQ(e.revision(), 3u);
  }
  kv.Append("k", "d", client::Condition::Revision(3));
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(cluster.Kvctl(id, {"--key", "k"}).out, "a, b, c, d\n") << "node " << id;
    EXPECT_EQ(cluster.Kvctl(id, {"revision", "k"}).out, "4\n") << "node " << id;
  }
}

// Expiry times travel in the log with the writes: every node agrees on
// them and on when each key went, whichever node took the write; only the
// leader commits the deletes of expired keys, and a write to an expired key
// starts afresh on every node.
TEST(ClusterTest, KeysExpireAlikeOnEveryNode) {
  TestDir dir;
  ClusterNodes cluster(dir);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  ASSERT_TRUE(cluster.WaitUntilAllReachable(follower));
  const auto appended = std::chrono::steady_clock::now();
  RunResult r = cluster.Kvctl(follower, {"--key", "long", "--val", "v", "--ttl", "3600"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(cluster.Kvctl(follower, {"append", "p", "v"}).exit_code, 0);
  EXPECT_EQ(cluster.Kvctl(follower, {"expire", "p", "7200"}).out, "1\n");
  EXPECT_EQ(cluster.Kvctl(leader, {"persist", "p"}).out, "1\n");
  EXPECT_EQ(cluster.Kvctl(follower, {"expire", "absent", "5"}).out, "0\n");
  ASSERT_EQ(cluster.Kvctl(follower, {"append", "e", "old", "--ttl", "1"}).exit_code, 0);
  for (int id = 1; id <= 3; ++id) {
    SCOPED_TRACE("node " + std::to_string(id));
    // An hour from the append, less what has passed since (however slow a
    // sanitizer build makes that).
    const long long ttl_ms = std::stoll(cluster.Kvctl(id, {"ttl", "long", "--ms"}).out);
    const auto passed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - appended);
    EXPECT_LE(ttl_ms, 3600000);
    EXPECT_GE(ttl_ms, 3600000 - passed.count());
    EXPECT_EQ(cluster.Kvctl(id, {"ttl", "p"}).out, "-1\n");
    EXPECT_EQ(cluster.Kvctl(id, {"revision", "p"}).out, "4\n");
  }
  // "e" goes on every node, by the leader's expired delete.
  for (int id = 1; id <= 3; ++id) {
    EXPECT_TRUE(Eventually(
        [&] {
          return cluster.Kvctl(id, {"keys", "--json"}).out == "[\"long\",\"p\"]\n" &&
                 cluster.Kvctl(id, {"stats"}).out.find("\nrevision:6\n") != std::string::npos;
        },
        std::chrono::seconds(10)))
        << "node " << id << ": " << cluster.Kvctl(id, {"stats"}).out;
  }
  EXPECT_THAT(cluster.Kvctl(leader, {"stats"}).out, HasSubstr("expired_keys:1\n"));
  ASSERT_EQ(cluster.Kvctl(follower, {"append", "e", "new"}).exit_code, 0);
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(cluster.Kvctl(id, {"get", "e"}).out, "new\n") << "node " << id;
    EXPECT_EQ(cluster.Kvctl(id, {"ttl", "e"}).out, "-1\n") << "node " << id;
  }
}

TEST(ClusterTest, ARetriedAppendIsStoredOnceWhicheverNodeItReaches) {
  TestDir dir;
  ClusterNodes cluster(dir);
  ASSERT_NE(cluster.WaitForLeader(), 0);
  proto::Request append = proto::Request::Append("k", "once");
  append.client = 77;
  append.seq = 1;
  for (int id = 1; id <= 3; ++id) client::Call(client::Client(cluster.socket(id)), append);
  proto::Request next = proto::Request::Append("k", "twice");
  next.client = 77;
  next.seq = 2;
  client::Call(client::Client(cluster.socket(2)), next);
  client::Call(client::Client(cluster.socket(2)), append);  // a late copy of seq 1
  EXPECT_EQ(ValuesOn(cluster, 3, "k"), (std::vector<std::string>{"once", "twice"}));
}

// Pops and trims are mutations of the log: a follower forwards them, the
// leader's state machine decides what each takes, a retry answers the same
// values wherever it lands, and a waiting pop on one node takes a value
// appended on another.
TEST(ClusterTest, PopsOnAnyNodeTakeEachValueOnce) {
  TestDir dir;
  ClusterNodes cluster(dir);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  const int other = follower % 3 + 1;
  Connection f(cluster.socket(follower));
  auto ask = [](Connection& c, const std::string& line) {
    c.Send(line + "\n");
    return c.ReadLine(std::chrono::seconds(20)).value_or("<no answer>");
  };
  // Once the follower knows where the leader is (no append was sent before).
  ASSERT_TRUE(Eventually(
      [&] { return ask(f, R"({"op":"append","key":"q","val":"1"})") == R"({"ok":true})"; },
      std::chrono::seconds(20)));
  for (const char* v : {"2", "3", "4", "5", "6"}) {
    ASSERT_EQ(ask(f, std::string(R"({"op":"append","key":"q","val":")") + v + "\"}"),
              R"({"ok":true})");
  }
  EXPECT_EQ(ask(f, R"({"op":"pop","key":"q","count":2})"), R"({"ok":true,"values":["1","2"]})");
  EXPECT_EQ(ask(f, R"({"op":"pop","key":"q","from":"tail"})"), R"({"ok":true,"values":["6"]})");
  const std::string retried = R"({"op":"pop","key":"q","client":9,"seq":1})";
  EXPECT_EQ(ask(f, retried), R"({"ok":true,"values":["3"]})");
  Connection l(cluster.socket(leader));
  EXPECT_EQ(ask(l, retried), R"({"ok":true,"values":["3"]})") << "a retry takes nothing more";
  EXPECT_EQ(ask(f, R"({"op":"trim","key":"q","start":0,"stop":0})"), R"({"ok":true})");
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(ValuesOn(cluster, id, "q"), std::vector<std::string>{"4"}) << "node " << id;
  }
  EXPECT_EQ(ask(l, R"({"op":"pop","key":"q"})"), R"({"ok":true,"values":["4"]})");
  // A waiting pop on a follower, a value appended on another node.
  Connection waiter(cluster.socket(follower));
  waiter.Send(R"({"op":"pop","key":"jobs","wait":60})"
              "\n");
  ASSERT_TRUE(Eventually(
      [&] { return ask(f, R"({"op":"stats"})").find(R"("pops_waiting":1,)") != std::string::npos; },
      std::chrono::seconds(20)));
  Connection o(cluster.socket(other));
  ASSERT_EQ(ask(o, R"({"op":"append","key":"jobs","val":"job"})"), R"({"ok":true})");
  EXPECT_EQ(waiter.ReadLine(std::chrono::seconds(20)), R"({"ok":true,"values":["job"]})");
  EXPECT_EQ(ValuesOn(cluster, other, "jobs"), std::vector<std::string>{});
}

// Through the client library on a follower, pops and trims go to the leader
// with the client's origin and answer what the leader's state machine took;
// pipelined there, each is forwarded in order with its own answer.
TEST(ClusterTest, TheClientLibraryPopsAndTrimsThroughAFollower) {
  using ::testing::ElementsAre;
  TestDir dir;
  ClusterNodes cluster(dir);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  client::Client kv(cluster.socket(follower));
  kv.AppendMany({{"q", "a"}, {"q", "b"}, {"q", "c"}, {"q", "d"}, {"q", "e"}, {"q", "f"}});
  EXPECT_THAT(kv.Pop("q", 2), ElementsAre("a", "b"));
  EXPECT_THAT(kv.Pop("q", 2, true), ElementsAre("f", "e"));
  kv.Trim("q", 0, 0);
  Connection c(cluster.socket(follower));
  c.Send(R"({"op":"append_many","items":[{"key":"p","val":"1"},{"key":"p","val":"2"},)"
         R"({"key":"p","val":"3"}]})"
         "\n"
         R"({"op":"pop","key":"p","from":"tail"})"
         "\n"
         R"({"op":"pop","key":"p","count":5})"
         "\n"
         R"({"op":"pop","key":"p"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["3"]})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["1","2"]})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":[]})");
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(ValuesOn(cluster, id, "q"), std::vector<std::string>{"c"}) << "node " << id;
    EXPECT_EQ(cluster.Kvctl(id, {"keys"}).out, "q\n") << "node " << id;
    // q: 6 appends, 2 pops and a trim; p: 3 appends and the 2 pops that
    // took values.
    EXPECT_THAT(cluster.Kvctl(id, {"stats"}).out, HasSubstr("\nrevision:14\n")) << "node " << id;
  }
}

// Every node streams the changes it applies, in the one order of the log,
// with the revisions every node gives them; a follower's stream is woken by
// its poll, not by a commit of its own.
TEST(ClusterTest, EveryNodeStreamsTheSameChangesInTheSameOrder) {
  TestDir dir;
  ClusterNodes cluster(dir);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  std::vector<std::unique_ptr<Connection>> watchers;
  for (int id = 1; id <= 3; ++id) {
    watchers.push_back(std::make_unique<Connection>(cluster.socket(id)));
    watchers.back()->Send(R"({"op":"watch","prefix":"w/","from":0})"
                          "\n");
    EXPECT_EQ(watchers.back()->ReadLine(std::chrono::seconds(20)), R"({"ok":true,"revision":0})");
  }
  client::Client kv(cluster.socket(follower));
  kv.AppendMany({{"w/a", "1"}, {"other", "x"}, {"w/b", "2"}});
  EXPECT_EQ(kv.Pop("w/a").size(), 1u);
  for (int id = 1; id <= 3; ++id) {
    Connection& w = *watchers[id - 1];
    EXPECT_EQ(w.ReadLine(std::chrono::seconds(20)),
              R"({"revision":1,"key":"w/a","kind":"append","values":["1"]})")
        << "node " << id;
    EXPECT_EQ(w.ReadLine(std::chrono::seconds(20)),
              R"({"revision":3,"key":"w/b","kind":"append","values":["2"]})")
        << "node " << id;
    EXPECT_EQ(w.ReadLine(std::chrono::seconds(20)),
              R"({"revision":4,"key":"w/a","kind":"trim","values":["1"]})")
        << "node " << id;
  }
}

TEST(ClusterTest, ANodeThatLostItsDiskIsCaughtUpWhileTheClusterServes) {
  TestDir dir;
  // Fewer entries than a snapshot keeps behind it: caught up from the log
  // (ANodeThatLostItsDiskIsCaughtUpPastTheSnapshotItInstalls: by snapshot).
  ClusterNodes::Options options;
  options.args = {"--snapshot-entries", "16"};
  ClusterNodes cluster(dir, options);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  client::Client writer(cluster.socket(leader));
  std::vector<std::string> expected;
  AppendNumbered(writer, 0, 100, &expected);
  cluster.Kill(follower);
  cluster.Wipe(follower);
  AppendNumbered(writer, 100, 150, &expected);
  cluster.Start(follower);
  AppendNumbered(writer, 150, 200, &expected);
  EXPECT_TRUE(Eventually([&] { return cluster.Get(follower, "k", true) == expected; },
                         std::chrono::seconds(20)))
      << "the wiped node holds "
      << cluster.Get(follower, "k", true).value_or(std::vector<std::string>{}).size() << " values";
  EXPECT_EQ(cluster.Stop(follower), 0);
  EXPECT_EQ(ReadFile(cluster.data(follower)).substr(0, 11), "{\"k\":[\"v0\",");
}

// The leader still holds the index the wiped follower had acknowledged, past
// the snapshot it sends it: libraft then left the follower at the snapshot
// until its install-snapshot timeout, 30 s (RaftNode, ForgetStaleMatches).
TEST(ClusterTest, ANodeThatLostItsDiskIsCaughtUpPastTheSnapshotItInstalls) {
  TestDir dir;
  // One snapshot, at entry 1040: the leader keeps 1024 entries behind it, so
  // an empty node needs it; the next is 1040 entries away.
  ClusterNodes::Options options;
  options.args = {"--snapshot-entries", "1040"};
  ClusterNodes cluster(dir, options);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  client::Client writer(cluster.socket(leader));
  std::vector<std::string> expected;
  AppendNumbered(writer, 0, 1100, &expected);
  ASSERT_TRUE(Eventually([&] { return cluster.Get(follower, "k", true) == expected; },
                         std::chrono::seconds(20)));
  cluster.Kill(follower);
  cluster.Wipe(follower);
  cluster.Start(follower);
  AppendNumbered(writer, 1100, 1110, &expected);
  EXPECT_TRUE(Eventually([&] { return cluster.Get(follower, "k", true) == expected; },
                         std::chrono::seconds(10)))
      << "the wiped node holds "
      << cluster.Get(follower, "k", true).value_or(std::vector<std::string>{}).size() << " values";
}

TEST(ClusterTest, NodesAreAddedAndRemovedOnline) {
  TestDir dir;
  ClusterNodes cluster(dir);
  ASSERT_NE(cluster.WaitForLeader(), 0);
  ASSERT_EQ(cluster.Kvctl(1, {"--key", "k", "--val", "v"}).exit_code, 0);
  // Node 4 starts empty, waiting to be added.
  const std::string address4 = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  Daemon node4(dir / "node4.sock", dir / "node4.data",
               {"--node", "4", "--peers", cluster.peers() + ",4=" + address4, "--join"});
  const RunResult add = cluster.Kvctl(2, {"cluster", "add", "4", address4});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_TRUE(Eventually(
      [&] {
        return node4.Kvctl({"--key", "k"}).out == "v\n";
      },
      std::chrono::seconds(20)));
  EXPECT_THAT(cluster.Kvctl(1, {"cluster", "status", "--json"}).out,
              HasSubstr("{\"id\":4,\"address\":\"" + address4 + "\",\"voter\":true"));
  const RunResult remove = cluster.Kvctl(3, {"cluster", "remove", "4"});
  ASSERT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_THAT(cluster.Kvctl(1, {"cluster", "status", "--json"}).out,
              ::testing::Not(HasSubstr("{\"id\":4,")));
  EXPECT_EQ(cluster.Kvctl(1, {"--key", "k", "--val", "w"}).exit_code, 0);
}

TEST(ClusterTest, ACleanStopLeavesStorageDataInTheOriginalShapeOnEveryNode) {
  TestDir dir;
  ClusterNodes cluster(dir);
  ASSERT_NE(cluster.WaitForLeader(), 0);
  ASSERT_EQ(cluster.Kvctl(2, {"--key", "fruit", "--val", "pear, \"ripe\""}).exit_code, 0);
  ASSERT_EQ(cluster.Kvctl(3, {"--key", "fruit", "--val", "fig"}).exit_code, 0);
  ASSERT_TRUE(Eventually(
      [&] {
        for (int id = 1; id <= 3; ++id) {
          if (cluster.Get(id, "fruit", true).value_or(std::vector<std::string>{}).size() != 2)
            return false;
        }
        return true;
      },
      std::chrono::seconds(10)));
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(cluster.Stop(id), 0);
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(ReadFile(cluster.data(id)), "{\"fruit\":[\"pear, \\\"ripe\\\"\",\"fig\"]}")
        << "node " << id;
  }
  // Restarted, the nodes hold the same from their Raft logs.
  for (int id = 1; id <= 3; ++id) cluster.Start(id);
  EXPECT_EQ(ValuesOn(cluster, 1, "fruit"), (std::vector<std::string>{"pear, \"ripe\"", "fig"}));
}

TEST(ClusterTest, HttpOnAnyNodeWithHealthByRole) {
  TestDir dir;
  ClusterNodes::Options options;
  options.args = {"--http", "0"};
  ClusterNodes cluster(dir, options);
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  ASSERT_TRUE(cluster.WaitUntilAllReachable(leader));
  std::map<int, HttpClient> http;
  for (int id = 1; id <= 3; ++id) http.emplace(id, HttpClient(cluster.node(id), ""));
  const int follower = leader % 3 + 1;
  for (int id = 1; id <= 3; ++id) {
    const HttpResult health = http.at(id).Curl({http.at(id).Url("/health")});
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.body, std::string("{\"status\":\"ok\",\"role\":\"") +
                               (id == leader ? "leader" : "follower") + "\"}\n");
    EXPECT_EQ(http.at(id).Curl({http.at(id).Url("/health?role=leader")}).status,
              id == leader ? 200 : 503);
  }
  // A POST with an origin, sent twice through different nodes: one copy.
  const std::string post = "/api/v1/storage?key=k&val=v&client=5&seq=1";
  EXPECT_EQ(http.at(follower).Curl({"-X", "POST", http.at(follower).Url(post)}).status, 200);
  EXPECT_EQ(http.at(leader).Curl({"-X", "POST", http.at(leader).Url(post)}).status, 200);
  // (The retry made no change: revision 1.)
  const HttpResult read = http.at(follower).Curl({http.at(follower).Url("/api/v1/storage?key=k")});
  EXPECT_EQ(read.body, "{\"key\":\"k\",\"values\":[\"v\"],\"revision\":1}\n");
  EXPECT_EQ(http.at(follower)
                .Curl({"-X", "POST", http.at(follower).Url("/api/v1/storage?key=k&val=v&client=5")})
                .status,
            400);
  // A pop with an origin, sent twice through different nodes: it takes once,
  // and the retry answers what the first took.
  ASSERT_EQ(http.at(leader)
                .Curl({"-X", "POST", http.at(leader).Url("/api/v1/storage?key=q&val=a")})
                .status,
            200);
  const std::string pop = "/api/v1/keys/q/pop?count=2&client=5&seq=2";
  EXPECT_EQ(http.at(follower).Curl({"-X", "POST", http.at(follower).Url(pop)}).body,
            "{\"key\":\"q\",\"values\":[\"a\"]}\n");
  ASSERT_EQ(http.at(leader)
                .Curl({"-X", "POST", http.at(leader).Url("/api/v1/storage?key=q&val=b")})
                .status,
            200);
  EXPECT_EQ(http.at(leader).Curl({"-X", "POST", http.at(leader).Url(pop)}).body,
            "{\"key\":\"q\",\"values\":[\"a\"]}\n");
  EXPECT_EQ(http.at(follower).Curl({http.at(follower).Url("/api/v1/keys/q")}).body,
            "{\"key\":\"q\",\"values\":[\"b\"],\"revision\":4}\n");
  // Without a quorum: 503, and stale reads still answer.
  cluster.Stop(leader);
  cluster.Stop(leader % 3 + 1 == follower ? follower % 3 + 1 : leader % 3 + 1);
  EXPECT_TRUE(Eventually(
      [&] { return http.at(follower).Curl({http.at(follower).Url("/health")}).status == 503; },
      std::chrono::seconds(5)));
  EXPECT_EQ(http.at(follower)
                .Curl({"-X", "POST", http.at(follower).Url("/api/v1/storage?key=k&val=w")})
                .status,
            503);
  EXPECT_EQ(http.at(follower).Curl({http.at(follower).Url("/api/v1/storage?key=k")}).status, 503);
  EXPECT_EQ(
      http.at(follower).Curl({http.at(follower).Url("/api/v1/storage?key=k&stale=true")}).body,
      "{\"key\":\"k\",\"values\":[\"v\"],\"revision\":1}\n");
}

TEST(ClusterTest, FlagsAreCheckedBeforeAnythingStarts) {
  const RunResult no_peers = RunKvd({"--node", "1"});
  EXPECT_EQ(no_peers.exit_code, 2);
  const RunResult not_listed = RunKvd({"--node", "4", "--peers", "1=127.0.0.1:7001"});
  EXPECT_EQ(not_listed.exit_code, 2);
  EXPECT_THAT(not_listed.err, HasSubstr("must list this node"));
  const RunResult bad = RunKvd({"--node", "1", "--peers", "1=localhost:7001"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("IPv4 HOST:PORT"));
}

}  // namespace
}  // namespace kvd::testing
