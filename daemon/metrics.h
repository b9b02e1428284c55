// What GET /metrics reports (doc/http.md, "/metrics"): the figures of the
// store, the socket and HTTP servers, the commits and the cluster, gathered
// into one snapshot on the network thread and rendered in the Prometheus
// text format. The figures are those `stats` reports, labelled where
// Prometheus wants labels (by transport, op, error code, route).
#ifndef KVD_DAEMON_METRICS_H_
#define KVD_DAEMON_METRICS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/http_counters.h"
#include "daemon/latency_histogram.h"
#include "daemon/request_counters.h"
#include "store/engine.h"

namespace kvd::daemon {

struct ConnectionFigures {
  std::size_t open = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
};

// Cluster mode: this node's view of the Raft cluster.
struct ClusterFigures {
  std::uint64_t node = 0;
  std::uint64_t leader = 0;  // 0: none known
  std::uint64_t term = 0;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
};

// Pointers are to the servers' own counters: valid while rendering.
struct MetricsSnapshot {
  Engine::Stats store;
  ConnectionFigures socket;
  ConnectionFigures http;
  const RequestCounters* socket_requests = nullptr;
  const RequestCounters* http_requests = nullptr;
  const http::HttpCounters* http_responses = nullptr;
  std::uint64_t commits = 0;
  std::uint64_t failed_commits = 0;
  std::optional<LatencyHistogram::Snapshot> commit_durations;  // single node only
  std::chrono::system_clock::time_point started;
  std::optional<ClusterFigures> cluster;
};

std::string RenderMetrics(const MetricsSnapshot& m);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_METRICS_H_
