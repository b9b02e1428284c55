#include "store/change_history.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/engine.h"
#include "tests/test_dir.h"
#include "tests/unit/engine_helpers.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A change as text: "revision kind key values...", for comparing.
std::string Describe(const ChangeHistory::Change& c) {
  static const char* const kKinds[] = {"append", "delete", "trim"};
  std::string text = std::to_string(c.revision) + " " + kKinds[static_cast<int>(c.kind)] + " " +
                     std::string(c.key);
  for (std::string_view v : c.values) text += " " + std::string(v);
  return text;
}

// Every change after `after` under `prefix`, described.
std::vector<std::string> ReadAll(const ChangeHistory& history, std::uint64_t after,
                                 std::string_view prefix = "") {
  std::vector<std::string> seen;
  std::uint64_t position = 0;
  EXPECT_TRUE(history.Read(
      after, prefix,
      [&](const ChangeHistory::Change& c) {
        seen.push_back(Describe(c));
        return true;
      },
      &position));
  EXPECT_EQ(position, history.last());
  return seen;
}

// What a store's Apply reports for a batch of appends, deletes and trims.
WriteResults Results(std::initializer_list<bool> applied, std::string_view removed_packed = {}) {
  WriteResults results;
  for (bool a : applied) results.Add(a);
  if (!removed_packed.empty()) {
    results.Set(applied.size() - 1, true, ValueView(removed_packed.data(), removed_packed.size()));
  }
  return results;
}

TEST(ChangeHistoryTest, RecordsAppliedMutationsWithConsecutiveRevisions) {
  ChangeHistory history(1 << 20);
  history.Reset(10);
  WriteBatch batch;
  batch.Append("jobs", "j1");
  batch.Delete("gone");  // absent: not applied, takes no revision
  batch.Append("jobs", "j2");
  batch.Trim("jobs", ListRange{1, -1});
  const std::string removed = std::string("\x02") + "j1";
  history.Add(batch, Results({true, false, true, true}, removed));
  EXPECT_EQ(history.floor(), 10u);
  EXPECT_EQ(history.last(), 13u);
  EXPECT_THAT(ReadAll(history, 10),
              ElementsAre("11 append jobs j1", "12 append jobs j2", "13 trim jobs j1"));
  EXPECT_THAT(ReadAll(history, 12), ElementsAre("13 trim jobs j1"));
  EXPECT_THAT(ReadAll(history, 13), IsEmpty());
}

TEST(ChangeHistoryTest, AReadSkipsKeysOutsideThePrefixButMovesPastThem) {
  ChangeHistory history(1 << 20);
  history.Reset(0);
  WriteBatch batch;
  batch.Append("a/1", "x");
  batch.Append("b/1", "y");
  batch.Delete("a/1");
  history.Add(batch, Results({true, true, true}));
  EXPECT_THAT(ReadAll(history, 0, "a/"), ElementsAre("1 append a/1 x", "3 delete a/1"));
  std::uint64_t position = 0;
  std::vector<std::string> seen;
  ASSERT_TRUE(history.Read(
      1, "b/",
      [&](const ChangeHistory::Change& c) {
        seen.push_back(Describe(c));
        return true;
      },
      &position));
  EXPECT_THAT(seen, ElementsAre("2 append b/1 y"));
  EXPECT_EQ(position, 3u) << "the skipped change 3 is looked at: the next read goes on after it";
}

TEST(ChangeHistoryTest, AVisitThatSaysStopLeavesThatChangeForTheNextRead) {
  ChangeHistory history(1 << 20);
  history.Reset(0);
  for (int i = 0; i < 5; ++i) {
    WriteBatch batch;
    batch.Append("k", std::to_string(i));
    history.Add(batch, Results({true}));
  }
  std::uint64_t position = 0;
  int visits = 0;
  ASSERT_TRUE(history.Read(
      0, "", [&](const ChangeHistory::Change&) { return ++visits <= 2; }, &position));
  EXPECT_EQ(position, 2u);
  EXPECT_THAT(ReadAll(history, position),
              ElementsAre("3 append k 2", "4 append k 3", "5 append k 4"));
}

TEST(ChangeHistoryTest, TheOldestChangesGoOnceItHoldsItsBytes) {
  ChangeHistory history(64 * 1024);  // 16 chunks of 4 KiB
  history.Reset(0);
  const std::string value(1000, 'v');
  for (int i = 0; i < 1000; ++i) {
    WriteBatch batch;
    batch.Append("k", value);
    history.Add(batch, Results({true}));
  }
  EXPECT_LE(history.bytes(), 64u * 1024);
  EXPECT_GT(history.floor(), 900u);
  EXPECT_EQ(history.last(), 1000u);
  std::uint64_t position = 0;
  EXPECT_FALSE(history.Read(
      history.floor() - 1, "", [](const ChangeHistory::Change&) { return true; }, &position))
      << "the change after it is gone";
  EXPECT_EQ(ReadAll(history, history.floor()).size(), 1000 - history.floor());
  EXPECT_GT(history.BytesAfter(history.floor()), 60u * 1000);
  EXPECT_LT(history.BytesAfter(999), 5u * 1000) << "one chunk at most";
  EXPECT_EQ(history.BytesAfter(1000), 0u);
}

TEST(ChangeHistoryTest, AGapForgetsWhatCameBefore) {
  ChangeHistory history(1 << 20);
  history.Reset(0);
  history.Add(ChangeHistory::Change{1, Mutation::Kind::kDelete, "a", {}});
  history.Add(ChangeHistory::Change{5, Mutation::Kind::kDelete, "b", {}});
  EXPECT_EQ(history.floor(), 4u);
  EXPECT_THAT(ReadAll(history, 4), ElementsAre("5 delete b"));
}

