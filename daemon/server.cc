#include "daemon/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "daemon/log.h"
#ifdef KVD_WITH_CLUSTER
#include "daemon/cluster.h"
#endif
#include "daemon/session.h"
#include "proto/response.h"

namespace kvd::daemon {

namespace asio = boost::asio;

Server::Server(asio::io_context& io, Engine& engine, Committer& commits, const Options& options,
               Cluster* cluster)
    : io_(io),
      engine_(engine),
      commits_(commits),
      cluster_(cluster),
      options_(options),
      listener_(io, options_),
      signals_(io, SIGINT, SIGTERM),
      connections_(io, options_.limits.max_connections, options_.shutdown_timeout, "clients"),
      pop_waiters_(io, engine, commits),
      watchers_(io),
      expirer_(io, engine, commits, [this] { return CommitsWrites(); }) {
  commits_.SetSubmitObserver([this](const WriteBatch& batch) { pop_waiters_.ServeAhead(batch); });
  commits_.SetCommitObserver([this] {
    pop_waiters_.ServeAll();
    watchers_.Notify();
  });
#ifdef SIGBREAK
  signals_.add(SIGBREAK);  // Windows: Ctrl+Break
#endif
}

bool Server::CommitsWrites() const {
#ifdef KVD_WITH_CLUSTER
  if (cluster_ != nullptr) return cluster_->health().leader;
#endif
  return true;
}

Status Server::Listen() { return listener_.Listen(); }

Status Server::Adopt(int listening_fd) { return listener_.Adopt(listening_fd); }

void Server::Start() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log::Notice(std::string("received ") +
                (signo == SIGINT    ? "SIGINT"
                 : signo == SIGTERM ? "SIGTERM"
                                    : "Ctrl+Break") +
                ", shutting down");
    Shutdown();
  });
  asio::co_spawn(io_, Accept(), asio::detached);
  expirer_.Start();
}

asio::awaitable<void> Server::Accept() {
  for (;;) {
    boost::system::error_code ec;
    Stream socket = co_await listener_.Accept(ec);
    if (shutting_down_) co_return;
    if (ec) {
      // Out of descriptors and the like: keep serving the clients we have.
      log::Warning("accept failed: " + ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    connections_.Accepted();
    if (!Admit(socket)) continue;
    Serve(std::move(socket), commits_, false);
  }
}

void Server::ServePeer(Stream stream) {
#ifdef KVD_WITH_CLUSTER
  if (shutting_down_) return;
  connections_.Accepted();
  Serve(std::move(stream), cluster_->peers(), true);
#else
  (void)stream;
#endif
}

void Server::Serve(Stream socket, Committer& commits, bool peer) {
  auto session = std::make_shared<Session>(*this, std::move(socket), commits, peer);
  connections_.Add(session);
  commits_.SetClients(connections_.size());
  // co_spawn keeps the function objects, and so the session, until they end.
  asio::co_spawn(
      io_, [session] { return session->Run(); }, asio::detached);
  asio::co_spawn(
      io_, [session] { return session->WatchIdle(); }, asio::detached);
}

bool Server::Admit(Stream& socket) {
  std::optional<proto::Error> refusal;
  std::string why;
  if (connections_.full()) {
    refusal = proto::Error{proto::ErrorCode::kTooManyConnections,
                           "kvd serves at most " + std::to_string(options_.limits.max_connections) +
                               " connections at once; try again later"};
    why = "at --max-connections " + std::to_string(options_.limits.max_connections);
  } else {
    refusal = listener_.Refusal(socket, &why);
  }
  if (!refusal) return true;
  connections_.Refused("a connection", why);
  // Logged first, so the log already has it when the client reads the answer.
  // A fresh socket's send buffer is empty, so this short write does not block.
  boost::system::error_code ignored;
  asio::write(socket, asio::buffer(proto::EncodeResponse(proto::Response::Failure(*refusal))),
              ignored);
  socket.close(ignored);
  return false;
}

void Server::Shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  if (on_shutdown_) on_shutdown_();
  listener_.Close();
  pop_waiters_.Stop();
  expirer_.Stop();
  connections_.Drain(on_drained_);
}

std::vector<std::pair<std::string, std::uint64_t>> Server::Stats() const {
  const auto uptime = std::chrono::steady_clock::now() - started_;
  std::vector<std::pair<std::string, std::uint64_t>> stats = {
      {"connections", connections()},
      {"connections_total", connections_.total()},
      {"requests", requests_.total()},
      {"refused_connections", connections_.refused()},
      {"commits", commits_.commits()},
      {"failed_commits", commits_.failed_commits()},
      {"pops_waiting", pop_waiters_.waiting()},
      {"watchers", watchers_.streams()},
      {"slow_watchers_cut_off", watchers_.cut_off()},
      {"expired_keys", expirer_.expired()},
      {"uptime_seconds", static_cast<std::uint64_t>(
                             std::chrono::duration_cast<std::chrono::seconds>(uptime).count())},
  };
#ifdef KVD_WITH_CLUSTER
  if (cluster_ != nullptr) {
    for (auto& stat : cluster_->Stats()) stats.push_back(std::move(stat));
  }
#endif
  return stats;
}

void Server::Metrics(MetricsSnapshot* m) const {
  m->socket = {connections_.size(), connections_.total(), connections_.refused()};
  m->socket_requests = &requests_;
  m->commits = commits_.commits();
  m->failed_commits = commits_.failed_commits();
  m->commit_durations = commits_.commit_durations();
  m->started = started_wall_;
#ifdef KVD_WITH_CLUSTER
  if (cluster_ != nullptr) {
    // The figures `stats` reports (Cluster::Stats), by name.
    ClusterFigures c;
    for (const auto& [name, value] : cluster_->Stats()) {
      if (name == "raft_node") c.node = value;
      if (name == "raft_leader") c.leader = value;
      if (name == "raft_term") c.term = value;
      if (name == "raft_applied") c.applied = value;
      if (name == "raft_last_index") c.last_index = value;
    }
    m->cluster = c;
  }
#endif
}

}  // namespace kvd::daemon
