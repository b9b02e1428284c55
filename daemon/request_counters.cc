#include "daemon/request_counters.h"

namespace kvd::daemon {

std::uint64_t RequestCounters::total() const {
  std::uint64_t n = 0;
  for (const std::uint64_t r : requests_) n += r;
  return n;
}

std::string_view RequestCounters::Name(std::size_t i) {
  return i == kInvalid ? kInvalidName : proto::OpName(static_cast<proto::Op>(i));
}

void RequestCounters::WriteRequests(MetricText& out, std::string_view family,
                                    std::string_view transport) const {
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    // The data operations always, so that a dashboard sees them from the start.
    const bool always = i == Index(proto::Op::kAppend) || i == Index(proto::Op::kGet);
    if (requests_[i] == 0 && !always) continue;
    out.Sample(family, {{"transport", transport}, {"op", Name(i)}}, requests_[i]);
  }
}

void RequestCounters::WriteErrors(MetricText& out, std::string_view family,
                                  std::string_view transport) const {
  for (std::size_t i = 0; i < errors_.size(); ++i) {
    for (std::size_t c = 0; c < kCodes; ++c) {
      if (errors_[i][c] == 0) continue;
      out.Sample(family,
                 {{"transport", transport},
                  {"op", Name(i)},
                  {"code", proto::ErrorCodeName(static_cast<proto::ErrorCode>(c))}},
                 errors_[i][c]);
    }
  }
}

}  // namespace kvd::daemon
