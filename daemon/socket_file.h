// The Unix socket's path on disk: claiming it at start without stealing a
// live daemon's, and removing it at exit only if it is still ours.
#ifndef KVD_DAEMON_SOCKET_FILE_H_
#define KVD_DAEMON_SOCKET_FILE_H_

#include <sys/types.h>

#include <string>

#include "store/status.h"

namespace kvd::daemon {

// Makes `path` free to bind. A socket nobody answers on (left by a daemon
// that died) is removed; a socket someone answers on is Busy; any other kind
// of file is refused and left alone.
Status ClaimSocketPath(const std::string& path);

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
