// storage.data: the whole store as one JSON document in the original
// storage.py's shape, {"key": ["v1", "v2"], ...}, UTF-8.
#ifndef KVD_STORE_SNAPSHOT_H_
#define KVD_STORE_SNAPSHOT_H_

#include <filesystem>

#include "store/status.h"
#include "store/store.h"
#include "store/write_batch.h"

namespace kvd {

// Adds the contents of the snapshot at `path` to `store`. A missing file is an
// empty store. Anything that is not a JSON object of arrays of strings, or not
// valid UTF-8, is Corruption naming the path, line, column and byte offset;
// the file is only read, never changed.
Status LoadSnapshot(const std::filesystem::path& path, Store* store);

// Atomically replaces the snapshot at `path` with `store` as changed by
// `pending` (without changing `store`). Non-ASCII text is written as \u
// escapes, as Python's json.dump does, so any reader decodes it the same.
Status SaveSnapshot(const std::filesystem::path& path, const Store& store,
                    const WriteBatch& pending = {});

}  // namespace kvd

#endif  // KVD_STORE_SNAPSHOT_H_
