#include "daemon/leader_link.h"

#include <deque>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace kvd::daemon {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

proto::Response Unavailable(std::string message) {
  return proto::Response::Failure(proto::Error{proto::ErrorCode::kUnavailable, std::move(message)});
}

// The endpoint of an IPv4 or IPv6 HOST:PORT given as numbers; nullopt if it is none.
std::optional<tcp::endpoint> Endpoint(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  const std::string port = address.substr(colon + 1);
  if (ec || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return std::nullopt;
  }
  return tcp::endpoint(ip, static_cast<unsigned short>(std::stoul(port)));
}

// Connects `socket` to `address` within `timeout`; the error, if any.
asio::awaitable<boost::system::error_code> Connect(tcp::socket& socket, const std::string& address,
                                                   std::chrono::milliseconds timeout) {
  const auto endpoint = Endpoint(address);
  if (!endpoint) co_return asio::error::make_error_code(asio::error::invalid_argument);
  asio::steady_timer deadline(socket.get_executor(), timeout);
  bool timed_out = false;
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  boost::system::error_code ec;
  co_await socket.async_connect(*endpoint, asio::redirect_error(asio::use_awaitable, ec));
  deadline.cancel();
  if (timed_out) ec = asio::error::timed_out;
  if (!ec) socket.set_option(tcp::no_delay(true), ec);
  co_return ec;
}

}  // namespace

class LeaderLink::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::any_io_executor executor, std::string address, std::chrono::milliseconds timeout)
      : address_(std::move(address)),
        timeout_(timeout),
        socket_(executor),
        wake_(executor, Clock::time_point::max()),
        deadline_(executor) {}

  const std::string& address() const { return address_; }
  bool closed() const { return closed_; }

  void Start() {
    auto self = shared_from_this();
    asio::co_spawn(
        socket_.get_executor(), [self] { return self->Run(); }, asio::detached);
  }

  void Send(const proto::Request& request, Done done) {
    pending_.push_back(Pending{std::move(done), Clock::now() + timeout_});
    out_ += proto::EncodeRequest(request);
    wake_.cancel();
    if (pending_.size() == 1) ArmDeadline();
  }

  // Answers whatever waits with `why` (if not empty) and closes.
  void Fail(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    wake_.cancel();
    deadline_.cancel();
    auto pending = std::move(pending_);
    pending_.clear();
    for (Pending& p : pending) {
      p.done(Unavailable(why.empty() ? "the node is stopping" : why));
    }
  }

 private:
  struct Pending {
    Done done;
    Clock::time_point deadline;
  };

  asio::awaitable<void> Run() {
    auto self = shared_from_this();
    if (const auto ec = co_await Connect(socket_, address_, timeout_)) {
      Fail("cannot reach the leader's peer listener at " + address_ + ": " + ec.message());
      co_return;
    }
    asio::co_spawn(
        socket_.get_executor(), [self] { return self->Write(); }, asio::detached);
    std::string in;
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = co_await asio::async_read_until(
          socket_, asio::dynamic_buffer(in), '\n', asio::redirect_error(asio::use_awaitable, ec));
      if (closed_) co_return;
      if (ec || pending_.empty()) {
        Fail("lost the connection to the leader at " + address_ +
             (ec ? ": " + ec.message() : std::string(": an answer nobody asked for")) +
             "; the request may or may not have been applied");
        co_return;
      }
      proto::Response response;
      if (auto bad = proto::DecodeResponse(std::string_view(in.data(), n), &response)) {
        response = Unavailable("the leader at " + address_ + " sent " + bad->message);
      }
      in.erase(0, n);
      Pending p = std::move(pending_.front());
      pending_.pop_front();
      p.done(response);
      if (closed_) co_return;
      ArmDeadline();
    }
  }

  asio::awaitable<void> Write() {
    auto self = shared_from_this();
    std::string sending;
    while (!closed_) {
      if (out_.empty()) {
        boost::system::error_code ignored;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        continue;
      }
      sending.swap(out_);
      boost::system::error_code ec;
      co_await asio::async_write(socket_, asio::buffer(sending),
                                 asio::redirect_error(asio::use_awaitable, ec));
      sending.clear();
      if (ec) {
        Fail("lost the connection to the leader at " + address_ + ": " + ec.message() +
             "; the request may or may not have been applied");
      }
    }
  }

  // Times the oldest request out: a leader that does not answer it in time
  // is taken for gone.
  void ArmDeadline() {
    if (pending_.empty()) return;
    deadline_.expires_at(pending_.front().deadline);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed_ || self->pending_.empty()) return;
      if (Clock::now() < self->pending_.front().deadline) return self->ArmDeadline();
      self->Fail("the leader at " + self->address_ + " did not answer within " +
                 std::to_string(self->timeout_.count()) +
                 " ms; the request may or may not have been applied");
    });
  }

  const std::string address_;
  const std::chrono::milliseconds timeout_;
  tcp::socket socket_;
  asio::steady_timer wake_;      // cancelled when there is something to write
  asio::steady_timer deadline_;  // the oldest request's
  std::deque<Pending> pending_;
  std::string out_;  // requests not yet written
  bool closed_ = false;
};

LeaderLink::LeaderLink(asio::any_io_executor executor, std::chrono::milliseconds timeout)
    : executor_(std::move(executor)), timeout_(timeout) {}

LeaderLink::~LeaderLink() { Close(); }

void LeaderLink::Send(const std::string& address, const proto::Request& request, Done done) {
  if (closed_) {
    done(Unavailable("the node is stopping"));
    return;
  }
  Follow(address);
  if (!current_) {
    current_ = std::make_shared<Connection>(executor_, address, timeout_);
    current_->Start();
  }
  current_->Send(request, std::move(done));
}

void LeaderLink::Follow(const std::string& address) {
  if (!current_ || (!current_->closed() && current_->address() == address)) return;
  current_->Fail("the leader changed while the request went to " + current_->address() +
                 "; it may or may not have been applied");
  current_.reset();
}

void LeaderLink::Close() {
  closed_ = true;
  if (current_) current_->Fail("");
  current_.reset();
}

asio::awaitable<std::optional<proto::Response>> CallPeer(std::string address,
                                                         proto::Request request,
                                                         std::chrono::milliseconds timeout) {
  tcp::socket socket(co_await asio::this_coro::executor);
  if (co_await Connect(socket, address, timeout)) co_return std::nullopt;
  asio::steady_timer deadline(socket.get_executor(), timeout);
  deadline.async_wait([&](const boost::system::error_code& ec) {
    boost::system::error_code ignored;
    if (!ec) socket.close(ignored);
  });
  boost::system::error_code ec;
  co_await asio::async_write(socket, asio::buffer(proto::EncodeRequest(request)),
                             asio::redirect_error(asio::use_awaitable, ec));
  std::string in;
  std::size_t n = 0;
  if (!ec) {
    n = co_await asio::async_read_until(socket, asio::dynamic_buffer(in), '\n',
                                        asio::redirect_error(asio::use_awaitable, ec));
  }
  deadline.cancel();
  proto::Response response;
  if (ec || proto::DecodeResponse(std::string_view(in.data(), n), &response)) {
    co_return std::nullopt;
  }
  co_return response;
}

}  // namespace kvd::daemon
