// Where kvd accepts connections, chosen at build time: a Unix socket file
// (unix_listener.cc) or a named pipe (pipe_listener.cc, doc/windows.md).
// Either way a live endpoint is never taken over: a second kvd on it is
// refused with Busy.
#ifndef KVD_DAEMON_LISTENER_H_
#define KVD_DAEMON_LISTENER_H_

#include "util/asio_prelude.h"

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "daemon/options.h"
#include "daemon/stream.h"
#include "proto/error.h"
#include "util/status.h"

#ifndef _WIN32
#include "daemon/socket_file.h"
#endif

namespace kvd::daemon {

class Listener {
 public:
  Listener(boost::asio::io_context& io, const Options& options);
  // Unix: removes the socket file if it is still the one this listener bound.
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Claims options.socket_path and listens on it. Unix: see ClaimSocketPath,
  // then --socket-mode and --socket-group. Windows: the first instance of
  // the pipe, open to this user only (and --socket-group's members).
  Status Listen();
  // Serves a socket that already listens, handed over by a service manager
  // (activation.h): its file is the manager's, neither changed nor removed.
  // Unix only: on Windows nothing hands a pipe over, and this fails.
  Status Adopt(int listening_fd);
  // The next client's stream, ready for StreamReader; `ec` set on failure
  // or once Close() was called.
  boost::asio::awaitable<Stream> Accept(boost::system::error_code& ec);
  // Stops accepting.
  void Close();

  // Why a connected client may not be served (--allow-uid, --allow-gid;
  // nothing on Windows, where the pipe's security descriptor decides), and
  // the line to log about it.
  std::optional<proto::Error> Refusal(Stream& stream, std::string* why);

 private:
  const Options& options_;
#ifdef _WIN32
  boost::asio::io_context& io_;
  Status CreateInstance(bool first);
  std::wstring pipe_name_;               // options.socket_path, for the Win32 calls
  Stream next_;                          // the pipe instance that the next client connects to
  void* security_descriptor_ = nullptr;  // LocalAlloc'd, LocalFree'd at the end
#else
  boost::asio::local::stream_protocol::acceptor acceptor_;
  SocketFileId socket_id_;
  bool bound_ = false;
#endif
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_LISTENER_H_
