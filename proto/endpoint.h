// Where kvd listens by default; shared by the daemon and its clients.
#ifndef KVD_PROTO_ENDPOINT_H_
#define KVD_PROTO_ENDPOINT_H_

#include <string>

namespace kvd::proto {

// $KVD_SOCKET if set, else $XDG_RUNTIME_DIR/kvd.sock, else <temp dir>/kvd.sock;
// on Windows $KVD_SOCKET if set, else the named pipe \\.\pipe\kvd.
std::string DefaultSocketPath();

}  // namespace kvd::proto

#endif  // KVD_PROTO_ENDPOINT_H_
