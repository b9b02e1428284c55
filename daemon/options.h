// kvd's command line (CONTRACT.md, "Defaults" and "kvd").
#ifndef KVD_DAEMON_OPTIONS_H_
#define KVD_DAEMON_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "daemon/cluster_options.h"
#include "store/engine.h"

namespace kvd::daemon {

// Per-client limits (doc/operations.md, "Security").
struct Limits {
  std::size_t max_line = 0;             // --max-line: longest request line, in bytes
  std::size_t max_key = 16 * 1024;      // --max-key-size
  std::size_t max_value = 1024 * 1024;  // --max-value-size
  std::size_t max_connections = 1024;   // --max-connections
  // --idle-timeout: a connection that completes no request for this long is
  // closed (bytes of an unfinished line do not count: slowloris), and so is
  // one that takes no response bytes for this long.
  std::chrono::seconds idle_timeout{300};
  std::size_t max_pipeline = 1024;           // --max-pipeline: requests executed per write
  std::size_t max_output = 4 * 1024 * 1024;  // --max-output: response bytes buffered per write
};

// Who may connect (doc/operations.md, "Security").
struct Access {
  unsigned socket_mode = 0660;           // --socket-mode
  std::optional<unsigned> socket_group;  // --socket-group (name or gid)
  std::vector<unsigned> allow_uids;      // --allow-uid; with no --allow-gid either: anyone
  std::vector<unsigned> allow_gids;      // --allow-gid
  std::string pipe_group;  // Windows --socket-group: a group's SID or name, also let in
};

// The HTTP API (doc/http.md); off unless --http is given.
struct HttpOptions {
  std::string host;                    // --http [HOST:]PORT; empty: HTTP is off
  std::uint16_t port = 0;              // 0: any free port (the log names the one bound)
  std::string name;                    // --name: X-Served-By and /hello; default: the host name
  std::size_t max_header = 64 * 1024;  // --http-max-header: request line and headers, in bytes
  // --http-timeout: the longest a connection may take to send its next
  // request in full (waiting idle in keep-alive included), or to take a response.
  std::chrono::seconds timeout{30};
};

struct Options {
  enum class Mode { kServe, kCheck, kRepair };
  Mode mode = Mode::kServe;         // --check, --repair: inspect / mend the data files and exit
  std::filesystem::path data_path;  // --data, $KVD_DATA, <temp dir>/storage.data
  EngineOptions engine;             // --fsync, --compact-min-size, --compact-percentage
  std::string socket_path;          // --socket, $KVD_SOCKET, $XDG_RUNTIME_DIR/kvd.sock, ...
  Limits limits;
  Access access;
  HttpOptions http;
  // --shutdown-timeout: how long SIGTERM waits for clients to take their
  // last responses before their connections are cut.
  std::chrono::milliseconds shutdown_timeout{0};
  // --busy-poll: how long the event loop goes on polling after its last
  // piece of work before it sleeps (daemon/event_loop.h).
  std::chrono::microseconds busy_poll{0};
  // --node and --peers: cluster mode (doc/cluster.md); none: a single node.
  std::optional<ClusterOptions> cluster;
};

// Parses argv. Returns the options, or nothing with *exit_code set: 0 after
// --help/--version, 2 for bad usage (the message is already on stderr).
std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_OPTIONS_H_
