// storage.data.meta: the revisions of a storage.data (Store::Revisions),
// kept beside it once kvd has folded and removed the journal that held them
// (Engine::Close). Its bytes are a journal's head (journal::EncodeHead): a
// kBase naming the storage.data it describes, then kMeta, under the
// journal's checksums. While a journal exists, the journal's head is what
// counts and this file is not read.
#ifndef KVD_STORE_META_FILE_H_
#define KVD_STORE_META_FILE_H_

#include <filesystem>
#include <optional>
#include <string>

#include "store/file_system.h"
#include "store/snapshot.h"
#include "store/store.h"
#include "util/status.h"

namespace kvd {

// Durably replaces the meta file of the data file `data_path` with one
// describing the storage.data `data`.
Status WriteMetaFile(const std::filesystem::path& data_path, const SnapshotId& data,
                     const Store::Revisions& revisions, FileSystem* fs = FileSystem::Default());

// What the meta file of `data_path` says.
struct MetaFile {
  bool found = false;    // a whole meta file exists
  bool matches = false;  // it describes the storage.data given to ReadMetaFile
  Store::Revisions revisions;
  std::string problem;  // why it was not found or does not match, for the log
};
MetaFile ReadMetaFile(const std::filesystem::path& data_path, const SnapshotId& data,
                      FileSystem* fs = FileSystem::Default());

}  // namespace kvd

#endif  // KVD_STORE_META_FILE_H_
