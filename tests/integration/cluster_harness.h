// A kvd cluster of real processes for integration tests: nodes on loopback
// ports (or on addresses of network namespaces a test made), each with its
// socket, data file and Raft directory in the test's directory, started,
// killed, stopped and restarted with the same flags by its id.
#ifndef KVD_TESTS_INTEGRATION_CLUSTER_HARNESS_H_
#define KVD_TESTS_INTEGRATION_CLUSTER_HARNESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/harness.h"

namespace kvd::testing {

// A free TCP port on 127.0.0.1 (bound and released), below the kernel's
// ephemeral range (net.ipv4.ip_local_port_range, from 32768 by default), so
// that no outgoing connection takes it as its source port meanwhile: a node
// of an earlier test that still connects would otherwise keep a node of this
// one from binding its Raft port. Never the same port twice in one process,
// since a port handed out stays free until its node starts.
std::uint16_t FreeLoopbackPort();

// A test's client threads, told to stop and joined however the test leaves
// its scope: a failed ASSERT or an exception is then reported, where a
// joinable std::thread's destructor would end the run with std::terminate.
class ClientThreads {
 public:
  ClientThreads() = default;
  ClientThreads(const ClientThreads&) = delete;
  ~ClientThreads() { Stop(); }
  template <typename F>
  void Start(F&& body) {
    threads_.emplace_back(std::forward<F>(body));
  }
  // What the threads poll: true once Stop was called.
  const std::atomic<bool>& stopping() const { return stopping_; }
  void Stop() {
    stopping_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

class ClusterNodes {
 public:
  struct Options {
    int nodes = 3;
    // Node id -> its Raft address; default: 127.0.0.1 and a free port.
    std::function<std::string(int)> address;
    // Node id -> what goes before kvd's command line (ip netns exec NS).
    std::function<std::vector<std::string>(int)> prefix;
    std::vector<std::string> args;  // for every node
  };

  // Starts every node (which bootstraps the cluster).
  ClusterNodes(const TestDir& dir, Options options);
  explicit ClusterNodes(const TestDir& dir) : ClusterNodes(dir, Options{}) {}
  // Prints the end of each node's log if the test failed or is failing.
  ~ClusterNodes();

  int size() const { return static_cast<int>(addresses_.size()); }
  std::string socket(int id) const;
  std::filesystem::path data(int id) const;
  std::filesystem::path raft_dir(int id) const;
  const std::string& address(int id) const { return addresses_.at(id); }
  const std::string& peers() const { return peers_; }
  bool running(int id) const;
  Daemon& node(int id) { return *nodes_.at(id); }

  // (Re)starts node `id` with its flags and directories, plus `extra`.
  void Start(int id, std::vector<std::string> extra = {});
  void Kill(int id);  // SIGKILL
  int Stop(int id);   // SIGTERM; the exit status
  // Removes the node's data file and Raft directory: a lost disk.
  void Wipe(int id);

  // The leader as node `id` sees it; 0 if none or unreachable.
  int LeaderSeenBy(int id);
  // Waits until every running node names the same leader; 0 on timeout.
  int WaitForLeader(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits until node `id` reports every member with a role, which it does
  // once each has written its peer address to the log (a follower forwards
  // to the leader from then on); false on timeout.
  bool WaitUntilAllReachable(int id, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // `kvctl --socket <node id> args...`
  RunResult Kvctl(int id, std::vector<std::string> args);
  // The values of `key` on node `id` (a linearizable read); nothing if the
  // read failed.
  std::optional<std::vector<std::string>> Get(int id, const std::string& key, bool stale = false);

 private:
  const TestDir& dir_;
  Options options_;
  std::map<int, std::string> addresses_;
  std::string peers_;
  std::map<int, std::unique_ptr<Daemon>> nodes_;
};

}  // namespace kvd::testing

#endif  // KVD_TESTS_INTEGRATION_CLUSTER_HARNESS_H_
