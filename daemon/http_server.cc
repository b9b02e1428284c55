#include "daemon/http_server.h"

#include <array>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "daemon/log.h"
#include "proto/response.h"
#include "util/utf8.h"

namespace kvd::daemon::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Beast's name of `verb`: static text, as HttpServer::CountResponse needs
// ("<unknown>" for a method it does not know).
std::string_view VerbName(bhttp::verb verb) {
  const auto name = bhttp::to_string(verb);
  return std::string_view(name.data(), name.size());
}

}  // namespace

// One HTTP connection (see http_server.h).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // An idle watch stream sends a comment this often: proxies that close
  // idle connections keep it, and a client gone without a word is noticed.
  static constexpr std::chrono::seconds kHeartbeat{15};

  HttpSession(HttpServer& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), watch_timer_(stream_.get_executor()) {}

  asio::awaitable<void> Run();

  // Graceful stop: a request being received is still answered; a
  // connection waiting for its next request is closed at once.
  // A watch stream ends at once.
  void Stop() {
    if (awaiting_request_ && buffer_.size() == 0 && !(parser_ && parser_->got_some())) {
      stream_.cancel();
    }
    watch_timer_.cancel();
  }
  // Immediate stop.
  void Close() {
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
    watch_timer_.cancel();
  }

 private:
  // Reads the next request into parser_; on failure returns the reply to
  // send before closing (nothing when the connection is gone or timed out).
  asio::awaitable<std::optional<Reply>> ReadRequest(bool* ok);
  // The reply to the request in parser_; sets *route to the path of the
  // route that ran (empty: none did).
  asio::awaitable<Reply> Handle(std::string_view* route);
  // Writes `reply`; false if that failed.
  asio::awaitable<bool> Write(Reply reply, bool keep_alive, bool head);
  // Answers a watch (reply.watch): writes the headers, then the changes as
  // events until the client leaves, the stream falls behind or kvd stops.
  asio::awaitable<void> Watch(Reply reply, bool head);
  // Writes out_ in full (within --http-timeout), then empties it; false if
  // that failed.
  asio::awaitable<bool> Flush();
  // Whether the client is still there, reading (and dropping) what it sent
  // after its watch: false once it closed its connection.
  bool ClientStillThere();
  // After an error answered before the request was read in full: stops
  // sending and reads what the client still sends for a moment, so that
  // closing with unread data (which sends a reset) does not destroy the
  // answer before the client has read it.
  asio::awaitable<void> Linger();

  HttpServer& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool awaiting_request_ = false;
  asio::steady_timer watch_timer_;  // a watch's wait for changes (Watchers)
  std::string out_;                 // a watch's events, to write
};

asio::awaitable<void> HttpSession::Run() {
  boost::system::error_code ignored;
  stream_.socket().set_option(tcp::no_delay(true), ignored);
  for (;;) {
    if (server_.stopping() && buffer_.size() == 0) break;
    // An idle keep-alive connection keeps no large buffer.
    if (buffer_.size() == 0 && buffer_.capacity() > 16 * 1024) buffer_.shrink_to_fit();
    bool ok = false;
    std::optional<Reply> failure = co_await ReadRequest(&ok);
    if (!ok) {
      if (failure) {
        const bhttp::verb method =
            parser_->is_header_done() ? parser_->get().method() : bhttp::verb::unknown;
        server_.CountResponse(VerbName(method), {}, failure->status);
        if (co_await Write(std::move(*failure), false, false)) co_await Linger();
      }
      break;
    }
    std::string_view route;
    Reply reply = co_await Handle(&route);
    const auto& request = parser_->get();
    server_.CountResponse(VerbName(request.method()), route, reply.status);
    const bool keep_alive = request.keep_alive() && !server_.stopping();
    const bool head = request.method() == bhttp::verb::head;
    if (reply.watch) {
      // The stream ends the connection: it has no length.
      co_await Watch(std::move(reply), head);
      break;
    }
    if (!co_await Write(std::move(reply), keep_alive, head) || !keep_alive) break;
  }
  // Lingering-close light: let the client read our last response.
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  Close();
  server_.SessionEnded(this);
}

