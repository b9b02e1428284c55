#include "daemon/session.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "daemon/log.h"
#include "daemon/operations.h"
#include "daemon/server.h"

namespace kvd::daemon {

namespace asio = boost::asio;

Session::Session(Server& server, Stream socket)
    : server_(server),
      limits_(server.limits()),
      socket_(std::move(socket)),
      framer_(limits_.max_line),
      last_progress_(std::chrono::steady_clock::now()),
      idle_timer_(socket_.get_executor()) {}

void Session::Stop() {
  stopping_ = true;
  if (reading_) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }
}

void Session::Close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  idle_timer_.cancel();
}

asio::awaitable<void> Session::Run() {
  for (;;) {
    const bool more_lines = pending_.empty() && !framing_lost_ ? TakeLines() : false;
    if (!pending_.empty()) co_await ExecutePending();
    if (!out_.empty()) {
      boost::system::error_code ec;
      co_await asio::async_write(socket_, asio::buffer(out_),
                                 asio::redirect_error(asio::use_awaitable, ec));
      out_.clear();
      if (ec) break;
      last_progress_ = std::chrono::steady_clock::now();
    }
    // Up to a limit: go on with what was received before reading more.
    if (!pending_.empty() || more_lines) continue;
    if (framing_lost_) {
      // The rest of an over-long line cannot be framed: the error is sent, hang up.
      log::Warning("closed a connection that sent a line over " + std::to_string(limits_.max_line) +
                   " bytes");
      break;
    }
    if (stopping_) break;

    // On POSIX an idle connection costs no read buffer (StreamReader).
    reading_ = true;
    boost::system::error_code ec;
    const std::string_view chunk = co_await reader_.ReadSome(socket_, server_.read_buffer(), ec);
    reading_ = false;
    // Stop(), the socket closed, end of stream or a reset: bytes after the
    // last newline are an incomplete request and are not executed.
    if (ec) break;
    framer_.Feed(chunk);
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
    if (std::chrono::steady_clock::now() >= last_progress_ + limits_.idle_timeout) {
      log::Info("closing a connection idle for " + std::to_string(limits_.idle_timeout.count()) +
                " s (no complete request, or its responses not taken)");
      Close();
    }
  }
}

bool Session::TakeLines() {
  std::string line;
  while (pending_.size() < limits_.max_pipeline) {
    switch (framer_.Next(&line)) {
      case proto::LineFramer::Result::kLine: {
        last_progress_ = std::chrono::steady_clock::now();
        Decoded d;
        d.error = proto::DecodeRequest(line, &d.request);
        if (!d.error) d.error = CheckSizes(d.request, limits_.max_key, limits_.max_value);
        pending_.push_back(std::move(d));
        break;
      }
      case proto::LineFramer::Result::kNeedMore:
        return false;
      case proto::LineFramer::Result::kTooLong:
        pending_.push_back(Decoded{{},
                                   proto::Error{proto::ErrorCode::kLineTooLong,
                                                "request line longer than " +
                                                    std::to_string(limits_.max_line) + " bytes"}});
        framing_lost_ = true;
        return false;
    }
  }
  return true;
}

asio::awaitable<void> Session::ExecutePending() {
  while (!pending_.empty() && out_.size() < limits_.max_output) {
    const Decoded& d = pending_.front();
    if (d.error) {
      Answer(proto::Response::Failure(*d.error, d.request.id));
    } else if (proto::IsWrite(d.request.op)) {
      co_await ExecuteWrites();
      continue;
    } else {
      AppendReadResponse(
          d.request, server_.engine(), [this] { return server_.Stats(); }, &out_);
    }
    server_.CountRequests(1);
    pending_.pop_front();
  }
}

asio::awaitable<void> Session::ExecuteWrites() {
  // Consecutive pipelined writes share one commit.
  WriteBatch batch;
  std::vector<std::size_t> sizes;
  for (Decoded& d : pending_) {
    if (d.error || !proto::IsWrite(d.request.op)) break;
    WriteBatch mutations = TakeMutations(d.request);
    sizes.push_back(mutations.size());
    batch.Absorb(std::move(mutations));
  }
  const CommitResult result = co_await server_.commits().AsyncSubmit(
      std::move(batch), socket_.get_executor(), asio::use_awaitable);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    Answer(WriteResponse(pending_.front().request, result.status,
                         result.Part(offset, sizes[i]).applied));
    offset += sizes[i];
    pending_.pop_front();
  }
  server_.CountRequests(sizes.size());
}

void Session::Answer(const proto::Response& response) { proto::AppendResponse(response, &out_); }

}  // namespace kvd::daemon
