// Socket activation (sd_listen_fds(3)): a listening Unix socket handed over
// by systemd (a .socket unit, or systemd-socket-activate) through LISTEN_FDS.
// Whoever created that socket owns its file: its path, mode, owner and group
// (SocketMode=, SocketUser=, SocketGroup=) are theirs, so kvd neither
// changes nor removes it.
#ifndef KVD_DAEMON_ACTIVATION_H_
#define KVD_DAEMON_ACTIVATION_H_

#include <optional>
#include <string>

#include "util/status.h"

namespace kvd::daemon {

struct InheritedSocket {
  int fd = -1;
  std::string path;  // where it is bound, for the log
};

// The socket passed by the service manager, or nothing when none was passed
// (then kvd binds its own). An error when sockets were passed that kvd cannot
// serve: more than one, not a listening Unix stream socket, or a kvd built
// without libsystemd. Unsets LISTEN_FDS and friends, so child processes do
// not take them for theirs.
Status TakeInheritedSocket(std::optional<InheritedSocket>* socket);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_ACTIVATION_H_
