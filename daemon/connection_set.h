// The connections a server runs, kept alike by the socket server and the HTTP
// server: their figures, the --max-connections limit, the refusal log, and the
// shutdown that lets each session finish the request it is in.
//
// `Session` has Stop() (end once the request in hand is answered) and Close()
// (end at once), and tells the set when it has ended (Remove). Network thread
// only.
#ifndef KVD_DAEMON_CONNECTION_SET_H_
#define KVD_DAEMON_CONNECTION_SET_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/log.h"

namespace kvd::daemon {

template <typename Session>
class ConnectionSet {
 public:
  // `clients` names them in the log ("clients", "HTTP clients").
  ConnectionSet(boost::asio::io_context& io, std::size_t max_connections,
                std::chrono::milliseconds shutdown_timeout, std::string clients)
      : max_connections_(max_connections),
        shutdown_timeout_(shutdown_timeout),
        clients_(std::move(clients)),
        deadline_(io) {}

  void Accepted() { ++total_; }
  // --max-connections are open: the caller refuses the next (Refused).
  bool full() const { return sessions_.size() >= max_connections_; }
  // Counts a refused connection and logs it, at most once a second, as a
  // flood must not flood the log; `connection` names it ("a connection").
  void Refused(const std::string& connection, const std::string& why) {
    ++refused_;
    if (refusal_log_.Allow()) {
      log::Warning("refused " + connection + " (" + why + "); " + std::to_string(refused_) +
                   " refused so far");
    }
  }
  void Add(std::shared_ptr<Session> session) {
    Session* raw = session.get();
    sessions_.emplace(raw, std::move(session));
  }
  // A session has ended; the last one to end during a drain completes it.
  void Remove(Session* session) {
    sessions_.erase(session);
    if (draining_ && sessions_.empty()) {
      deadline_.cancel();
      if (drained_) std::exchange(drained_, nullptr)();
    }
  }
  // Stops every session, closes those still open after the shutdown
  // timeout, and calls `drained` once none is left (at once if none is).
  void Drain(std::function<void()> drained) {
    draining_ = true;
    if (sessions_.empty()) {
      if (drained) drained();
      return;
    }
    drained_ = std::move(drained);
    for (auto& [raw, session] : sessions_) session->Stop();
    deadline_.expires_after(shutdown_timeout_);
    deadline_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      log::Warning(std::to_string(sessions_.size()) + " " + clients_ +
                   " did not take their last responses in time; disconnecting them");
      for (auto& [raw, session] : sessions_) session->Close();
    });
  }

  std::size_t size() const { return sessions_.size(); }
  std::uint64_t total() const { return total_; }
  std::uint64_t refused() const { return refused_; }

 private:
  const std::size_t max_connections_;
  const std::chrono::milliseconds shutdown_timeout_;
  const std::string clients_;
  boost::asio::steady_timer deadline_;
  bool draining_ = false;
  std::function<void()> drained_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;
  std::uint64_t total_ = 0;
  std::uint64_t refused_ = 0;
  log::Throttle refusal_log_{std::chrono::seconds(1)};
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_CONNECTION_SET_H_
