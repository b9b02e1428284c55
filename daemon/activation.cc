#include "daemon/activation.h"

#include <cstdlib>
#include <cstring>

#ifdef KVD_WITH_SYSTEMD
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>

#include <cstddef>
#endif

namespace kvd::daemon {

#ifdef KVD_WITH_SYSTEMD

Status TakeInheritedSocket(std::optional<InheritedSocket>* socket) {
  socket->reset();
  const int n = sd_listen_fds(1);
  if (n < 0) return Status::IOError(std::string("LISTEN_FDS: ") + std::strerror(-n));
  if (n == 0) return Status::OK();
  if (n > 1) {
    return Status::InvalidArgument("the service manager passed " + std::to_string(n) +
                                   " sockets; kvd serves one (one ListenStream= in kvd.socket)");
  }
  const int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0) {
    return Status::InvalidArgument(
        "the socket passed by the service manager is not a listening Unix stream socket "
        "(kvd.socket needs ListenStream=/path)");
  }
  sockaddr_un address{};
  socklen_t length = sizeof(address);
  std::string path = "(unnamed)";
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
      length > offsetof(sockaddr_un, sun_path) && address.sun_path[0] != '\0') {
    path = address.sun_path;
  }
  *socket = InheritedSocket{fd, path};
  return Status::OK();
}

#else

Status TakeInheritedSocket(std::optional<InheritedSocket>* socket) {
  socket->reset();
  if (std::getenv("LISTEN_FDS") == nullptr) return Status::OK();
  return Status::InvalidArgument(
      "the service manager passed sockets (LISTEN_FDS), but this kvd was built without "
      "libsystemd; rebuild with -Dsystemd=enabled or start it without the socket unit");
}

#endif

}  // namespace kvd::daemon
