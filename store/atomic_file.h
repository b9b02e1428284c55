// Durable file replacement, so that readers and crashes see either the old
// or the new contents, never a mix (as SQLite does): write the new contents
// to a temporary file in the same directory and fsync it; rename it over the
// target; fsync the directory.
#ifndef KVD_STORE_ATOMIC_FILE_H_
#define KVD_STORE_ATOMIC_FILE_H_

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "store/file_system.h"
#include "util/status.h"

namespace kvd {

// IOError "<what> <path>: <strerror(err)>".
Status ErrnoError(const std::string& what, const std::filesystem::path& path, int err);

// Creates `path` afresh (replacing a leftover), calls write(append), which
// hands the contents to append(bytes) front to back, and fsyncs. If anything
// fails (write reports false, a failed write or fsync) the file is removed
// and the error returned. append reports false, with errno set, once a
// write has failed.
using FileAppend = std::function<bool(std::string_view)>;
Status WriteFileDurably(const std::filesystem::path& path,
                        const std::function<bool(const FileAppend&)>& write,
                        FileSystem* fs = FileSystem::Default());

// Reads the whole file at `path` into *contents, in one read for a file
// that does not change meanwhile. *contents has room for
// kReadWholeFileSpare bytes more, to append without copying it.
inline constexpr std::size_t kReadWholeFileSpare = 64;
Status ReadWholeFile(const std::filesystem::path& path, std::string* contents,
                     FileSystem* fs = FileSystem::Default());

// Renames `from` over `to` and fsyncs the directory, so the rename survives
// a crash.
Status RenameDurably(const std::filesystem::path& from, const std::filesystem::path& to,
                     FileSystem* fs = FileSystem::Default());

// fsyncs the directory holding `path`, making a create, rename or delete
// of `path` durable.
Status SyncParentDirectory(const std::filesystem::path& path,
                           FileSystem* fs = FileSystem::Default());

}  // namespace kvd

#endif  // KVD_STORE_ATOMIC_FILE_H_
