#include "proto/endpoint.h"

#include <cstdlib>
#include <filesystem>

#include "util/temp_dir.h"

namespace kvd::proto {

std::string DefaultSocketPath() {
  if (const char* env = std::getenv("KVD_SOCKET"); env != nullptr && *env != '\0') return env;
#ifdef _WIN32
  return R"(\\.\pipe\kvd)";
#else
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime != '\0')
    return (std::filesystem::path(runtime) / "kvd.sock").string();
  return (TempDir() / "kvd.sock").string();
#endif
}

}  // namespace kvd::proto
