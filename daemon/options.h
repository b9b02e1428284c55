// kvd's command line (CONTRACT.md, "Defaults" and "kvd").
#ifndef KVD_DAEMON_OPTIONS_H_
#define KVD_DAEMON_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "store/engine.h"

namespace kvd::daemon {

struct Options {
  enum class Mode { kServe, kCheck, kRepair };
  Mode mode = Mode::kServe;         // --check, --repair: inspect / mend the data files and exit
  std::filesystem::path data_path;  // --data, $KVD_DATA, <temp dir>/storage.data
  EngineOptions engine;             // --fsync, --compact-min-size, --compact-percentage
  std::string socket_path;          // --socket, $KVD_SOCKET, $XDG_RUNTIME_DIR/kvd.sock, ...
  std::size_t max_line = 0;         // --max-line: longest request line in bytes
  // --shutdown-timeout: how long SIGTERM waits for clients to take their
  // last responses before their connections are cut.
  std::chrono::milliseconds shutdown_timeout{0};
};

// Parses argv. Returns the options, or nothing with *exit_code set: 0 after
// --help/--version, 2 for bad usage (the message is already on stderr).
std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_OPTIONS_H_
