#include "store/meta_file.h"

#include "store/atomic_file.h"
#include "store/data_files.h"
#include "store/journal_format.h"
#include "store/journal_reader.h"

namespace kvd {

Status WriteMetaFile(const std::filesystem::path& data_path, const SnapshotId& data,
                     const Store::Revisions& revisions, FileSystem* fs) {
  std::string head;
  journal::EncodeHead(data, revisions, &head);
  const std::filesystem::path path = MetaPath(data_path);
  const std::filesystem::path tmp = TempPath(path);
  if (Status s = WriteFileDurably(
          tmp, [&](const FileAppend& append) { return append(head); }, fs);
      !s.ok()) {
    return s;
  }
  return RenameDurably(tmp, path, fs);
}

MetaFile ReadMetaFile(const std::filesystem::path& data_path, const SnapshotId& data,
                      FileSystem* fs) {
  MetaFile meta;
  const std::filesystem::path path = MetaPath(data_path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    meta.problem = path.string() + " does not exist";
    return meta;
  }
  JournalContents contents;
  if (Status s = ReadJournal(path, &contents, fs); !s.ok()) {
    meta.problem = s.ToString();
    return meta;
  }
  const auto& entries = contents.entries;
  if (!contents.torn_reason.empty() || entries.size() != 2 ||
      entries[0].record.type != journal::RecordType::kBase ||
      entries[1].record.type != journal::RecordType::kMeta ||
      entries[1].record.snapshot != entries[0].record.snapshot) {
    meta.problem = path.string() + " is not a base and a meta record";
    return meta;
  }
  meta.found = true;
  meta.revisions = std::move(contents.entries[1].record.revisions);
  meta.matches = entries[0].record.snapshot == data;
  if (!meta.matches) {
    meta.problem = path.string() + " describes a storage.data with " +
                   entries[0].record.snapshot.ToString() + ", not this one (" + data.ToString() +
                   ")";
  }
  return meta;
}

}  // namespace kvd
