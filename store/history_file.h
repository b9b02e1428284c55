// storage.data.history: the engine's change history (ChangeHistory) as it
// was when kvd folded the journal at shutdown (Engine::Close), so that a
// watch resumes across a restart. It names the storage.data it ends at, and
// is read only beside that one: after a compaction, or a crash after one,
// the history restarts from the journal. Its bytes (doc/journal-format.md):
// the snapshot identity (u64 size, u32 CRC), the store revision the history
// ends at (varint), ChangeHistory::Encode's bytes, then a CRC-32C (u32) of
// all that comes before it; integers little-endian.
#ifndef KVD_STORE_HISTORY_FILE_H_
#define KVD_STORE_HISTORY_FILE_H_

#include <cstdint>
#include <filesystem>
#include <string>

#include "store/change_history.h"
#include "store/file_system.h"
#include "store/snapshot.h"
#include "util/status.h"

namespace kvd {

// Durably replaces the history file of the data file `data_path` with
// `history`, which ends at the storage.data `data`.
Status WriteHistoryFile(const std::filesystem::path& data_path, const SnapshotId& data,
                        const ChangeHistory& history, FileSystem* fs = FileSystem::Default());

// Makes *history hold the history file of `data_path` if it ends at the
// storage.data `data` and at store revision `revision`; else false, with
// *problem saying what is wrong with the file (empty: there is none, or it
// belongs to another storage.data or revision: an older one), and *history holding
// nothing, from `revision` on (ChangeHistory::Reset).
bool ReadHistoryFile(const std::filesystem::path& data_path, const SnapshotId& data,
                     std::uint64_t revision, ChangeHistory* history, std::string* problem,
                     FileSystem* fs = FileSystem::Default());

}  // namespace kvd

#endif  // KVD_STORE_HISTORY_FILE_H_
