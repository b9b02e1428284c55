#include "daemon/service_notifier.h"

#include <cstdlib>
#include <cstring>

#include "daemon/log.h"

#ifdef KVD_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace kvd::daemon {

namespace {

// How often a long load asks for more time, and how much it asks for: three
// periods, so one late wake-up of the thread does not time the unit out.
constexpr std::chrono::seconds kExtendPeriod{5};

}  // namespace

ServiceNotifier::ServiceNotifier() : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr) {}

void ServiceNotifier::Send([[maybe_unused]] const std::string& state) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  if (failed_) return;
#ifdef KVD_WITH_SYSTEMD
  const int r = sd_notify(0, state.c_str());
  if (r > 0) return;
  failed_ = true;
  log::Error("cannot notify the service manager at NOTIFY_SOCKET=" +
             std::string(std::getenv("NOTIFY_SOCKET")) + ": " +
             (r < 0 ? std::strerror(-r) : "no socket") +
             "; a Type=notify unit will not see kvd start or stop");
#else
  failed_ = true;
  log::Error(
      "NOTIFY_SOCKET is set, but this kvd was built without libsystemd and cannot notify "
      "the service manager; run it as Type=simple or rebuild with -Dsystemd=enabled");
#endif
}

void ServiceNotifier::Status(const std::string& text) { Send("STATUS=" + text); }

void ServiceNotifier::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + status); }

void ServiceNotifier::Stopping(const std::string& status) { Send("STOPPING=1\nSTATUS=" + status); }

void ServiceNotifier::ExtendTimeout(std::chrono::microseconds more) {
  Send("EXTEND_TIMEOUT_USEC=" + std::to_string(more.count()));
}

ServiceNotifier::ExtendWhile::ExtendWhile(ServiceNotifier& notifier, std::string what)
    : notifier_(notifier), what_(std::move(what)) {
  if (!notifier_.enabled()) return;
  notifier_.ExtendTimeout(3 * kExtendPeriod);
  notifier_.Status(what_);
  thread_ = std::thread([this] { Run(); });
}

ServiceNotifier::ExtendWhile::~ExtendWhile() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void ServiceNotifier::ExtendWhile::Run() {
  const auto started = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, kExtendPeriod, [this] { return done_; })) {
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    notifier_.ExtendTimeout(3 * kExtendPeriod);
    notifier_.Status(what_ + " (" + std::to_string(seconds) + " s so far)");
  }
}

void ServiceNotifier::ReportPeriodically(boost::asio::io_context& io, std::chrono::seconds interval,
                                         std::function<std::string()> status) {
  if (!enabled_) return;
  report_timer_ = std::make_unique<boost::asio::steady_timer>(io);
  report_interval_ = interval;
  report_status_ = std::move(status);
  ScheduleReport();
}

void ServiceNotifier::ScheduleReport() {
  report_timer_->expires_after(report_interval_);
  report_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    Status(report_status_());
    ScheduleReport();
  });
}

void ServiceNotifier::StopReporting() { report_timer_.reset(); }

}  // namespace kvd::daemon
