#include "daemon/socket_file.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "daemon/log.h"

namespace kvd::daemon {

Status ClaimSocketPath(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::IOError("cannot inspect " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::InvalidArgument(path + " exists and is not a socket; not touching it");
  }
  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket probe(io);
  boost::system::error_code ec;
  probe.connect(boost::asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) return Status::Busy("another kvd is already serving on " + path);
  if (ec != boost::asio::error::connection_refused) {
    return Status::IOError("cannot tell whether " + path + " is in use: " + ec.message());
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("cannot remove stale socket " + path + ": " + std::strerror(errno));
  }
  log::Notice("removed stale socket " + path + " left by a daemon that is gone");
  return Status::OK();
}

Status IdentifySocketFile(const std::string& path, SocketFileId* id) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return Status::IOError("cannot inspect " + path + ": " + std::strerror(errno));
  }
  *id = SocketFileId{st.st_dev, st.st_ino};
  return Status::OK();
}

void RemoveSocketFile(const std::string& path, const SocketFileId& id) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && st.st_dev == id.device && st.st_ino == id.inode) {
    ::unlink(path.c_str());
  }
}

}  // namespace kvd::daemon
