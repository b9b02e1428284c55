#include "daemon/session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#ifdef KVD_WITH_CLUSTER
#include "daemon/cluster.h"
#endif
#include "daemon/log.h"
#include "daemon/operations.h"
#include "daemon/server.h"

namespace kvd::daemon {

namespace asio = boost::asio;

namespace {

// Whether `request` is a pop that waits for a value when it takes none.
bool MayWait(const proto::Request& request) {
  return request.op == proto::Op::kPop && request.wait.count() > 0;
}

}  // namespace

Session::Session(Server& server, Stream socket, Committer& commits, bool peer)
    : server_(server),
      commits_(commits),
      peer_(peer),
      limits_(server.limits()),
      socket_(std::move(socket)),
      framer_(limits_.max_line),
      last_progress_(std::chrono::steady_clock::now()),
      idle_timer_(socket_.get_executor()),
      watch_timer_(socket_.get_executor()) {}

void Session::Stop() {
  stopping_ = true;
  watch_timer_.cancel();
  if (reading_) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }
}

void Session::Close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  idle_timer_.cancel();
  watch_timer_.cancel();
}

// The awaits are here rather than in helper coroutines: each coroutine call
// allocates a frame, and this loop runs once per request. A pop's wait, rare
// and long, is the exception (WaitForPop).
asio::awaitable<void> Session::Run() {
  bool watched = false;
  for (;;) {
    const bool more_lines = next_ == decoded_ && !framing_lost_ ? TakeLines() : false;
    // Up to max_output bytes of responses, then write them.
    while (next_ < decoded_ && out_.size() < limits_.max_output) {
      if (const Decoded* pop = PopToParkNow()) {
        // Its key is empty: a commit of its pop would take nothing.
        ++next_;
        co_await WaitForPop(*pop);
      } else if (const std::size_t writes = GatherWrites()) {
        // Consecutive pipelined writes share one commit.
        const CommitResult result = co_await commits_.AsyncSubmit(batch_, asio::use_awaitable);
        if (const Decoded* pop = AnswerWrites(writes, result)) co_await WaitForPop(*pop);
      } else if (const Decoded* watch = WatchAtNext()) {
        ++next_;
        co_await Watch(*watch);
        watched = true;
        break;
      } else if (ReadMustWait()) {
        // One wait for the run of reads that came together.
        const CommitResult ready = co_await commits_.AsyncAwaitReadable(asio::use_awaitable);
        AnswerWaitedReads(ready.status());
      } else if (const Decoded& d = pending_[next_]; !d.error && proto::IsClusterOp(d.request.op)) {
        ++next_;
        proto::Response response;
#ifdef KVD_WITH_CLUSTER
        if (server_.cluster() != nullptr) {
          response = co_await server_.cluster()->Execute(d.request, peer_);
        } else
#endif
        {
          response = proto::Response::Failure(
              {proto::ErrorCode::kInvalidRequest,
               "this kvd is a single node: start it with --node and --peers for cluster mode"});
        }
        response.id = d.request.id;
        proto::AppendResponse(response, &out_);
        Count(d, response.error ? &*response.error : nullptr);
      } else {
        AnswerOther();
      }
    }
    if (watched) break;
    const bool answered = !out_.empty();
    if (answered) {
      // Most responses fit the socket's buffer: only the rest waits.
      boost::system::error_code ec;
      const std::size_t sent = WriteAvailable(socket_, out_, ec);
      if (!ec && sent < out_.size()) {
        co_await asio::async_write(socket_, asio::buffer(out_.data() + sent, out_.size() - sent),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      out_.clear();
      if (ec) break;
      last_progress_ = std::chrono::steady_clock::now();
    }
    // Up to a limit: go on with what was received before reading more.
    if (next_ < decoded_ || more_lines) continue;
    if (framing_lost_) {
      // The rest of an over-long line cannot be framed: the error is sent, hang up.
      log::Warning("closed a connection that sent a line over " + std::to_string(limits_.max_line) +
                   " bytes");
      break;
    }
    if (stopping_) break;

    TrimBuffers();
    if (answered && server_.connections() > 1) {
      // The client is reading the answers just sent: its next request
      // cannot be here yet. Read after the other connections' turns, by
      // when it usually is, rather than spend a recv(2) that finds nothing
      // (doc/design.md, "Reading after the other connections' turns").
      co_await asio::post(socket_.get_executor(), asio::use_awaitable);
      if (stopping_) break;
    }
    reading_ = true;
    boost::system::error_code ec;
    const std::size_t n = co_await reader_.Wait(socket_, ec);
    reading_ = false;
    // Stop(), the socket closed, end of stream or a reset: bytes after the
    // last newline are an incomplete request and are not executed.
    if (ec) break;
    framer_.Feed(reader_.Take(socket_, n, server_.read_buffer()));
  }
  Close();
  server_.SessionEnded(this);
}

asio::awaitable<void> Session::WatchIdle() {
  if (limits_.idle_timeout.count() == 0) co_return;
  while (socket_.is_open()) {
    idle_timer_.expires_at(last_progress_ + limits_.idle_timeout);
    boost::system::error_code ec;
    co_await idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!socket_.is_open()) break;
    if (waiting_) {
      last_progress_ = std::chrono::steady_clock::now();  // a pop's wait is no idleness
      continue;
    }
    if (std::chrono::steady_clock::now() >= last_progress_ + limits_.idle_timeout) {
      log::Info("closing a connection idle for " + std::to_string(limits_.idle_timeout.count()) +
                " s (no complete request, or its responses not taken)");
      Close();
    }
  }
}

bool Session::TakeLines() {
  next_ = decoded_ = 0;
  std::string_view line;
  while (decoded_ < limits_.max_pipeline) {
    const proto::LineFramer::Result result = framer_.Next(&line);
    if (result == proto::LineFramer::Result::kNeedMore) return false;
    // One clock reading for the lines that arrived together: reading it for
    // each showed in profiles.
    if (result == proto::LineFramer::Result::kLine && decoded_ == 0) {
      last_progress_ = std::chrono::steady_clock::now();
    }
    if (decoded_ == pending_.size()) pending_.emplace_back();
    Decoded& d = pending_[decoded_++];
    if (result == proto::LineFramer::Result::kTooLong) {
      d.request = proto::Request{};
      d.understood = false;
      d.error =
          proto::Error{proto::ErrorCode::kLineTooLong,
                       "request line longer than " + std::to_string(limits_.max_line) + " bytes"};
      framing_lost_ = true;
      return false;
    }
    d.error = proto::DecodeRequest(line, &d.request);
    d.understood = !d.error;
    if (!d.error) d.error = CheckSizes(d.request, limits_.max_key, limits_.max_value);
  }
  return true;
}

std::size_t Session::GatherWrites() {
  batch_.Clear();
  std::size_t n = 0;
  const std::uint64_t now = UnixMillis();
  for (std::size_t i = next_; i < decoded_; ++i, ++n) {
    Decoded& d = pending_[i];
    if (d.error || !proto::IsWrite(d.request.op)) break;
    d.mutations = AppendMutations(d.request, server_.engine(), now, &batch_);
    // Its answer may have to wait: the requests after it go after it.
    if (MayWait(d.request)) return n + 1;
  }
  return n;
}

const Session::Decoded* Session::AnswerWrites(std::size_t n, const CommitResult& result) {
  std::size_t first = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Decoded& d = pending_[next_++];
    const std::size_t own = first + d.mutations.guards;
    if (MayWait(d.request) && result.status().ok() && result.removed(own).empty()) return &d;
    const proto::Response response = WriteResponse(d.request, result, server_.engine(), own);
    proto::AppendResponse(response, &out_);
    Count(d, response.error ? &*response.error : nullptr);
    first += d.mutations.count;
  }
  return nullptr;
}

