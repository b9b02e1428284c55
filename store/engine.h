// The storage engine: the store, its journal and snapshot, and the data-file
// lock, safe for concurrent use by many threads. Linked by kvd and by
// kvctl --embedded. Knows nothing of sockets.
//
// On disk: storage.data (the snapshot, always complete, in storage.py's JSON
// shape) and storage.data.journal (the changes since; see journal_format.h).
// A write is appended to the journal and synced per the sync policy before
// it is acknowledged or visible to readers. When the journal has grown large
// relative to the snapshot, a background compaction writes a new snapshot
// from a frozen view of the store while writes go on, then cuts the journal.
// Close() folds everything into storage.data and removes the journal.
#ifndef KVD_STORE_ENGINE_H_
#define KVD_STORE_ENGINE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>  // std::shared_lock
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/change_history.h"
#include "store/data_lock.h"
#include "store/file_system.h"
#include "store/journal_writer.h"
#include "store/list_range.h"
#include "store/shared_mutex.h"
#include "store/snapshot.h"
#include "store/store.h"
#include "store/write_batch.h"
#include "store/write_results.h"
#include "util/status.h"

namespace kvd {

// $KVD_DATA if set, else <temp dir>/storage.data.
std::filesystem::path DefaultDataPath();

// The current unix time in milliseconds, as expiry times count it.
std::uint64_t UnixMillis();

// When the journal is fsynced, as Redis's appendfsync.
enum class SyncPolicy {
  kAlways,    // before each write is acknowledged; nothing acknowledged is ever lost
  kEverySec,  // once a second in the background; a power loss may lose the last second
  kNo,        // when the OS flushes; a power loss may lose its flush interval (~30 s)
};
// The names of --fsync: "always", "everysec", "no".
std::optional<SyncPolicy> ParseSyncPolicy(std::string_view name);
std::string_view SyncPolicyName(SyncPolicy policy);

struct EngineOptions {
  SyncPolicy sync = SyncPolicy::kAlways;
  // Compact once the journal exceeds both this size and this percentage of
  // the snapshot's size (Redis: auto-aof-rewrite-min-size / -percentage).
  std::uint64_t compact_min_bytes = 64 << 20;
  unsigned compact_percentage = 100;
  // The records written while a compaction makes its snapshot go on to the
  // next journal: carried over in rounds while writers go on, until what a
  // round leaves is at most this many bytes, which are carried with writers
  // held up (doc/design.md, "Compaction without holding up writers").
  std::uint64_t carry_under_lock_bytes = 256 << 10;
  // Where changes persist: in kvd's journal, or (false: cluster mode, see
  // doc/cluster.md) in the caller's Raft log. Without the journal, Open
  // loads nothing (the caller restores the store from its log), Write only
  // applies, and Close writes the store to storage.data in the original
  // tool's shape, for whoever reads that file.
  bool journal = true;
  // Bytes of the latest changes kept for watchers (ChangeHistory): a watch
  // may start from any revision they cover. Refilled at start from the
  // journal's records after its snapshot.
  std::size_t history_bytes = 16 << 20;
  DataLock::Mode lock_mode = DataLock::Mode::kDaemon;
  std::chrono::milliseconds lock_wait{0};  // kEmbedded only
  // Told what recovery dropped and what failed in the background.
  std::function<void(const std::string&)> warn = [](const std::string&) {};
  // Where the data files are read and written (tests inject faults); must
  // outlive the engine.
  FileSystem* fs = FileSystem::Default();
};

class Engine {
 public:
  struct Stats {
    std::size_t keys = 0;
    std::size_t values = 0;
    std::size_t bytes = 0;
    std::uint64_t revision = 0;  // the store's (Store::revision)
    std::uint64_t journal_bytes = 0;
    std::uint64_t compactions = 0;
    // When the last compaction since Open ended (the epoch if none did).
    std::chrono::system_clock::time_point last_compaction{};
  };

  // Locks `data_path` and recovers: loads storage.data, replays the journal
  // (a torn last record is dropped, reported through options.warn). Busy
  // when another process owns the file; Corruption, naming file and
  // position, when either file is damaged — then nothing on disk is changed.
  static Status Open(const std::filesystem::path& data_path, const EngineOptions& options,
                     std::unique_ptr<Engine>* engine);
  // Close(), with errors reported through options.warn.
  ~Engine();

