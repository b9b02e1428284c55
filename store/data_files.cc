#include "store/data_files.h"

#include <string>

namespace kvd {
namespace {

std::filesystem::path WithSuffix(std::filesystem::path path, const std::string& suffix) {
  path += suffix;
  return path;
}

}  // namespace

std::filesystem::path JournalPath(const std::filesystem::path& data_path) {
  return WithSuffix(data_path, ".journal");
}

std::filesystem::path DamagedJournalPath(const std::filesystem::path& data_path,
                                         std::int64_t unix_time) {
  return WithSuffix(JournalPath(data_path), ".damaged-" + std::to_string(unix_time));
}

std::filesystem::path MetaPath(const std::filesystem::path& data_path) {
  return WithSuffix(data_path, ".meta");
}

std::filesystem::path HistoryPath(const std::filesystem::path& data_path) {
  return WithSuffix(data_path, ".history");
}

std::filesystem::path OwnerLockPath(const std::filesystem::path& data_path) {
  return WithSuffix(data_path, ".lock");
}

std::filesystem::path DaemonLockPath(const std::filesystem::path& data_path) {
  return WithSuffix(data_path, ".daemon.lock");
}

std::filesystem::path DefaultRaftDir(const std::filesystem::path& data_path) {
  return WithSuffix(data_path, ".raft");
}

std::filesystem::path TempPath(const std::filesystem::path& file) {
  return WithSuffix(file, ".tmp");
}

}  // namespace kvd
