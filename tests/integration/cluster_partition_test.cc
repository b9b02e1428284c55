// Network partitions of a kvd cluster: each node in a network namespace of
// the test's own, linked to the others through a bridge in another; a
// partition takes a node's link down. Needs root and iproute2 (skipped
// otherwise). The namespaces are removed whatever happens.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/call.h"
#include "kvd/client.h"
#include "proto/request.h"
#include "tests/integration/cluster_harness.h"

namespace kvd::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// A bridge in namespace <prefix>hub, and per node a namespace <prefix><id>
// whose veth has 10.77.0.<id>/24 and is linked to the bridge.
class Network {
 public:
  explicit Network(int nodes) : prefix_("kvdt" + std::to_string(::getpid()) + "n") {
    ip_ = FindProgram("ip");
    if (::geteuid() != 0 || ip_.empty()) return;
    ok_ = Ip({"netns", "add", hub()}) &&
          Ip({"-n", hub(), "link", "add", "br0", "type", "bridge"}) &&
          Ip({"-n", hub(), "link", "set", "br0", "up"});
    for (int id = 1; ok_ && id <= nodes; ++id) {
      const std::string ns = Namespace(id), veth = "v" + std::to_string(id);
      const std::string port = "h" + std::to_string(id);
      ok_ = Ip({"netns", "add", ns}) &&
            Ip({"link", "add", veth, "netns", ns, "type", "veth", "peer", "name", port, "netns",
                hub()}) &&
            Ip({"-n", ns, "addr", "add", Address(id) + "/24", "dev", veth}) &&
            Ip({"-n", ns, "link", "set", veth, "up"}) &&
            Ip({"-n", ns, "link", "set", "lo", "up"}) &&
            Ip({"-n", hub(), "link", "set", port, "master", "br0"}) &&
            Ip({"-n", hub(), "link", "set", port, "up"});
      made_.push_back(ns);
    }
  }
  ~Network() {
    for (const std::string& ns : made_) Ip({"netns", "del", ns});
    Ip({"netns", "del", hub()});
  }

  bool ok() const { return ok_; }
  std::string Namespace(int id) const { return prefix_ + std::to_string(id); }
  static std::string Address(int id) { return "10.77.0." + std::to_string(id); }
  // Takes node `id`'s link down (up again with `connected`).
  void Connect(int id, bool connected) {
    ASSERT_TRUE(
        Ip({"-n", hub(), "link", "set", "h" + std::to_string(id), connected ? "up" : "down"}));
  }
  std::vector<std::string> Prefix(int id) const { return {ip_, "netns", "exec", Namespace(id)}; }

 private:
  std::string hub() const { return prefix_ + "hub"; }
  bool Ip(std::vector<std::string> args) const {
    args.insert(args.begin(), ip_);
    return RunCommand(args).exit_code == 0;
  }

  const std::string prefix_;
  std::string ip_;
  bool ok_ = false;
  std::vector<std::string> made_;
};

ClusterNodes::Options InNamespaces(const Network& network) {
  ClusterNodes::Options options;
  options.address = [](int id) { return Network::Address(id) + ":7001"; };
  options.prefix = [&network](int id) { return network.Prefix(id); };
  return options;
}