const Session::Decoded* Session::PopToParkNow() const {
  const Decoded& d = pending_[next_];
  return !d.error && MayWait(d.request) && server_.engine().Length(d.request.key) == 0 ? &d
                                                                                       : nullptr;
}

asio::awaitable<void> Session::WaitForPop(const Decoded& pop) {
  waiting_ = true;
  boost::system::error_code ignored;
  auto [status, values] = co_await server_.pop_waiters().AsyncWait(
      pop.request, asio::redirect_error(asio::use_awaitable, ignored),
      [this] { return PeerOpen(socket_); });
  waiting_ = false;
  last_progress_ = std::chrono::steady_clock::now();
  AnswerWaitedPop(pop, status, std::move(values));
}

void Session::AnswerWaitedPop(const Decoded& d, const Status& status,
                              std::vector<std::string> values) {
  proto::Response response;
  if (!status.ok()) {
    response = proto::Response::Failure({status.code() == Status::Code::kUnavailable
                                             ? proto::ErrorCode::kUnavailable
                                             : proto::ErrorCode::kStorageError,
                                         "not popped: " + status.ToString()});
  } else {
    response.values = std::move(values);
  }
  response.id = d.request.id;
  proto::AppendResponse(response, &out_);
  Count(d, response.error ? &*response.error : nullptr);
}

