// Requests answered and errors answered, by operation and error code, for
// one transport (the socket protocol, or the HTTP routes that run
// operations). Plain integers: network thread only, as everything that
// counts and reads them runs there.
#ifndef KVD_DAEMON_REQUEST_COUNTERS_H_
#define KVD_DAEMON_REQUEST_COUNTERS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/metric_text.h"
#include "proto/error.h"
#include "proto/request.h"

namespace kvd::daemon {

class RequestCounters {
 public:
  // A request answered without an error.
  void Count(proto::Op op) { ++requests_[Index(op)]; }
  // A request answered with an error (counted as a request too); `op` is
  // empty when the line was not understood as a request of any operation.
  void CountError(std::optional<proto::Op> op, proto::ErrorCode code) {
    const std::size_t i = op ? Index(*op) : kInvalid;
    ++requests_[i];
    ++errors_[i][static_cast<std::size_t>(code)];
  }

  // Every request counted, errors included.
  std::uint64_t total() const;
  // The samples of kvd_requests_total and kvd_request_errors_total, labelled
  // with `transport`; zero counts are left out (but append's and get's
  // requests, so that a scrape shows the family before the first request).
  void WriteRequests(MetricText& out, std::string_view family, std::string_view transport) const;
  void WriteErrors(MetricText& out, std::string_view family, std::string_view transport) const;

 private:
  // The op label of requests that were not understood.
  static constexpr std::string_view kInvalidName = "invalid";
  static constexpr std::size_t kOps = static_cast<std::size_t>(proto::Op::kReadIndex) + 1;
  static constexpr std::size_t kInvalid = kOps;
  static constexpr std::size_t kCodes = static_cast<std::size_t>(proto::ErrorCode::kInternal) + 1;

  static std::size_t Index(proto::Op op) { return static_cast<std::size_t>(op); }
  static std::string_view Name(std::size_t i);

  std::array<std::uint64_t, kOps + 1> requests_{};
  std::array<std::array<std::uint64_t, kCodes>, kOps + 1> errors_{};
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_REQUEST_COUNTERS_H_
