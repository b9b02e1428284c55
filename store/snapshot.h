// storage.data: the whole store as one JSON document in the original
// storage.py's shape, {"key": ["v1", "v2"], ...}, UTF-8.
#ifndef KVD_STORE_SNAPSHOT_H_
#define KVD_STORE_SNAPSHOT_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "store/file_system.h"
#include "store/store.h"
#include "util/status.h"

namespace kvd {

// Identifies one version of storage.data by its size and CRC-32C, so that a
// journal can name the snapshot it applies to. A missing file is {0, 0}.
struct SnapshotId {
  std::uint64_t size = 0;
  std::uint32_t crc = 0;
  bool operator==(const SnapshotId&) const = default;
  std::string ToString() const;
};

// Adds the contents of the snapshot at `path` to `store` and sets *id. A
// missing file is an empty store. Anything that is not a JSON object of
// arrays of strings, or not valid UTF-8, is Corruption naming the path,
// line, column and byte offset; the file is only read, never changed.
Status LoadSnapshot(const std::filesystem::path& path, Store* store, SnapshotId* id,
                    FileSystem* fs = FileSystem::Default());
// The same for a snapshot's `text`, read from the file `name`. Takes the
// text by value to pad it for the parser: a text from ReadWholeFile has the
// room, and is not copied when moved in.
Status ParseSnapshot(std::string text, const std::string& name, Store* store, SnapshotId* id);

// Receives a snapshot's contents, key by key in order.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  // One part of the entry of `key` (see Store::Visitor): the first opens
  // it, the last closes it.
  virtual void Entry(std::string_view key, ValueView values, bool first, bool last) = 0;
};

// Writes a snapshot to `path` durably (see WriteFileDurably): produce(sink)
// supplies the entries. Non-ASCII text is written as \u escapes, as Python's
// json.dump does, so that any reader decodes it the same. Sets *id.
Status WriteSnapshotFile(const std::filesystem::path& path,
                         const std::function<void(SnapshotSink&)>& produce, SnapshotId* id,
                         FileSystem* fs = FileSystem::Default());
// The same text, in memory (a Raft snapshot of cluster mode carries it).
std::string SnapshotText(const std::function<void(SnapshotSink&)>& produce);

}  // namespace kvd

#endif  // KVD_STORE_SNAPSHOT_H_
