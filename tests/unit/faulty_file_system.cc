#include "tests/unit/faulty_file_system.h"

#include <algorithm>
#include <cerrno>

namespace kvd {

const char* FaultyFileSystem::Name(Op op) {
  static const char* const kNames[kOps] = {"any",       "open",           "create",    "close",
                                           "duplicate", "size",           "write",     "read",
                                           "truncate",  "preallocate",    "sync_data", "sync",
                                           "replace",   "sync_directory", "remove"};
  return kNames[static_cast<int>(op)];
}

const char* FaultyFileSystem::Name(Fault fault) {
  switch (fault) {
    case Fault::kEIO:
      return "EIO";
    case Fault::kENOSPC:
      return "ENOSPC";
    case Fault::kEINTR:
      return "EINTR";
    case Fault::kShortWrite:
      return "ShortWrite";
  }
  return "?";
}

void FaultyFileSystem::FailNth(Op op, std::uint64_t n, Fault fault) {
  std::lock_guard lock(mu_);
  fail_op_ = op;
  fail_n_ = n;
  fault_ = fault;
}

void FaultyFileSystem::CrashAtCall(std::uint64_t n) {
  std::lock_guard lock(mu_);
  crash_at_ = n;
}

bool FaultyFileSystem::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

bool FaultyFileSystem::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

std::uint64_t FaultyFileSystem::calls(Op op) const {
  std::lock_guard lock(mu_);
  return calls_[static_cast<int>(op)];
}

std::optional<FaultyFileSystem::Fault> FaultyFileSystem::Count(Op op) {
  const std::uint64_t n = ++calls_[static_cast<int>(op)];
  const std::uint64_t any = ++calls_[static_cast<int>(Op::kAny)];
  if (crash_at_ != 0 && any >= crash_at_) crashed_ = true;
  if (crashed_) return Fault::kEIO;
  if (fail_op_ && !fired_ && (*fail_op_ == Op::kAny ? any : n) == fail_n_ &&
      (*fail_op_ == Op::kAny || *fail_op_ == op)) {
    fired_ = true;
    return fault_;
  }
  return std::nullopt;
}

namespace {

// -1 with errno for `fault` (a short write, where it does not apply: EIO).
int Fail(FaultyFileSystem::Fault fault) {
  switch (fault) {
    case FaultyFileSystem::Fault::kENOSPC:
      errno = ENOSPC;
      break;
    case FaultyFileSystem::Fault::kEINTR:
      errno = EINTR;
      break;
    default:
      errno = EIO;
  }
  return -1;
}

}  // namespace

std::shared_ptr<FaultyFileSystem::File> FaultyFileSystem::FileAt(
    const std::filesystem::path& path) {
  std::shared_ptr<File>& file = files_[path];
  if (!file) file = std::make_shared<File>(File{path, {}});
  return file;
}

std::shared_ptr<FaultyFileSystem::File> FaultyFileSystem::FileOf(int fd) {
  const auto it = fds_.find(fd);
  return it == fds_.end() ? nullptr : it->second;
}

std::string FaultyFileSystem::ReadBytes(const std::filesystem::path& path, std::uint64_t offset,
                                        std::uint64_t size) {
  std::string bytes(size, '\0');
  const int fd = base_->OpenRead(path);
  if (fd < 0) return {};
  std::uint64_t done = 0;
  while (done < size) {
    const std::int64_t n = base_->ReadAt(fd, bytes.data() + done, size - done, offset + done);
    if (n <= 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  base_->Close(fd);
  bytes.resize(done);
  return bytes;
}

std::optional<std::string> FaultyFileSystem::SyncedContents(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::string contents = ReadBytes(path, 0, std::filesystem::file_size(path, ec));
  if (const auto it = files_.find(path); it != files_.end()) {
    const std::vector<Undo>& undo = it->second->undo;
    for (auto u = undo.rbegin(); u != undo.rend(); ++u) {
      if (contents.size() < u->offset + u->old_bytes.size()) {
        contents.resize(u->offset + u->old_bytes.size());
      }
      std::copy(u->old_bytes.begin(), u->old_bytes.end(),
                contents.begin() + static_cast<std::ptrdiff_t>(u->offset));
      if (u->old_size != kKeepSize) contents.resize(u->old_size);
    }
  }
  return contents;
}

void FaultyFileSystem::WriteWhole(const std::filesystem::path& path, const std::string& contents) {
  base_->Remove(path);
  const int fd = base_->CreateNew(path);
  if (fd < 0) return;
  if (!contents.empty()) base_->WriteAt(fd, contents.data(), contents.size(), 0);
  base_->Close(fd);
}

int FaultyFileSystem::Open(const std::filesystem::path& path,
                           int (FileSystem::*open)(const std::filesystem::path&)) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kOpen)) return Fail(*fault);
  const int fd = (base_->*open)(path);
  if (fd >= 0) fds_[fd] = FileAt(path);
  return fd;
}

