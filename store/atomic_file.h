// Replacing a file so that readers and crashes see either the old or the new
// contents, never a mix: write a temporary file in the same directory, fsync
// it, rename it over the target, fsync the directory (as SQLite does).
#ifndef KVD_STORE_ATOMIC_FILE_H_
#define KVD_STORE_ATOMIC_FILE_H_

#include <cstdio>
#include <filesystem>
#include <functional>

#include "store/status.h"

namespace kvd {

// Calls write(file) on a fresh temporary file, then atomically puts it in
// place of `path`. If anything fails (write reports false, a short write, a
// failed fsync or rename), `path` is left as it was and the temporary removed.
Status ReplaceFileAtomically(const std::filesystem::path& path,
                             const std::function<bool(std::FILE*)>& write);

}  // namespace kvd

#endif  // KVD_STORE_ATOMIC_FILE_H_
