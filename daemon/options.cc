#include "daemon/options.h"

#ifndef _WIN32
#include <grp.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include "util/asio_prelude.h"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/host_name.hpp>

#include "daemon/config_file.h"
#include "daemon/event_loop.h"
#include "proto/endpoint.h"
#include "proto/limits.h"
#include "store/data_files.h"
#include "store/engine.h"

namespace kvd::daemon {
namespace {

// --http: "PORT" (loopback), "HOST:PORT" or "[IPv6]:PORT".
bool ParseHttpAddress(const std::string& spec, HttpOptions* http) {
  std::string host = "127.0.0.1", port = spec;
  if (const auto colon = spec.rfind(':'); colon != std::string::npos) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
  }
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return false;
  }
  http->host = host;
  http->port = static_cast<std::uint16_t>(std::stoul(port));
  return true;
}

// Why kvd cannot read the --config file, as strerror tells.
std::string Unreadable(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return "it is a directory";
  std::ifstream probe(path);
  return probe ? "cannot read it" : std::strerror(errno);
}

// The long flags given on the command line ("fsync" for --fsync and
// --fsync=no): the file's settings of these never apply.
std::set<std::string> FlagsGiven(int argc, char** argv) {
  std::set<std::string> given;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0)
      given.insert(arg.substr(2, arg.find('=') - 2));
  }
  return given;
}

std::string HostName() {
  boost::system::error_code ec;
  std::string name = boost::asio::ip::host_name(ec);
  return ec || name.empty() ? "kvd" : name;
}

}  // namespace

bool ParsePeers(const std::string& spec, std::vector<RaftPeer>* peers, std::string* error) {
  peers->clear();
  std::size_t at = 0;
  while (at <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', at), spec.size());
    const std::string item = spec.substr(at, comma - at);
    at = comma + 1;
    const auto equals = item.find('=');
    const std::string id = item.substr(0, equals);
    if (equals == std::string::npos || id.empty() || id.size() > 18 ||
        id.find_first_not_of("0123456789") != std::string::npos || std::stoull(id) == 0) {
      *error = "expected ID=HOST:PORT with an ID above 0, got \"" + item + "\"";
      return false;
    }
    RaftPeer peer{std::stoull(id), item.substr(equals + 1)};
    boost::system::error_code ec;
    const auto colon = peer.address.rfind(':');
    const std::string port = colon == std::string::npos ? "" : peer.address.substr(colon + 1);
    // Dotted quads only, as the Raft library reads them (Windows' parser
    // also takes shorthands such as 127.1): the address must print as given.
    const std::string host = colon == std::string::npos ? "" : peer.address.substr(0, colon);
    const auto ip = boost::asio::ip::make_address_v4(host, ec);
    if (!ec && ip.to_string() != host) ec = boost::asio::error::invalid_argument;
    if (colon == std::string::npos || ec || port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) == 0 ||
        std::stoul(port) > 65535) {
      *error = "node " + id + ": expected an IPv4 HOST:PORT, got \"" + peer.address + "\"";
      return false;
    }
    // The address as it will be compared: the port without leading zeros.
    peer.address = peer.address.substr(0, colon + 1) + std::to_string(std::stoul(port));
    for (const RaftPeer& p : *peers) {
      if (p.id == peer.id || p.address == peer.address) {
        *error = "node " + id + " or its address " + peer.address + " is listed twice";
        return false;
      }
    }
    peers->push_back(std::move(peer));
  }
  return true;
}

