// Helpers shared by the engine tests (engine_test.cc, engine_process_test.cc).
#ifndef KVD_TESTS_UNIT_ENGINE_HELPERS_H_
#define KVD_TESTS_UNIT_ENGINE_HELPERS_H_

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/engine.h"
#include "store/journal_reader.h"
#include "tests/test_dir.h"

namespace kvd {

inline std::unique_ptr<Engine> MustOpen(const std::filesystem::path& path,
                                        EngineOptions options = {}) {
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(path, options, &engine);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return engine;
}

inline Status Append(Engine& engine, const std::string& key, const std::string& val) {
  WriteBatch batch;
  batch.Append(key, val);
  return engine.Write(batch);
}

// The journal's records: the file without the zero-reading space
// JournalWriter reserves after them (to build journals from).
inline std::string JournalRecords(const std::filesystem::path& path) {
  JournalContents contents;
  const Status s = ReadJournal(path, &contents);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return ReadFile(path).substr(0, contents.valid_end);
}

}  // namespace kvd

#endif  // KVD_TESTS_UNIT_ENGINE_HELPERS_H_
