#include "daemon/options.h"

#include <CLI/CLI.hpp>

#include "proto/endpoint.h"
#include "proto/limits.h"
#include "store/engine.h"

namespace kvd::daemon {

std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code) {
  Options options;
  std::string data = DefaultDataPath().string();
  options.socket_path = proto::DefaultSocketPath();
  options.max_line = proto::kDefaultMaxLine;
  double shutdown_seconds = 10;
  std::string fsync = "always";
  bool check = false, repair = false;

  CLI::App app{"kvd: a crash-safe key -> list-of-values store, served on a Unix socket"};
  app.set_version_flag("--version", KVD_VERSION);
  app.add_option("--data", data, "data file (env KVD_DATA)")->capture_default_str();
  app.add_option("--socket", options.socket_path, "Unix socket to listen on (env KVD_SOCKET)")
      ->capture_default_str();
  app.add_option("--max-line", options.max_line, "longest request line accepted, in bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 30));
  app.add_option("--shutdown-timeout", shutdown_seconds,
                 "seconds SIGTERM waits for clients to read their last responses")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fsync", fsync,
                 "when to fsync the journal: always (before acknowledging each write), "
                 "everysec, or no (leave it to the OS)")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "everysec", "no"}));
  app.add_option("--compact-min-size", options.engine.compact_min_bytes,
                 "compact once the journal is at least this many bytes...")
      ->capture_default_str();
  app.add_option("--compact-percentage", options.engine.compact_percentage,
                 "...and at least this percentage of storage.data's size")
      ->capture_default_str();
  auto* check_flag = app.add_flag(
      "--check", check, "inspect the data file and its journal, report, and exit (0: kvd would start)");
  app.add_flag("--repair", repair,
               "make a damaged journal startable (saving a copy first), report, and exit")
      ->excludes(check_flag);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::CallForVersion& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    *exit_code = 2;
    return std::nullopt;
  }
  options.data_path = data;
  options.engine.sync = *ParseSyncPolicy(fsync);
  options.mode = check ? Options::Mode::kCheck : repair ? Options::Mode::kRepair : Options::Mode::kServe;
  options.shutdown_timeout =
      std::chrono::milliseconds(static_cast<long long>(shutdown_seconds * 1000));
  return options;
}

}  // namespace kvd::daemon
