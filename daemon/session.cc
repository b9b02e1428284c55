#include "daemon/session.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "daemon/log.h"
#include "daemon/operations.h"
#include "daemon/server.h"

namespace kvd::daemon {

namespace asio = boost::asio;

Session::Session(Server& server, asio::local::stream_protocol::socket socket)
    : server_(server), socket_(std::move(socket)), framer_(server.max_line()) {}

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
  char chunk[64 * 1024];
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
    if (!framed) {
      // The rest of an over-long line cannot be framed: the error is sent, hang up.
      log::Warning("closed a connection that sent a line over " +
                   std::to_string(framer_.max_line()) + " bytes");
      break;
    }
    if (stopping_) break;

    reading_ = true;
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(
        asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    reading_ = false;
    // End of stream, a reset or Stop(): bytes after the last newline are an
    // incomplete request and are not executed.
    if (ec) break;
    framer_.Feed(std::string_view(chunk, n));
  }
  Close();
  server_.SessionEnded(this);
}

bool Session::TakeLines(std::vector<Decoded>* lines) {
  std::string line;
  for (;;) {
    switch (framer_.Next(&line)) {
      case proto::LineFramer::Result::kLine: {
        Decoded d;
        d.error = proto::DecodeRequest(line, &d.request);
        lines->push_back(std::move(d));
        break;
      }
      case proto::LineFramer::Result::kNeedMore:
        return true;
      case proto::LineFramer::Result::kTooLong:
        lines->push_back(Decoded{{},
                                 proto::Error{proto::ErrorCode::kLineTooLong,
                                              "request line longer than " +
                                                  std::to_string(framer_.max_line()) + " bytes"}});
        return false;
    }
  }
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