  // Journals `batch` and, once it is durable under the sync policy, makes it
  // visible to readers, all or nothing (an empty batch costs nothing).
  // Writers are serialized; callers with many small writes should group
  // them. If `results` is given it receives each mutation's result
  // (Store::Apply(batch, results)). On error nothing of `batch`
  // is visible (it may be recovered after a restart, as a write in flight
  // during a crash may). A failed write(2) of the journal (a full disk) only
  // fails this batch; after a failed fsync of the journal or of its
  // directory every later write fails too, until the engine is reopened:
  // the kernel may have dropped pages that a later fsync would then claim
  // durable (doc/durability.md, "Write errors").
  //
  // `acknowledge`, if given, is called once on success (never on error), as
  // soon as the batch is durable and its results are in *results, with no
  // lock held. A batch of appends only, whose results are known before it
  // is applied (each adds its value), is then not applied but queued, up to
  // kMaxQueuedBytes: ApplyQueued() applies it when the caller has the time,
  // and so does the next write or whatever reads the store first (readers
  // apply what is queued before they read). So whoever `acknowledge` tells
  // reads the batch whenever they read, while the store's update is left to
  // a moment when it delays nobody (kvd: while its commit thread waits for
  // the next fdatasync, see ApplyQueued). Other batches are applied, then
  // acknowledged.
  Status Write(const WriteBatch& batch, WriteResults* results = nullptr,
               const std::function<void()>& acknowledge = {});
  // The largest batch (keys and values) that Write queues; a bigger one is
  // applied at once, as queuing copies it.
  static constexpr std::size_t kMaxQueuedBytes = 64 * 1024;

  // Applies the appends that Write queued, if any; true if there were some.
  // Cheap when there are none. For a thread with nothing else to do: kvd's
  // network thread calls it when it is idle while a writer's fdatasync is in
  // flight (SyncInFlight()), which is when the machine has a CPU to spare
  // (the commit thread sleeps in fdatasync, the clients wait for it).
  // Applying a commit's appends to random keys takes cache misses in the
  // store's index: applied by the commit thread as soon as it has
  // acknowledged them, they would hold the CPU that the answers' way to the
  // clients and the next requests' way back need (doc/design.md, "Applying
  // appends while the next commit waits").
  // At most two commits' appends stay queued: a write that finds the last
  // commit's still queued applies them and its own, once it has acknowledged
  // its own.
  bool ApplyQueued();
  // Whether a writer is waiting for the journal's fdatasync (--fsync always).
  bool SyncInFlight() const { return sync_in_flight_.load(std::memory_order_relaxed); }
  // OK while writes are taken; after a failed fsync (see Write), the error
  // every write now fails with, though no writer has come since (/health).
  Status WriteRefusal() const;

  // Readers see only written data and never wait for I/O, and treat a key
  // whose expiry time (Store::ExpiresAt) has come by the clock
  // (UnixMillis) as absent, though its expired delete is not committed
  // yet. Get copies the
  // key's values (one allocation, however many values), and sets *revision,
  // if given, to the key's revision (Store::KeyRevision), read with them.
  ValueList Get(std::string_view key, std::uint64_t* revision = nullptr) const;
  // Get of the values `range` names (ListRange::Resolve), copied alone (one
  // allocation); the key's revision as Get's. A range counted from the end
  // takes a walk of every value, one from the head only of those up to it.
  ValueList GetRange(std::string_view key, ListRange range,
                     std::uint64_t* revision = nullptr) const;
  // How many values the key holds (0 if absent); walks them.
  std::size_t Length(std::string_view key) const;
  // The key's revision (Store::KeyRevision; 0 if absent), without a copy of
  // its values.
  std::uint64_t KeyRevision(std::string_view key) const;
  std::vector<std::string> Keys(std::string_view prefix) const;
  // Stats count the keys that expired until their expired delete.
  Stats GetStats() const;

  // The changes after revision `after` under `prefix` (ChangeHistory::Read,
  // whose *position it sets), as far as `visit` takes them, read with the
  // store's lock held: `visit` must not call the engine. False if those
  // changes are no longer held: *position is then the oldest revision a
  // read may start after (ChangeHistory::floor).
  bool ReadChanges(std::uint64_t after, std::string_view prefix, const ChangeHistory::Visit& visit,
                   std::uint64_t* position) const;
  // How far behind the newest change a reader at revision `after` is, in
  // bytes of changes (ChangeHistory::BytesAfter), and the bytes the history
  // holds at most.
  std::size_t ChangeBytesAfter(std::uint64_t after) const;
  std::size_t history_bytes() const { return options_.history_bytes; }
  // The milliseconds left before `key` expires, as Redis's PTTL: -1 if it
  // never does, -2 if it is absent (or expired).
  std::int64_t TimeToLive(std::string_view key) const;
  // Whether `key` exists with an expiry time at or before `now`: a write
  // to it then goes after its expired delete (Mutation::kDeleteExpired).
  // Takes no lock while no key expires.
  bool Expired(std::string_view key, std::uint64_t now) const;
  // Up to `max` keys whose expiry time is at or before `now`, soonest
  // first: the ones whose expired deletes are due.
  std::vector<std::string> ExpiredKeys(std::uint64_t now, std::size_t max) const;
  // Writes the expired deletes (Mutation::kDeleteExpired, at `now`) of
  // every key whose time has come: for whoever commits writes (kvd before
  // its last fold, an embedded user before it closes), so that
  // storage.data keeps no expired key; never a cluster's state machine,
  // whose deletes come through its log.
  Status DeleteExpired(std::uint64_t now);

