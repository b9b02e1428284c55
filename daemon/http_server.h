// The HTTP/1.1 server (kvd --http): accepts TCP connections on the socket
// server's io_context and serves each with a coroutine that reads requests,
// routes them (http_routes.h) and writes responses in request order
// (keep-alive and pipelining). Per connection, memory is bounded by
// --http-max-header and the body limit, and a request must arrive in full,
// and a response be taken, within --http-timeout, so a slow or hostile
// client costs one connection slot and never stalls the others. A watch
// (GET /api/v1/watch) answers a stream of Server-Sent Events instead, which
// ends the connection and has no --http-timeout while it waits for changes.
// When the socket server shuts down (SIGINT/SIGTERM; main.cc calls Shutdown)
// it stops accepting, lets each connection finish the request it is reading
// and ends the watch streams.
#ifndef KVD_DAEMON_HTTP_SERVER_H_
#define KVD_DAEMON_HTTP_SERVER_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "daemon/committer.h"
#include "daemon/connection_set.h"
#include "daemon/http_counters.h"
#include "daemon/http_routes.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/operations.h"
#include "daemon/options.h"
#include "store/engine.h"

namespace kvd::daemon::http {

class HttpSession;

class HttpServer {
 public:
  // `socket_stats` gives the socket server's figures for /api/v1/stats,
  // `socket_metrics` fills them in for /metrics (Server::Metrics); `role`,
  // in cluster mode, this node's role for /health; `pop_waiters` (the
  // socket server's, Server::pop_waiters) parks pops that wait, so that
  // both kinds of clients wait in one line (null: HTTP pops do not wait);
  // `watchers` (Server::watchers) wakes the watch streams (GET
  // /api/v1/watch) after each commit and counts them with the socket's
  // (null: they poll, uncounted).
  HttpServer(boost::asio::io_context& io, Engine& engine, Committer& commits,
             const Options& options, std::function<ServerStats()> socket_stats,
             std::function<void(MetricsSnapshot*)> socket_metrics,
             std::function<std::optional<NodeRole>()> role = {}, PopWaiters* pop_waiters = nullptr,
             Watchers* watchers = nullptr);

  // Binds options.http's address and logs the one bound ("HTTP API on
  // http://127.0.0.1:8080/"; tests read the port from it when it was 0).
  Status Listen();
  // The port Listen bound (0 before).
  std::uint16_t port() const;
  // Starts accepting.
  void Start();
  // Stops accepting and lets each connection finish the request it is in
  // (until --shutdown-timeout); called when the socket server shuts down.
  void Shutdown();

  // For sessions.
  const Services& services() const { return services_; }
  const HttpOptions& options() const { return options_.http; }
  std::size_t body_limit() const { return body_limit_; }
  bool stopping() const { return stopping_; }
  // A response sent: `method` as Beast names it, `route` the route's path
  // (empty: none).
  void CountResponse(std::string_view method, std::string_view route, unsigned status) {
    responses_.Count(method, route.empty() ? HttpCounters::kNoRoute : route, status);
  }
  void SessionEnded(HttpSession* session) { connections_.Remove(session); }

 private:
  boost::asio::awaitable<void> Accept();
  // GET /metrics's body.
  std::string Metrics(const std::function<void(MetricsSnapshot*)>& socket_metrics) const;
  // Answers a connection over --max-connections with 503 and closes it.
  void Refuse(boost::asio::ip::tcp::socket& socket);

  boost::asio::io_context& io_;
  const Options options_;
  const std::size_t body_limit_;
  const Services services_;
  boost::asio::ip::tcp::acceptor acceptor_;
  bool stopping_ = false;
  ConnectionSet<HttpSession> connections_;
  RequestCounters requests_;  // by operation (Services::requests)
  HttpCounters responses_;    // by route and status
};

}  // namespace kvd::daemon::http

#endif  // KVD_DAEMON_HTTP_SERVER_H_
