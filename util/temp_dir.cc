#include "util/temp_dir.h"

#include <cstdlib>
#include <system_error>

namespace kvd {

std::filesystem::path TempDir() {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (!ec) return dir;
  // The directory it refused, found as libstdc++ looks for it.
  for (const char* name : {"TMPDIR", "TMP", "TEMP", "TEMPDIR"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return value;
  }
  return "/tmp";
}

}  // namespace kvd