  // Without the journal (EngineOptions::journal): the store as storage.data
  // text and its *revisions (if given), and the store made to hold exactly what such a
  // text and revisions hold (Corruption, naming `name`, if it is no such
  // text: then the store is left as it was; without revisions, or with
  // revisions of another number of keys, every key gets revision 1).
  // Cluster mode's Raft snapshots carry them.
  std::string SnapshotText(Store::Revisions* revisions = nullptr);
  // SnapshotText in steps, so that writes go on while the text is made:
  // FreezeStore() (one freeze at a time), FrozenText() (any thread; the
  // store as it was at the freeze), ThawStore().
  void FreezeStore();
  std::string FrozenText(Store::Revisions* revisions = nullptr) const;
  void ThawStore();
  Status Restore(std::string text, const Store::Revisions* revisions, const std::string& name);

  // Waits until no background compaction runs (tests: a compaction's file
  // calls then happen in a known order).
  void WaitForCompaction();

  // Waits for a background compaction, then folds the journal into a new
  // storage.data, writes its meta file (meta_file.h) and removes the
  // journal. Later calls do nothing. After a
  // failed fsync (see Write) it leaves the files as they are, for the next
  // start to replay, and returns that failure.
  Status Close();

  SyncPolicy sync_policy() const { return options_.sync; }

 private:
  // The files a compaction replaced, still open: destroyed (closed) once
  // writers go on again, as closing a large file frees its blocks
  // (file::kReplacesOpenFiles).
  struct Retired {
    Retired() = default;
    Retired(const Retired&) = delete;
    Retired& operator=(const Retired&) = delete;
    ~Retired();
    std::unique_ptr<JournalWriter> journal;
    FileSystem* fs = nullptr;
    int snapshot_fd = -1;
  };

  Engine(std::filesystem::path data_path, EngineOptions options, std::unique_ptr<DataLock> lock);

