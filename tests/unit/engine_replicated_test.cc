// The engine without its journal (EngineOptions::journal = false), as
// cluster mode's state machine uses it: the Raft log keeps the changes.
#include <filesystem>
#include <memory>
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
using ::testing::HasSubstr;
using ::testing::IsEmpty;

EngineOptions WithoutJournal() {
  EngineOptions options;
  options.journal = false;
  return options;
}

TEST(EngineWithoutJournalTest, OpenLoadsNothingFromStorageData) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"k": ["v"]})");
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  EXPECT_THAT(engine->Get("k").view().ToStrings(), IsEmpty());
  EXPECT_THAT(engine->Keys(""), IsEmpty());
  EXPECT_EQ(engine->GetStats().keys, 0u);
}

TEST(EngineWithoutJournalTest, OpenIgnoresADamagedStorageData) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"a": ["x")");
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  ASSERT_NE(engine, nullptr);
  EXPECT_THAT(engine->Keys(""), IsEmpty());
}

TEST(EngineWithoutJournalTest, WritesApplyWithoutAJournal) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  WriteBatch batch;
  batch.Append("a", "1");
  batch.Delete("a");
  batch.Delete("a");
  batch.Append("b", "2");
  WriteResults applied;
  ASSERT_TRUE(engine->Write(batch, &applied).ok());
  EXPECT_THAT(AppliedOf(applied), ElementsAre(true, true, false, true));
  EXPECT_THAT(engine->Get("b").view().ToStrings(), ElementsAre("2"));
  EXPECT_FALSE(std::filesystem::exists(dir / "storage.data.journal"));
  EXPECT_EQ(engine->GetStats().journal_bytes, 0u);
}

TEST(EngineWithoutJournalTest, StorageDataIsLeftAloneUntilClose) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"k": ["v"]})");
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  ASSERT_TRUE(Append(*engine, "a", "1").ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"k": ["v"]})");
}

TEST(EngineWithoutJournalTest, CloseWritesTheStoreInTheOriginalShape) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  ASSERT_TRUE(Append(*engine, "b", "1").ok());
  ASSERT_TRUE(Append(*engine, "a", "x").ok());
  ASSERT_TRUE(Append(*engine, "a", "y, \"z\"").ok());
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"a":["x","y, \"z\""],"b":["1"]})");
  EXPECT_FALSE(std::filesystem::exists(dir / "storage.data.tmp")) << "not renamed into place";
  EXPECT_FALSE(std::filesystem::exists(dir / "storage.data.journal"));
  EXPECT_EQ(Append(*engine, "a", "late").code(), Status::Code::kIOError);
}

TEST(EngineWithoutJournalTest, CloseReplacesWhatStorageDataHeldBefore) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"k": ["v"]})");
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), "{}");
}

TEST(EngineWithoutJournalTest, AJournaledEngineReadsWhatCloseWrote) {
  TestDir dir;
  {
    auto engine = MustOpen(dir / "storage.data", WithoutJournal());
    ASSERT_TRUE(Append(*engine, "k", "\xc3\xa9").ok());
  }
  auto engine = MustOpen(dir / "storage.data");
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("\xc3\xa9"));
}

TEST(EngineWithoutJournalTest, SnapshotTextIsWhatCloseWrites) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  EXPECT_EQ(engine->SnapshotText(), "{}");
  ASSERT_TRUE(Append(*engine, "k", "v1").ok());
  ASSERT_TRUE(Append(*engine, "k", "\xc3\xa9").ok());
  ASSERT_TRUE(Append(*engine, "", "").ok());
  ASSERT_TRUE(Append(*engine, "gone", "x").ok());
  ASSERT_TRUE(Delete(*engine, "gone").ok());
  Store::Revisions revisions;
  const std::string text = engine->SnapshotText(&revisions);
  EXPECT_EQ(text, R"({"":[""],"k":["v1","\u00E9"]})");
  EXPECT_EQ(revisions.store, 5u);
  EXPECT_THAT(revisions.keys, ElementsAre(3u, 2u)) << "in the keys' order";
  ASSERT_TRUE(Append(*engine, "k", "after").ok());
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("v1", "\xc3\xa9", "after"))
      << "the store after a snapshot";
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"":[""],"k":["v1","\u00E9","after"]})");
}

TEST(EngineWithoutJournalTest, RestoreReplacesTheStore) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  ASSERT_TRUE(Append(*engine, "old", "v").ok());
  ASSERT_TRUE(Append(*engine, "k", "old").ok());
  const Store::Revisions revisions{40, {30, 40}};
  ASSERT_TRUE(
      engine->Restore(R"({"k":["1","2"],"new":["\u00e9"]})", &revisions, "a snapshot").ok());
  EXPECT_THAT(engine->Keys(""), ElementsAre("k", "new"));
  std::uint64_t revision = 0;
  engine->Get("new", &revision);
  EXPECT_EQ(revision, 40u);
  EXPECT_EQ(engine->GetStats().revision, 40u);
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("1", "2"));
  EXPECT_THAT(engine->Get("new").view().ToStrings(), ElementsAre("\xc3\xa9"));
  EXPECT_EQ(engine->GetStats().values, 3u);
  ASSERT_TRUE(Append(*engine, "k", "3").ok());
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"k":["1","2","3"],"new":["\u00E9"]})");
}

TEST(EngineWithoutJournalTest, RestoreWithoutRevisionsGivesEveryKeyTheFirst) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Append(*engine, "old", "v").ok());
  const Store::Revisions other_count{9, {9}};
  ASSERT_TRUE(engine->Restore(R"({"a":["1"],"b":[]})", &other_count, "a snapshot").ok());
  std::uint64_t a = 0, b = 0;
  engine->Get("a", &a);
  engine->Get("b", &b);
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 1u);
  ASSERT_TRUE(engine->Restore(R"({"a":["1"]})", nullptr, "a snapshot").ok());
  EXPECT_EQ(engine->GetStats().revision, 1u) << "the same on every node, whatever it held";
}

TEST(EngineWithoutJournalTest, RestoreOfBadTextIsCorruptionNamingItAndKeepsTheStore) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data", WithoutJournal());
  ASSERT_TRUE(Append(*engine, "old", "v").ok());
  const Status s = engine->Restore(R"({"k":["1"],"a": ["x")", nullptr, "Raft snapshot 7");
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("Raft snapshot 7"));
  EXPECT_EQ(engine->Keys(""), std::vector<std::string>{"old"});
  EXPECT_EQ(engine->GetStats().values, 1u);
}

}  // namespace
}  // namespace kvd
