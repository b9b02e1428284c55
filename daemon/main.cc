// kvd: serves the store over a Unix socket (a named pipe on Windows) until
// SIGINT/SIGTERM (Ctrl+C).
#include "util/asio_prelude.h"

#ifndef _WIN32
#include <sys/resource.h>
#endif

#include <algorithm>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "daemon/activation.h"
#ifdef KVD_WITH_CLUSTER
#include "daemon/cluster.h"
#endif
#include "daemon/commit_queue.h"
#include "daemon/event_loop.h"
#include "daemon/http_server.h"
#include "daemon/log.h"
#include "daemon/options.h"
#include "daemon/server.h"
#include "daemon/service_notifier.h"
#include "store/check.h"
#include "store/engine.h"

namespace {

// kvd --check / --repair: prints findings on stdout; exit 0 when kvd can start.
int CheckOrRepair(const kvd::daemon::Options& options) {
  std::vector<std::string> report;
  const kvd::Status s = options.mode == kvd::daemon::Options::Mode::kCheck
                            ? kvd::CheckDataFiles(options.data_path, &report)
                            : kvd::RepairDataFiles(options.data_path, &report);
  for (const auto& line : report) std::cout << line << '\n';
  if (!s.ok()) std::cout << "not startable: " << s.ToString() << '\n';
  return s.ok() ? 0 : 1;
}

#ifndef _WIN32
// Each connection takes a descriptor: raise the soft limit to fit
// --max-connections (and the data files), as far as the hard limit allows.
// --max-connections applies to the socket and to HTTP each.
void RaiseDescriptorLimit(kvd::daemon::Limits& limits, bool http) {
  constexpr rlim_t kReserve = 64;
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0) return;
  const rlim_t wanted = limits.max_connections * (http ? 2 : 1) + kReserve;
  if (nofile.rlim_cur < wanted) {
    nofile.rlim_cur = std::min(wanted, nofile.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (nofile.rlim_cur < wanted) {
    limits.max_connections =
        nofile.rlim_cur > kReserve ? (nofile.rlim_cur - kReserve) / (http ? 2 : 1) : 1;
    kvd::log::Warning("the descriptor limit (ulimit -n) allows only " +
                      std::to_string(limits.max_connections) + " connections");
  }
}
#endif

// The STATUS= line a service manager shows (systemctl status).
std::string ServiceStatus(const kvd::Engine& engine, const kvd::daemon::Server& server) {
  const auto stats = engine.GetStats();
  return "serving " + std::to_string(stats.keys) + " keys, " + std::to_string(stats.values) +
         " values, " + std::to_string(server.connections()) + " clients";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kvd;
  int exit_code = 0;
  auto options = daemon::ParseOptions(argc, argv, &exit_code);
  if (!options) return exit_code;
  if (options->mode != daemon::Options::Mode::kServe) return CheckOrRepair(*options);
#ifndef _WIN32
  // A client that hangs up must not kill the daemon mid-write.
  std::signal(SIGPIPE, SIG_IGN);
  RaiseDescriptorLimit(options->limits, !options->http.host.empty());
#endif
  daemon::ServiceNotifier notifier;
  std::optional<daemon::InheritedSocket> inherited;
  if (Status s = daemon::TakeInheritedSocket(&inherited); !s.ok()) {
    log::Error("cannot serve: " + s.ToString());
    return 1;
  }

#ifndef KVD_WITH_CLUSTER
  if (options->cluster) {
    log::Error("this kvd was built without cluster mode (it needs libraft, on Linux)");
    return 2;
  }
#endif
  // In cluster mode the Raft log is the journal (doc/cluster.md).
  if (options->cluster) options->engine.journal = false;
  options->engine.warn = [](const std::string& message) { log::Warning(message); };
  std::unique_ptr<Engine> engine;
  {
    daemon::ServiceNotifier::ExtendWhile loading(notifier,
                                                 "loading " + options->data_path.string());
    if (Status s = Engine::Open(options->data_path, options->engine, &engine); !s.ok()) {
      log::Error("cannot open data file: " + s.ToString());
      return 1;
    }
  }
  if (!options->cluster) {
    const auto stats = engine->GetStats();
    log::Info("loaded " + options->data_path.string() + ": " + std::to_string(stats.keys) +
              " keys, " + std::to_string(stats.values) + " values");
  }

  boost::asio::io_context io(1);
  // Writes go to the commit queue, or in cluster mode to the cluster.
  std::optional<daemon::CommitQueue> commit_queue;
  daemon::Committer* commits = nullptr;
  std::function<std::optional<daemon::http::NodeRole>()> role;
#ifdef KVD_WITH_CLUSTER
  std::unique_ptr<daemon::Cluster> cluster;
  if (options->cluster) {
    cluster = std::make_unique<daemon::Cluster>(io, *engine, *options->cluster);
    commits = &cluster->clients();
    role = [&cluster] {
      const auto health = cluster->health();
      return daemon::http::NodeRole{health.has_leader, health.leader};
    };
  }
  daemon::Cluster* const cluster_mode = cluster.get();
#else
  daemon::Cluster* const cluster_mode = nullptr;
#endif
  if (commits == nullptr) {
    commits = &commit_queue.emplace(*engine,
                                    engine->sync_policy() == SyncPolicy::kAlways
                                        ? daemon::CommitQueue::Mode::kThread
                                        : daemon::CommitQueue::Mode::kInline,
                                    io.get_executor());
  }
  daemon::Server server(io, *engine, *commits, *options, cluster_mode);
  if (Status s = inherited ? server.Adopt(inherited->fd) : server.Listen(); !s.ok()) {
    log::Error("cannot serve: " + s.ToString());
    return 1;
  }
#ifdef KVD_WITH_CLUSTER
  if (cluster) {
    if (Status s =
            cluster->Start([&server](daemon::Stream peer) { server.ServePeer(std::move(peer)); });
        !s.ok()) {
      log::Error("cannot join the cluster: " + s.ToString());
      return 1;
    }
  }
#endif
  std::optional<daemon::http::HttpServer> http;
  if (!options->http.host.empty()) {
    http.emplace(
        io, *engine, *commits, *options, [&server] { return server.Stats(); },
        [&server](daemon::MetricsSnapshot* m) { server.Metrics(m); }, role, &server.pop_waiters(),
        &server.watchers());
    if (Status s = http->Listen(); !s.ok()) {
      log::Error("cannot serve HTTP: " + s.ToString());
      return 1;
    }
    http->Start();
  }
  server.Start();
  log::Notice(
      "kvd " KVD_VERSION " serving " +
      (inherited ? inherited->path + " (socket from the service manager)" : options->socket_path) +
      " with data " + options->data_path.string() +
      (options->cluster
           ? " (cluster node " + std::to_string(options->cluster->raft.id) + ")"
           : " (fsync " + std::string(SyncPolicyName(engine->sync_policy())) + ", busy-poll " +
                 std::to_string(options->busy_poll.count()) + " us)"));
  // Only now: the data is loaded and the socket listens.
  notifier.Ready(ServiceStatus(*engine, server));
  notifier.ReportPeriodically(io, std::chrono::seconds(5),
                              [&] { return ServiceStatus(*engine, server); });
  server.OnShutdown([&] {
    if (http) http->Shutdown();
#ifdef KVD_WITH_CLUSTER
    // Leadership goes to another node first: it takes over at once, and
    // the requests still being answered here are forwarded to it.
    if (cluster) cluster->BeginShutdown();
#endif
    notifier.StopReporting();
    notifier.Stopping("stopping: answering the requests received, folding the journal");
  });
#ifdef KVD_WITH_CLUSTER
  server.OnDrained([&] {
    if (cluster) cluster->Stop();
  });
#endif
  daemon::RunEventLoop(
      io, options->busy_poll, [commits] { return commits->CommitInFlight(); },
      // Idle while the commit thread waits for the disk, this thread has a
      // CPU to spare: the store takes in the last commit's appends then.
      [&engine] {
        if (engine->SyncInFlight()) engine->ApplyQueued();
      });
  if (commit_queue) commit_queue->Stop();
#ifdef KVD_WITH_CLUSTER
  if (cluster) cluster->Stop();
#endif
  Status closed;
  {
    daemon::ServiceNotifier::ExtendWhile folding(
        notifier, "folding the journal into " + options->data_path.string());
    // The keys whose time came since the last sweep leave storage.data too.
    if (!options->cluster) closed = engine->DeleteExpired(UnixMillis());
    if (closed.ok()) closed = engine->Close();
  }
  if (Status s = closed; !s.ok()) {
    log::Error(
        "could not fold the journal into storage.data (it is kept and replayed at the "
        "next start): " +
        s.ToString());
    return 1;
  }
  log::Notice("stopped; everything is in " + options->data_path.string());
  return 0;
}
