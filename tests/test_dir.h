// A fresh temporary directory per test, removed afterwards.
#ifndef KVD_TESTS_TEST_DIR_H_
#define KVD_TESTS_TEST_DIR_H_

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

class TestDir {
 public:
  // In `base`: the temp dir by default.
  explicit TestDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    std::random_device random;
    do {
      path_ = base / ("kvd-unit-" + std::to_string(random()));
    } while (!std::filesystem::create_directory(path_));  // false: it exists already
  }
  ~TestDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

#endif  // KVD_TESTS_TEST_DIR_H_
