// Finding the line of a config file (kvd --config, doc/operations.md) that
// an error message is about: CLI11 reads the file but names only the key.
#ifndef KVD_DAEMON_CONFIG_FILE_H_
#define KVD_DAEMON_CONFIG_FILE_H_

#include <cstddef>
#include <optional>
#include <set>
#include <string>

namespace kvd::daemon {

// The 1-based line of `file_text` (a config file as CLI11 reads it: TOML or
// INI, "key = value", '#' and ';' comments, [sections]) setting the first key
// that `message` names, as "key" or "--key". Keys in `given_as_flags` are
// skipped: the command line wins over the file, so their errors are not the
// file's. Nothing if the message names no key set in the file.
std::optional<std::size_t> ConfigErrorLine(const std::string& file_text, const std::string& message,
                                           const std::set<std::string>& given_as_flags);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_CONFIG_FILE_H_
