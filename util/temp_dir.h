// The temp dir that kvd's defaults live in (CONTRACT.md: the data file and
// the socket): std::filesystem::temp_directory_path(), without its throw.
#ifndef KVD_UTIL_TEMP_DIR_H_
#define KVD_UTIL_TEMP_DIR_H_

#include <filesystem>

namespace kvd {

// temp_directory_path()'s answer (the first of $TMPDIR, $TMP, $TEMP and
// $TEMPDIR that is set, else /tmp), also when that directory is missing or
// not a directory: then that path all the same, so that the error comes
// where the path is used and names it, not as a crash reading a default.
std::filesystem::path TempDir();

}  // namespace kvd

#endif  // KVD_UTIL_TEMP_DIR_H_
