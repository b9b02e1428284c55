// The client's end of kvd's endpoint, chosen at build time: a Unix socket,
// or on Windows a named pipe (doc/windows.md). Client talks to a Stream
// and knows nothing else of the transport.
#ifndef KVD_CLIENT_TRANSPORT_H_
#define KVD_CLIENT_TRANSPORT_H_

#include "util/asio_prelude.h"

#include <string>

#include <boost/system/error_code.hpp>

#ifdef _WIN32
#include <boost/asio/windows/stream_handle.hpp>
#else
#include <boost/asio/local/stream_protocol.hpp>
#endif

namespace kvd::client {

#ifdef _WIN32
using Stream = boost::asio::windows::stream_handle;
#else
using Stream = boost::asio::local::stream_protocol::socket;
#endif

// Connects `stream` to the daemon at `endpoint` (a socket path, or a pipe
// name such as \\.\pipe\kvd). A named pipe whose instances are all busy is
// waited for (WaitNamedPipeW), a few seconds at most.
boost::system::error_code Connect(Stream& stream, const std::string& endpoint);

}  // namespace kvd::client

#endif  // KVD_CLIENT_TRANSPORT_H_
