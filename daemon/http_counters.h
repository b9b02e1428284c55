// HTTP responses by method, route and status class, for Prometheus
// (kvd_http_requests_total). Network thread only.
#ifndef KVD_DAEMON_HTTP_COUNTERS_H_
#define KVD_DAEMON_HTTP_COUNTERS_H_

#include <cstdint>
#include <map>
#include <string_view>
#include <tuple>

#include "daemon/metric_text.h"

namespace kvd::daemon::http {

class HttpCounters {
 public:
  // The route label of a request no route took (404, or a request that
  // could not be read).
  static constexpr std::string_view kNoRoute = "none";

  // `method` and `route` must outlive this (static text: Beast's verb
  // names, the route table's paths).
  void Count(std::string_view method, std::string_view route, unsigned status) {
    ++counts_[{method, route, status / 100}];
  }

  std::uint64_t total() const;
  void Write(MetricText& out, std::string_view family) const;

 private:
  std::map<std::tuple<std::string_view, std::string_view, unsigned>, std::uint64_t> counts_;
};

inline std::uint64_t HttpCounters::total() const {
  std::uint64_t n = 0;
  for (const auto& [labels, count] : counts_) n += count;
  return n;
}

inline void HttpCounters::Write(MetricText& out, std::string_view family) const {
  for (const auto& [labels, count] : counts_) {
    const auto& [method, route, status_class] = labels;
    const char status[] = {static_cast<char>('0' + status_class % 10), 'x', 'x', '\0'};
    out.Sample(family, {{"method", method}, {"route", route}, {"status", status}}, count);
  }
}

}  // namespace kvd::daemon::http

#endif  // KVD_DAEMON_HTTP_COUNTERS_H_
