#include "store/journal_writer.h"

#include <algorithm>
#include <array>
#include <cerrno>

#include "store/atomic_file.h"
#include "store/data_files.h"
#include "store/file.h"  // kReplacesOpenFiles
#include "store/journal_format.h"

namespace kvd {

JournalWriter::JournalWriter(FileSystem* fs, std::filesystem::path path, int fd, std::uint64_t size,
                             Reservation reservation)
    : fs_(fs),
      path_(std::move(path)),
      reservation_(reservation),
      fd_(fd),
      size_(size),
      synced_size_(size),
      file_size_(size) {}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) fs_->Close(fd_);
  if (!install_at_.empty()) fs_->Remove(path_);
}

Status JournalWriter::Open(const std::filesystem::path& path, std::uint64_t valid_size,
                           Reservation reservation, std::unique_ptr<JournalWriter>* writer,
                           FileSystem* fs) {
  const int fd = fs->OpenReadWrite(path);
  if (fd < 0) return ErrnoError("cannot open journal", path, errno);
  writer->reset(new JournalWriter(fs, path, fd, valid_size, reservation));
  const std::int64_t end = fs->Size(fd);
  if (end < 0) return ErrnoError("cannot inspect journal", path, errno);
  if (static_cast<std::uint64_t>(end) != valid_size) return (*writer)->Truncate(valid_size);
  return Status::OK();
}

Status JournalWriter::Create(const std::filesystem::path& path, const SnapshotId& base,
                             const Store::Revisions& revisions, Reservation reservation,
                             std::unique_ptr<JournalWriter>* writer, FileSystem* fs) {
  std::unique_ptr<JournalWriter> fresh;
  if (Status s = CreateReplacement(path, base, revisions, reservation, &fresh, fs); !s.ok()) {
    return s;
  }
  if (Status s = fresh->Install(nullptr); !s.ok()) return s;
  *writer = std::move(fresh);
  return Status::OK();
}

Status JournalWriter::CreateReplacement(const std::filesystem::path& path, const SnapshotId& base,
                                        const Store::Revisions& revisions, Reservation reservation,
                                        std::unique_ptr<JournalWriter>* writer, FileSystem* fs) {
  std::string base_record;
  journal::EncodeHead(base, revisions, &base_record);
  const std::filesystem::path tmp = TempPath(path);
  Status s = WriteFileDurably(
      tmp, [&](const FileAppend& append) { return append(base_record); }, fs);
  if (!s.ok()) return s;
  if (s = Open(tmp, base_record.size(), reservation, writer, fs); !s.ok()) {
    writer->reset();
    fs->Remove(tmp);
    return s;
  }
  (*writer)->install_at_ = path;
  return Status::OK();
}

Status JournalWriter::Install(JournalWriter* replaced, bool* renamed) {
  if (renamed != nullptr) *renamed = false;
  if (Status s = Sync(); !s.ok()) return s;
  if (replaced != nullptr && !file::kReplacesOpenFiles) replaced->CloseFile();
  if (fs_->Replace(path_, install_at_) != 0) {
    const Status s = ErrnoError("cannot rename " + path_.string() + " to", install_at_, errno);
    if (replaced != nullptr) replaced->ReopenFile();
    return s;
  }
  path_ = std::move(install_at_);
  install_at_.clear();
  if (renamed != nullptr) *renamed = true;
  return SyncParentDirectory(path_, fs_);
}

void JournalWriter::CloseFile() {
  fs_->Close(fd_);
  fd_ = -1;
}

void JournalWriter::ReopenFile() {
  // Failing that, every later call fails (EBADF) and reports it.
  if (fd_ < 0) fd_ = fs_->OpenReadWrite(path_);
}

void JournalWriter::Reserve(std::uint64_t end) {
  const std::uint64_t target = end + kPreallocateStep;
  if (fs_->Preallocate(fd_, file_size_, target - file_size_) == 0) {
    if (reservation_ == Reservation::kZeroFilled) FillWithZeros(file_size_, target);
    file_size_ = target;
  } else if (const std::int64_t now = fs_->Size(fd_); now >= 0) {
    // A failed reservation may still have extended the file part of the way.
    file_size_ = std::max(file_size_, static_cast<std::uint64_t>(now));
  }
}

void JournalWriter::FillWithZeros(std::uint64_t from, std::uint64_t to) {
  // Best effort: space allocated but not filled still reads as zeros, so a
  // failure here costs speed only. (A failed fdatasync here can have lost
  // only zeros: under --fsync always every record before them is synced.) The fdatasync comes
  // before any record is written there: the zeros, not whatever the blocks held, are what a crash
  // can leave after the last record.
  static const std::array<char, 64 * 1024> kZeros{};
  for (std::uint64_t at = from; at < to;) {
    const std::int64_t n =
        fs_->WriteAt(fd_, kZeros.data(), std::min<std::uint64_t>(kZeros.size(), to - at), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    at += static_cast<std::uint64_t>(n);
  }
  fs_->SyncData(fd_);
}

Status JournalWriter::Append(std::string_view records) {
  if (size_ + records.size() > file_size_) Reserve(size_ + records.size());
  std::size_t written = 0;
  while (written < records.size()) {
    const std::int64_t n =
        fs_->WriteAt(fd_, records.data() + written, records.size() - written, size_ + written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      // A partial record would read as damage once later records follow it.
      if (written > 0 || file_size_ > size_) {
        if (fs_->Truncate(fd_, size_) == 0) {
          file_size_ = size_;
        } else if (written > 0) {
          return ErrnoError(
              "cannot write to journal (and cannot cut off the partial write:"
              " the journal is damaged until the next successful write)",
              path_, err);
        }
      }
      return ErrnoError("cannot write to journal", path_, err);
    }
    written += static_cast<std::size_t>(n);
  }
  size_ += records.size();
  file_size_ = std::max(file_size_, size_);
  return Status::OK();
}

Status JournalWriter::Sync() {
  if (fs_->SyncData(fd_) != 0) return ErrnoError("cannot fsync journal", path_, errno);
  synced_size_ = size_;
  return Status::OK();
}

Status JournalWriter::Truncate(std::uint64_t size) {
  if (fs_->Truncate(fd_, size) != 0) {
    return ErrnoError("cannot truncate journal", path_, errno);
  }
  size_ = size;
  file_size_ = size;
  if (synced_size_ > size) synced_size_ = size;
  return Sync();
}

Status JournalWriter::ReadRange(std::uint64_t from, std::uint64_t to, std::string* out) const {
  out->resize(to - from);
  std::size_t done = 0;
  while (done < out->size()) {
    const std::int64_t n = fs_->ReadAt(fd_, out->data() + done, out->size() - done, from + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError("cannot read journal", path_, n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  return Status::OK();
}

}  // namespace kvd