asio::awaitable<std::optional<Reply>> HttpSession::ReadRequest(bool* ok) {
  parser_.emplace();
  parser_->header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(server_.options().max_header, UINT32_MAX)));
  parser_->body_limit(server_.body_limit());
  stream_.expires_after(server_.options().timeout);
  boost::system::error_code ec;
  awaiting_request_ = true;
  co_await bhttp::async_read_header(stream_, buffer_, *parser_,
                                    asio::redirect_error(asio::use_awaitable, ec));
  awaiting_request_ = false;
  if (!ec && !parser_->is_done()) {
    const auto& header = parser_->get();
    if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, header.version()};
      co_await bhttp::async_write(stream_, go_on, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) {
      co_await bhttp::async_read(stream_, buffer_, *parser_,
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  std::optional<Reply> failure;
  if (ec == bhttp::error::header_limit) {
    failure = ErrorReply(431, "the request line and headers are over " +
                                  std::to_string(server_.options().max_header) +
                                  " bytes (--http-max-header); send large values in the body");
  } else if (ec == bhttp::error::body_limit) {
    failure =
        ErrorReply(413, "the body is over " + std::to_string(server_.body_limit()) + " bytes");
  } else if (ec &&
             ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    // A parse error (not the client leaving, a time-out or a reset).
    failure = ErrorReply(400, "not a well-formed HTTP/1.1 request: " + ec.message());
  }
  *ok = !ec;
  co_return failure;
}

asio::awaitable<Reply> HttpSession::Handle(std::string_view* route) {
  const auto& message = parser_->get();
  Request request;
  request.method = message.method();
  request.accept = std::string(message[bhttp::field::accept]);
  request.host = std::string(message[bhttp::field::host]);
  if (!IsValidUtf8(request.host)) request.host.clear();
  request.last_event_id = std::string(message["Last-Event-ID"]);
  const auto target = message.target();
  if (auto e = ParseTarget(std::string_view(target.data(), target.size()), &request.target)) {
    co_return ErrorReply(400, *e);
  }
  request.body = std::move(parser_->get().body());
  const auto type = message[bhttp::field::content_type];
  request.form_body =
      beast::iequals(type.substr(0, type.find(';')), "application/x-www-form-urlencoded");
  std::optional<Reply> reply;
  try {
    reply = co_await Dispatch(server_.services(), request);
    *route = request.route;
  } catch (const std::exception& e) {
    log::Error(std::string("HTTP request failed: ") + e.what());
  }
  co_return reply ? std::move(*reply) : ErrorReply(500, "internal error; see the server's log");
}

asio::awaitable<bool> HttpSession::Write(Reply reply, bool keep_alive, bool head) {
  const unsigned version = parser_->is_header_done() ? parser_->get().version() : 11;
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(reply.status), version};
  response.set(bhttp::field::server, "kvd/" KVD_VERSION);
  response.set("X-Served-By", server_.options().name);
  response.set(bhttp::field::content_type, reply.content_type);
  response.set(bhttp::field::cache_control, "no-store");
  if (!reply.allow.empty()) response.set(bhttp::field::allow, reply.allow);
  response.keep_alive(keep_alive);
  response.body() = std::move(reply.body);
  response.prepare_payload();
  if (head) response.body().clear();  // Content-Length stays that of the GET
  stream_.expires_after(server_.options().timeout);
  boost::system::error_code ec;
  co_await bhttp::async_write(stream_, response, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> HttpSession::Watch(Reply reply, bool head) {
  const WatchStream watch = std::move(*reply.watch);
  const unsigned version = parser_->get().version();
  out_ = version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
  out_ += "Server: kvd/" KVD_VERSION "\r\nX-Served-By: " + server_.options().name +
          "\r\nContent-Type: " + reply.content_type +
          "\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
  if (head) {
    co_await Flush();
    co_return;
  }
  // First the revision the stream starts after, as the id of an event
  // without data: an EventSource that reconnects before any change came
  // resumes from there.
  std::uint64_t position = watch.position;
  out_ += "id: " + std::to_string(position) + "\n\n";
  if (server_.stopping()) {
    co_await Flush();  // no changes: an EventSource comes back from there
    co_return;
  }
  const Services& services = server_.services();
  Watchers* watchers = services.watchers;
  if (watchers != nullptr) watchers->Started();
  auto last_sent = std::chrono::steady_clock::now();
  bool cut_off = false;
  bool look_at_client = true;  // at first, then when the poll woke it
  std::size_t behind = kNotBehindYet;
  while (!server_.stopping()) {
    if (!AppendChangeEvents(services.engine, watch.prefix, services.limits.max_output, &position,
                            &out_)) {
      cut_off = true;  // outrun while it was being written to
    } else if (out_.empty() && (!look_at_client || ClientStillThere())) {
      if (std::chrono::steady_clock::now() - last_sent >= kHeartbeat) {
        out_ = ":\n\n";
      } else {
        // No --http-timeout while it waits: changes may be long in coming.
        stream_.expires_never();
        look_at_client = true;
        if (watchers != nullptr) {
          look_at_client = co_await watchers->WaitForChanges(watch_timer_);
        } else {
          watch_timer_.expires_after(Watchers::kPollInterval);
          boost::system::error_code ignored;
          co_await watch_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        }
        continue;
      }
    } else if (out_.empty()) {
      break;  // the client left
    }
    if (!cut_off) {
      if (!co_await Flush()) break;
      last_sent = std::chrono::steady_clock::now();
      cut_off = WatcherTooSlow(services.engine, position, &behind);
    }
    if (cut_off) {
      // An event named error, with the revision to watch again from as its
      // id (where an EventSource reconnects from).
      if (watchers != nullptr) watchers->CutOff();
      out_ += "event: error\nid: " + std::to_string(position) + "\ndata: ";
      proto::AppendResponse(SlowWatcher(position), &out_);
      out_ += "\n";
      co_await Flush();
      break;
    }
  }
  if (watchers != nullptr) watchers->Ended();
}

asio::awaitable<bool> HttpSession::Flush() {
  boost::system::error_code ec;
  if (!out_.empty()) {
    stream_.expires_after(server_.options().timeout);
    co_await asio::async_write(stream_, asio::buffer(out_),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  out_.clear();
  co_return !ec;
}

bool HttpSession::ClientStillThere() {
  tcp::socket& socket = stream_.socket();
  if (!socket.is_open()) return false;
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) return false;
  std::array<char, 4096> discard;
  // A client sending without end is not read without end either.
  for (int i = 0; i < 16; ++i) {
    socket.read_some(asio::buffer(discard), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
    if (ec) return false;  // end of stream, a reset
  }
  return true;
}

asio::awaitable<void> HttpSession::Linger() {
  boost::system::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.expires_after(std::chrono::seconds(2));
  std::array<char, 4096> discard;
  while (!ec) {
    co_await stream_.async_read_some(asio::buffer(discard),
                                     asio::redirect_error(asio::use_awaitable, ec));
  }
}

HttpServer::HttpServer(asio::io_context& io, Engine& engine, Committer& commits,
                       const Options& options, std::function<ServerStats()> socket_stats,
                       std::function<void(MetricsSnapshot*)> socket_metrics,
                       std::function<std::optional<NodeRole>()> role, PopWaiters* pop_waiters,
                       Watchers* watchers)
    : io_(io),
      options_(options),
      // Room for a form body holding key and value, each percent-encoded.
      body_limit_(3 * (options.limits.max_key + options.limits.max_value) + 64),
      services_{engine,
                commits,
                options_.limits,
                options_.http,
                [this, socket_stats] {
                  ServerStats stats = socket_stats();
                  stats.emplace_back("http_connections", connections_.size());
                  stats.emplace_back("http_connections_total", connections_.total());
                  stats.emplace_back("http_requests", responses_.total());
                  stats.emplace_back("http_refused_connections", connections_.refused());
                  return stats;
                },
                [this] { return stopping_; },
                std::move(role),
                requests_,
                [this, socket_metrics] { return Metrics(socket_metrics); },
                pop_waiters,
                watchers},
      acceptor_(io),
      connections_(io, options_.limits.max_connections, options_.shutdown_timeout, "HTTP clients") {
}

Status HttpServer::Listen() {
  const std::string address = options_.http.host + ":" + std::to_string(options_.http.port);
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  const auto endpoints = resolver.resolve(options_.http.host, std::to_string(options_.http.port),
                                          tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return Status::InvalidArgument("--http " + address + ": " + ec.message());
  }
  const tcp::endpoint endpoint = *endpoints.begin();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("cannot listen on " + address + ": " + ec.message());
  const tcp::endpoint bound = acceptor_.local_endpoint();
  const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                   : bound.address().to_string();
  log::Notice("HTTP API on http://" + host + ":" + std::to_string(bound.port()) + "/ as \"" +
              options_.http.name + "\"");
  return Status::OK();
}

std::uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  const tcp::endpoint bound = acceptor_.local_endpoint(ec);
  return ec ? 0 : bound.port();
}

std::string HttpServer::Metrics(const std::function<void(MetricsSnapshot*)>& socket_metrics) const {
  MetricsSnapshot m;
  m.store = services_.engine.GetStats();
  socket_metrics(&m);
  m.http = {connections_.size(), connections_.total(), connections_.refused()};
  m.http_requests = &requests_;
  m.http_responses = &responses_;
  return RenderMetrics(m);
}

void HttpServer::Start() { asio::co_spawn(io_, Accept(), asio::detached); }

asio::awaitable<void> HttpServer::Accept() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) co_return;
    if (ec) {
      // Out of descriptors and the like: keep serving the clients we have.
      log::Warning("HTTP accept failed: " + ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    connections_.Accepted();
    if (connections_.full()) {
      Refuse(socket);
      continue;
    }
    auto session = std::make_shared<HttpSession>(*this, std::move(socket));
    connections_.Add(session);
    asio::co_spawn(
        io_, [session] { return session->Run(); }, asio::detached);
  }
}

void HttpServer::Refuse(tcp::socket& socket) {
  connections_.Refused("an HTTP connection",
                       "at --max-connections " + std::to_string(options_.limits.max_connections));
  const Reply reply =
      ErrorReply(503, "kvd serves at most " + std::to_string(options_.limits.max_connections) +
                          " HTTP connections at once; try again later");
  const std::string response =
      "HTTP/1.1 503 Service Unavailable\r\nX-Served-By: " + options_.http.name +
      "\r\nContent-Type: " + reply.content_type +
      "\r\nContent-Length: " + std::to_string(reply.body.size()) +
      "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + reply.body;
  // A fresh socket's send buffer is empty, so this short write does not block.
  boost::system::error_code ignored;
  asio::write(socket, asio::buffer(response), ignored);
  socket.close(ignored);
}

void HttpServer::Shutdown() {
  if (stopping_) return;
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  connections_.Drain(nullptr);
}

}  // namespace kvd::daemon::http
