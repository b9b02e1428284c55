#include "store/engine.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <utility>

#include "store/atomic_file.h"
#include "store/data_files.h"
#include "store/file.h"
#include "store/history_file.h"
#include "store/journal_format.h"
#include "store/journal_reader.h"
#include "store/meta_file.h"
#include "util/temp_dir.h"

namespace kvd {
namespace {

// Bytes of keys and values copied per hold of the store's lock while
// writing a snapshot.
constexpr std::size_t kSnapshotChunk = 256 * 1024;

// Carrying a compaction's later records to the next journal: at most this
// many rounds while writers go on (each carries what came during the one
// before; writers faster than the carrying never leave little), and the
// bytes read per step.
constexpr int kMaxCarryRounds = 4;
constexpr std::uint64_t kCarryChunk = 4 * 1024 * 1024;

}  // namespace

std::filesystem::path DefaultDataPath() {
  if (const char* env = std::getenv("KVD_DATA"); env != nullptr && *env != '\0') return env;
  return TempDir() / "storage.data";
}

std::uint64_t UnixMillis() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::optional<SyncPolicy> ParseSyncPolicy(std::string_view name) {
  for (const SyncPolicy policy : {SyncPolicy::kAlways, SyncPolicy::kEverySec, SyncPolicy::kNo}) {
    if (name == SyncPolicyName(policy)) return policy;
  }
  return std::nullopt;
}

std::string_view SyncPolicyName(SyncPolicy policy) {
  switch (policy) {
    case SyncPolicy::kAlways:
      return "always";
    case SyncPolicy::kEverySec:
      return "everysec";
    case SyncPolicy::kNo:
      return "no";
  }
  return "?";
}

Engine::Engine(std::filesystem::path data_path, EngineOptions options,
               std::unique_ptr<DataLock> lock)
    : data_path_(std::move(data_path)),
      journal_path_(JournalPath(data_path_)),
      snapshot_tmp_path_(TempPath(data_path_)),
      options_(std::move(options)),
      lock_(std::move(lock)),
      history_(options_.history_bytes) {}

Status Engine::Open(const std::filesystem::path& data_path, const EngineOptions& options,
                    std::unique_ptr<Engine>* engine) {
  std::unique_ptr<DataLock> lock;
  if (Status s = DataLock::Acquire(data_path, options.lock_mode, options.lock_wait, &lock);
      !s.ok()) {
    return s;
  }
  std::unique_ptr<Engine> opened(new Engine(data_path, options, std::move(lock)));
  if (!options.journal) {
    opened->dirty_ = true;  // Close writes storage.data, whatever it held before
    *engine = std::move(opened);
    return Status::OK();
  }
  if (Status s = opened->Recover(); !s.ok()) {
    opened->closed_ = true;  // nothing to fold: leave the files as they are
    return s;
  }
  opened->journal_bytes_ = opened->journal_->size();
  if (options.sync == SyncPolicy::kEverySec) {
    opened->syncer_ = std::thread([e = opened.get()] { e->SyncEverySecond(); });
  }
  *engine = std::move(opened);
  return Status::OK();
}

Engine::~Engine() {
  if (Status s = Close(); !s.ok())
    options_.warn("closing " + data_path_.string() + ": " + s.ToString());
}

Status Engine::Recover() {
  FileSystem* const fs = options_.fs;
  if (Status s = LoadSnapshot(data_path_, &store_, &snapshot_id_, fs); !s.ok()) return s;
  std::error_code ec;
  if (!std::filesystem::exists(journal_path_, ec)) return StartJournal();
  JournalContents contents;
  if (Status s = ReadJournal(journal_path_, &contents, fs); !s.ok()) return s;
  if (!contents.torn_reason.empty()) {
    options_.warn("journal " + journal_path_.string() + ": dropped a torn record at offset " +
                  std::to_string(contents.valid_end) + " (" + contents.torn_reason +
                  "), left by a crash mid-append");
  }
  if (contents.entries.empty()) {
    // Torn while being created: it never held a change.
    return StartJournal();
  }
  // Replay what storage.data lacks, numbering the changes from its revisions.
  std::uint64_t start = 0;
  const Store::Revisions* revisions = nullptr;
  if (Status s = ReplayStart(contents, snapshot_id_, journal_path_.string(), &start, &revisions);
      !s.ok()) {
    return Status::Corruption(s.message() + " (kvd --check, kvd --repair)");
  }
  if (revisions == nullptr) {
    store_.ResetRevisions(0);
  } else if (!store_.SetRevisions(*revisions)) {
    return Status::Corruption(journal_path_.string() + ": the revisions of " +
                              std::to_string(revisions->keys.size()) +
                              " keys for a storage.data of " + std::to_string(store_.key_count()) +
                              " (kvd --check, kvd --repair)");
  }
  LoadHistory();
  for (const auto& e : contents.entries) {
    if (e.offset < start) continue;
    ApplyLocked(e.record.batch, nullptr);
    if (!e.record.batch.empty()) dirty_ = true;
  }
  NoteExpiring();
  if (Status s =
          JournalWriter::Open(journal_path_, contents.valid_end, reservation(), &journal_, fs);
      !s.ok()) {
    return s;
  }
  if (contents.entries.front().record.snapshot == snapshot_id_) return Status::OK();
  // A compaction crashed after installing storage.data, before cutting the
  // journal: finish it, so the journal starts from this storage.data again.
  return Fold();
}

void Engine::LoadHistory() {
  std::string problem;
  if (ReadHistoryFile(data_path_, snapshot_id_, store_.revision(), &history_, &problem,
                      options_.fs)) {
    saved_history_ = history_.last();
  } else if (!problem.empty()) {
    options_.warn(problem + ": watches start from revision " + std::to_string(store_.revision()));
  }
}

void Engine::SaveHistory() {
  std::uint64_t last = 0;
  {
    std::shared_lock read(mu_);
    last = history_.last();
    // Nothing to keep, or a read-only use: the file has it already.
    if (history_.floor() == last || last == saved_history_) return;
    if (Status s = WriteHistoryFile(data_path_, snapshot_id_, history_, options_.fs); !s.ok()) {
      options_.warn(s.ToString() + ": the next start's watches start from its revision");
      return;
    }
  }
  saved_history_ = last;
}

Status Engine::StartJournal() {
  const MetaFile meta = ReadMetaFile(data_path_, snapshot_id_, options_.fs);
  if (meta.matches && store_.SetRevisions(meta.revisions)) {
    LoadHistory();
    NoteExpiring();
    return JournalWriter::Create(journal_path_, snapshot_id_, meta.revisions, reservation(),
                                 &journal_, options_.fs);
  }
  store_.ResetRevisions(meta.found ? meta.revisions.store : 0);
  LoadHistory();
  if (store_.key_count() > 0) {
    options_.warn(
        data_path_.string() + " has no revisions of its own (" +
        (meta.problem.empty() ? "its meta file names another number of keys" : meta.problem) +
        "): its keys get revision " + std::to_string(store_.revision()));
  }
  return JournalWriter::Create(journal_path_, snapshot_id_, store_.GetRevisions(), reservation(),
                               &journal_, options_.fs);
}

Status Engine::Fold() {
  {
    std::unique_lock write(mu_);
    ApplyQueuedLocked();  // the snapshot covers the whole journal
    store_.Freeze();
  }
  SnapshotId id;
  Store::Revisions revisions;
  Status s = WriteFrozenSnapshot(&id, &revisions);
  {
    std::unique_lock write(mu_);
    store_.Thaw();
  }
  std::unique_ptr<JournalWriter> next;
  if (s.ok()) {
    s = JournalWriter::CreateReplacement(journal_path_, id, revisions, reservation(), &next,
                                         options_.fs);
  }
  const std::uint64_t covers = journal_->size();
  if (s.ok()) s = AppendMeta(id, revisions);
  Retired retired;
  if (s.ok()) s = InstallSnapshot(id, covers, std::move(next), covers, &retired);
  return s;
}

Status Engine::Write(const WriteBatch& batch, WriteResults* results,
                     const std::function<void()>& acknowledge) {
  if (results != nullptr) results->Clear();
  if (batch.empty()) {
    if (acknowledge) acknowledge();
    return Status::OK();
  }
  std::string records;
  journal::EncodeBatch(batch, &records);

  std::lock_guard writer(write_mu_);
  if (closed_) return Status::IOError(data_path_.string() + " is closed");
  if (!journal_) {
    {
      std::unique_lock write(mu_);
      ApplyLocked(batch, results);
      NoteExpiring();
    }
    dirty_ = true;
    if (acknowledge) acknowledge();
    return Status::OK();
  }
  if (!broken_.ok()) return broken_;
  const std::uint64_t before = journal_->size();
  if (Status s = journal_->Append(records); !s.ok()) return s;
  if (options_.sync == SyncPolicy::kAlways) {
    sync_in_flight_.store(true, std::memory_order_relaxed);
    const Status synced = journal_->Sync();
    sync_in_flight_.store(false, std::memory_order_relaxed);
    if (!synced.ok()) {
      // The kernel may have dropped the pages while keeping what they read
      // as: cutting the records off again takes them out of the page cache
      // too, so that not even a restart reads back what the disk may lack.
      // Best effort: they may survive, as a write in flight during a crash.
      journal_->Truncate(before);
      return Break(synced);
    }
  }
  journal_bytes_ = journal_->size();
  dirty_ = true;
  if (acknowledge && batch.bytes() <= kMaxQueuedBytes && batch.AppendsOnly()) {
    bool behind;
    {
      std::lock_guard queue(queue_mu_);
      behind = !queued_.empty();
      queued_.Absorb(batch);
      has_queued_.store(true, std::memory_order_relaxed);
    }
    if (results != nullptr) results->Assign(batch.size(), true);
    acknowledge();
    if (behind) ApplyQueued();
  } else {
    {
      std::unique_lock write(mu_);
      ApplyQueuedLocked();  // they came first
      ApplyLocked(batch, results);
      NoteExpiring();
    }
    if (acknowledge) acknowledge();
  }
  MaybeCompact();
  return Status::OK();
}

bool Engine::ApplyQueued() {
  if (!has_queued_.load(std::memory_order_relaxed)) return false;
  std::unique_lock write(mu_);
  return ApplyQueuedLocked();
}

bool Engine::ApplyQueuedLocked() const {
  {
    std::lock_guard queue(queue_mu_);
    if (queued_.empty()) return false;
    std::swap(queued_, applying_);  // applying_ was empty; each keeps its memory for reuse
    has_queued_.store(false, std::memory_order_relaxed);
  }
  ApplyLocked(applying_, nullptr);
  applying_.Clear();
  return true;
}

void Engine::ApplyLocked(const WriteBatch& batch, WriteResults* results) const {
  if (results == nullptr) {
    results = &apply_results_;
    results->Clear();
  }
  store_.Apply(batch, results);
  history_.Add(batch, *results);
}

Status Engine::Break(const Status& failed_sync) {
  if (broken_.ok()) {
    broken_ = Status::IOError(failed_sync.message() +
                              "; refusing writes until the data file is reopened (restart kvd)");
    broken_set_.store(true, std::memory_order_release);
    options_.warn(broken_.message());
  }
  return broken_;
}

Status Engine::WriteRefusal() const {
  // broken_ never changes once set, so the flag's release/acquire is enough.
  return broken_set_.load(std::memory_order_acquire) ? broken_ : Status::OK();
}

void Engine::WaitForCompaction() {
  std::unique_lock writer(write_mu_);
  compacted_.wait(writer, [this] { return !compacting_; });
}

void Engine::MaybeCompact() {
  if (compacting_ || closed_ || !broken_.ok()) return;
  const std::uint64_t size = journal_->size();
  const std::uint64_t threshold =
      std::max(options_.compact_min_bytes, snapshot_id_.size * options_.compact_percentage / 100);
  if (size < threshold || size < next_compaction_at_) return;
  compacting_ = true;
  {
    std::unique_lock write(mu_);
    ApplyQueuedLocked();  // the snapshot covers the journal up to `size`
    store_.Freeze();
  }
  // The previous compaction is over (compacting_ was false): reap its thread.
  if (compactor_.joinable()) compactor_.join();
  compactor_ = std::thread([this, size] { Compact(size); });
}

void Engine::Compact(std::uint64_t covers) {
  SnapshotId id;
  Store::Revisions revisions;
  Status s = WriteFrozenSnapshot(&id, &revisions);
  std::unique_ptr<JournalWriter> next;
  if (s.ok()) {
    s = JournalWriter::CreateReplacement(journal_path_, id, revisions, reservation(), &next,
                                         options_.fs);
  }
  // Writers are held up from the checkpoint on (InstallSnapshot), so most
  // of its work is done before, in rounds while they go on: the journal is
  // made durable (without --fsync always, tens of MB wait for an fsync),
  // and the records written since `covers` are carried to the next journal,
  // until a round leaves little. A failed fsync of the journal stops writes
  // (Break), and this compaction. A failure of the new files' own writes or
  // fsyncs only abandons the compaction: they are never used then.
  Retired retired;  // after the lock below is let go
  std::unique_lock writer(write_mu_);
  if (s.ok()) s = AppendMeta(id, revisions);  // made durable by the first round's fsync
  std::uint64_t carried = covers;
  for (int round = 0; s.ok(); ++round) {
    if (!broken_.ok()) {
      s = broken_;  // a writer's fsync failed meanwhile
      break;
    }
    s = SyncOutsideWriterLock(writer);
    if (!s.ok()) {
      s = Break(s);
      break;
    }
    // Between writes: every record before `end` is committed for good (a
    // write whose fsync fails is cut off before the lock is let go).
    const std::uint64_t end = journal_->size();
    if (end - carried <= options_.carry_under_lock_bytes || round == kMaxCarryRounds) break;
    writer.unlock();
    s = CarryRecords(carried, end, next.get());
    if (s.ok()) s = next->Sync();
    writer.lock();
    carried = end;
  }
  if (s.ok() && !broken_.ok()) s = broken_;
  if (s.ok()) s = InstallSnapshot(id, covers, std::move(next), carried, &retired);
  {
    std::unique_lock write(mu_);
    store_.Thaw();
  }
  compacting_ = false;
  compacted_.notify_all();
  if (s.ok()) {
    last_compaction_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    ++compactions_;
    journal_bytes_ = journal_->size();
    return;
  }
  options_.fs->Remove(snapshot_tmp_path_);
  next_compaction_at_ = journal_->size() + options_.compact_min_bytes;
  options_.warn("compaction of " + data_path_.string() + " failed, will retry: " + s.ToString());
}

void Engine::ProduceFrozen(SnapshotSink& sink, Store::Revisions* revisions) const {
  // Each chunk is copied out under the lock and handed over after it: a
  // writer then waits for a copy of up to kSnapshotChunk bytes at most, not
  // for their JSON and file writes.
  struct Part {
    std::size_t key_at, key_size, values_at, values_size;
    bool first, last;
  };
  std::string bytes;
  std::vector<Part> parts;
  Store::FrozenCursor cursor;
  Store::Revisions unwanted;
  if (revisions == nullptr) revisions = &unwanted;
  revisions->keys.clear();
  revisions->expiries.clear();
  for (bool more = true; more;) {
    bytes.clear();
    parts.clear();
    {
      std::shared_lock read(mu_);
      revisions->store = store_.frozen_revision();
      more = store_.VisitFrozen(
          &cursor, kSnapshotChunk,
          [&](std::string_view key, ValueView values, bool first, bool last, std::uint64_t revision,
              std::uint64_t expires_at) {
            parts.push_back({bytes.size(), key.size(), bytes.size() + key.size(),
                             values.packed_bytes(), first, last});
            bytes.append(key);
            bytes.append(values.packed_data(), values.packed_bytes());
            if (!first) return;
            if (expires_at != 0) {
              revisions->expiries.push_back({revisions->keys.size(), expires_at});
            }
            revisions->keys.push_back(revision);
          });
    }
    for (const Part& p : parts) {
      sink.Entry(std::string_view(bytes.data() + p.key_at, p.key_size),
                 ValueView(bytes.data() + p.values_at, p.values_size), p.first, p.last);
    }
  }
}

Status Engine::WriteFrozenSnapshot(SnapshotId* id, Store::Revisions* revisions) {
  return WriteSnapshotFile(
      snapshot_tmp_path_, [&](SnapshotSink& sink) { ProduceFrozen(sink, revisions); }, id,
      options_.fs);
}

std::string Engine::SnapshotText(Store::Revisions* revisions) {
  FreezeStore();
  std::string text = FrozenText(revisions);
  ThawStore();
  return text;
}

void Engine::FreezeStore() {
  std::unique_lock write(mu_);
  store_.Freeze();
}

std::string Engine::FrozenText(Store::Revisions* revisions) const {
  return kvd::SnapshotText([&](SnapshotSink& sink) { ProduceFrozen(sink, revisions); });
}

void Engine::ThawStore() {
  std::unique_lock write(mu_);
  store_.Thaw();
}

Status Engine::Restore(std::string text, const Store::Revisions* revisions,
                       const std::string& name) {
  SnapshotId id;
  // Checked first, so that a bad text leaves the store as it was.
  if (Status s = ParseSnapshot(text, name, nullptr, &id); !s.ok()) return s;
  std::lock_guard writer(write_mu_);
  std::unique_lock write(mu_);
  store_.Clear();
  dirty_ = true;
  if (Status s = ParseSnapshot(std::move(text), name, &store_, &id); !s.ok()) return s;
  if (revisions == nullptr || !store_.SetRevisions(*revisions)) store_.ResetRevisions(0);
  history_.Reset(store_.revision());  // the changes that led here are not known
  NoteExpiring();
  return Status::OK();
}

Status Engine::SaveSnapshot() {
  {
    std::unique_lock write(mu_);
    store_.Freeze();
  }
  SnapshotId id;
  Store::Revisions revisions;  // the Raft log keeps them in cluster mode
  Status s = WriteFrozenSnapshot(&id, &revisions);
  {
    std::unique_lock write(mu_);
    store_.Thaw();
  }
  if (s.ok()) s = RenameDurably(snapshot_tmp_path_, data_path_, options_.fs);
  if (s.ok()) dirty_ = false;
  return s;
}

Status Engine::AppendMeta(const SnapshotId& id, const Store::Revisions& revisions) {
  std::string meta;
  journal::EncodeMeta(id, revisions, &meta);
  return journal_->Append(meta);
}

Engine::Retired::~Retired() {
  if (snapshot_fd >= 0) fs->Close(snapshot_fd);
}

Status Engine::InstallSnapshot(const SnapshotId& id, std::uint64_t covers,
                               std::unique_ptr<JournalWriter> next, std::uint64_t carried,
                               Retired* retired) {
  // The checkpoint goes first: whichever storage.data a crash leaves,
  // recovery then knows which records it already holds (and from the kMeta
  // the caller wrote before it, how to number the rest).
  const std::uint64_t checkpoint_at = journal_->size();
  std::string checkpoint;
  journal::EncodeCheckpoint(id, covers, &checkpoint);
  // A failed write (Append cuts it off) or rename changes nothing that
  // counts, and writes go on; a failed fsync of the journal or of the
  // directory stops them (Break).
  if (Status s = journal_->Append(checkpoint); !s.ok()) return s;
  if (Status s = journal_->Sync(); !s.ok()) {
    journal_->Truncate(checkpoint_at);  // as in Write
    return Break(s);
  }
  FileSystem* const fs = options_.fs;
  retired->fs = fs;
  if (file::kReplacesOpenFiles) retired->snapshot_fd = fs->OpenRead(data_path_);
  if (fs->Replace(snapshot_tmp_path_, data_path_) != 0) {
    return ErrnoError("cannot rename " + snapshot_tmp_path_.string() + " to", data_path_, errno);
  }
  snapshot_id_ = id;
  if (Status s = SyncParentDirectory(data_path_, fs); !s.ok()) return Break(s);
  if (Status s = CarryRecords(carried, checkpoint_at, next.get()); !s.ok()) return s;
  bool renamed = false;
  if (Status s = next->Install(journal_.get(), &renamed); !s.ok()) {
    // Renamed, the next journal is the one on disk: appending to the old
    // one would lose the writes, so Break stops them.
    return renamed ? Break(s) : s;
  }
  retired->journal = std::exchange(journal_, std::move(next));
  ++journal_generation_;
  dirty_ = checkpoint_at > covers;
  return Status::OK();
}

Status Engine::CarryRecords(std::uint64_t from, std::uint64_t to, JournalWriter* next) const {
  std::string chunk;
  for (std::uint64_t at = from; at < to;) {
    const std::uint64_t end = std::min(to, at + kCarryChunk);
    if (Status s = journal_->ReadRange(at, end, &chunk); !s.ok()) return s;
    if (Status s = next->Append(chunk); !s.ok()) return s;
    at = end;
  }
  return Status::OK();
}

void Engine::SyncEverySecond() {
  std::unique_lock writer(write_mu_);
  while (!closed_) {
    syncer_wake_.wait_for(writer, std::chrono::seconds(1));
    if (closed_ || journal_->synced_size() == journal_->size()) continue;
    // Writers go on meanwhile, as with Redis's background fsync.
    if (!broken_.ok()) continue;
    if (Status s = SyncOutsideWriterLock(writer); !s.ok()) Break(s);
  }
}

Status Engine::SyncOutsideWriterLock(std::unique_lock<std::mutex>& writer) {
  // On a duplicate of the descriptor: the journal may be replaced meanwhile.
  FileSystem* const fs = options_.fs;
  const int fd = fs->Duplicate(journal_->fd());
  const std::uint64_t size = journal_->size();
  const std::uint64_t generation = journal_generation_;
  writer.unlock();
  const int rc = fd < 0 ? -1 : fs->SyncData(fd);
  const int err = errno;
  if (fd >= 0) fs->Close(fd);
  writer.lock();
  if (rc != 0) return ErrnoError("cannot fsync journal", journal_path_, err);
  if (generation == journal_generation_) journal_->MarkSynced(size);
  return Status::OK();
}

Status Engine::Close() {
  {
    std::lock_guard writer(write_mu_);
    if (closed_) return Status::OK();
    closed_ = true;  // no new compactions or writes from here on
  }
  syncer_wake_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  if (compactor_.joinable()) compactor_.join();

  std::lock_guard writer(write_mu_);
  if (!journal_) return dirty_ ? SaveSnapshot() : Status::OK();
  if (!broken_.ok()) {
    // Nothing more goes to these files: the next start replays the journal.
    journal_.reset();
    return broken_;
  }
  // On failure the journal stays: the next start replays it.
  if (dirty_) {
    if (Status s = Fold(); !s.ok()) return s;
  }
  Store::Revisions revisions;
  {
    std::shared_lock read(mu_);
    revisions = store_.GetRevisions();
  }
  // A read-only use (kvctl --embedded reading) finds it written already.
  const MetaFile meta = ReadMetaFile(data_path_, snapshot_id_, options_.fs);
  if (!meta.matches || meta.revisions.store != revisions.store ||
      meta.revisions.keys != revisions.keys || meta.revisions.expiries != revisions.expiries) {
    if (Status s = WriteMetaFile(data_path_, snapshot_id_, revisions, options_.fs); !s.ok()) {
      return s;
    }
  }
  SaveHistory();
  journal_.reset();
  if (options_.fs->Remove(journal_path_) != 0) {
    return ErrnoError("cannot remove", journal_path_, errno);
  }
  return SyncParentDirectory(journal_path_, options_.fs);
}

template <typename Read>
auto Engine::ReadStore(const Read& read) const {
  {
    std::shared_lock lock(mu_);
    if (!has_queued_.load(std::memory_order_relaxed)) return read();
  }
  std::unique_lock lock(mu_);
  ApplyQueuedLocked();
  return read();
}

const ValueList* Engine::FindLive(std::string_view key, std::uint64_t* revision) const {
  const bool expired =
      any_expiring_.load(std::memory_order_acquire) && store_.Expired(key, UnixMillis());
  if (revision != nullptr) *revision = expired ? 0 : store_.KeyRevision(key);
  return expired ? nullptr : store_.Find(key);
}

ValueList Engine::Get(std::string_view key, std::uint64_t* revision) const {
  return ReadStore([&] {
    const ValueList* values = FindLive(key, revision);
    return values == nullptr ? ValueList() : *values;
  });
}

ValueList Engine::GetRange(std::string_view key, ListRange range, std::uint64_t* revision) const {
  return ReadStore([&] {
    const ValueList* values = FindLive(key, revision);
    if (values == nullptr) return ValueList();
    const ValueView all = values->view();
    // Indices from the head need no length: Values stops at the list's end.
    constexpr auto kNoEnd = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    const bool from_end = range.start < 0 || range.stop < 0;
    const ListRange::Positions at = range.Resolve(from_end ? all.count() : kNoEnd);
    return ValueList(all.Values(at.first, at.count));
  });
}

std::size_t Engine::Length(std::string_view key) const {
  return ReadStore([&] {
    const ValueList* values = FindLive(key, nullptr);
    return values == nullptr ? std::size_t{0} : values->view().count();
  });
}

std::uint64_t Engine::KeyRevision(std::string_view key) const {
  return ReadStore([&] {
    std::uint64_t revision = 0;
    FindLive(key, &revision);
    return revision;
  });
}

std::vector<std::string> Engine::Keys(std::string_view prefix) const {
  return ReadStore([&] {
    std::vector<std::string> keys = store_.Keys(prefix);
    if (store_.expiring_count() > 0) {
      const std::uint64_t now = UnixMillis();
      std::erase_if(keys, [&](const std::string& key) { return store_.Expired(key, now); });
    }
    return keys;
  });
}

Status Engine::DeleteExpired(std::uint64_t now) {
  WriteBatch batch;
  for (const std::string& key : ExpiredKeys(now, std::numeric_limits<std::size_t>::max())) {
    batch.DeleteExpired(key, now);
  }
  return Write(batch);
}

std::int64_t Engine::TimeToLive(std::string_view key) const {
  return ReadStore([&]() -> std::int64_t {
    if (store_.Find(key) == nullptr) return -2;
    const std::uint64_t at = store_.ExpiresAt(key);
    if (at == 0) return -1;
    const std::uint64_t now = UnixMillis();
    return at <= now ? -2 : static_cast<std::int64_t>(at - now);
  });
}

bool Engine::Expired(std::string_view key, std::uint64_t now) const {
  if (!any_expiring_.load(std::memory_order_acquire)) return false;
  return ReadStore([&] { return store_.Expired(key, now); });
}

std::vector<std::string> Engine::ExpiredKeys(std::uint64_t now, std::size_t max) const {
  if (!any_expiring_.load(std::memory_order_acquire)) return {};
  return ReadStore([&] { return store_.ExpiredKeys(now, max); });
}

bool Engine::ReadChanges(std::uint64_t after, std::string_view prefix,
                         const ChangeHistory::Visit& visit, std::uint64_t* position) const {
  return ReadStore([&] {
    if (history_.Read(after, prefix, visit, position)) return true;
    *position = history_.floor();
    return false;
  });
}

std::size_t Engine::ChangeBytesAfter(std::uint64_t after) const {
  return ReadStore([&] { return history_.BytesAfter(after); });
}

Engine::Stats Engine::GetStats() const {
  return ReadStore([&] {
    return Stats{store_.key_count(),
                 store_.value_count(),
                 store_.byte_count(),
                 store_.revision(),
                 journal_bytes_,
                 compactions_,
                 std::chrono::system_clock::time_point(
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         std::chrono::nanoseconds(last_compaction_ns_.load())))};
  });
}

}  // namespace kvd
