#include "daemon/expirer.h"

#include <string>
#include <utility>
#include <vector>

namespace kvd::daemon {

Expirer::Expirer(boost::asio::io_context& io, const Engine& engine, Committer& commits,
                 std::function<bool()> commits_here)
    : engine_(engine), commits_(commits), commits_here_(std::move(commits_here)), timer_(io) {}

void Expirer::Start() { Schedule(kInterval); }

void Expirer::Stop() {
  stopped_ = true;
  timer_.cancel();
}

void Expirer::Schedule(std::chrono::milliseconds after) {
  if (stopped_) return;
  timer_.expires_after(after);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Sweep();
  });
}

void Expirer::Sweep() {
  if (stopped_ || in_flight_) return;
  if (!commits_here_()) return Schedule(kInterval);
  const std::uint64_t now = UnixMillis();
  const std::vector<std::string> keys = engine_.ExpiredKeys(now, kMaxPerCommit);
  if (keys.empty()) return Schedule(kInterval);
  batch_.Clear();
  for (const std::string& key : keys) batch_.DeleteExpired(key, now);
  in_flight_ = true;
  commits_.Submit(batch_, [this, count = keys.size()](const CommitResult& result) {
    in_flight_ = false;
    if (result.status().ok()) {
      for (std::size_t i = 0; i < count; ++i) expired_ += result.applied(i) ? 1 : 0;
    }
    // A full commit leaves more due: they go next, at once.
    Schedule(result.status().ok() && count == kMaxPerCommit ? std::chrono::milliseconds(0)
                                                            : kInterval);
  });
}

}  // namespace kvd::daemon
