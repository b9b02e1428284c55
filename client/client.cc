#include "util/asio_prelude.h"

#include "kvd/client.h"

#include <algorithm>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include "client/call.h"
#include "client/transport.h"
#include "proto/change.h"
#include "proto/endpoint.h"

namespace kvd::client {
namespace {

namespace asio = boost::asio;

std::uint64_t RandomId() {
  std::random_device random;
  std::uint64_t id = 0;
  while (id == 0) id = (std::uint64_t{random()} << 32) ^ random();
  return id;
}

// The values of a get's response, and in *revision (unless null) its
// revision; throws "bad_response" if either is missing.
std::vector<std::string> ValuesOf(proto::Response response, std::uint64_t* revision) {
  if (!response.values) throw Error("bad_response", "kvd sent no values for get");
  if (revision != nullptr) {
    if (!response.revision) {
      throw Error("bad_response", "kvd sent no revision for get (a kvd from before revisions?)");
    }
    *revision = *response.revision;
  }
  return std::move(*response.values);
}

// The first pause before a retry, doubled each time up to kMaxPause.
constexpr std::chrono::milliseconds kFirstPause{20};
constexpr std::chrono::milliseconds kMaxPause{500};

}  // namespace

// The connection and the retry state behind a Client.
class Connection {
 public:
  Connection(const std::string& socket_path, std::chrono::milliseconds retry_timeout)
      : socket_path_(socket_path), retry_timeout_(retry_timeout), id_(RandomId()), socket_(io_) {
    if (const boost::system::error_code ec = Connect(socket_, socket_path)) {
      throw Error("unreachable", "cannot connect to kvd at " + socket_path + ": " + ec.message());
    }
  }

  proto::Response Call(const proto::Request& request);

  proto::Response Write(proto::Request request) {
    request.client = id_;
    request.seq = ++last_seq_;
    return Call(request);
  }

  std::uint64_t id() const { return id_; }
  const std::string& socket_path() const { return socket_path_; }

  // Client::Watch, on a connection of its own.
  void Watch(const proto::Request& watch, const std::function<bool(const Change&)>& on_change);

 private:
  // One attempt of Call.
  proto::Response Send(const proto::Request& request);
  // Reads the next line the server sent, '\n' included; throws
  // "connection_lost" (with `write_error`, if any, as the cause).
  std::string_view ReadLine(const boost::system::error_code& write_error = {});
  // Throws what a failed response says: Conflict, WatchEnded or Error.
  [[noreturn]] void ThrowFailure(const proto::Response& response) const;

  std::string socket_path_;
  const std::chrono::milliseconds retry_timeout_;
  const std::uint64_t id_;  // random, never 0
  std::uint64_t last_seq_ = 0;
  asio::io_context io_;
  Stream socket_;
  std::string in_;  // bytes received after the last response line
};

proto::Response Connection::Call(const proto::Request& request) {
  const auto deadline = std::chrono::steady_clock::now() + retry_timeout_;
  auto pause = kFirstPause;
  for (;;) {
    try {
      return Send(request);
    } catch (const Error& e) {
      const bool retryable = e.code() == "unavailable" || e.code() == "connection_lost";
      const auto now = std::chrono::steady_clock::now();
      if (!retryable || now + pause > deadline) throw;
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, kMaxPause);
      if (e.code() == "connection_lost") {
        // The same daemon again (a cluster's other nodes are on their own
        // machines); if it is gone, that is the answer.
        boost::system::error_code ignored;
        socket_.close(ignored);
        in_.clear();
        if (const boost::system::error_code ec = Connect(socket_, socket_path_)) throw;
      }
    }
  }
}

