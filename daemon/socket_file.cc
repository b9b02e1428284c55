#include "daemon/socket_file.h"

#include "util/asio_prelude.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "daemon/log.h"

namespace kvd::daemon {

Status ClaimSocketPath(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  struct stat dir {};
  if (::stat(parent.empty() ? "." : parent.c_str(), &dir) != 0) {
    return Status::IOError("cannot inspect " + parent.string() + ": " + std::strerror(errno));
  }
  if ((dir.st_mode & S_IWOTH) != 0 && (dir.st_mode & S_ISVTX) == 0) {
    return Status::InvalidArgument("refusing to serve in " + parent.string() +
                                   ": anyone may write to it and replace the socket");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::OK();
    return Status::IOError("cannot inspect " + path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::InvalidArgument(path + " exists and is not a socket; not touching it");
  }
  if (st.st_uid != ::geteuid()) {
    return Status::InvalidArgument(path + " belongs to uid " + std::to_string(st.st_uid) +
                                   "; not touching it");
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

Status SetSocketAccess(const std::string& path, unsigned mode, std::optional<unsigned> group) {
  if (group && ::chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    return Status::IOError("cannot give " + path + " group " + std::to_string(*group) + ": " +
                           std::strerror(errno));
  }
  if (::chmod(path.c_str(), mode) != 0) {
    return Status::IOError("cannot set the mode of " + path + ": " + std::strerror(errno));
  }
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
