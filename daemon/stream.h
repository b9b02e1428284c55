// A client connection's byte stream, chosen at build time: a Unix socket,
// or on Windows a named pipe instance (doc/windows.md). Session and
// Server see only Stream, StreamReader and WriteAvailable.
#ifndef KVD_DAEMON_STREAM_H_
#define KVD_DAEMON_STREAM_H_

#include "util/asio_prelude.h"

#include <array>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#ifdef _WIN32
#include <boost/asio/windows/stream_handle.hpp>
#else
#include <poll.h>

#include <boost/asio/local/stream_protocol.hpp>
#endif

namespace kvd::daemon {

#ifdef _WIN32
using Stream = boost::asio::windows::stream_handle;
#else
using Stream = boost::asio::local::stream_protocol::socket;
#endif

// Whether the peer still has its end of `stream` open: false once it
// closed it (a peer that only shut down its sending half, as socat does
// when its input ends, still reads). Never waits. On Windows: whether the
// pipe is open here.
inline bool PeerOpen(Stream& stream) {
#ifdef _WIN32
  return stream.is_open();
#else
  pollfd p{stream.native_handle(), 0, 0};
  return stream.is_open() && ::poll(&p, 1, 0) >= 0 && (p.revents & (POLLHUP | POLLERR)) == 0;
#endif
}

// Reads whatever a stream has received, in two steps: co_await Wait(), then
// Take(). On POSIX (the stream must be non-blocking) Wait reads into a 4 KiB
// buffer of the reader's own, which usually takes all that a client sent at
// once, and when that fills up Take reads the rest of what has arrived into
// `shared`, the server's 64 KiB buffer: an idle connection holds no big
// buffer, and a read costs no re-arming of the wait (an Asio read completes
// from the readiness event; a bare wait for readability re-registers the
// socket with epoll each time). A Windows overlapped read keeps its buffer
// while it waits, so there each reader has a big one of its own.
class StreamReader {
 public:
  // Completes with the bytes read into the reader's buffer; `ec` set at end
  // of stream, on a reset, or when the read was cancelled.
  boost::asio::awaitable<std::size_t> Wait(Stream& stream, boost::system::error_code& ec) {
    namespace asio = boost::asio;
#ifdef _WIN32
    own_.resize(kOwnBuffer);
    return stream.async_read_some(asio::buffer(own_),
                                  asio::redirect_error(asio::use_awaitable, ec));
#else
    return stream.async_read_some(asio::buffer(first_),
                                  asio::redirect_error(asio::use_awaitable, ec));
#endif
  }

  // The bytes received, given the `n` that Wait completed with: valid until
  // the next suspension.
  std::string_view Take(Stream& stream, std::size_t n, std::span<char> shared) {
#ifdef _WIN32
    (void)stream;
    (void)shared;
    return std::string_view(own_.data(), n);
#else
    if (n < first_.size() || shared.size() <= n) return std::string_view(first_.data(), n);
    // More may have arrived: read it behind the first bytes. An error here
    // (end of stream) shows again at the next Wait, after these bytes.
    std::memcpy(shared.data(), first_.data(), n);
    boost::system::error_code ec;
    const std::size_t more =
        stream.read_some(boost::asio::buffer(shared.data() + n, shared.size() - n), ec);
    return std::string_view(shared.data(), n + (ec ? 0 : more));
#endif
  }

 private:
#ifdef _WIN32
  static constexpr std::size_t kOwnBuffer = 16 * 1024;
  std::vector<char> own_;
#else
  // Holds a pipelined round of usual requests whole (16 appends of about 60
  // bytes), which a smaller buffer would take in two recv(2)s.
  std::array<char, 4096> first_;
#endif
};

// Writes what `stream` takes at once, without waiting: on POSIX (a
// non-blocking socket) a prefix of `bytes`, all of it unless the socket's
// buffer is full; on Windows nothing, as a pipe handle opened for overlapped
// I/O only writes asynchronously. The caller writes the rest asynchronously.
inline std::size_t WriteAvailable(Stream& stream, std::string_view bytes,
                                  boost::system::error_code& ec) {
#ifdef _WIN32
  (void)stream;
  (void)bytes;
  ec.clear();
  return 0;
#else
  const std::size_t n = stream.write_some(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
    ec.clear();
    return 0;
  }
  return ec ? 0 : n;
#endif
}

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_STREAM_H_
