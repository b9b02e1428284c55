#include "daemon/cpu_steal.h"

#include <charconv>
#include <fstream>
#include <string>
#include <utility>

namespace kvd::daemon {

std::optional<CpuTimes> ParseCpuTimes(std::string_view stat) {
  constexpr std::string_view kPrefix = "cpu ";
  if (stat.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  stat.remove_prefix(kPrefix.size());
  // user nice system idle iowait irq softirq steal
  std::uint64_t field[8];
  for (std::uint64_t& f : field) {
    while (!stat.empty() && stat.front() == ' ') stat.remove_prefix(1);
    const auto [end, ec] = std::from_chars(stat.data(), stat.data() + stat.size(), f);
    if (ec != std::errc()) return std::nullopt;
    stat.remove_prefix(static_cast<std::size_t>(end - stat.data()));
  }
  return CpuTimes{field[0] + field[1] + field[2] + field[5] + field[6], field[7]};
}

CpuSteal::CpuSteal(std::filesystem::path stat_path) : stat_path_(std::move(stat_path)) {}

bool CpuSteal::Contended(Clock::time_point now) {
  if (now < next_sample_) return contended_;
  next_sample_ = now + kSampleInterval;
  const std::optional<CpuTimes> times = Read();
  if (!times) return contended_;
  if (since_ && times->busy >= since_->busy && times->steal >= since_->steal) {
    const std::uint64_t busy = times->busy - since_->busy;
    const std::uint64_t steal = times->steal - since_->steal;
    if (busy + steal < kMinTicks) return contended_;  // judged with more time
    contended_ = static_cast<double>(steal) > kMaxShare * static_cast<double>(busy + steal);
  }
  since_ = times;
  return contended_;
}

std::optional<CpuTimes> CpuSteal::Read() const {
  std::ifstream in(stat_path_);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return ParseCpuTimes(line);
}

}  // namespace kvd::daemon
