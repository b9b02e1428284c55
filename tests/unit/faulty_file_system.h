// A FileSystem for tests, in the manner of LevelDB's FaultInjectionTestEnv:
// it passes every call to a real one, and can
//   - fail the n-th call of a kind (or of any kind) with EIO, ENOSPC, EINTR,
//     or, for a write, write only half (a short write);
//   - crash: fail every call from the n-th on, as if the machine stopped;
//   - lose power: LosePower() puts the files back as a power cut may leave
//     them at worst. It keeps, per file, an undo log of what was not yet
//     covered by a successful fsync of that file (the bytes a write
//     overwrote, the size before a write, truncate or preallocate), and,
//     per directory, the creates, renames and removes not yet covered by a
//     successful fsync of the directory, and undoes them all on disk. A
//     failed fsync counts as Linux's does at worst: the bytes it was to
//     persist may be lost, and no later fsync of the file brings them back
//     (their pages are marked clean), so those writes are undone too.
// The real file system is never asked to sync: what a power cut keeps is
// decided here, and the tests run at the speed of the page cache.
// Thread-safe (one lock around every call).
#ifndef KVD_TESTS_UNIT_FAULTY_FILE_SYSTEM_H_
#define KVD_TESTS_UNIT_FAULTY_FILE_SYSTEM_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/file_system.h"

namespace kvd {

class FaultyFileSystem final : public FileSystem {
 public:
  enum class Op {
    kAny,
    kOpen,
    kCreate,
    kClose,
    kDuplicate,
    kSize,
    kWrite,
    kRead,
    kTruncate,
    kPreallocate,
    kSyncData,
    kSync,
    kReplace,
    kSyncDirectory,
    kRemove,
  };
  static constexpr int kOps = static_cast<int>(Op::kRemove) + 1;
  static const char* Name(Op op);

  enum class Fault { kEIO, kENOSPC, kEINTR, kShortWrite };
  static const char* Name(Fault fault);

  explicit FaultyFileSystem(FileSystem* base = FileSystem::Default()) : base_(base) {}

  // Fails the n-th call (from 1, counted since construction) of `op`, or of
  // any kind for kAny, with `fault` (kShortWrite fails calls other than
  // writes with EIO).
  void FailNth(Op op, std::uint64_t n, Fault fault);
  // From the n-th call of any kind on, every call fails with EIO and does
  // nothing (Close still closes, as the kernel does for a dead process).
  void CrashAtCall(std::uint64_t n);
  bool crashed() const;
  // Whether the fault of FailNth has happened.
  bool fired() const;
  // Calls of `op` so far (kAny: of every kind).
  std::uint64_t calls(Op op) const;

  // Undoes on disk everything not covered by a successful fsync, as above,
  // and forgets what it knew of open files. Call it once the engine is gone.
  void LosePower();

  int OpenReadWrite(const std::filesystem::path& path) override;
  int OpenRead(const std::filesystem::path& path) override;
  int CreateNew(const std::filesystem::path& path) override;
  int Close(int fd) override;
  int Duplicate(int fd) override;
  std::int64_t Size(int fd) override;
  std::int64_t WriteAt(int fd, const char* data, std::size_t size, std::uint64_t offset) override;
  std::int64_t ReadAt(int fd, char* data, std::size_t size, std::uint64_t offset) override;
  int Truncate(int fd, std::uint64_t size) override;
  int Preallocate(int fd, std::uint64_t offset, std::uint64_t length) override;
  int SyncData(int fd) override;
  int Sync(int fd) override;
  int Replace(const std::filesystem::path& from, const std::filesystem::path& to) override;
  int SyncDirectory(const std::filesystem::path& dir) override;
  int Remove(const std::filesystem::path& path) override;

 private:
  // What undoes one change of a file's contents: write `old_bytes` back at
  // `offset`, then cut the file to `old_size`.
  // (kKeepSize: leave the size: a failed fsync's writes, whose size a
  // later fsync does persist.)
  struct Undo {
    std::uint64_t offset;
    std::string old_bytes;
    std::uint64_t old_size;
  };
  static constexpr std::uint64_t kKeepSize = ~std::uint64_t{0};
  struct File {
    std::filesystem::path path;  // empty once removed or replaced
    // Since the last successful fsync, oldest first; the first `lost` of
    // them were a failed fsync's to persist, which no later fsync clears.
    std::vector<Undo> undo;
    std::size_t lost = 0;
  };
  // After a fsync of `fd`: clears what it covered, or marks it lost.
  void Synced(int fd, bool ok);
  // A change of a directory not yet covered by its fsync.
  struct DirChange {
    enum class Kind { kCreate, kRename, kRemove } kind;
    std::filesystem::path path;           // created, removed, or renamed to
    std::filesystem::path from;           // kRename
    std::optional<std::string> replaced;  // what `path` held, as last synced
  };

  // OpenRead and OpenReadWrite: `open` on the base, the descriptor tracked.
  int Open(const std::filesystem::path& path,
           int (FileSystem::*open)(const std::filesystem::path&));
  // Counts a call of `op`; the fault to inject into it, if any.
  std::optional<Fault> Count(Op op);
  std::shared_ptr<File> FileAt(const std::filesystem::path& path);
  std::shared_ptr<File> FileOf(int fd);
  // The file's contents as of its last successful fsync; nullopt if there
  // is no file at `path`.
  std::optional<std::string> SyncedContents(const std::filesystem::path& path);
  // The bytes [offset, offset + size) of the file at `path`, as far as it has them.
  std::string ReadBytes(const std::filesystem::path& path, std::uint64_t offset,
                        std::uint64_t size);
  void WriteWhole(const std::filesystem::path& path, const std::string& contents);

  FileSystem* const base_;
  mutable std::mutex mu_;
  std::uint64_t calls_[kOps] = {};
  std::optional<Op> fail_op_;
  std::uint64_t fail_n_ = 0;
  Fault fault_ = Fault::kEIO;
  bool fired_ = false;
  std::uint64_t crash_at_ = 0;  // 0: never
  bool crashed_ = false;
  std::map<int, std::shared_ptr<File>> fds_;
  std::map<std::filesystem::path, std::shared_ptr<File>> files_;  // by current path
  std::vector<DirChange> dir_changes_;                            // oldest first
};

}  // namespace kvd

#endif  // KVD_TESTS_UNIT_FAULTY_FILE_SYSTEM_H_
