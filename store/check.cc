#include "store/check.h"

#include <chrono>
#include <memory>
#include <optional>

#include "store/data_files.h"
#include "store/data_lock.h"
#include "store/journal_reader.h"
#include "store/journal_writer.h"
#include "store/meta_file.h"
#include "store/snapshot.h"

namespace kvd {
namespace {

// What is wrong with the journal, when only the journal is wrong.
struct JournalFault {
  std::optional<std::uint64_t> damaged_at;  // cut here
  bool foreign = false;                     // belongs to another storage.data: set aside
};

Status Inspect(const std::filesystem::path& data_path, std::vector<std::string>* report,
               JournalFault* fault) {
  Store store;
  SnapshotId id;
  if (Status s = LoadSnapshot(data_path, &store, &id); !s.ok()) {
    report->push_back("storage.data: " + s.ToString());
    return s;
  }
  report->push_back(data_path.string() + ": OK, " + std::to_string(store.key_count()) + " keys, " +
                    std::to_string(store.value_count()) + " values (" + id.ToString() + ")");
  const auto journal_path = JournalPath(data_path);
  if (!std::filesystem::exists(journal_path)) {
    report->push_back(journal_path.string() + ": none (kvd was shut down cleanly)");
    const MetaFile meta = ReadMetaFile(data_path, id);
    if (meta.matches && meta.revisions.keys.size() == store.key_count()) {
      report->push_back(MetaPath(data_path).string() + ": OK, revision " +
                        std::to_string(meta.revisions.store));
    } else {
      report->push_back((meta.problem.empty()
                             ? MetaPath(data_path).string() + " names another number of keys"
                             : meta.problem) +
                        ": kvd gives every key a new revision at start");
    }
    return Status::OK();
  }
  JournalContents contents;
  if (Status s = ReadJournal(journal_path, &contents); !s.ok()) {
    report->push_back(s.ToString());
    fault->damaged_at = contents.damaged_at;
    return s;
  }
  std::size_t changes = 0;
  for (const auto& e : contents.entries) changes += e.record.batch.size();
  report->push_back(journal_path.string() + ": " + std::to_string(contents.entries.size()) +
                    " whole records (" + std::to_string(changes) + " changes) in " +
                    std::to_string(contents.valid_end) + " bytes");
  if (!contents.torn_reason.empty()) {
    report->push_back(journal_path.string() + ": torn last record at offset " +
                      std::to_string(contents.valid_end) + " (" + contents.torn_reason +
                      "); kvd drops it at start");
  }
  if (contents.entries.empty()) return Status::OK();
  std::uint64_t start = 0;
  const Store::Revisions* revisions = nullptr;
  if (Status s = ReplayStart(contents, id, journal_path.string(), &start, &revisions); !s.ok()) {
    fault->foreign = true;
    report->push_back(s.message());
    return s;
  }
  if (revisions == nullptr) {
    report->push_back(journal_path.string() +
                      ": no revisions (written before kvd kept them): kvd gives every key "
                      "revision 1 at start");
  } else if (revisions->keys.size() != store.key_count()) {
    const Status s = Status::Corruption(
        journal_path.string() + ": the revisions of " + std::to_string(revisions->keys.size()) +
        " keys for a storage.data of " + std::to_string(store.key_count()));
    report->push_back(s.message());
    return s;
  }
  return Status::OK();
}

}  // namespace

Status CheckDataFiles(const std::filesystem::path& data_path, std::vector<std::string>* report) {
  JournalFault fault;
  return Inspect(data_path, report, &fault);
}

Status RepairDataFiles(const std::filesystem::path& data_path, std::vector<std::string>* report) {
  std::unique_ptr<DataLock> lock;
  if (Status s = DataLock::Acquire(data_path, DataLock::Mode::kDaemon, {}, &lock); !s.ok()) {
    return s;
  }
  JournalFault fault;
  const Status found = Inspect(data_path, report, &fault);
  if (found.ok()) {
    report->push_back("nothing to repair");
    return Status::OK();
  }
  if (!fault.damaged_at && !fault.foreign) return found;  // storage.data itself: by hand

  const auto journal_path = JournalPath(data_path);
  const auto saved =
      DamagedJournalPath(data_path, std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  std::error_code ec;
  std::filesystem::copy_file(journal_path, saved, ec);
  if (ec) return Status::IOError("cannot save " + journal_path.string() + ": " + ec.message());
  report->push_back("saved the journal as it was to " + saved.string());
  if (fault.foreign) {
    std::filesystem::remove(journal_path, ec);
    if (ec) return Status::IOError("cannot remove " + journal_path.string() + ": " + ec.message());
    report->push_back("set the journal aside; kvd starts from storage.data alone");
  } else {
    std::unique_ptr<JournalWriter> writer;
    if (Status s = JournalWriter::Open(journal_path, *fault.damaged_at,
                                       JournalWriter::Reservation::kAllocated, &writer);
        !s.ok())
      return s;
    report->push_back("cut the journal at offset " + std::to_string(*fault.damaged_at) +
                      "; the records after it are only in the saved copy");
  }
  return Status::OK();
}

}  // namespace kvd