proto::Response Connection::Send(const proto::Request& request) {
  boost::system::error_code write_error;
  asio::write(socket_, asio::buffer(proto::EncodeRequest(request)), write_error);
  // Even when the write failed, the server may have said why before it hung
  // up (too many connections, not allowed): read that first.
  const std::string_view line = ReadLine(write_error);
  proto::Response response;
  const auto bad = proto::DecodeResponse(line, &response);
  in_.erase(0, line.size());
  if (bad) throw Error("bad_response", "kvd at " + socket_path_ + " sent " + bad->message);
  if (response.error) ThrowFailure(response);
  return response;
}

void Connection::Watch(const proto::Request& watch,
                       const std::function<bool(const Change&)>& on_change) {
  Send(watch);
  for (;;) {
    const std::string_view line = ReadLine();
    proto::WatchLine decoded;
    const auto bad = proto::DecodeWatchLine(line, &decoded);
    in_.erase(0, line.size());
    if (bad) throw Error("bad_response", "kvd at " + socket_path_ + " sent " + bad->message);
    if (decoded.end) {
      if (decoded.end->error) ThrowFailure(*decoded.end);
      throw Error("bad_response", "kvd at " + socket_path_ + " ended a watch without an error");
    }
    proto::Change& c = *decoded.change;
    Change change{c.revision, std::move(c.key), std::string(proto::ChangeKindName(c.kind)),
                  std::move(c.values), c.at_ms};
    if (!on_change(change)) return;
  }
}

std::string_view Connection::ReadLine(const boost::system::error_code& write_error) {
  boost::system::error_code ec;
  const std::size_t n = asio::read_until(socket_, asio::dynamic_buffer(in_), '\n', ec);
  if (ec) {
    if (write_error) ec = write_error;
    throw Error("connection_lost",
                "lost the connection to kvd at " + socket_path_ + ": " + ec.message());
  }
  return std::string_view(in_.data(), n);
}

void Connection::ThrowFailure(const proto::Response& response) const {
  const proto::ErrorCode code = response.error->code;
  const std::string message = "kvd at " + socket_path_ + ": " + response.error->message;
  const bool with_revision = code == proto::ErrorCode::kConflict ||
                             code == proto::ErrorCode::kCompacted ||
                             code == proto::ErrorCode::kSlowWatcher;
  if (with_revision && !response.revision) {
    throw Error("bad_response", "kvd at " + socket_path_ + " sent " +
                                    std::string(proto::ErrorCodeName(code)) +
                                    " without a revision");
  }
  if (code == proto::ErrorCode::kConflict) throw Conflict(message, *response.revision);
  if (with_revision) {
    throw WatchEnded(std::string(proto::ErrorCodeName(code)), message, *response.revision);
  }
  throw Error(std::string(proto::ErrorCodeName(code)), message);
}

// Reaches a Client's Connection for client/call.h.
struct ClientAccess {
  static Connection& Of(Client& client) { return *client.connection_; }
};

proto::Response Call(Client& client, const proto::Request& request) {
  return ClientAccess::Of(client).Call(request);
}

proto::Response Write(Client& client, proto::Request request) {
  return ClientAccess::Of(client).Write(std::move(request));
}

std::string DefaultSocketPath() { return proto::DefaultSocketPath(); }

Client::Client(const std::string& socket_path, std::chrono::milliseconds retry_timeout)
    : connection_(std::make_unique<Connection>(socket_path, retry_timeout)) {}

Client::~Client() = default;

std::uint64_t Client::id() const { return connection_->id(); }

void Client::Ping() { connection_->Call(proto::Request::Ping()); }

void Client::Append(std::string_view key, std::string_view val) {
  connection_->Write(proto::Request::Append(std::string(key), std::string(val)));
}

void Client::Append(std::string_view key, std::string_view val, const Condition& condition) {
  proto::Request request = proto::Request::Append(std::string(key), std::string(val));
  if (condition.on == Condition::On::kRevision) {
    request.if_revision = condition.value;
  } else {
    request.if_length = condition.value;
  }
  connection_->Write(std::move(request));
}