// Every change after `after` the engine's history holds, described.
std::vector<std::string> EngineChanges(const Engine& engine, std::uint64_t after) {
  std::vector<std::string> seen;
  std::uint64_t position = 0;
  EXPECT_TRUE(engine.ReadChanges(
      after, "",
      [&](const ChangeHistory::Change& c) {
        seen.push_back(Describe(c));
        return true;
      },
      &position));
  return seen;
}

TEST(EngineHistoryTest, HoldsEveryKindOfChangeIncludingQueuedAppends) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch appends;
  appends.Append("q", "a");
  appends.Append("q", "b");
  bool acknowledged = false;
  ASSERT_TRUE(engine->Write(appends, nullptr, [&] { acknowledged = true; }).ok());
  ASSERT_TRUE(acknowledged);
  WriteBatch pop;
  pop.Trim("q", ListRange::AfterPop(1, false));
  ASSERT_TRUE(engine->Write(pop).ok());
  ASSERT_TRUE(Delete(*engine, "q").ok());
  EXPECT_THAT(EngineChanges(*engine, 0),
              ElementsAre("1 append q a", "2 append q b", "3 trim q a", "4 delete q"));
}

TEST(EngineHistoryTest, ARestartRefillsItFromTheJournal) {
  TestDir dir;
  {
    auto engine = MustOpen(dir / "storage.data");
    ASSERT_TRUE(Append(*engine, "a", "1").ok());
    ASSERT_TRUE(engine->Close().ok());  // revision 1 folded into storage.data
  }
  {
    auto engine = MustOpen(dir / "storage.data");
    ASSERT_TRUE(Append(*engine, "a", "2").ok());
    ASSERT_TRUE(Append(*engine, "b", "3").ok());
    // Left without Close, as by a crash: the journal holds revisions 2 and 3.
    std::uint64_t position = 0;
    ASSERT_TRUE(engine->ReadChanges(
        1, "", [](const ChangeHistory::Change&) { return true; }, &position));
    EXPECT_EQ(position, 3u);
    std::filesystem::copy(dir / "storage.data.journal", dir / "crashed.journal");
    std::filesystem::copy(dir / "storage.data", dir / "crashed.data");
  }
  std::filesystem::rename(dir / "crashed.journal", dir / "storage.data.journal");
  std::filesystem::rename(dir / "crashed.data", dir / "storage.data");
  auto engine = MustOpen(dir / "storage.data");
  EXPECT_THAT(EngineChanges(*engine, 1), ElementsAre("2 append a 2", "3 append b 3"));
  std::uint64_t position = 0;
  EXPECT_FALSE(engine->ReadChanges(
      0, "", [](const ChangeHistory::Change&) { return true; }, &position))
      << "revision 1 came before the journal's snapshot";
  EXPECT_EQ(position, 1u);
}

TEST(ChangeHistoryTest, DecodeReadsBackWhatEncodeWrote) {
  ChangeHistory history(1 << 20);
  history.Reset(7);
  WriteBatch batch;
  batch.Append("k", "v");
  batch.Delete("k");
  history.Add(batch, Results({true, true}));
  std::string bytes;
  history.Encode(&bytes);
  ChangeHistory read(1 << 20);
  ASSERT_TRUE(read.Decode(bytes));
  EXPECT_EQ(read.floor(), 7u);
  EXPECT_THAT(ReadAll(read, 7), ElementsAre("8 append k v", "9 delete k"));
  EXPECT_FALSE(read.Decode(bytes.substr(0, bytes.size() - 1)));
  EXPECT_FALSE(read.Decode(bytes + "x"));
  EXPECT_THAT(ReadAll(read, 7), ElementsAre("8 append k v", "9 delete k"))
      << "a failed decode leaves it as it was";
}

TEST(EngineHistoryTest, ACleanRestartKeepsItInTheHistoryFile) {
  TestDir dir;
  {
    auto engine = MustOpen(dir / "storage.data");
    ASSERT_TRUE(Append(*engine, "a", "1").ok());
    ASSERT_TRUE(Delete(*engine, "a").ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "storage.data.history"));
  const auto written = std::filesystem::last_write_time(dir / "storage.data.history");
  {
    auto engine = MustOpen(dir / "storage.data");
    EXPECT_THAT(EngineChanges(*engine, 0), ElementsAre("1 append a 1", "2 delete a"));
  }
  EXPECT_EQ(std::filesystem::last_write_time(dir / "storage.data.history"), written)
      << "a read-only use leaves it alone";
  auto engine = MustOpen(dir / "storage.data");
  ASSERT_TRUE(Append(*engine, "b", "3").ok());
  EXPECT_THAT(EngineChanges(*engine, 1), ElementsAre("2 delete a", "3 append b 3"));
}

TEST(EngineHistoryTest, ADamagedHistoryFileIsWarnedOfAndLeftOut) {
  TestDir dir;
  {
    auto engine = MustOpen(dir / "storage.data");
    ASSERT_TRUE(Append(*engine, "a", "1").ok());
  }
  std::string bytes = ReadFile(dir / "storage.data.history");
  bytes[bytes.size() / 2] ^= 1;
  WriteFile(dir / "storage.data.history", bytes);
  std::vector<std::string> warnings;
  EngineOptions options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  auto engine = MustOpen(dir / "storage.data", options);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], ::testing::HasSubstr("damaged"));
  EXPECT_EQ(RevisionOf(*engine, "a"), 1u) << "the data is unharmed";
  std::uint64_t position = 0;
  EXPECT_FALSE(engine->ReadChanges(
      0, "", [](const ChangeHistory::Change&) { return true; }, &position));
  EXPECT_EQ(position, 1u);
}

}  // namespace
}  // namespace kvd
