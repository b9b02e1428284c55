// The Prometheus text exposition format, version 0.0.4: families of
// samples, each headed by its # HELP and # TYPE lines, written by hand
// (the format is small). Knows nothing of what kvd measures (metrics.h).
#ifndef KVD_DAEMON_METRIC_TEXT_H_
#define KVD_DAEMON_METRIC_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace kvd::daemon {

class MetricText {
 public:
  // What a scrape of it is served as.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a family; its samples must follow before the next family starts
  // (the format requires a family's samples to be contiguous). `type` is
  // "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: `name{labels} value`. `name` is the family's, or for a
  // histogram the family's with _bucket, _sum or _count.
  void Sample(std::string_view name, Labels labels, std::uint64_t value);
  void Sample(std::string_view name, Labels labels, double value);
  void Sample(std::string_view name, std::uint64_t value) { Sample(name, {}, value); }
  void Sample(std::string_view name, double value) { Sample(name, {}, value); }

  // A float as a sample value or an le label: the shortest text that reads
  // back as the same double, in fixed notation from 0.0001 to 1e15;
  // "+Inf" for infinity.
  static std::string Number(double value);

  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }

 private:
  void Name(std::string_view name, Labels labels);

  std::string text_;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_METRIC_TEXT_H_