int FaultyFileSystem::OpenReadWrite(const std::filesystem::path& path) {
  return Open(path, &FileSystem::OpenReadWrite);
}

int FaultyFileSystem::OpenRead(const std::filesystem::path& path) {
  return Open(path, &FileSystem::OpenRead);
}

int FaultyFileSystem::CreateNew(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kCreate)) return Fail(*fault);
  const int fd = base_->CreateNew(path);
  if (fd < 0) return fd;
  auto file = std::make_shared<File>(File{path, {}});
  files_[path] = file;
  fds_[fd] = file;
  dir_changes_.push_back(DirChange{DirChange::Kind::kCreate, path, {}, std::nullopt});
  return fd;
}

int FaultyFileSystem::Close(int fd) {
  std::lock_guard lock(mu_);
  const bool failed = Count(Op::kClose).has_value();
  fds_.erase(fd);
  const int rc = base_->Close(fd);  // even after a crash: the kernel closes a dead process's files
  return failed ? Fail(Fault::kEIO) : rc;
}

int FaultyFileSystem::Duplicate(int fd) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kDuplicate)) return Fail(*fault);
  const int dup = base_->Duplicate(fd);
  if (dup >= 0) fds_[dup] = FileOf(fd);
  return dup;
}

std::int64_t FaultyFileSystem::Size(int fd) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kSize)) return Fail(*fault);
  return base_->Size(fd);
}

std::int64_t FaultyFileSystem::WriteAt(int fd, const char* data, std::size_t size,
                                       std::uint64_t offset) {
  std::lock_guard lock(mu_);
  const auto fault = Count(Op::kWrite);
  if (fault && !(*fault == Fault::kShortWrite && size > 1)) return Fail(*fault);
  if (fault) size /= 2;
  const std::shared_ptr<File> file = FileOf(fd);
  const std::int64_t old_size = base_->Size(fd);
  if (file && old_size >= 0 && !file->path.empty()) {
    const auto old = static_cast<std::uint64_t>(old_size);
    const std::uint64_t overwritten =
        offset < old ? std::min<std::uint64_t>(size, old - offset) : 0;
    file->undo.push_back(Undo{offset, ReadBytes(file->path, offset, overwritten), old});
  }
  return base_->WriteAt(fd, data, size, offset);
}

std::int64_t FaultyFileSystem::ReadAt(int fd, char* data, std::size_t size, std::uint64_t offset) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kRead)) return Fail(*fault);
  return base_->ReadAt(fd, data, size, offset);
}

int FaultyFileSystem::Truncate(int fd, std::uint64_t size) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kTruncate)) return Fail(*fault);
  const std::shared_ptr<File> file = FileOf(fd);
  const std::int64_t old_size = base_->Size(fd);
  if (file && old_size >= 0 && !file->path.empty()) {
    const auto old = static_cast<std::uint64_t>(old_size);
    file->undo.push_back(
        Undo{size, size < old ? ReadBytes(file->path, size, old - size) : std::string(), old});
  }
  return base_->Truncate(fd, size);
}