  Status Recover();
  // Recover without a journal to replay: gives the store the revisions of
  // the meta file (or new ones, see Store::ResetRevisions) and starts a
  // journal from them.
  Status StartJournal();
  // At start, once the store's revisions are known: the history of the
  // history file, if it ends where the store starts; else none.
  void LoadHistory();
  // At Close, with the journal folded: writes the history file, unless it
  // holds the history already; a failure is only warned of.
  void SaveHistory();
  // How the journal reserves space: filled with zeros where every append is
  // fsynced (JournalWriter::Reservation).
  JournalWriter::Reservation reservation() const {
    return options_.sync == SyncPolicy::kAlways ? JournalWriter::Reservation::kZeroFilled
                                                : JournalWriter::Reservation::kAllocated;
  }
  // Hands the frozen view to `sink`, copied out of the store in chunks, and
  // its revisions to *revisions if given.
  void ProduceFrozen(SnapshotSink& sink, Store::Revisions* revisions) const;
  // Writes the frozen view to storage.data.tmp; sets *id and *revisions.
  Status WriteFrozenSnapshot(SnapshotId* id, Store::Revisions* revisions);
  // Without the journal: writes the store to storage.data.
  Status SaveSnapshot();
  // With write_mu_ held: appends to the journal the kMeta record of the
  // snapshot `id`, which must come before its checkpoint (InstallSnapshot).
  Status AppendMeta(const SnapshotId& id, const Store::Revisions& revisions);
  // With write_mu_ held: makes the written storage.data.tmp (identified by
  // `id`, holding every journal record before `covers`, its kMeta written)
  // the snapshot, and
  // `next` (a JournalWriter replacement holding the records from `covers`
  // to `carried` already) the journal, once it holds the records after
  // `carried` too.
  // What it replaced goes to `retired`.
  Status InstallSnapshot(const SnapshotId& id, std::uint64_t covers,
                         std::unique_ptr<JournalWriter> next, std::uint64_t carried,
                         Retired* retired);
  // Appends the journal's bytes [from, to), whole records, to `next`. Reads
  // only what is committed, so a compaction may call it without write_mu_.
  Status CarryRecords(std::uint64_t from, std::uint64_t to, JournalWriter* next) const;
  // With write_mu_ held and no background compaction: writes the whole
  // store as the new snapshot, covering the whole journal.
  Status Fold();
  // With write_mu_ held: records that an fsync of the journal or of the
  // data directory failed, which stops writes until the engine is reopened;
  // returns the error writes get from then on.
  Status Break(const Status& failed_sync);
  // With write_mu_ held: starts a background compaction if one is due.
  void MaybeCompact();
  void Compact(std::uint64_t covers);
  void SyncEverySecond();
  // fsyncs the journal as far as it is written, releasing `writer` (a hold
  // of write_mu_) meanwhile so that writes go on; records what it covered.
  Status SyncOutsideWriterLock(std::unique_lock<std::mutex>& writer);
  // With mu_ held unique (or alone, recovering): applies `batch` to the
  // store, with each mutation's result to *results if given, and records
  // the changes it made in the history.
  void ApplyLocked(const WriteBatch& batch, WriteResults* results) const;
  // With mu_ held unique: applies what Write queued; true if there was some.
  bool ApplyQueuedLocked() const;
  // Under mu_: the values of `key`, null if it is absent or expired by the
  // clock; its revision (0 then) to *revision if given.
  const ValueList* FindLive(std::string_view key, std::uint64_t* revision) const;
  // Runs `read` (which reads store_) under mu_, once nothing is queued.
  template <typename Read>
  auto ReadStore(const Read& read) const;
  // With mu_ held unique, after a change of store_ other than a queued
  // append: updates any_expiring_.
  void NoteExpiring() {
    any_expiring_.store(store_.expiring_count() > 0, std::memory_order_release);
  }

  const std::filesystem::path data_path_;
  const std::filesystem::path journal_path_;
  const std::filesystem::path snapshot_tmp_path_;
  const EngineOptions options_;
  const std::unique_ptr<DataLock> lock_;

  // Held by one writer at a time across journal I/O and apply, and by
  // compaction to install its snapshot; guards the members below it.
  std::mutex write_mu_;
  std::unique_ptr<JournalWriter> journal_;
  SnapshotId snapshot_id_;
  bool compacting_ = false;
  std::condition_variable compacted_;     // compacting_ went false
  std::uint64_t next_compaction_at_ = 0;  // journal size before which not to retry
  Status broken_;                         // set once, by Break: every write fails with it
  std::atomic<bool> broken_set_{false};   // broken_ is set: readable without write_mu_
  bool closed_ = false;
  bool dirty_ = false;  // the store holds changes storage.data lacks (in the journal, if any)
  std::uint64_t journal_generation_ = 0;  // counts replacements of journal_
  std::thread compactor_;
  std::condition_variable syncer_wake_;
  std::thread syncer_;
  // For GetStats without waiting for write_mu_.
  std::atomic<std::uint64_t> journal_bytes_{0};
  std::atomic<std::uint64_t> compactions_{0};
  std::atomic<std::int64_t> last_compaction_ns_{0};  // system_clock, since the epoch

  std::atomic<bool> sync_in_flight_{false};
  // The store as readers see it is store_ with queued_ applied: applying
  // queued_ changes nothing they can tell, so readers (const) do it.
  mutable SharedMutex mu_;  // store_, history_ and applying_: shared to read, unique to change
  mutable Store store_;
  mutable ChangeHistory history_;       // the changes store_ went through last
  mutable WriteResults apply_results_;  // ApplyLocked's, when the caller wants none
  // The revision the history file's history ends at, if it was read or
  // written: Close writes none while the history still ends there.
  std::optional<std::uint64_t> saved_history_;
  // Acknowledged appends not applied yet. A lock of their own, not mu_: a
  // writer queues without waiting for whoever applies the last ones, which
  // a busy host may preempt in the middle.
  mutable std::mutex queue_mu_;
  mutable WriteBatch queued_;                    // guarded by queue_mu_
  mutable WriteBatch applying_;                  // queued_ taken out to apply; guarded by mu_
  mutable std::atomic<bool> has_queued_{false};  // !queued_.empty(), readable without a lock
  std::atomic<bool> any_expiring_{false};        // store_ has keys that expire
};

}  // namespace kvd

#endif  // KVD_STORE_ENGINE_H_
