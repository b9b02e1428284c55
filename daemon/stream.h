// A client connection's byte stream, chosen at build time: a Unix socket,
// or on Windows a named pipe instance (README, "Windows"). Session and
// Server see only Stream and StreamReader.
#ifndef KVD_DAEMON_STREAM_H_
#define KVD_DAEMON_STREAM_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <span>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#ifdef _WIN32
#include <boost/asio/windows/stream_handle.hpp>
#else
#include <boost/asio/local/stream_protocol.hpp>
#endif

namespace kvd::daemon {

#ifdef _WIN32
using Stream = boost::asio::windows::stream_handle;
#else
using Stream = boost::asio::local::stream_protocol::socket;
#endif

// Reads whatever a stream has received. On POSIX it waits for the stream to
// become readable and only then reads into `shared`, the server's buffer,
// so an idle connection holds none (the stream must be non-blocking). A
// Windows overlapped read keeps its buffer while it waits, so there each
// reader has its own.
class StreamReader {
 public:
  // The bytes read, valid until the next suspension; empty with `ec` unset
  // when there was nothing after all; `ec` set at end of stream, on a reset,
  // or when the wait was cancelled.
  boost::asio::awaitable<std::string_view> ReadSome(Stream& stream, std::span<char> shared,
                                                    boost::system::error_code& ec) {
    namespace asio = boost::asio;
#ifdef _WIN32
    (void)shared;
    own_.resize(kOwnBuffer);
    const std::size_t n = co_await stream.async_read_some(
        asio::buffer(own_), asio::redirect_error(asio::use_awaitable, ec));
    co_return std::string_view(own_.data(), ec ? 0 : n);
#else
    co_await stream.async_wait(asio::socket_base::wait_read,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::string_view();
    const std::size_t n = stream.read_some(asio::buffer(shared.data(), shared.size()), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
    co_return std::string_view(shared.data(), ec ? 0 : n);
#endif
  }

 private:
#ifdef _WIN32
  static constexpr std::size_t kOwnBuffer = 16 * 1024;
  std::vector<char> own_;
#endif
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_STREAM_H_
