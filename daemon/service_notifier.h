// Tells a service manager (systemd, Type=notify) how start-up and shutdown
// go, through sd_notify(3): READY=1 once the data is loaded and the socket
// listens, STATUS= lines, EXTEND_TIMEOUT_USEC= while a long load runs, and
// STOPPING=1 on shutdown.
//
// Nothing happens unless $NOTIFY_SOCKET is set. When it is set but a message
// cannot be delivered (or kvd was built without libsystemd), kvd logs an
// error once: a Type=notify unit would otherwise hang until its start
// timeout with no word of why.
#ifndef KVD_DAEMON_SERVICE_NOTIFIER_H_
#define KVD_DAEMON_SERVICE_NOTIFIER_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace kvd::daemon {

class ServiceNotifier {
 public:
  ServiceNotifier();

  // Whether a service manager listens ($NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }

  void Status(const std::string& text);
  void Ready(const std::string& status);
  void Stopping(const std::string& status);
  // Asks for `more` time for the current phase (start-up or shutdown); never
  // shortens the unit's own timeout.
  void ExtendTimeout(std::chrono::microseconds more);

  // While an instance lives, the start-up timeout is extended every few
  // seconds, with a STATUS= line saying what is being waited for: the load
  // of a large storage.data takes as long as it takes.
  class ExtendWhile {
   public:
    ExtendWhile(ServiceNotifier& notifier, std::string what);
    ~ExtendWhile();
    ExtendWhile(const ExtendWhile&) = delete;
    ExtendWhile& operator=(const ExtendWhile&) = delete;

   private:
    void Run();

    ServiceNotifier& notifier_;
    const std::string what_;
    std::mutex mu_;
    std::condition_variable wake_;
    bool done_ = false;
    std::thread thread_;
  };

  // Sends STATUS=status() every `interval` on `io` until StopReporting(),
  // which must come before `io` is destroyed.
  void ReportPeriodically(boost::asio::io_context& io, std::chrono::seconds interval,
                          std::function<std::string()> status);
  void StopReporting();

 private:
  void Send(const std::string& state);
  void ScheduleReport();

  const bool enabled_;
  std::mutex mu_;        // Send() is called from ExtendWhile's thread too
  bool failed_ = false;  // logged once
  std::unique_ptr<boost::asio::steady_timer> report_timer_;
  std::chrono::seconds report_interval_{0};
  std::function<std::string()> report_status_;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_SERVICE_NOTIFIER_H_
