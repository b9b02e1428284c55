// Cluster mode (doc/cluster.md): this node's RaftNode and state machine, and
// the routes by which the daemon's sessions use them. Any node serves any
// request: the leader proposes writes to the Raft log and answers reads
// after a shared barrier; a follower sends writes, and the read index of
// its reads, to the leader over a LeaderLink to the leader's peer listener,
// whose address the replicated directory holds. Without a leader a request
// fails with `unavailable` at once, never waits for one. Network thread
// only, but for what RaftNode does on its own thread.
#ifndef KVD_DAEMON_CLUSTER_H_
#define KVD_DAEMON_CLUSTER_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/cluster_options.h"
#include "daemon/committer.h"
#include "daemon/leader_link.h"
#include "daemon/raft_node.h"
#include "daemon/stream.h"
#include "proto/request.h"
#include "proto/response.h"
#include "store/engine.h"
#include "store/state_machine.h"

namespace kvd::daemon {

class Cluster {
 public:
  // `engine` must be opened without its journal (EngineOptions::journal).
  Cluster(boost::asio::io_context& io, Engine& engine, ClusterOptions options);
  ~Cluster();  // Stop()
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Binds the peer listener and starts Raft; each connection a peer makes
  // goes to `serve` (a Session on the leader-only route).
  Status Start(std::function<void(Stream)> serve);

  // The route for clients' sessions, on any node.
  Committer& clients() { return clients_; }
  // The route for sessions of the peer listener: writes go to this node's
  // log only while it leads (a request is forwarded at most once).
  Committer& peers() { return peers_; }

  // Executes a cluster operation (proto::IsClusterOp); `from_peer`: it
  // came on the peer listener.
  boost::asio::awaitable<proto::Response> Execute(const proto::Request& request, bool from_peer);

  // For /health: this node's role, if a leader is known to it.
  struct Health {
    bool has_leader = false;
    bool leader = false;
  };
  Health health() const;
  // "role", "term", "applied" and "leader" for stats.
  std::vector<std::pair<std::string, std::uint64_t>> Stats() const;

  // SIGTERM: hands leadership over (the others take over without waiting
  // for an election); sessions still being answered forward to the new
  // leader meanwhile.
  void BeginShutdown();
  // Once the sessions ended: closes the peer listener and the link, and
  // stops Raft (once the handover is over, within an election timeout).
  // Idempotent.
  void Stop();

  const std::string& peer_address() const { return peer_address_; }

 private:
  class Route : public Committer {
   public:
    Route(Cluster& cluster, bool forward) : cluster_(cluster), forward_(forward) {}
    void Submit(const WriteBatch& batch, Callback done) override;
    bool ReadsWait() const override { return forward_; }
    void AwaitReadable(Callback done) override;
    Status LastCommitStatus() const override;
    std::uint64_t commits() const override;
    std::uint64_t failed_commits() const override;

   private:
    Cluster& cluster_;
    const bool forward_;  // a follower forwards to the leader (else: refuses)
  };

  // The leader's peer address, if a leader is known and in the directory.
  std::optional<std::string> LeaderAddress() const;
  // Sends a follower's writes to the leader, a request per run of one
  // origin (or per delete, or per conditional append), and completes `done`
  // with their results: a conditional append the leader answered `conflict`
  // is not applied, with the leader's revision of the key.
  void Forward(const std::string& leader, const WriteBatch& batch, Committer::Callback done);
  // Lets the reads that waited for it (readers_) read: on the leader after
  // a barrier, on a follower once it has caught up with the leader's read
  // index.
  void AwaitReadableTogether();
  // Completes `done` with a failed CommitResult.
  void Fail(Committer::Callback done, Status status);
  // Keeps this node's entry in the directory right (every second or so).
  void Maintain();
  boost::asio::awaitable<void> Accept(std::function<void(Stream)> serve);
  // Execute, but the request's id.
  boost::asio::awaitable<proto::Response> Dispatch(const proto::Request& request, bool from_peer);
  static boost::asio::awaitable<proto::Response> Ready(proto::Response response);
  boost::asio::awaitable<proto::Response> StatusResponse(bool local);
  // Execute's part for the leader: read_index, cluster_register,
  // cluster_add, cluster_remove.
  boost::asio::awaitable<proto::Response> ExecuteOnLeader(const proto::Request& request);
  // Sends `request` to the leader and returns its answer.
  boost::asio::awaitable<proto::Response> ForwardRequest(std::string leader,
                                                         const proto::Request& request);
  // The "cluster" object: this node's view, or with the others' own.
  boost::asio::awaitable<std::string> StatusJson(bool local);

  boost::asio::io_context& io_;
  const ClusterOptions options_;
  StateMachine machine_;
  RaftNode raft_;
  Route clients_{*this, true};
  Route peers_{*this, false};
  LeaderLink link_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer maintain_;
  std::string peer_address_;                  // where the peer listener listens
  bool registering_ = false;                  // a directory update is in flight
  std::vector<Committer::Callback> readers_;  // reads waiting for this turn's barrier
  bool draining_ = false;                     // BeginShutdown() came
  bool stopped_ = false;
  std::uint64_t commits_ = 0;
  std::uint64_t failed_commits_ = 0;
  ::kvd::Status last_status_;  // of the latest write this node took
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_CLUSTER_H_
