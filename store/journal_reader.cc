#include "store/journal_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/atomic_file.h"
#include "util/crc32c.h"

namespace kvd {
namespace {

std::uint32_t Fixed32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<unsigned char>(s[at + i])} << (8 * i);
  return v;
}

}  // namespace

Status ReadJournal(const std::filesystem::path& path, JournalContents* contents, FileSystem* fs) {
  *contents = JournalContents{};
  std::string data;
  if (Status s = ReadWholeFile(path, &data, fs); !s.ok()) return s;
  return ParseJournal(data, path.string(), contents);
}

Status ParseJournal(const std::string& data, const std::string& name, JournalContents* contents) {
  *contents = JournalContents{};
  auto corruption = [&](std::size_t offset, const std::string& why) {
    contents->damaged_at = offset;
    return Status::Corruption(name + ": offset " + std::to_string(offset) + ": " + why +
                              " (kvd --check tells more; kvd --repair cuts the journal there)");
  };
  // From `at` on, only zeros: space the writer reserved, or that a file
  // system filled in where a write never landed.
  auto zeros_from = [&](std::size_t at) {
    return std::all_of(data.begin() + static_cast<std::ptrdiff_t>(at), data.end(),
                       [](char c) { return c == '\0'; });
  };
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t left = data.size() - pos;
    if (left < journal::kHeaderSize) {
      contents->torn_reason = "incomplete record header";
      break;
    }
    const std::uint32_t length = Fixed32(data, pos);
    if (Crc32c(std::string_view(data).substr(pos, 4)) != Fixed32(data, pos + 4)) {
      if (zeros_from(pos)) break;  // the end of the records (no header checksums to zero)
      if (zeros_from(pos + journal::kHeaderSize)) {
        contents->torn_reason = "incomplete record header";
        break;
      }
      return corruption(pos, "record header checksum mismatch");
    }
    if (left - journal::kHeaderSize < length) {
      contents->torn_reason = "record of " + std::to_string(length) + " bytes cut short";
      break;
    }
    const std::string_view payload =
        std::string_view(data).substr(pos + journal::kHeaderSize, length);
    const std::size_t end = pos + journal::kHeaderSize + length;
    if (Crc32c(payload) != Fixed32(data, pos + 8)) {
      if (zeros_from(end)) {  // nothing but reserved space after it: the last record
        contents->torn_reason = "last record's checksum mismatch";
        break;
      }
      return corruption(pos, "record checksum mismatch");
    }
    JournalContents::Entry entry{pos, {}};
    if (!journal::DecodePayload(payload, &entry.record)) return corruption(pos, "malformed record");
    contents->entries.push_back(std::move(entry));
    pos = end;
  }
  contents->valid_end = pos;
  return Status::OK();
}

Status ReplayStart(const JournalContents& contents, const SnapshotId& data, const std::string& name,
                   std::uint64_t* start, const Store::Revisions** revisions) {
  const auto& entries = contents.entries;
  const journal::Record& base = entries.front().record;
  if (base.type != journal::RecordType::kBase) {
    return Status::Corruption(name +
                              ": offset 0: no base record, so it applies to no storage.data");
  }
  // The index of the kBase or kCheckpoint that names `data`.
  std::optional<std::size_t> found;
  if (base.snapshot == data) found = 0;
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].record.type == journal::RecordType::kCheckpoint &&
        entries[i].record.snapshot == data) {
      found = i;
    }
  }
  if (!found) {
    return Status::Corruption(name + ": offset 0: applies to a storage.data with " +
                              base.snapshot.ToString() + ", not to this one (" + data.ToString() +
                              "): it was replaced or edited while the journal held changes");
  }
  *start = *found == 0 ? 0 : entries[*found].record.offset;
  // The revisions of `data`: the kMeta after the kBase, or the last one
  // before the kCheckpoint.
  auto names_data = [&](std::size_t i) {
    return entries[i].record.type == journal::RecordType::kMeta &&
           entries[i].record.snapshot == data;
  };
  *revisions = nullptr;
  if (*found == 0) {
    if (entries.size() > 1 && names_data(1)) *revisions = &entries[1].record.revisions;
  } else {
    for (std::size_t i = *found; i-- > 0;) {
      if (names_data(i)) {
        *revisions = &entries[i].record.revisions;
        break;
      }
    }
  }
  return Status::OK();
}

}  // namespace kvd