void Client::AppendMany(std::vector<KeyValue> items) {
  std::vector<proto::KeyValue> wire;
  wire.reserve(items.size());
  for (auto& kv : items) wire.push_back({std::move(kv.key), std::move(kv.val)});
  connection_->Write(proto::Request::AppendMany(std::move(wire)));
}

std::vector<std::string> Client::Get(std::string_view key) { return Get(key, nullptr); }

std::vector<std::string> Client::Get(std::string_view key, std::uint64_t* revision) {
  return ValuesOf(connection_->Call(proto::Request::Get(std::string(key))), revision);
}

std::vector<std::string> Client::GetRange(std::string_view key, std::int64_t start,
                                          std::int64_t stop, std::uint64_t* revision) {
  proto::Request request = proto::Request::Get(std::string(key));
  request.start = start;
  request.stop = stop;
  return ValuesOf(connection_->Call(request), revision);
}

std::uint64_t Client::Length(std::string_view key) {
  const auto response = connection_->Call(proto::Request::Len(std::string(key)));
  if (!response.length) throw Error("bad_response", "kvd sent no length for len");
  return *response.length;
}

void Client::Trim(std::string_view key, std::int64_t start, std::int64_t stop) {
  connection_->Write(proto::Request::Trim(std::string(key), start, stop));
}

std::vector<std::string> Client::Pop(std::string_view key, std::uint64_t count, bool from_tail,
                                     std::chrono::milliseconds wait) {
  proto::Request request = proto::Request::Pop(std::string(key), count, from_tail);
  request.wait = wait;
  auto response = connection_->Write(std::move(request));
  if (!response.values) throw Error("bad_response", "kvd sent no values for pop");
  return std::move(*response.values);
}

void Client::Watch(std::string_view prefix, std::optional<std::uint64_t> from,
                   const std::function<bool(const Change&)>& on_change) {
  // The stream takes a connection for itself, closed however it ends.
  Connection stream(connection_->socket_path(), std::chrono::milliseconds(0));
  stream.Watch(proto::Request::Watch(std::string(prefix), from), on_change);
}

bool Client::Expire(std::string_view key, std::int64_t seconds) {
  auto response = connection_->Write(proto::Request::Expire(std::string(key), seconds));
  if (!response.existed) throw Error("bad_response", "kvd sent no \"existed\" for expire");
  return *response.existed;
}

bool Client::Persist(std::string_view key) {
  auto response = connection_->Write(proto::Request::Persist(std::string(key)));
  if (!response.persisted) throw Error("bad_response", "kvd sent no \"persisted\" for persist");
  return *response.persisted;
}

std::int64_t Client::TimeToLive(std::string_view key) {
  const auto response = connection_->Call(proto::Request::Ttl(std::string(key)));
  if (!response.ttl_ms) throw Error("bad_response", "kvd sent no \"ttl_ms\" for ttl");
  return *response.ttl_ms;
}

void Client::AppendWithTtl(std::string_view key, std::string_view val, std::chrono::seconds ttl) {
  proto::Request request = proto::Request::Append(std::string(key), std::string(val));
  // Refused here as the daemon would: "ttl" 0 is none.
  if (ttl.count() < 1) throw Error("invalid_request", "a TTL is 1 second or more");
  request.ttl = static_cast<std::uint64_t>(ttl.count());
  connection_->Write(std::move(request));
}

bool Client::Delete(std::string_view key) {
  auto response = connection_->Write(proto::Request::Delete(std::string(key)));
  return response.deleted.value_or(false);
}

std::vector<std::string> Client::Keys(std::string_view prefix) {
  auto response = connection_->Call(proto::Request::Keys(std::string(prefix)));
  if (!response.keys) throw Error("bad_response", "kvd sent no keys for keys");
  return std::move(*response.keys);
}

std::vector<std::pair<std::string, std::uint64_t>> Client::Stats() {
  return connection_->Call(proto::Request::Stats()).stats;
}

}  // namespace kvd::client
