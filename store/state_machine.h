// Cluster mode's replicated state machine: applies commands (command.h) in
// log order to an engine opened without its journal (EngineOptions::journal),
// keeping beside the store what must be replicated with it: the client
// sessions that make a retried request count once, and the directory of the
// nodes' peer addresses. Deterministic: nodes that apply the same commands
// to the same snapshot hold the same store, sessions and directory.
//
// Client sessions follow the Raft thesis, section 6.3: a client numbers its
// requests 1, 2, ... and sends them in order (a retry resends every request
// not answered yet, in order); a request whose seq is not above the last
// one applied for its client is a retry and is not applied again. The
// sessions of the kMaxSessions clients used most recently are kept.
#ifndef KVD_STORE_STATE_MACHINE_H_
#define KVD_STORE_STATE_MACHINE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/engine.h"
#include "store/write_batch.h"
#include "store/write_results.h"
#include "util/status.h"

namespace kvd {

class StateMachine {
 public:
  static constexpr std::size_t kMaxSessions = 64 * 1024;

  explicit StateMachine(Engine& engine) : engine_(engine) {}
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  // Applies the command `entry`. For writes, *results gets one result per
  // mutation (Store::Apply's), or for a retried request what it got the
  // first time (applied, removing nothing, for any earlier request: only
  // its client's last request's results are kept). An entry that does not
  // decode changes nothing, as on every node, and returns false. Not
  // concurrently with itself, Snapshot or Restore.
  bool Apply(std::string_view entry, WriteResults* results);

  // The whole state as one buffer: sessions, directory, then storage.data's
  // text (doc/cluster.md, "Snapshots").
  std::string Snapshot();
  // Snapshot in steps, so that Apply goes on while the store's text is
  // made (the Raft library's asynchronous snapshots): BeginSnapshot (not
  // concurrently with Apply: copies the sessions and directory, freezes the
  // store), FinishSnapshot (any thread, concurrently with Apply: the state
  // as of BeginSnapshot), EndSnapshot (not concurrently with Apply).
  void BeginSnapshot();
  std::string FinishSnapshot() const;
  void EndSnapshot();
  // Replaces the whole state with a Snapshot(); Corruption if it is none.
  Status Restore(std::string_view snapshot);

  // The directory: node id -> HOST:PORT of its peer listener. Any thread.
  std::map<std::uint64_t, std::string> Directory() const;

 private:
  struct Session {
    std::uint64_t client;
    std::uint64_t seq;     // the last request applied
    WriteResults results;  // its results
  };

  // The session of `client`, made the most recently used; null if none.
  Session* Find(std::uint64_t client);
  // Records that `client`'s request `seq` was applied with `results`.
  void Record(std::uint64_t client, std::uint64_t seq, WriteResults results);

  Engine& engine_;
  std::list<Session> sessions_;  // least recently used first
  std::unordered_map<std::uint64_t, std::list<Session>::iterator> by_client_;
  mutable std::mutex directory_mu_;
  std::map<std::uint64_t, std::string> directory_;  // guarded by directory_mu_
  std::string snapshot_head_;                       // BeginSnapshot's sessions and directory
  // Apply's scratch, reused from entry to entry.
  WriteBatch fresh_;
  WriteResults fresh_results_;
};

}  // namespace kvd

#endif  // KVD_STORE_STATE_MACHINE_H_
