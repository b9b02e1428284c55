#include "store/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace kvd {

Status ErrnoError(const std::string& what, const std::filesystem::path& path, int err) {
  return Status::IOError(what + " " + path.string() + ": " + std::strerror(err));
}

Status SyncParentDirectory(const std::filesystem::path& path, FileSystem* fs) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (fs->SyncDirectory(dir) != 0) return ErrnoError("cannot fsync directory", dir, errno);
  return Status::OK();
}

Status WriteFileDurably(const std::filesystem::path& path,
                        const std::function<bool(const FileAppend&)>& write, FileSystem* fs) {
  int fd = fs->CreateNew(path);
  if (fd < 0 && errno == EEXIST) {
    // Left over from a crash mid-replace; it never became the real file.
    fs->Remove(path);
    fd = fs->CreateNew(path);
  }
  if (fd < 0) return ErrnoError("cannot create", path, errno);

  std::uint64_t size = 0;
  int err = 0;
  const FileAppend append = [&](std::string_view bytes) {
    while (!bytes.empty()) {
      const std::int64_t n = fs->WriteAt(fd, bytes.data(), bytes.size(), size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err = n < 0 ? errno : EIO;
        errno = err;
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
      size += static_cast<std::uint64_t>(n);
    }
    return true;
  };
  errno = 0;
  bool ok = write(append) && err == 0;
  if (!ok && err == 0) err = errno != 0 ? errno : EIO;
  if (ok && fs->Sync(fd) != 0) {
    ok = false;
    err = errno;
  }
  if (fs->Close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    fs->Remove(path);
    return ErrnoError("cannot write", path, err);
  }
  return Status::OK();
}

Status ReadWholeFile(const std::filesystem::path& path, std::string* contents, FileSystem* fs) {
  const int fd = fs->OpenRead(path);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  contents->clear();
  if (const std::int64_t size = fs->Size(fd); size > 0) {
    contents->reserve(static_cast<std::size_t>(size) + kReadWholeFileSpare);
  }
  char buffer[1 << 16];
  for (;;) {
    const std::int64_t n = fs->ReadAt(fd, buffer, sizeof(buffer), contents->size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      fs->Close(fd);
      return ErrnoError("cannot read", path, err);
    }
    if (n == 0) break;
    contents->append(buffer, static_cast<std::size_t>(n));
  }
  fs->Close(fd);
  return Status::OK();
}

Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to,
                     FileSystem* fs) {
  if (fs->Replace(from, to) != 0) {
    return ErrnoError("cannot rename " + from.string() + " to", to, errno);
  }
  return SyncParentDirectory(to, fs);
}

}  // namespace kvd
