#include "daemon/listener.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kvd::daemon {

namespace asio = boost::asio;
using Protocol = asio::local::stream_protocol;

Listener::Listener(asio::io_context& io, const Options& options)
    : options_(options), acceptor_(io) {}

Listener::~Listener() {
  if (bound_) RemoveSocketFile(options_.socket_path, socket_id_);
}

Status Listener::Listen() {
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

Status Listener::Adopt(int listening_fd) {
  boost::system::error_code ec;
  acceptor_.assign(Protocol(), listening_fd, ec);
  if (ec) return Status::IOError("cannot serve the inherited socket: " + ec.message());
  return Status::OK();
}

asio::awaitable<Stream> Listener::Accept(boost::system::error_code& ec) {
  Stream socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) socket.non_blocking(true, ec);
  co_return socket;
}

void Listener::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

std::optional<proto::Error> Listener::Refusal(Stream& socket, std::string* why) {
  const Access& access = options_.access;
  if (access.allow_uids.empty() && access.allow_gids.empty()) return std::nullopt;
  ucred peer{};
  socklen_t length = sizeof(peer);
  const bool known =
      ::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0;
  auto listed = [](const std::vector<unsigned>& ids, unsigned id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  if (known && (listed(access.allow_uids, peer.uid) || listed(access.allow_gids, peer.gid))) {
    return std::nullopt;
  }
  *why = "uid " + std::to_string(peer.uid) + " gid " + std::to_string(peer.gid) + " pid " +
         std::to_string(peer.pid) + " is not allowed";
  return proto::Error{proto::ErrorCode::kPermissionDenied,
                      "uid " + std::to_string(peer.uid) + " / gid " + std::to_string(peer.gid) +
                          " may not use this kvd"};
}

}  // namespace kvd::daemon
