// Helpers shared by the engine tests (engine_test.cc, engine_process_test.cc).
#ifndef KVD_TESTS_UNIT_ENGINE_HELPERS_H_
#define KVD_TESTS_UNIT_ENGINE_HELPERS_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/engine.h"
#include "store/journal_reader.h"
#include "tests/test_dir.h"

namespace kvd {

// Whether each mutation was applied (WriteResults::applied), in order.
inline std::vector<bool> AppliedOf(const WriteResults& results) {
  std::vector<bool> applied;
  for (std::size_t i = 0; i < results.size(); ++i) applied.push_back(results.applied(i));
  return applied;
}

// The key's revision, as Get reads it.
inline std::uint64_t RevisionOf(const Engine& engine, std::string_view key) {
  std::uint64_t revision = 0;
  engine.Get(key, &revision);
  return revision;
}

inline std::unique_ptr<Engine> MustOpen(const std::filesystem::path& path,
                                        EngineOptions options = {}) {
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(path, options, &engine);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return engine;
}

// For compaction tests, parameterized by EngineOptions::carry_under_lock_bytes:
// the default, and 0, at which every record written during a compaction is
// carried to the next journal in rounds, while writers go on.
class CarryTest : public ::testing::TestWithParam<std::uint64_t> {
 public:
  static auto Modes() { return ::testing::Values(EngineOptions().carry_under_lock_bytes, 0); }
  static std::string Name(const ::testing::TestParamInfo<std::uint64_t>& info) {
    return info.param == 0 ? "CarriedInRounds" : "CarriedUnderLock";
  }
};

// Tests of a compaction under concurrent writers: a writer that has made
// `writes` writes goes on for kMinCompactionWrites at least, then until a
// compaction has finished while writers ran (how long one takes is the
// disk's: 300 writes each once ran out first, on a slow day), but 100,000 at
// most (the test then fails on the count of compactions).
constexpr int kMinCompactionWrites = 300;
inline bool WritesGoOn(const Engine& engine, int writes) {
  return writes < kMinCompactionWrites || (writes < 100'000 && engine.GetStats().compactions == 0);
}

inline Status Append(Engine& engine, const std::string& key, const std::string& val) {
  WriteBatch batch;
  batch.Append(key, val);
  return engine.Write(batch);
}

inline Status Delete(Engine& engine, const std::string& key) {
  WriteBatch batch;
  batch.Delete(key);
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
