// Cluster mode's settings (kvd --node, --peers and the flags beside them;
// doc/cluster.md).
#ifndef KVD_DAEMON_CLUSTER_OPTIONS_H_
#define KVD_DAEMON_CLUSTER_OPTIONS_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kvd::daemon {

struct RaftPeer {
  std::uint64_t id = 0;
  std::string address;  // IPv4 HOST:PORT of its Raft listener
  bool operator==(const RaftPeer&) const = default;
};

struct RaftOptions {
  std::uint64_t id = 0;         // --node
  std::vector<RaftPeer> peers;  // --peers: the voters to bootstrap with, this node among them
  std::filesystem::path dir;    // --raft-dir: the Raft log and snapshots
  bool join = false;            // --join: never bootstrap, wait to be added
  std::chrono::milliseconds election_timeout{300};  // --election-timeout
  std::chrono::milliseconds heartbeat_timeout{30};  // a tenth of it
  // --read-lease (on: half the election timeout; off: none): how long after
  // appending an entry that a majority then stored the leader answers
  // linearizable reads without a round of the log (doc/cluster.md, "Leases").
  std::chrono::milliseconds lease{150};
  unsigned snapshot_threshold = 8192;  // --snapshot-entries: entries applied between snapshots
  unsigned snapshot_trailing = 1024;   // entries kept behind a snapshot for slow followers
};

struct ClusterOptions {
  RaftOptions raft;
  // --peer-listen: where this node serves its peers' forwarded requests,
  // HOST:PORT (port 0: any free one; the replicated directory tells the
  // others which). Default: the host of its Raft address, any port.
  std::string peer_listen;
  // --forward-timeout: how long a request forwarded to the leader, or a
  // read waiting for this node to catch up, may take before it is answered
  // `unavailable`.
  std::chrono::milliseconds forward_timeout{5000};
};

// Parses --peers "ID=HOST:PORT,..." into *peers; false with *error set if
// it is malformed (ids above 0 and distinct, IPv4 HOST:PORT).
bool ParsePeers(const std::string& spec, std::vector<RaftPeer>* peers, std::string* error);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_CLUSTER_OPTIONS_H_
