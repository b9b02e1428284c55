#include "store/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace kvd {
namespace {

Status ErrnoError(const std::string& what, const std::filesystem::path& path, int err) {
  return Status::IOError(what + " " + path.string() + ": " + std::strerror(err));
}

}  // namespace

Status SyncParentDirectory(const std::filesystem::path& path) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync directory", dir, err);
  return Status::OK();
}

Status WriteFileDurably(const std::filesystem::path& path,
                        const std::function<bool(std::FILE*)>& write) {
  std::error_code ignored;
  std::FILE* file = std::fopen(path.c_str(), "wbxe");
  if (file == nullptr && errno == EEXIST) {
    // Left over from a crash mid-replace; it never became the real file.
    std::filesystem::remove(path, ignored);
    file = std::fopen(path.c_str(), "wbxe");
  }
  if (file == nullptr) return ErrnoError("cannot create", path, errno);

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
  if (!ok) {
    std::filesystem::remove(path, ignored);
    return ErrnoError("cannot write", path, err);
  }
  return Status::OK();
}

Status ReadWholeFile(const std::filesystem::path& path, std::string* contents) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  contents->clear();
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0)
    contents->reserve(static_cast<std::size_t>(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoError("cannot read", path, err);
    }
    if (n == 0) break;
    contents->append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return Status::OK();
}

Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoError("cannot rename " + from.string() + " to", to, errno);
  }
  return SyncParentDirectory(to);
}

}  // namespace kvd