int FaultyFileSystem::Preallocate(int fd, std::uint64_t offset, std::uint64_t length) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kPreallocate)) return Fail(*fault);
  const std::shared_ptr<File> file = FileOf(fd);
  const std::int64_t old_size = base_->Size(fd);
  if (file && old_size >= 0 && !file->path.empty()) {
    file->undo.push_back(Undo{0, {}, static_cast<std::uint64_t>(old_size)});
  }
  return base_->Preallocate(fd, offset, length);
}

void FaultyFileSystem::Synced(int fd, bool ok) {
  const std::shared_ptr<File> file = FileOf(fd);
  if (!file) return;
  if (ok) {
    file->undo.resize(file->lost);
    return;
  }
  for (std::size_t i = file->lost; i < file->undo.size(); ++i) {
    file->undo[i].old_size = kKeepSize;
  }
  file->lost = file->undo.size();
}

int FaultyFileSystem::SyncData(int fd) {
  std::lock_guard lock(mu_);
  const auto fault = Count(Op::kSyncData);
  Synced(fd, !fault);
  return fault ? Fail(*fault) : 0;
}

int FaultyFileSystem::Sync(int fd) {
  std::lock_guard lock(mu_);
  const auto fault = Count(Op::kSync);
  Synced(fd, !fault);
  return fault ? Fail(*fault) : 0;
}

int FaultyFileSystem::Replace(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kReplace)) return Fail(*fault);
  std::optional<std::string> replaced = SyncedContents(to);
  if (base_->Replace(from, to) != 0) return -1;
  if (const auto old = files_.find(to); old != files_.end()) {
    old->second->path.clear();
    files_.erase(old);
  }
  std::shared_ptr<File> moved = FileAt(from);
  files_.erase(from);
  moved->path = to;
  files_[to] = moved;
  dir_changes_.push_back(DirChange{DirChange::Kind::kRename, to, from, std::move(replaced)});
  return 0;
}

int FaultyFileSystem::SyncDirectory(const std::filesystem::path& dir) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kSyncDirectory)) return Fail(*fault);
  std::erase_if(dir_changes_, [&](const DirChange& c) { return c.path.parent_path() == dir; });
  return 0;
}

int FaultyFileSystem::Remove(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  if (auto fault = Count(Op::kRemove)) return Fail(*fault);
  std::optional<std::string> removed = SyncedContents(path);
  if (base_->Remove(path) != 0) return -1;
  if (const auto old = files_.find(path); old != files_.end()) {
    old->second->path.clear();
    files_.erase(old);
  }
  dir_changes_.push_back(DirChange{DirChange::Kind::kRemove, path, {}, std::move(removed)});
  return 0;
}

void FaultyFileSystem::LosePower() {
  std::lock_guard lock(mu_);
  // Each file back to its last synced contents, where it is now...
  for (const auto& [path, file] : files_) {
    if (file->undo.empty()) continue;
    const int fd = base_->OpenReadWrite(path);
    if (fd < 0) continue;
    for (auto u = file->undo.rbegin(); u != file->undo.rend(); ++u) {
      if (!u->old_bytes.empty()) {
        base_->WriteAt(fd, u->old_bytes.data(), u->old_bytes.size(), u->offset);
      }
      if (u->old_size != kKeepSize) base_->Truncate(fd, u->old_size);
    }
    base_->Close(fd);
  }
  // ...then the directories as they were at their last fsync.
  for (auto c = dir_changes_.rbegin(); c != dir_changes_.rend(); ++c) {
    switch (c->kind) {
      case DirChange::Kind::kCreate:
        base_->Remove(c->path);
        break;
      case DirChange::Kind::kRename:
        base_->Replace(c->path, c->from);
        if (c->replaced) WriteWhole(c->path, *c->replaced);
        break;
      case DirChange::Kind::kRemove:
        if (c->replaced) WriteWhole(c->path, *c->replaced);
        break;
    }
  }
  dir_changes_.clear();
  files_.clear();
  fds_.clear();
}

}  // namespace kvd
