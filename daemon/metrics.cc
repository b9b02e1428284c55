#include "daemon/metrics.h"

namespace kvd::daemon {
namespace {

double UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

void Connections(MetricText& out, const MetricsSnapshot& m) {
  out.Family("kvd_connections", "gauge", "Connections open now, by transport.");
  out.Sample("kvd_connections", {{"transport", "socket"}}, std::uint64_t{m.socket.open});
  out.Sample("kvd_connections", {{"transport", "http"}}, std::uint64_t{m.http.open});
  out.Family("kvd_connections_accepted_total", "counter",
             "Connections accepted (refused ones included), by transport.");
  out.Sample("kvd_connections_accepted_total", {{"transport", "socket"}}, m.socket.accepted);
  out.Sample("kvd_connections_accepted_total", {{"transport", "http"}}, m.http.accepted);
  out.Family("kvd_connections_refused_total", "counter",
             "Connections refused (--max-connections, or a peer not allowed), by transport.");
  out.Sample("kvd_connections_refused_total", {{"transport", "socket"}}, m.socket.refused);
  out.Sample("kvd_connections_refused_total", {{"transport", "http"}}, m.http.refused);
}

void Requests(MetricText& out, const MetricsSnapshot& m) {
  out.Family("kvd_requests_total", "counter",
             "Requests answered, errors included, by transport and operation.");
  if (m.socket_requests) m.socket_requests->WriteRequests(out, "kvd_requests_total", "socket");
  if (m.http_requests) m.http_requests->WriteRequests(out, "kvd_requests_total", "http");
  out.Family("kvd_request_errors_total", "counter",
             "Requests answered with an error, by transport, operation and error code.");
  if (m.socket_requests) m.socket_requests->WriteErrors(out, "kvd_request_errors_total", "socket");
  if (m.http_requests) m.http_requests->WriteErrors(out, "kvd_request_errors_total", "http");
  out.Family("kvd_http_requests_total", "counter",
             "HTTP responses, by method, route and status class.");
  if (m.http_responses) m.http_responses->Write(out, "kvd_http_requests_total");
}

void Store(MetricText& out, const MetricsSnapshot& m) {
  out.Family("kvd_keys", "gauge", "Keys in the store.");
  out.Sample("kvd_keys", std::uint64_t{m.store.keys});
  out.Family("kvd_values", "gauge", "Values in the store, of all keys.");
  out.Sample("kvd_values", std::uint64_t{m.store.values});
  out.Family("kvd_value_bytes", "gauge", "Bytes of the keys and values in the store.");
  out.Sample("kvd_value_bytes", std::uint64_t{m.store.bytes});
  out.Family("kvd_revision", "gauge",
             "The store's revision: the changes made to it (each appended value, each delete of "
             "a key that existed, each pop or trim that removed values).");
  out.Sample("kvd_revision", m.store.revision);
  out.Family("kvd_journal_bytes", "gauge",
             "Size of the journal (the changes since storage.data was last written).");
  out.Sample("kvd_journal_bytes", m.store.journal_bytes);
  out.Family("kvd_compactions_total", "counter",
             "Compactions (the journal folded into a new storage.data) since the start.");
  out.Sample("kvd_compactions_total", m.store.compactions);
  out.Family("kvd_last_compaction_time_seconds", "gauge",
             "When the last compaction ended, in Unix seconds; 0 if none since the start.");
  out.Sample("kvd_last_compaction_time_seconds",
             m.store.compactions == 0 ? 0.0 : UnixSeconds(m.store.last_compaction));
}

void Commits(MetricText& out, const MetricsSnapshot& m) {
  out.Family("kvd_commits_total", "counter",
             "Commits made durable (one commit carries the writes that came together).");
  out.Sample("kvd_commits_total", m.commits);
  out.Family("kvd_commit_failures_total", "counter",
             "Commits that could not be made durable (their writes did not happen).");
  out.Sample("kvd_commit_failures_total", m.failed_commits);
  if (!m.commit_durations) return;
  const LatencyHistogram::Snapshot& h = *m.commit_durations;
  out.Family("kvd_commit_duration_seconds", "histogram",
             "Time of a durable commit: the journal write and, under --fsync always, its fsync.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    cumulative += h.counts[i];
    const std::string le = MetricText::Number(LatencyHistogram::kBounds[i]);
    out.Sample("kvd_commit_duration_seconds_bucket", {{"le", le}}, cumulative);
  }
  out.Sample("kvd_commit_duration_seconds_bucket", {{"le", "+Inf"}}, h.count);
  out.Sample("kvd_commit_duration_seconds_sum", h.sum_seconds);
  out.Sample("kvd_commit_duration_seconds_count", h.count);
}

void Cluster(MetricText& out, const ClusterFigures& c) {
  out.Family("kvd_raft_node_id", "gauge", "This node's id (--node).");
  out.Sample("kvd_raft_node_id", c.node);
  out.Family("kvd_raft_leader", "gauge", "1 if this node is the Raft leader, else 0.");
  out.Sample("kvd_raft_leader", std::uint64_t{c.leader != 0 && c.leader == c.node});
  out.Family("kvd_raft_leader_id", "gauge", "The leader's id as this node knows it; 0: none.");
  out.Sample("kvd_raft_leader_id", c.leader);
  out.Family("kvd_raft_term", "gauge", "The Raft term this node is in.");
  out.Sample("kvd_raft_term", c.term);
  out.Family("kvd_raft_applied_index", "gauge", "The last log index applied to this node's store.");
  out.Sample("kvd_raft_applied_index", c.applied);
  out.Family("kvd_raft_last_index", "gauge", "The last index in this node's Raft log.");
  out.Sample("kvd_raft_last_index", c.last_index);
}

}  // namespace

std::string RenderMetrics(const MetricsSnapshot& m) {
  MetricText out;
  out.Family("kvd_start_time_seconds", "gauge", "When kvd started, in Unix seconds.");
  out.Sample("kvd_start_time_seconds", UnixSeconds(m.started));
  Connections(out, m);
  Requests(out, m);
  Store(out, m);
  Commits(out, m);
  if (m.cluster) Cluster(out, *m.cluster);
  return out.Take();
}

}  // namespace kvd::daemon
