#include "store/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace kvd {
namespace {

Status ErrnoError(const std::string& what, const std::filesystem::path& path, int err) {
  return Status::IOError(what + " " + path.string() + ": " + std::strerror(err));
}

Status SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync directory", dir, err);
  return Status::OK();
}

}  // namespace

Status ReplaceFileAtomically(const std::filesystem::path& path,
                             const std::function<bool(std::FILE*)>& write) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  std::FILE* file = std::fopen(tmp.c_str(), "wbx");
  if (file == nullptr && errno == EEXIST) {
    // Left over from a crash mid-replace; it never became the real file.
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    file = std::fopen(tmp.c_str(), "wbx");
  }
  if (file == nullptr) return ErrnoError("cannot create", tmp, errno);

  errno = 0;
  bool ok = write(file) && std::fflush(file) == 0 && !std::ferror(file);
  int err = errno != 0 ? errno : EIO;
  if (ok && ::fsync(::fileno(file)) != 0) {
    ok = false;
    err = errno;
  }
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    err = errno;
  }
  std::error_code ignored;
  if (!ok) {
    std::filesystem::remove(tmp, ignored);
    return ErrnoError("cannot write", tmp, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    std::filesystem::remove(tmp, ignored);
    return ErrnoError("cannot rename into place", path, err);
  }
  const auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return SyncDirectory(parent);
}

}  // namespace kvd
