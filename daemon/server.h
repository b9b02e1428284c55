// The server: accepts connections (Listener: a Unix socket or a named pipe), runs one Session per
// client, and on SIGINT/SIGTERM stops accepting and lets the sessions finish.
#ifndef KVD_DAEMON_SERVER_H_
#define KVD_DAEMON_SERVER_H_

#include "util/asio_prelude.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "daemon/committer.h"
#include "daemon/connection_set.h"
#include "daemon/expirer.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/options.h"
#include "daemon/pop_waiters.h"
#include "daemon/request_counters.h"
#include "daemon/stream.h"
#include "daemon/watchers.h"
#include "store/engine.h"

namespace kvd::daemon {

class Cluster;
class Session;

class Server {
 public:
  // `commits` takes the clients' writes; `cluster` is set in cluster mode.
  Server(boost::asio::io_context& io, Engine& engine, Committer& commits, const Options& options,
         Cluster* cluster = nullptr);

  // Claims the endpoint (see Listener::Listen) and listens on it.
  Status Listen();
  // Serves a socket that is already listening (socket activation) instead:
  // its file belongs to whoever made it, so it is neither changed nor removed.
  Status Adopt(int listening_fd);
  // Starts accepting and watching for SIGINT/SIGTERM. The io_context runs out
  // of work once a signal came and every session has ended.
  void Start();
  // Called once when a signal starts the shutdown.
  void OnShutdown(std::function<void()> callback) { on_shutdown_ = std::move(callback); }
  // Called once after the shutdown, when the last session has ended.
  void OnDrained(std::function<void()> callback) { on_drained_ = std::move(callback); }
  // Serves a connection from another node of the cluster (its peer
  // listener): a session whose writes only this node's log may take.
  void ServePeer(Stream stream);

  // For sessions.
  Engine& engine() { return engine_; }
  Cluster* cluster() { return cluster_; }
  const Limits& limits() const { return options_.limits; }
  // Where sessions read into; they run on one thread and never keep it
  // across a suspension.
  std::span<char> read_buffer() { return read_buffer_; }
  RequestCounters& requests() { return requests_; }
  PopWaiters& pop_waiters() { return pop_waiters_; }
  Watchers& watchers() { return watchers_; }
  std::vector<std::pair<std::string, std::uint64_t>> Stats() const;
  // Fills in the socket server's, the commits' and the cluster's figures.
  void Metrics(MetricsSnapshot* m) const;
  std::size_t connections() const { return connections_.size(); }
  void SessionEnded(Session* session) {
    connections_.Remove(session);
    commits_.SetClients(connections_.size());
  }

 private:
  boost::asio::awaitable<void> Accept();
  // Admits a new connection, or answers it with an error and closes it
  // (connection limit, Listener::Refusal).
  bool Admit(Stream& socket);
  // Runs a session on `socket` whose writes go to `commits`.
  void Serve(Stream socket, Committer& commits, bool peer);
  void Shutdown();
  // Whether this node commits writes itself: a single node, or the
  // cluster's leader (the one that commits expired deletes).
  bool CommitsWrites() const;

  boost::asio::io_context& io_;
  Engine& engine_;
  Committer& commits_;
  Cluster* const cluster_;
  const Options options_;
  Listener listener_;
  boost::asio::signal_set signals_;
  bool shutting_down_ = false;
  std::function<void()> on_shutdown_;
  std::function<void()> on_drained_;
  ConnectionSet<Session> connections_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const std::chrono::system_clock::time_point started_wall_ = std::chrono::system_clock::now();
  RequestCounters requests_;
  PopWaiters pop_waiters_;
  Watchers watchers_;
  Expirer expirer_;
  std::array<char, 64 * 1024> read_buffer_;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_SERVER_H_
