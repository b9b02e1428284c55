// The Unix socket's path on disk: claiming it at start without stealing a
// live daemon's, and removing it at exit only if it is still ours.
#ifndef KVD_DAEMON_SOCKET_FILE_H_
#define KVD_DAEMON_SOCKET_FILE_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "util/status.h"

namespace kvd::daemon {

// Makes `path` free to bind. A socket nobody answers on (left by a daemon
// that died) is removed if this user owns it; a socket someone answers on is
// Busy; any other kind of file, or another user's socket, is refused and
// left alone. So is a directory that anyone may write to without the sticky
// bit (anyone could replace the socket there).
Status ClaimSocketPath(const std::string& path);

// Gives the bound socket file its permissions and, if set, its group.
Status SetSocketAccess(const std::string& path, unsigned mode, std::optional<unsigned> group);

// Identity of the socket file this process bound, to recognize it later.
struct SocketFileId {
  dev_t device = 0;
  ino_t inode = 0;
};
Status IdentifySocketFile(const std::string& path, SocketFileId* id);

// Removes `path` if it is still the file `id` names (another daemon may have
// replaced it since).
void RemoveSocketFile(const std::string& path, const SocketFileId& id);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_SOCKET_FILE_H_
