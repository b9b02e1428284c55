// The names of the files kvd keeps for one data file, each made by appending
// to the data file's path (storage.data by default; --data chooses it), in
// the manner of LevelDB's filename.h. This is the only place the code spells
// them: operators, scripts and the tests rely on them, so a change here is a
// change of the on-disk layout.
//
//   storage.data                         the snapshot (snapshot.h)
//   storage.data.tmp                     the next snapshot, while it is written
//   storage.data.journal                 the changes since the snapshot
//                                        (journal_format.h)
//   storage.data.journal.tmp             the next journal, while it is written
//   storage.data.journal.damaged-<time>  kvd --repair's copy of the journal it
//                                        changed (<time>: Unix seconds)
//   storage.data.meta                    what storage.data cannot hold (each
//                                        key's revision), written when kvd
//                                        folds the journal at shutdown
//                                        (meta_file.h)
//   storage.data.history                 the latest changes, for watchers,
//                                        written at shutdown too
//                                        (history_file.h)
//   storage.data.lock                    held by whoever has the data file open
//   storage.data.daemon.lock             held by kvd as well (data_lock.h)
//   storage.data.raft/                   cluster mode's Raft log and snapshots,
//                                        unless --raft-dir says otherwise
//
// A .tmp file is never read: it is written afresh, fsynced and renamed over
// the file it replaces (atomic_file.h), so a crash leaves the old or the new.
#ifndef KVD_STORE_DATA_FILES_H_
#define KVD_STORE_DATA_FILES_H_

#include <cstdint>
#include <filesystem>

namespace kvd {

std::filesystem::path JournalPath(const std::filesystem::path& data_path);
// Where kvd --repair saves the journal before it changes it, at `unix_time`.
std::filesystem::path DamagedJournalPath(const std::filesystem::path& data_path,
                                         std::int64_t unix_time);
std::filesystem::path MetaPath(const std::filesystem::path& data_path);
std::filesystem::path HistoryPath(const std::filesystem::path& data_path);
std::filesystem::path OwnerLockPath(const std::filesystem::path& data_path);
std::filesystem::path DaemonLockPath(const std::filesystem::path& data_path);
std::filesystem::path DefaultRaftDir(const std::filesystem::path& data_path);

// Where the next version of `file` (the data file or its journal) is written
// before it replaces `file` by rename.
std::filesystem::path TempPath(const std::filesystem::path& file);

}  // namespace kvd

#endif  // KVD_STORE_DATA_FILES_H_
