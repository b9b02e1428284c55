#include "store/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace kvd::file {

int OpenReadWrite(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_RDWR | O_CLOEXEC);
}

int OpenRead(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

int Close(int fd) { return ::close(fd); }

int Duplicate(int fd) { return ::fcntl(fd, F_DUPFD_CLOEXEC, 0); }

std::int64_t Size(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_size : -1;
}

std::int64_t WriteAt(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  return ::pwrite(fd, data, size, static_cast<off_t>(offset));
}

std::int64_t ReadAt(int fd, char* data, std::size_t size, std::uint64_t offset) {
  return ::pread(fd, data, size, static_cast<off_t>(offset));
}

int Truncate(int fd, std::uint64_t size) { return ::ftruncate(fd, static_cast<off_t>(size)); }

int Preallocate(int fd, std::uint64_t offset, std::uint64_t length) {
#ifdef __linux__
  // Not posix_fallocate: where the file system cannot reserve space, glibc
  // would write the zeros itself, which costs more than it saves.
  int r;
  do {
    r = ::fallocate(fd, 0, static_cast<off_t>(offset), static_cast<off_t>(length));
  } while (r != 0 && errno == EINTR);
  return r;
#else
  (void)fd;
  (void)offset;
  (void)length;
  errno = EOPNOTSUPP;
  return -1;
#endif
}

int SyncData(int fd) { return ::fdatasync(fd); }

int CreateNew(const std::filesystem::path& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
}

int Sync(int fd) { return ::fsync(fd); }

int Replace(const std::filesystem::path& from, const std::filesystem::path& to) {
  return std::rename(from.c_str(), to.c_str());
}

int SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  errno = err;
  return rc;
}

}  // namespace kvd::file
