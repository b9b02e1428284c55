// Appends records to the journal (see journal_format.h). Not thread-safe:
// the engine calls it under its writer lock.
//
// The file is kept ahead of the records by up to kPreallocateStep bytes of
// reserved, zero-reading space (file::Preallocate, see Reservation), so that
// the fdatasync after an append persists just the data, not a new file size
// (doc/design.md, "The journal's reserved space"). The reader takes zeros
// after the last record for the end of the journal. Where space cannot be
// reserved (another file system, a full disk, Windows) appends extend the
// file as they go.
#ifndef KVD_STORE_JOURNAL_WRITER_H_
#define KVD_STORE_JOURNAL_WRITER_H_

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "store/file_system.h"
#include "store/snapshot.h"
#include "util/status.h"

namespace kvd {

class JournalWriter {
 public:
  // How the space ahead of the records is reserved.
  enum class Reservation {
    // Allocated only (fallocate): cheap, but the blocks are marked unwritten,
    // and the fdatasync after the first append into each of them also
    // persists the file system's note that they are written now.
    kAllocated,
    // Allocated, then filled with zeros and made durable: a write and an
    // fdatasync per kPreallocateStep, after which an append's fdatasync
    // persists the data alone. For --fsync always; without it, that extra
    // fdatasync per step would be the only ones kvd makes.
    kZeroFilled,
  };

  // Opens the journal at `path` to append after its first `valid_size`
  // bytes, cutting off anything beyond them (a torn tail). Every file call
  // goes through `fs`, which must outlive the writer.
  static Status Open(const std::filesystem::path& path, std::uint64_t valid_size,
                     Reservation reservation, std::unique_ptr<JournalWriter>* writer,
                     FileSystem* fs = FileSystem::Default());
  // Durably replaces the journal at `path` with one holding just its head
  // (journal::EncodeHead of `base` and `revisions`), and opens it.
  static Status Create(const std::filesystem::path& path, const SnapshotId& base,
                       const Store::Revisions& revisions, Reservation reservation,
                       std::unique_ptr<JournalWriter>* writer,
                       FileSystem* fs = FileSystem::Default());
  // Starts a journal to replace the one at `path`: a file beside it holding
  // the head for `base` and `revisions`, open for appends, which may come in
  // several steps (a compaction carries records over while writers go on).
  // Install() puts it in place; destroyed before that, it removes its file.
  static Status CreateReplacement(const std::filesystem::path& path, const SnapshotId& base,
                                  const Store::Revisions& revisions, Reservation reservation,
                                  std::unique_ptr<JournalWriter>* writer,
                                  FileSystem* fs = FileSystem::Default());
  // Syncs this replacement and durably renames it over the journal it
  // replaces. `replaced`, the open writer of that journal if any, keeps its
  // file open where file::kReplacesOpenFiles (the old file's blocks are then
  // freed when `replaced` is destroyed); elsewhere it is closed just before
  // the rename and reopened if the rename fails. *renamed, if given, tells
  // whether the rename was done (then only the directory's fsync failed).
  Status Install(JournalWriter* replaced, bool* renamed = nullptr);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  static constexpr std::uint64_t kPreallocateStep = 1 << 20;

  // Writes `records` at the end. On failure (ENOSPC, EIO) cuts off whatever
  // part was written (and the reserved space), so the journal ends with a
  // whole record again.
  Status Append(std::string_view records);
  // fdatasync: makes everything appended so far durable.
  Status Sync();
  // Cuts the journal back to `size` bytes (dropping reserved space) and syncs.
  Status Truncate(std::uint64_t size);
  // Reads bytes [from, to) back (to carry records into a new journal).
  Status ReadRange(std::uint64_t from, std::uint64_t to, std::string* out) const;

  // For an fsync by another thread on a Duplicate of it, without holding up
  // appends; MarkSynced then records what that fsync covered.
  int fd() const { return fd_; }
  void MarkSynced(std::uint64_t size) { synced_size_ = std::max(synced_size_, size); }

  // Bytes of records; the file may be longer by reserved space.
  std::uint64_t size() const { return size_; }
  std::uint64_t synced_size() const { return synced_size_; }

 private:
  JournalWriter(FileSystem* fs, std::filesystem::path path, int fd, std::uint64_t size,
                Reservation reservation);
  void CloseFile();
  void ReopenFile();
  // Tries to reserve space up to at least `end`; appends work without it.
  void Reserve(std::uint64_t end);
  // kZeroFilled: writes zeros over [from, to) and fdatasyncs.
  void FillWithZeros(std::uint64_t from, std::uint64_t to);

  FileSystem* const fs_;
  std::filesystem::path path_;
  std::filesystem::path install_at_;  // a replacement's destination; empty once installed
  const Reservation reservation_;
  int fd_;  // -1 between CloseFile and ReopenFile
  std::uint64_t size_;
  std::uint64_t synced_size_;
  std::uint64_t file_size_;  // size_ plus the space reserved after it
};

}  // namespace kvd

#endif  // KVD_STORE_JOURNAL_WRITER_H_
