#include "store/file_system.h"

#include <cerrno>
#include <system_error>

#include "store/file.h"

namespace kvd {
namespace {

// The calls of file.h.
class RealFileSystem final : public FileSystem {
 public:
  int OpenReadWrite(const std::filesystem::path& path) override {
    return file::OpenReadWrite(path);
  }
  int OpenRead(const std::filesystem::path& path) override { return file::OpenRead(path); }
  int CreateNew(const std::filesystem::path& path) override { return file::CreateNew(path); }
  int Close(int fd) override { return file::Close(fd); }
  int Duplicate(int fd) override { return file::Duplicate(fd); }
  std::int64_t Size(int fd) override { return file::Size(fd); }
  std::int64_t WriteAt(int fd, const char* data, std::size_t size, std::uint64_t offset) override {
    return file::WriteAt(fd, data, size, offset);
  }
  std::int64_t ReadAt(int fd, char* data, std::size_t size, std::uint64_t offset) override {
    return file::ReadAt(fd, data, size, offset);
  }
  int Truncate(int fd, std::uint64_t size) override { return file::Truncate(fd, size); }
  int Preallocate(int fd, std::uint64_t offset, std::uint64_t length) override {
    return file::Preallocate(fd, offset, length);
  }
  int SyncData(int fd) override { return file::SyncData(fd); }
  int Sync(int fd) override { return file::Sync(fd); }
  int Replace(const std::filesystem::path& from, const std::filesystem::path& to) override {
    return file::Replace(from, to);
  }
  int SyncDirectory(const std::filesystem::path& dir) override { return file::SyncDirectory(dir); }
  int Remove(const std::filesystem::path& path) override {
    std::error_code ec;
    if (std::filesystem::remove(path, ec)) return 0;
    errno = ec ? ec.default_error_condition().value() : ENOENT;
    return -1;
  }
};

}  // namespace

FileSystem* FileSystem::Default() {
  static RealFileSystem* const fs = new RealFileSystem;  // never destroyed: used until exit
  return fs;
}

}  // namespace kvd
