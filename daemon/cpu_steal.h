// Whether the host is short of CPU for this machine: the share of the time
// its CPUs wanted to run that the hypervisor gave to others instead (steal
// time, /proc/stat).
//
// Why kvd asks: polling (event_loop.h) spends a CPU so as to be awake when
// work comes. That pays where the CPU would otherwise idle. On a host that
// oversubscribes its CPUs, a polling vCPU is time the host takes from the
// vCPUs that run the threads the poller waits for: the commit thread woken
// from its fdatasync, the clients. There polling makes kvd slower, not
// faster (doc/design.md, "Polling only while the host has CPU to spare").
//
// Sampled at most every kSampleInterval, and only by a caller that is about
// to poll: an idle daemon reads nothing. Where /proc/stat is missing or
// unreadable (not Linux), never contended.
#ifndef KVD_DAEMON_CPU_STEAL_H_
#define KVD_DAEMON_CPU_STEAL_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace kvd::daemon {

// The machine's CPU time so far, in clock ticks: busy (user, nice, system,
// irq, softirq) and stolen.
struct CpuTimes {
  std::uint64_t busy = 0;
  std::uint64_t steal = 0;
};

// Parses /proc/stat's first line ("cpu  user nice system idle iowait irq
// softirq steal ..."); nullopt if `stat` does not start with one.
std::optional<CpuTimes> ParseCpuTimes(std::string_view stat);

class CpuSteal {
 public:
  using Clock = std::chrono::steady_clock;

  // More than this share of the busy and stolen time stolen is contended:
  // far above what a host with CPU to spare steals, far below what an
  // oversubscribed one does.
  static constexpr double kMaxShare = 0.1;
  static constexpr std::chrono::milliseconds kSampleInterval{250};
  // A judgement needs this much busy and stolen time (10 ms ticks: 100 ms of
  // a CPU); until then samples add up.
  static constexpr std::uint64_t kMinTicks = 10;

  explicit CpuSteal(std::filesystem::path stat_path = "/proc/stat");

  // Whether the host was short of CPU when last judged (false before the
  // first judgement). Samples `stat_path` if kSampleInterval has passed since
  // it last did at `now`.
  bool Contended(Clock::time_point now);

 private:
  std::optional<CpuTimes> Read() const;

  const std::filesystem::path stat_path_;
  Clock::time_point next_sample_{};
  std::optional<CpuTimes> since_;  // where the time being judged starts
  bool contended_ = false;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_CPU_STEAL_H_
