// A histogram of durations with fixed buckets, for Prometheus (metrics.h):
// observed on any thread (the commit thread), read on another (the network
// thread), with relaxed atomics only, as a scrape needs no more than figures
// that each were true at some moment.
#ifndef KVD_DAEMON_LATENCY_HISTOGRAM_H_
#define KVD_DAEMON_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace kvd::daemon {

class LatencyHistogram {
 public:
  // Upper bounds in seconds, 50 µs to 1 s: from a commit without fsync (a
  // write to the page cache) to an fsync on a slow or overloaded disk.
  static constexpr std::array<double, 14> kBounds = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                     0.0025,  0.005,  0.01,    0.025,  0.05,
                                                     0.1,     0.25,   0.5,     1.0};

  struct Snapshot {
    // Per bucket, not cumulative; the last counts what is over kBounds.back().
    std::array<std::uint64_t, kBounds.size() + 1> counts{};
    std::uint64_t count = 0;  // the sum of counts
    double sum_seconds = 0;
  };

  void Observe(std::chrono::steady_clock::duration duration) {
    const double seconds = std::chrono::duration<double>(duration).count();
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(
                          std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count()),
                      std::memory_order_relaxed);
  }

  Snapshot Read() const {
    Snapshot s;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      s.counts[i] = counts_[i].load(std::memory_order_relaxed);
      s.count += s.counts[i];
    }
    s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
    return s;
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_LATENCY_HISTOGRAM_H_
