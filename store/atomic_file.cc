#include "store/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "store/file.h"

namespace kvd {

Status ErrnoError(const std::string& what, const std::filesystem::path& path, int err) {
  return Status::IOError(what + " " + path.string() + ": " + std::strerror(err));
}

Status SyncParentDirectory(const std::filesystem::path& path) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (file::SyncDirectory(dir) != 0) return ErrnoError("cannot fsync directory", dir, errno);
  return Status::OK();
}

Status WriteFileDurably(const std::filesystem::path& path,
                        const std::function<bool(std::FILE*)>& write) {
  std::error_code ignored;
  std::FILE* file = file::CreateNew(path);
  if (file == nullptr && errno == EEXIST) {
    // Left over from a crash mid-replace; it never became the real file.
    std::filesystem::remove(path, ignored);
    file = file::CreateNew(path);
  }
  if (file == nullptr) return ErrnoError("cannot create", path, errno);

  errno = 0;
  bool ok = write(file) && std::fflush(file) == 0 && !std::ferror(file);
  int err = errno != 0 ? errno : EIO;
  if (ok && file::Sync(file) != 0) {
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
  const int fd = file::OpenRead(path);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  contents->clear();
  if (const std::int64_t size = file::Size(fd); size > 0) {
    contents->reserve(static_cast<std::size_t>(size) + kReadWholeFileSpare);
  }
  char buffer[1 << 16];
  for (;;) {
    const std::int64_t n = file::ReadAt(fd, buffer, sizeof(buffer), contents->size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      file::Close(fd);
      return ErrnoError("cannot read", path, err);
    }
    if (n == 0) break;
    contents->append(buffer, static_cast<std::size_t>(n));
  }
  file::Close(fd);
  return Status::OK();
}

Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (file::Replace(from, to) != 0) {
    return ErrnoError("cannot rename " + from.string() + " to", to, errno);
  }
  return SyncParentDirectory(to);
}

}  // namespace kvd