// Appends w<n> with an origin through node `id` until `stop`, counting what
// was acknowledged; failures (the node is cut off) are retried.
void Write(ClusterNodes& cluster, int id, std::uint64_t client, const std::atomic<bool>& stop,
           std::atomic<int>* acked) {
  for (std::uint64_t n = 1; !stop; ++n) {
    proto::Request append =
        proto::Request::Append("k", "c" + std::to_string(client) + "-" + std::to_string(n));
    append.client = client;
    append.seq = n;
    while (!stop) {
      try {
        client::Call(client::Client(cluster.socket(id), std::chrono::milliseconds(200)), append);
        ++*acked;
        break;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
}

TEST(ClusterPartitionTest, TheMinorityRefusesAndTheMajorityGoesOnThenAllConverge) {
  Network network(3);
  if (!network.ok()) GTEST_SKIP() << "needs root and iproute2 to make network namespaces";
  TestDir dir;
  ClusterNodes cluster(dir, InNamespaces(network));
  const int old_leader = cluster.WaitForLeader();
  ASSERT_NE(old_leader, 0);
  std::atomic<int> acked{0};
  ClientThreads writers;
  for (int id = 1; id <= 3; ++id) {
    writers.Start([&, id] { Write(cluster, id, 100 + id, writers.stopping(), &acked); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  network.Connect(old_leader, false);
  const int a = old_leader % 3 + 1, b = a % 3 + 1;  // the majority
  int new_leader = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        new_leader = cluster.LeaderSeenBy(a);
        return new_leader != 0 && new_leader != old_leader && cluster.LeaderSeenBy(b) == new_leader;
      },
      std::chrono::seconds(10)));
  // A write the majority acknowledged: the old leader's lease (half an
  // election timeout from its last commit) is over before another leader
  // could be elected, so it never answers a read without it.
  const RunResult fresh = cluster.Kvctl(a, {"--key", "k", "--val", "fresh"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  const RunResult after = cluster.Kvctl(old_leader, {"--timeout", "0", "--key", "k", "--json"});
  if (after.exit_code == 0) {
    EXPECT_THAT(after.out, HasSubstr("\"fresh\"")) << "a stale leader answered a linearizable read";
  }
  // The cut-off leader steps down within an election timeout, and refuses.
  EXPECT_TRUE(
      Eventually([&] { return cluster.LeaderSeenBy(old_leader) == 0; }, std::chrono::seconds(5)));
  const RunResult refused =
      cluster.Kvctl(old_leader, {"--timeout", "0.3", "--key", "k", "--val", "minority"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, AnyOf(HasSubstr("no leader"), HasSubstr("not the leader")));
  const RunResult read = cluster.Kvctl(old_leader, {"--timeout", "0", "--key", "k"});
  EXPECT_EQ(read.exit_code, 1);
  EXPECT_TRUE(cluster.Get(old_leader, "k", true).has_value()) << "stale reads go on";
  // Requests that went to the old leader fail within the forward timeout;
  // those after go to the new one.
  const int before = acked;
  EXPECT_TRUE(Eventually([&] { return acked > before + 10; }, std::chrono::seconds(10)))
      << "the majority stopped taking writes";

  network.Connect(old_leader, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  writers.Stop();
  ASSERT_NE(cluster.WaitForLeader(), 0);
  std::vector<std::string> values;
  ASSERT_TRUE(Eventually([&] { return cluster.Get(new_leader, "k").has_value(); },
                         std::chrono::seconds(10)));
  values = *cluster.Get(new_leader, "k");
  EXPECT_TRUE(Eventually([&] { return cluster.Get(old_leader, "k", true) == values; },
                         std::chrono::seconds(10)))
      << "the healed node did not converge";
  EXPECT_EQ(cluster.Get(a, "k"), values);
  EXPECT_THAT(values, ::testing::Not(::testing::Contains("minority")));
  EXPECT_GE(static_cast<int>(values.size()), acked.load());
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(cluster.Stop(id), 0);
  EXPECT_EQ(ReadFile(cluster.data(1)), ReadFile(cluster.data(2)));
  EXPECT_EQ(ReadFile(cluster.data(1)), ReadFile(cluster.data(3)));
}

TEST(ClusterPartitionTest, ACutOffFollowerServesStaleReadsOnlyAndCatchesUp) {
  Network network(3);
  if (!network.ok()) GTEST_SKIP() << "needs root and iproute2 to make network namespaces";
  TestDir dir;
  ClusterNodes cluster(dir, InNamespaces(network));
  const int leader = cluster.WaitForLeader();
  ASSERT_NE(leader, 0);
  const int follower = leader % 3 + 1;
  ASSERT_EQ(cluster.Kvctl(leader, {"--key", "k", "--val", "1"}).exit_code, 0);
  ASSERT_TRUE(Eventually(
      [&] {
        return cluster.Get(follower, "k", true).value_or(std::vector<std::string>{}).size() == 1;
      },
      std::chrono::seconds(5)));
  network.Connect(follower, false);
  ASSERT_EQ(cluster.Kvctl(leader, {"--key", "k", "--val", "2"}).exit_code, 0);
  // Linearizable reads need the leader; the stale one answers what it has.
  EXPECT_EQ(cluster.Kvctl(follower, {"--timeout", "0", "--key", "k"}).exit_code, 1);
  EXPECT_EQ(cluster.Get(follower, "k", true), std::vector<std::string>{"1"});
  network.Connect(follower, true);
  EXPECT_TRUE(Eventually(
      [&] {
        return cluster.Get(follower, "k") == std::vector<std::string>{"1", "2"};
      },
      std::chrono::seconds(10)));
}

}  // namespace
}  // namespace kvd::testing
