// The file-system calls of the storage engine, behind one interface, in the
// manner of LevelDB's Env: the journal writer, the snapshot writer, the
// atomic replace and recovery's reads all go through a FileSystem, so that
// tests can fail any call or simulate a power cut
// (tests/unit/faulty_file_system.h). Production uses Default(), the calls of
// file.h; a virtual call costs nothing next to the system call behind it.
//
// Every method behaves as its namesake in file.h: -1 (or a negative count)
// with errno set on failure. Implementations must be thread-safe: the
// engine's compaction and background sync call them from their own threads.
//
// The data-file lock (data_lock.h) does not go through it: it is a lock the
// kernel holds for a live process (Boost.Interprocess, fcntl or LockFileEx),
// with nothing on disk for a fault or a power cut to change.
#ifndef KVD_STORE_FILE_SYSTEM_H_
#define KVD_STORE_FILE_SYSTEM_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace kvd {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The real file system (file.h); lives for the whole program.
  static FileSystem* Default();

  // Descriptors.
  virtual int OpenReadWrite(const std::filesystem::path& path) = 0;
  virtual int OpenRead(const std::filesystem::path& path) = 0;
  // Creates `path`, which must not exist yet (else EEXIST), for writing.
  virtual int CreateNew(const std::filesystem::path& path) = 0;
  virtual int Close(int fd) = 0;
  virtual int Duplicate(int fd) = 0;

  // Contents.
  virtual std::int64_t Size(int fd) = 0;
  virtual std::int64_t WriteAt(int fd, const char* data, std::size_t size,
                               std::uint64_t offset) = 0;
  virtual std::int64_t ReadAt(int fd, char* data, std::size_t size, std::uint64_t offset) = 0;
  virtual int Truncate(int fd, std::uint64_t size) = 0;
  virtual int Preallocate(int fd, std::uint64_t offset, std::uint64_t length) = 0;
  // fdatasync(2): the contents and size on stable storage.
  virtual int SyncData(int fd) = 0;
  // fsync(2): the same and the rest of the file's metadata.
  virtual int Sync(int fd) = 0;

  // Names.
  virtual int Replace(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual int SyncDirectory(const std::filesystem::path& dir) = 0;
  // Removes the file `path`; ENOENT if there is none.
  virtual int Remove(const std::filesystem::path& path) = 0;
};

}  // namespace kvd

#endif  // KVD_STORE_FILE_SYSTEM_H_