const Session::Decoded* Session::WatchAtNext() const {
  const Decoded& d = pending_[next_];
  return !d.error && d.request.op == proto::Op::kWatch ? &d : nullptr;
}

asio::awaitable<void> Session::Watch(const Decoded& d) {
  const Engine& engine = server_.engine();
  std::uint64_t position = 0;
  const proto::Response start = WatchStart(d.request, engine, &position);
  proto::AppendResponse(start, &out_);
  Count(d, start.error ? &*start.error : nullptr);
  if (start.error) {
    co_await Flush();
    co_return;
  }
  Watchers& watchers = server_.watchers();
  watchers.Started();
  std::size_t behind = kNotBehindYet;
  while (!stopping_) {
    if (!AppendChanges(engine, d.request.prefix, limits_.max_output, &position, &out_)) {
      // Outrun while it was being written to.
      watchers.CutOff();
      proto::AppendResponse(SlowWatcher(position), &out_);
      co_await Flush();
      break;
    }
    if (!out_.empty()) {
      if (!co_await Flush()) break;
      if (WatcherTooSlow(engine, position, &behind)) {
        watchers.CutOff();
        proto::AppendResponse(SlowWatcher(position), &out_);
        co_await Flush();
        break;
      }
      continue;
    }
    // No idleness: a watch may go long without changes.
    waiting_ = true;
    const bool polled = co_await watchers.WaitForChanges(watch_timer_);
    waiting_ = false;
    if (polled && !PeerOpen(socket_)) break;
  }
  watchers.Ended();
}

asio::awaitable<bool> Session::Flush() {
  boost::system::error_code ec;
  const std::size_t sent = WriteAvailable(socket_, out_, ec);
  if (!ec && sent < out_.size()) {
    co_await asio::async_write(socket_, asio::buffer(out_.data() + sent, out_.size() - sent),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  out_.clear();
  if (ec) co_return false;
  last_progress_ = std::chrono::steady_clock::now();
  co_return true;
}

void Session::AnswerOther() {
  const Decoded& d = pending_[next_++];
  if (d.error) {
    proto::AppendResponse(proto::Response::Failure(*d.error, d.request.id), &out_);
  } else {
    AppendReadResponse(
        d.request, server_.engine(), [this] { return server_.Stats(); }, &out_);
  }
  Count(d, d.error ? &*d.error : nullptr);
}

bool Session::ReadMustWait() const {
  const Decoded& d = pending_[next_];
  return !d.error && proto::IsRead(d.request.op) && !d.request.stale && commits_.ReadsWait();
}

void Session::AnswerWaitedReads(const Status& ready) {
  while (next_ < decoded_ && out_.size() < limits_.max_output && ReadMustWait()) {
    const Decoded& d = pending_[next_++];
    if (ready.ok()) {
      AppendReadResponse(
          d.request, server_.engine(), [this] { return server_.Stats(); }, &out_);
      Count(d, nullptr);
    } else {
      const proto::Error error{proto::ErrorCode::kUnavailable, ready.message()};
      proto::AppendResponse(proto::Response::Failure(error, d.request.id), &out_);
      Count(d, &error);
    }
  }
}

void Session::Count(const Decoded& d, const proto::Error* error) {
  RequestCounters& counters = server_.requests();
  if (error == nullptr) {
    counters.Count(d.request.op);
  } else {
    counters.CountError(d.understood ? std::optional(d.request.op) : std::nullopt, error->code);
  }
}

void Session::TrimBuffers() {
  std::size_t kept = pending_.capacity() * sizeof(Decoded);
  for (const Decoded& d : pending_) {
    const proto::Request& r = d.request;
    kept += r.key.capacity() + r.val.capacity() + r.prefix.capacity() + r.id.capacity() +
            r.items.capacity() * sizeof(proto::KeyValue);
  }
  if (kept > kKeepBytes) std::vector<Decoded>().swap(pending_);
  if (batch_.capacity_bytes() > kKeepBytes) batch_ = WriteBatch();
  if (out_.capacity() > kKeepBytes) std::string().swap(out_);
}

}  // namespace kvd::daemon
