#include "store/file.h"

#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <cerrno>
#include <limits>

namespace kvd::file {
namespace {

// errno for the thread's last Win32 error, for std::strerror.
void SetErrno() {
  switch (::GetLastError()) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      errno = ENOENT;
      break;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      errno = EEXIST;
      break;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      errno = EACCES;
      break;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      errno = ENOSPC;
      break;
    case ERROR_INVALID_HANDLE:
      errno = EBADF;
      break;
    default:
      errno = EIO;
  }
}

HANDLE HandleOf(int fd) { return reinterpret_cast<HANDLE>(::_get_osfhandle(fd)); }

// A C runtime descriptor over a new HANDLE (not inheritable: no security
// attributes), shared for reading, writing and deletion as POSIX files are.
int Open(const std::filesystem::path& path, DWORD access, DWORD disposition, int flags) {
  const HANDLE h =
      ::CreateFileW(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    nullptr, disposition, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    SetErrno();
    return -1;
  }
  const int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(h), flags | _O_BINARY);
  if (fd < 0) ::CloseHandle(h);
  return fd;
}

OVERLAPPED At(std::uint64_t offset) {
  OVERLAPPED at{};
  at.Offset = static_cast<DWORD>(offset);
  at.OffsetHigh = static_cast<DWORD>(offset >> 32);
  return at;
}

DWORD Clamp(std::size_t size) {
  return static_cast<DWORD>(std::min<std::size_t>(size, std::numeric_limits<DWORD>::max()));
}

}  // namespace

int OpenReadWrite(const std::filesystem::path& path) {
  return Open(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING, _O_RDWR);
}

int OpenRead(const std::filesystem::path& path) {
  return Open(path, GENERIC_READ, OPEN_EXISTING, _O_RDONLY);
}

int Close(int fd) { return ::_close(fd); }

int Duplicate(int fd) { return ::_dup(fd); }

std::int64_t Size(int fd) {
  LARGE_INTEGER size{};
  if (!::GetFileSizeEx(HandleOf(fd), &size)) {
    SetErrno();
    return -1;
  }
  return size.QuadPart;
}

std::int64_t WriteAt(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  OVERLAPPED at = At(offset);
  DWORD written = 0;
  if (!::WriteFile(HandleOf(fd), data, Clamp(size), &written, &at)) {
    SetErrno();
    return -1;
  }
  return written;
}

std::int64_t ReadAt(int fd, char* data, std::size_t size, std::uint64_t offset) {
  OVERLAPPED at = At(offset);
  DWORD read = 0;
  if (!::ReadFile(HandleOf(fd), data, Clamp(size), &read, &at)) {
    if (::GetLastError() == ERROR_HANDLE_EOF) return 0;
    SetErrno();
    return -1;
  }
  return read;
}

int Truncate(int fd, std::uint64_t size) {
  FILE_END_OF_FILE_INFO end{};
  end.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
  if (!::SetFileInformationByHandle(HandleOf(fd), FileEndOfFileInfo, &end, sizeof(end))) {
    SetErrno();
    return -1;
  }
  return 0;
}

int Preallocate(int, std::uint64_t, std::uint64_t) {
  errno = ENOSYS;  // writes extend the file as they go
  return -1;
}

int SyncData(int fd) {
  if (!::FlushFileBuffers(HandleOf(fd))) {
    SetErrno();
    return -1;
  }
  return 0;
}

int CreateNew(const std::filesystem::path& path) {
  return Open(path, GENERIC_WRITE, CREATE_NEW, _O_WRONLY);
}

int Sync(int fd) { return SyncData(fd); }

int Replace(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (!::MoveFileExW(from.c_str(), to.c_str(),
                     MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    SetErrno();
    return -1;
  }
  return 0;
}

int SyncDirectory(const std::filesystem::path&) { return 0; }

}  // namespace kvd::file
