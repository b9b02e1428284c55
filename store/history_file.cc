#include "store/history_file.h"

#include <cstring>

#include "store/atomic_file.h"
#include "store/data_files.h"
#include "util/crc32c.h"
#include "util/varint.h"

namespace kvd {
namespace {

void PutFixed(std::string* out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

std::uint64_t GetFixed(std::string_view in, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    v |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  }
  return v;
}

constexpr std::size_t kIdBytes = 8 + 4;
constexpr std::size_t kCrcBytes = 4;

}  // namespace

Status WriteHistoryFile(const std::filesystem::path& data_path, const SnapshotId& data,
                        const ChangeHistory& history, FileSystem* fs) {
  std::string bytes;
  PutFixed(&bytes, data.size, 8);
  PutFixed(&bytes, data.crc, 4);
  PutVarint(&bytes, history.last());
  history.Encode(&bytes);
  PutFixed(&bytes, Crc32c(bytes), kCrcBytes);
  const std::filesystem::path path = HistoryPath(data_path);
  const std::filesystem::path tmp = TempPath(path);
  if (Status s = WriteFileDurably(
          tmp, [&](const FileAppend& append) { return append(bytes); }, fs);
      !s.ok()) {
    return s;
  }
  return RenameDurably(tmp, path, fs);
}

bool ReadHistoryFile(const std::filesystem::path& data_path, const SnapshotId& data,
                     std::uint64_t revision, ChangeHistory* history, std::string* problem,
                     FileSystem* fs) {
  problem->clear();
  history->Reset(revision);
  const std::filesystem::path path = HistoryPath(data_path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return false;
  std::string bytes;
  if (Status s = ReadWholeFile(path, &bytes, fs); !s.ok()) {
    *problem = s.ToString();
    return false;
  }
  if (bytes.size() < kIdBytes + kCrcBytes ||
      GetFixed(std::string_view(bytes).substr(bytes.size() - kCrcBytes), kCrcBytes) !=
          Crc32c(std::string_view(bytes.data(), bytes.size() - kCrcBytes))) {
    *problem = path.string() + " is damaged (its checksum does not match)";
    return false;
  }
  std::string_view in(bytes.data(), bytes.size() - kCrcBytes);
  const SnapshotId ends_at{GetFixed(in, 8), static_cast<std::uint32_t>(GetFixed(in.substr(8), 4))};
  in.remove_prefix(kIdBytes);
  std::uint64_t last = 0;
  if (!GetVarint(&in, &last)) {
    *problem = path.string() + " is malformed";
    return false;
  }
  // Left by an earlier run, before a compaction or another tool's rewrite.
  if (!(ends_at == data) || last != revision) return false;
  if (!history->Decode(in) || history->last() != revision) {
    *problem = path.string() + " is malformed";
    return false;
  }
  return true;
}

}  // namespace kvd