std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code) {
  Options options;
  std::string data = DefaultDataPath().string();
  options.socket_path = proto::DefaultSocketPath();
  Limits& limits = options.limits;
  limits.max_line = proto::kDefaultMaxLine;
  long long idle_seconds = limits.idle_timeout.count();
  std::string socket_mode = "0660", socket_group;
  double shutdown_seconds = 10;
  std::string fsync = "always";
  long long busy_poll_us = -1;  // not given: by --fsync
  bool check = false, repair = false;
  std::string http;
  long long http_timeout = options.http.timeout.count();
  options.http.name = HostName();

  CLI::App app{
      "kvd: a crash-safe key -> list-of-values store, served on a Unix socket (a named pipe on "
      "Windows), and with --http over HTTP"};
  app.set_version_flag("--version", KVD_VERSION)->configurable(false);
  app.get_help_ptr()->configurable(false);
  // No default file: without --config kvd reads none (kvd.service gives
  // /etc/kvd/kvd.conf). A key that is no flag is refused, not ignored.
  CLI::Option* config_opt = app.set_config(
      "--config", "",
      "read settings from this file (TOML or INI): a line `key = value` per long flag, e.g. "
      "fsync = \"everysec\"; flags on the command line win over it");
  app.allow_config_extras(false);
  app.add_option("--data", data, "data file (env KVD_DATA)")->capture_default_str();
  app.add_option("--socket", options.socket_path,
                 "Unix socket (on Windows: named pipe) to listen on (env KVD_SOCKET)")
      ->capture_default_str();
#ifndef _WIN32
  // POSIX only: on Windows the pipe is for this user alone (doc/windows.md).
  app.add_option("--socket-mode", socket_mode, "permissions of the socket file (octal)")
      ->capture_default_str();
  app.add_option("--socket-group", socket_group, "group of the socket file (name or gid)");
  app.add_option("--allow-uid", options.access.allow_uids,
                 "accept connections only from this uid (repeatable; checked with SO_PEERCRED)");
  app.add_option("--allow-gid", options.access.allow_gids,
                 "accept connections only from this gid (repeatable)");
#else
  app.add_option("--socket-group", options.access.pipe_group,
                 "also let this group use the pipe (a SID such as S-1-5-32-545, or a name)");
#endif
  app.add_option("--max-line", limits.max_line, "longest request line accepted, in bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 30));
  app.add_option("--max-key-size", limits.max_key, "longest key, in bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-value-size", limits.max_value, "longest value, in bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-connections", limits.max_connections,
                 "client connections served at once; more are refused with an error")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--idle-timeout", idle_seconds,
                 "seconds a connection may go without completing a request or taking its "
                 "responses before it is closed (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-pipeline", limits.max_pipeline,
                 "pipelined requests executed before their responses must be written")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-output", limits.max_output,
                 "response bytes buffered per connection before they must be written")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--shutdown-timeout", shutdown_seconds,
                 "seconds SIGTERM waits for clients to read their last responses")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fsync", fsync,
                 "when to fsync the journal: always (before acknowledging each write), "
                 "everysec, or no (leave it to the OS)")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "everysec", "no"}));
  app.add_option("--busy-poll", busy_poll_us,
                 "microseconds to go on polling for requests after the last one before "
                 "sleeping: a client that waits for each answer is served without a "
                 "wake-up, for CPU time (default: " +
                     std::to_string(kDefaultBusyPoll.count()) +
                     " with --fsync everysec or no, 0 with always)")
      ->check(CLI::Range(0LL, 1000000LL));
  app.add_option("--compact-min-size", options.engine.compact_min_bytes,
                 "compact once the journal is at least this many bytes...")
      ->capture_default_str();
  app.add_option("--compact-percentage", options.engine.compact_percentage,
                 "...and at least this percentage of storage.data's size")
      ->capture_default_str();
  app.add_option("--watch-history", options.engine.history_bytes,
                 "bytes of the latest changes kept for watch: a watch may start from any "
                 "revision they cover, and one that falls half of it behind is ended")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{64 * 1024}, std::size_t{1} << 40));
  app.add_option("--http", http,
                 "serve the HTTP API on [HOST:]PORT (HOST defaults to 127.0.0.1; PORT 0: any "
                 "free port, logged)");
  app.add_option("--name", options.http.name, "this server's name in X-Served-By and /hello")
      ->capture_default_str();
  app.add_option("--http-max-header", options.http.max_header,
                 "longest HTTP request line and headers, in bytes (longer: 431)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  app.add_option("--http-timeout", http_timeout,
                 "seconds an HTTP connection may take to send its next request in full, idle "
                 "keep-alive included, or to take a response")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  // Cluster mode (doc/cluster.md).
  std::uint64_t node = 0;
  std::string peers, raft_dir, peer_listen;
  bool join = false;
  long long election_ms = 300, forward_ms = 5000;
  unsigned snapshot_entries = 8192;
  std::string read_lease = "on";
  auto* node_opt = app.add_option("--node", node,
                                  "run as node ID of the cluster --peers lists (Linux; needs "
                                  "--peers)");
  auto* peers_opt =
      app.add_option("--peers", peers,
                     "ID=HOST:PORT,...: every voter of the cluster with its Raft address (IPv4), "
                     "this node included, the same on every node")
          ->needs(node_opt);
  node_opt->needs(peers_opt);
  app.add_option("--raft-dir", raft_dir,
                 "the Raft log and snapshots (default: the data file's path + .raft)")
      ->needs(node_opt);
  app.add_flag("--join", join,
               "never bootstrap: wait to be added with kvctl cluster add (a node added to a "
               "running cluster, or one rebuilt after its membership changed)")
      ->needs(node_opt);
  app.add_option("--peer-listen", peer_listen,
                 "HOST:PORT where this node takes requests forwarded by the others (default: "
                 "the host of its Raft address, any free port)")
      ->needs(node_opt);
  app.add_option("--election-timeout", election_ms,
                 "milliseconds a follower waits for the leader before it calls an election "
                 "(heartbeats go every tenth of it)")
      ->capture_default_str()
      ->check(CLI::Range(50LL, 60000LL))
      ->needs(node_opt);
  app.add_option("--read-lease", read_lease,
                 "on: the leader answers linearizable reads without a round of the log while "
                 "a majority acknowledged it within half the election timeout (every node must "
                 "then have the same --election-timeout); off: every such read waits for one")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}))
      ->needs(node_opt);
  app.add_option("--snapshot-entries", snapshot_entries,
                 "Raft log entries between snapshots of the store")
      ->capture_default_str()
      ->check(CLI::Range(16u, 1u << 30))
      ->needs(node_opt);
  app.add_option("--forward-timeout", forward_ms,
                 "milliseconds a request forwarded to the leader may take before it is "
                 "answered unavailable")
      ->capture_default_str()
      ->check(CLI::Range(100LL, 600000LL))
      ->needs(node_opt);
  auto* check_flag =
      app.add_flag("--check", check,
                   "inspect the data file and its journal, report, and exit (0: kvd would start)");
  app.add_flag("--repair", repair,
               "make a damaged journal startable (saving a copy first), report, and exit")
      ->excludes(check_flag);
  // One-off actions, not settings: a file that says check would make every
  // start of the service a check.
  check_flag->configurable(false);
  app.get_option("--repair")->configurable(false);

  // Refuses the options with `message` (exit 2), naming the config file and
  // the line when the setting at fault came from there.
  std::set<std::string> flags_given = FlagsGiven(argc, argv);
  flags_given.erase("config");  // as a key in the file, always the file's fault
  auto in_file = [&](const std::string& message) -> std::string {
    if (config_opt->count() == 0) return "";
    const std::string path = config_opt->as<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return "";
    std::ifstream in(path, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const auto line = ConfigErrorLine(text, message, flags_given);
    return line ? path + ":" + std::to_string(*line) + ": " : "";
  };
  auto refuse = [&](const std::string& message) {
    std::cerr << in_file(message) << message << "\n";
    *exit_code = 2;
    return std::nullopt;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::CallForVersion& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  } catch (const CLI::FileError&) {  // only --config names a file CLI11 reads
    const std::string path = config_opt->as<std::string>();
    return refuse("--config: cannot read " + path + ": " + Unreadable(path));
  } catch (const std::ios_base::failure&) {  // CLI11 reading a directory, on Linux
    const std::string path = config_opt->as<std::string>();
    return refuse("--config: cannot read " + path + ": " + Unreadable(path));
  } catch (const CLI::ParseError& e) {
    if (const std::string where = in_file(e.what()); !where.empty()) {
      // CLI11 says "INI was not able to parse KEY" of a key that is no flag.
      const std::string unknown = "INI was not able to parse ";
      const std::string what = e.what();
      std::cerr << where
                << (what.rfind(unknown, 0) == 0
                        ? "unknown setting " + what.substr(unknown.size()) +
                              " (a setting is a long flag of kvd --help, without its dashes)"
                        : what)
                << "\n";
    } else {
      app.exit(e);
    }
    *exit_code = 2;
    return std::nullopt;
  }
#ifndef _WIN32
  try {
    std::size_t used = 0;
    options.access.socket_mode = static_cast<unsigned>(std::stoul(socket_mode, &used, 8));
    if (used != socket_mode.size() || options.access.socket_mode > 0777) throw std::exception();
  } catch (const std::exception&) {
    return refuse("--socket-mode: not an octal mode: " + socket_mode);
  }
  if (!socket_group.empty()) {
    if (const group* g = ::getgrnam(socket_group.c_str())) {
      options.access.socket_group = g->gr_gid;
    } else if (socket_group.find_first_not_of("0123456789") == std::string::npos) {
      options.access.socket_group = static_cast<unsigned>(std::stoul(socket_group));
    } else {
      return refuse("--socket-group: no such group: " + socket_group);
    }
  }
#endif
  if (!http.empty() && !ParseHttpAddress(http, &options.http)) {
    return refuse("--http: expected PORT, HOST:PORT or [IPv6]:PORT, got: " + http);
  }
  if (node != 0) {
    ClusterOptions cluster;
    std::string error;
    if (!ParsePeers(peers, &cluster.raft.peers, &error)) {
      return refuse("--peers: " + error);
    }
    std::string raft_address;
    for (const RaftPeer& p : cluster.raft.peers) {
      if (p.id == node) raft_address = p.address;
    }
    if (raft_address.empty()) {
      return refuse("--peers must list this node, " + std::to_string(node) +
                    ", with its Raft address");
    }
    cluster.raft.id = node;
    cluster.raft.dir = raft_dir.empty() ? DefaultRaftDir(data) : std::filesystem::path(raft_dir);
    cluster.raft.join = join;
    cluster.raft.election_timeout = std::chrono::milliseconds(election_ms);
    cluster.raft.heartbeat_timeout = std::chrono::milliseconds(std::max(10LL, election_ms / 10));
    cluster.raft.lease = std::chrono::milliseconds(read_lease == "on" ? election_ms / 2 : 0);
    cluster.raft.snapshot_threshold = snapshot_entries;
    cluster.forward_timeout = std::chrono::milliseconds(forward_ms);
    cluster.peer_listen =
        peer_listen.empty()
            ? raft_address.substr(0, raft_address.rfind(':')) + ":0"
            : (peer_listen.find(':') == std::string::npos
                   ? raft_address.substr(0, raft_address.rfind(':')) + ":" + peer_listen
                   : peer_listen);
    options.cluster = std::move(cluster);
  }
  options.http.timeout = std::chrono::seconds(http_timeout);
  limits.idle_timeout = std::chrono::seconds(idle_seconds);
  options.data_path = data;
  options.engine.sync = *ParseSyncPolicy(fsync);
  options.busy_poll = busy_poll_us < 0 ? DefaultBusyPoll(options.engine.sync)
                                       : std::chrono::microseconds(busy_poll_us);
  options.mode = check    ? Options::Mode::kCheck
                 : repair ? Options::Mode::kRepair
                          : Options::Mode::kServe;
  options.shutdown_timeout =
      std::chrono::milliseconds(static_cast<long long>(shutdown_seconds * 1000));
  return options;
}

}  // namespace kvd::daemon
