// The file calls the engine needs beyond <filesystem>, for POSIX
// (file_posix.cc) and Windows (file_win.cc). Like their POSIX namesakes,
// they return -1 with errno set on failure, so callers report
// std::strerror(errno) the same way on both. The engine reaches them through
// FileSystem::Default() (file_system.h), so that tests can inject faults.
//
// Files are opened without inheritance by child processes and, on Windows,
// shared for deletion, so that a file can be renamed over while it is open
// (the journal is, when a compaction replaces it), as on POSIX.
#ifndef KVD_STORE_FILE_H_
#define KVD_STORE_FILE_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace kvd::file {

// Descriptors: POSIX ones, or on Windows C runtime ones over a HANDLE.
int OpenReadWrite(const std::filesystem::path& path);
int OpenRead(const std::filesystem::path& path);
int Close(int fd);
// Another descriptor for the same open file.
int Duplicate(int fd);
// The file's size in bytes, or -1.
std::int64_t Size(int fd);
// Positioned I/O: bytes transferred (0 at the end of the file), or -1.
std::int64_t WriteAt(int fd, const char* data, std::size_t size, std::uint64_t offset);
std::int64_t ReadAt(int fd, char* data, std::size_t size, std::uint64_t offset);
int Truncate(int fd, std::uint64_t size);
// Reserves disk space for bytes [offset, offset + length) and extends the
// file to cover them; they read as zeros until written. fallocate(2) mode 0:
// the space is allocated but marked unwritten, so an fdatasync after writing
// into it need not persist a new file size, and a write that a crash cut
// short reads as zeros, as past the end of a file. -1 with errno where the
// file system (EOPNOTSUPP) or the platform (ENOSYS: Windows) has no such call.
int Preallocate(int fd, std::uint64_t offset, std::uint64_t length);
// The file's contents (and size) on stable storage: fdatasync(2), or
// FlushFileBuffers.
int SyncData(int fd);

// Creates `path`, which must not exist yet (else EEXIST), open for writing.
int CreateNew(const std::filesystem::path& path);
// The file's contents and metadata on stable storage: fsync(2), or
// FlushFileBuffers.
int Sync(int fd);

// Renames `from` over `to` in one step: readers see the old or the new
// file. On Windows MoveFileExW with MOVEFILE_WRITE_THROUGH, which returns
// once the rename is on disk; on POSIX rename(2), made durable by
// SyncDirectory.
int Replace(const std::filesystem::path& from, const std::filesystem::path& to);
// Whether Replace may rename over a file that is open: on POSIX it may, and
// a descriptor held across it moves the freeing of the old file's blocks
// (which ext4 does within the rename(2) that drops its last link) to its
// close. kvd closes the journal for the moment of its replacement on
// Windows.
#ifdef _WIN32
inline constexpr bool kReplacesOpenFiles = false;
#else
inline constexpr bool kReplacesOpenFiles = true;
#endif
// Makes the creation, renaming or removal of entries in `dir` durable:
// fsync of the directory on POSIX; nothing on Windows, which has no such
// call (Replace is durable by itself there).
int SyncDirectory(const std::filesystem::path& dir);

}  // namespace kvd::file

#endif  // KVD_STORE_FILE_H_
