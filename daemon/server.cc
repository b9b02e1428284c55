#include "daemon/server.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "daemon/log.h"
#include "daemon/session.h"
#include "proto/response.h"

namespace kvd::daemon {

namespace asio = boost::asio;
using Protocol = asio::local::stream_protocol;

Server::Server(asio::io_context& io, Engine& engine, CommitQueue& commits, const Options& options)
    : io_(io),
      engine_(engine),
      commits_(commits),
      options_(options),
      acceptor_(io),
      signals_(io, SIGINT, SIGTERM),
      shutdown_deadline_(io) {}

Server::~Server() {
  if (bound_) RemoveSocketFile(options_.socket_path, socket_id_);
}

Status Server::Listen() {
  if (Status s = ClaimSocketPath(options_.socket_path); !s.ok()) return s;
  boost::system::error_code ec;
  acceptor_.open(Protocol(), ec);
  if (!ec) {
    // Created owner-only, then opened up to --socket-mode: no moment where
    // the umask decides who may connect.
    const mode_t umask = ::umask(0177);
    acceptor_.bind(Protocol::endpoint(options_.socket_path), ec);
    ::umask(umask);
  }
  if (ec) return Status::IOError("cannot bind " + options_.socket_path + ": " + ec.message());
  bound_ = true;
  if (Status s = IdentifySocketFile(options_.socket_path, &socket_id_); !s.ok()) return s;
  if (Status s = SetSocketAccess(options_.socket_path, options_.access.socket_mode,
                                 options_.access.socket_group);
      !s.ok()) {
    return s;
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("cannot listen on " + options_.socket_path + ": " + ec.message());
  return Status::OK();
}

Status Server::Adopt(int listening_fd) {
  boost::system::error_code ec;
  acceptor_.assign(Protocol(), listening_fd, ec);
  if (ec) return Status::IOError("cannot serve the inherited socket: " + ec.message());
  return Status::OK();
}

void Server::Start() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log::Notice(std::string("received ") + (signo == SIGINT ? "SIGINT" : "SIGTERM") +
                ", shutting down");
    Shutdown();
  });
  asio::co_spawn(io_, Accept(), asio::detached);
}

asio::awaitable<void> Server::Accept() {
  for (;;) {
    boost::system::error_code ec;
    Protocol::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (shutting_down_) co_return;
    if (ec) {
      // Out of descriptors and the like: keep serving the clients we have.
      log::Warning("accept failed: " + ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    ++connections_total_;
    if (!Admit(socket)) continue;
    auto session = std::make_shared<Session>(*this, std::move(socket));
    sessions_.emplace(session.get(), session);
    // co_spawn keeps the function objects, and so the session, until they end.
    asio::co_spawn(
        io_, [session] { return session->Run(); }, asio::detached);
    asio::co_spawn(
        io_, [session] { return session->WatchIdle(); }, asio::detached);
  }
}

bool Server::Admit(Protocol::socket& socket) {
  std::optional<proto::Error> refusal;
  std::string why;
  if (sessions_.size() >= options_.limits.max_connections) {
    refusal = proto::Error{proto::ErrorCode::kTooManyConnections,
                           "kvd serves at most " + std::to_string(options_.limits.max_connections) +
                               " connections at once; try again later"};
    why = "at --max-connections " + std::to_string(options_.limits.max_connections);
  } else if (!options_.access.allow_uids.empty() || !options_.access.allow_gids.empty()) {
    ucred peer{};
    socklen_t length = sizeof(peer);
    const bool known =
        ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0;
    auto listed = [](const std::vector<unsigned>& ids, unsigned id) {
      return std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    if (!known || !(listed(options_.access.allow_uids, peer.uid) ||
                    listed(options_.access.allow_gids, peer.gid))) {
      refusal = proto::Error{proto::ErrorCode::kPermissionDenied,
                             "uid " + std::to_string(peer.uid) + " / gid " +
                                 std::to_string(peer.gid) + " may not use this kvd"};
      why = "uid " + std::to_string(peer.uid) + " gid " + std::to_string(peer.gid) + " pid " +
            std::to_string(peer.pid) + " is not allowed";
    }
  }
  if (!refusal) return true;
  ++refused_;
  // One line a second at most: a flood of refusals must not flood the log.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= std::chrono::seconds(1)) {
    last_refusal_log_ = now;
    log::Warning("refused a connection (" + why + "); " + std::to_string(refused_) +
                 " refused so far");
  }
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
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  if (sessions_.empty()) return;
  for (auto& [raw, session] : sessions_) session->Stop();
  shutdown_deadline_.expires_after(options_.shutdown_timeout);
  shutdown_deadline_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    log::Warning(std::to_string(sessions_.size()) +
                 " clients did not take their last responses in time; disconnecting them");
    for (auto& [raw, session] : sessions_) session->Close();
  });
}

void Server::SessionEnded(Session* session) {
  sessions_.erase(session);
  if (shutting_down_ && sessions_.empty()) shutdown_deadline_.cancel();
}

std::vector<std::pair<std::string, std::uint64_t>> Server::Stats() const {
  const auto uptime = std::chrono::steady_clock::now() - started_;
  return {
      {"connections", sessions_.size()},
      {"connections_total", connections_total_},
      {"requests", requests_},
      {"refused_connections", refused_},
      {"commits", commits_.commits()},
      {"failed_commits", commits_.failed_commits()},
      {"uptime_seconds", static_cast<std::uint64_t>(
                             std::chrono::duration_cast<std::chrono::seconds>(uptime).count())},
  };
}

}  // namespace kvd::daemon
