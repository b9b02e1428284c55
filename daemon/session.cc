#include "daemon/session.h"

#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "daemon/log.h"
#include "daemon/operations.h"
#include "daemon/server.h"

namespace kvd::daemon {

namespace asio = boost::asio;

Session::Session(Server& server, asio::local::stream_protocol::socket socket)
    : server_(server), socket_(std::move(socket)) {}

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
}

asio::awaitable<void> Session::Run() {
  // The buffer may hold one line of max_line bytes plus "\r\n"; reading
  // stops with not_found once it is full without a newline.
  const std::size_t max_buffer = server_.max_line() + 2;
  for (;;) {
    std::vector<Decoded> lines;
    const bool framed = TakeLines(&lines);
    if (!lines.empty()) co_await Execute(lines);
    if (!out_.empty()) {
      boost::system::error_code ec;
      co_await asio::async_write(socket_, asio::buffer(out_),
                                 asio::redirect_error(asio::use_awaitable, ec));
      out_.clear();
      if (ec) break;
    }
    if (!framed || stopping_) break;

    reading_ = true;
    boost::system::error_code ec;
    co_await asio::async_read_until(socket_, asio::dynamic_buffer(in_, max_buffer), '\n',
                                    asio::redirect_error(asio::use_awaitable, ec));
    reading_ = false;
    if (ec == asio::error::not_found) {
      // Full buffer, no newline: the line is over the limit. The rest of it
      // cannot be framed, so answer once and hang up.
      log::Warning("closing a connection that sent a line over " +
                   std::to_string(server_.max_line()) + " bytes");
      Answer(proto::Response::Failure(
          {proto::ErrorCode::kLineTooLong,
           "request line longer than " + std::to_string(server_.max_line()) + " bytes"}));
      boost::system::error_code ignored;
      co_await asio::async_write(socket_, asio::buffer(out_),
                                 asio::redirect_error(asio::use_awaitable, ignored));
      break;
    }
    // End of stream, a reset or Stop(): bytes after the last newline are an
    // incomplete request and are not executed.
    if (ec) break;
  }
  Close();
  server_.SessionEnded(this);
}

bool Session::TakeLines(std::vector<Decoded>* lines) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = in_.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(in_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > server_.max_line()) {
      in_.clear();
      lines->push_back(Decoded{{},
                               proto::Error{proto::ErrorCode::kLineTooLong,
                                            "request line longer than " +
                                                std::to_string(server_.max_line()) + " bytes"}});
      return false;
    }
    Decoded d;
    d.error = proto::DecodeRequest(line, &d.request);
    lines->push_back(std::move(d));
  }
  in_.erase(0, start);
  return true;
}

asio::awaitable<void> Session::Execute(std::vector<Decoded>& lines) {
  server_.CountRequests(lines.size());
  for (std::size_t i = 0; i < lines.size();) {
    const Decoded& d = lines[i];
    if (d.error) {
      Answer(proto::Response::Failure(*d.error, d.request.id));
      ++i;
    } else if (proto::IsWrite(d.request.op)) {
      // Consecutive pipelined writes share one commit.
      std::size_t end = i + 1;
      while (end < lines.size() && !lines[end].error && proto::IsWrite(lines[end].request.op)) {
        ++end;
      }
      co_await ExecuteWrites(lines, i, end);
      i = end;
    } else {
      Answer(ReadResponse(d.request, server_.engine(), server_.Stats()));
      ++i;
    }
  }
}

asio::awaitable<void> Session::ExecuteWrites(std::vector<Decoded>& lines, std::size_t begin,
                                             std::size_t end) {
  WriteBatch batch;
  std::vector<std::size_t> sizes;
  for (std::size_t i = begin; i < end; ++i) {
    WriteBatch mutations = MutationsOf(lines[i].request);
    sizes.push_back(mutations.size());
    batch.Absorb(std::move(mutations));
  }
  const CommitResult result = co_await server_.commits().AsyncSubmit(
      std::move(batch), socket_.get_executor(), asio::use_awaitable);
  std::size_t offset = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const std::size_t n = sizes[i - begin];
    std::vector<bool> applied;
    if (result.status.ok()) {
      applied.assign(result.applied.begin() + static_cast<std::ptrdiff_t>(offset),
                     result.applied.begin() + static_cast<std::ptrdiff_t>(offset + n));
    }
    offset += n;
    Answer(WriteResponse(lines[i].request, result.status, applied));
  }
}

void Session::Answer(const proto::Response& response) { out_ += proto::EncodeResponse(response); }

}  // namespace kvd::daemon
