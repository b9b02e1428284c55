// Reads the journal back at start-up (see journal_format.h).
#ifndef KVD_STORE_JOURNAL_READER_H_
#define KVD_STORE_JOURNAL_READER_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/file_system.h"
#include "store/journal_format.h"
#include "store/snapshot.h"
#include "util/status.h"

namespace kvd {

struct JournalContents {
  struct Entry {
    std::uint64_t offset;  // where the record starts
    journal::Record record;
  };
  std::vector<Entry> entries;
  std::uint64_t valid_end = 0;  // end of the last whole record
  // Why the bytes after valid_end were dropped, if there are any: a record
  // cut short by a crash mid-append.
  std::string torn_reason;
  // Where damage was found, when ReadJournal returns Corruption.
  std::optional<std::uint64_t> damaged_at;
};

// Reads every record of the journal at `path`. The records end where the
// file does or where only zeros follow (space JournalWriter reserved). A
// torn last record, cut short or failing its checksum with only zeros after
// it, is not an error: it is left out and described in `torn_reason`.
// Damage anywhere else (a bad checksum with more data after it, a malformed
// record) is Corruption naming the file and offset. The file is only read.
Status ReadJournal(const std::filesystem::path& path, JournalContents* contents,
                   FileSystem* fs = FileSystem::Default());
// The same for a journal's bytes `data`, read from the file `name`.
Status ParseJournal(const std::string& data, const std::string& name, JournalContents* contents);

// Whether the journal `name`, read into `contents` (at least one whole
// record), applies to the storage.data identified by `data`, and if so, sets
// *start to the offset of the first record that storage.data lacks: 0 if
// the journal's first record is a kBase naming `data`; the offset of the
// last kCheckpoint naming `data` if there is one (a compaction installed
// that storage.data and crashed before it cut the journal). Otherwise
// Corruption saying why: the first record is no kBase, or the journal
// belongs to another storage.data (replaced or edited by hand while the
// journal held changes). The one rule for recovery (Engine::Recover) and
// kvd --check alike, so that --check passes exactly the files kvd replays.
// Sets *revisions to those of storage.data, which replay goes on from: of
// the kMeta record naming it right after that kBase, or the last one before
// that kCheckpoint; null if there is none (a journal written before
// revisions were).
Status ReplayStart(const JournalContents& contents, const SnapshotId& data, const std::string& name,
                   std::uint64_t* start, const Store::Revisions** revisions);

}  // namespace kvd

#endif  // KVD_STORE_JOURNAL_READER_H_
