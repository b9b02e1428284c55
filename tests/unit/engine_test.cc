#include "store/engine.h"

#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/journal_format.h"
#include "tests/test_dir.h"
#include "tests/unit/engine_helpers.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(EngineTest, CloseFoldsTheJournalIntoStorageData) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  ASSERT_TRUE(Append(*engine, "a", "x").ok());
  ASSERT_TRUE(Append(*engine, "a", "y, z").ok());
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"a":["x","y, z"]})");
  EXPECT_FALSE(std::filesystem::exists(dir / "storage.data.journal"));
  EXPECT_EQ(Append(*engine, "a", "late").code(), Status::Code::kIOError);
}

TEST(EngineTest, ReadOnlyUseLeavesStorageDataAlone) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"k": ["v"]})");
  const auto before = std::filesystem::last_write_time(dir / "storage.data");
  {
    auto engine = MustOpen(dir / "storage.data");
    EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("v"));
  }
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"k": ["v"]})");
  EXPECT_EQ(std::filesystem::last_write_time(dir / "storage.data"), before);
  EXPECT_FALSE(std::filesystem::exists(dir / "storage.data.journal"));
}

TEST(EngineTest, RevisionsSurviveAReopenInTheMetaFile) {
  TestDir dir;
  {
    auto engine = MustOpen(dir / "storage.data");
    ASSERT_TRUE(Append(*engine, "a", "1").ok());
    ASSERT_TRUE(Append(*engine, "b", "2").ok());
    ASSERT_TRUE(Append(*engine, "a", "3").ok());
    ASSERT_TRUE(Delete(*engine, "b").ok());
    ASSERT_TRUE(Delete(*engine, "b").ok());  // absent: no change
    EXPECT_EQ(engine->GetStats().revision, 4u);
  }
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"a":["1","3"]})");
  EXPECT_TRUE(std::filesystem::exists(dir / "storage.data.meta"));
  const auto written = std::filesystem::last_write_time(dir / "storage.data.meta");
  {
    auto engine = MustOpen(dir / "storage.data");
    EXPECT_EQ(RevisionOf(*engine, "a"), 3u);
  }
  EXPECT_EQ(std::filesystem::last_write_time(dir / "storage.data.meta"), written)
      << "a read-only use leaves the meta file alone";
  auto engine = MustOpen(dir / "storage.data");
  EXPECT_EQ(RevisionOf(*engine, "a"), 3u);
  EXPECT_EQ(engine->GetStats().revision, 4u);
  ASSERT_TRUE(Append(*engine, "c", "5").ok());
  EXPECT_EQ(RevisionOf(*engine, "c"), 5u);
}

// Writes `key` = "v" expiring at `at`, and `plain` = "v" without an expiry.
void WriteExpiring(Engine& engine, const std::string& key, std::uint64_t at,
                   const std::string& plain) {
  WriteBatch batch;
  batch.Append(key, "v", {}, at);
  batch.Append(plain, "v");
  ASSERT_TRUE(engine.Write(batch).ok());
}

TEST(EngineTest, ReadersTreatAnExpiredKeyAsAbsentAtOnce) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  const std::uint64_t now = UnixMillis();
  WriteExpiring(*engine, "gone", now - 1, "kept");
  WriteExpiring(*engine, "later", now + 3'600'000, "other");
  EXPECT_TRUE(engine->Get("gone").empty());
  EXPECT_EQ(RevisionOf(*engine, "gone"), 0u);
  EXPECT_EQ(engine->KeyRevision("gone"), 0u);
  EXPECT_TRUE(engine->GetRange("gone", {0, -1}).empty());
  EXPECT_EQ(engine->Length("gone"), 0u);
  EXPECT_THAT(engine->Keys(""), ElementsAre("kept", "later", "other"));
  EXPECT_EQ(engine->TimeToLive("gone"), -2);
  EXPECT_EQ(engine->TimeToLive("kept"), -1);
  EXPECT_EQ(engine->TimeToLive("missing"), -2);
  EXPECT_GT(engine->TimeToLive("later"), 3'500'000);
  EXPECT_TRUE(engine->Expired("gone", now));
  EXPECT_FALSE(engine->Expired("later", now));
  EXPECT_THAT(engine->ExpiredKeys(UnixMillis(), 10), ElementsAre("gone"));
  EXPECT_EQ(engine->GetStats().keys, 4u) << "counted until its expired delete";
}

// Across a clean reopen (the meta file), a crash (the journal replayed) and
// a compaction (its snapshot's kMeta), a key keeps its expiry time.
TEST(EngineTest, ExpiriesSurviveAReopenAReplayAndACompaction) {
  TestDir dir;
  const std::uint64_t at = UnixMillis() + 3'600'000;
  {
    auto engine = MustOpen(dir / "storage.data");
    WriteExpiring(*engine, "e", at, "p");
    WriteBatch gone;
    gone.Append("x", "v", {}, 1);
    ASSERT_TRUE(engine->Write(gone).ok());
  }
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"e":["v"],"p":["v"],"x":["v"]})");
  {
    auto engine = MustOpen(dir / "storage.data");
    EXPECT_EQ(engine->Get("e").view().ToStrings(), std::vector<std::string>{"v"});
    EXPECT_THAT(engine->ExpiredKeys(UnixMillis(), 10), ElementsAre("x"));
    const Store::Revisions r = [&] {
      Store::Revisions out;
      engine->SnapshotText(&out);
      return out;
    }();
    EXPECT_EQ(r.expiries, (std::vector<Store::Expiry>{{0, at}, {2, 1}}));
    // Left unfolded, as a crash leaves it: the journal holds the change.
    WriteBatch persist;
    persist.Expire("e", 0);
    persist.Expire("p", at + 1);
    ASSERT_TRUE(engine->Write(persist).ok());
    std::filesystem::copy(dir / "storage.data.journal", dir / "crashed.journal");
  }
  std::filesystem::remove(dir / "storage.data.meta");
  std::filesystem::rename(dir / "crashed.journal", dir / "storage.data.journal");
  EngineOptions compacting;
  compacting.compact_min_bytes = 1;
  compacting.compact_percentage = 0;
  {
    auto engine = MustOpen(dir / "storage.data", compacting);
    EXPECT_EQ(engine->TimeToLive("e"), -1) << "the replayed persist";
    EXPECT_GT(engine->TimeToLive("p"), 3'500'000);
    for (int i = 0; engine->GetStats().compactions == 0 && i < 100; ++i) {
      ASSERT_TRUE(Append(*engine, "more", std::to_string(i)).ok());
      engine->WaitForCompaction();
    }
    EXPECT_GT(engine->GetStats().compactions, 0u);
    ASSERT_TRUE(Append(*engine, "after", "compaction").ok());
    engine->WaitForCompaction();
    std::filesystem::copy(dir / "storage.data.journal", dir / "compacted.journal");
    std::filesystem::copy(dir / "storage.data", dir / "compacted.data");
  }
  std::filesystem::remove(dir / "storage.data.meta");
  std::filesystem::rename(dir / "compacted.journal", dir / "storage.data.journal");
  std::filesystem::rename(dir / "compacted.data", dir / "storage.data");
  auto engine = MustOpen(dir / "storage.data");
  EXPECT_GT(engine->TimeToLive("p"), 3'500'000) << "from the compacted snapshot's kMeta";
  EXPECT_EQ(engine->TimeToLive("e"), -1);
  EXPECT_THAT(engine->ExpiredKeys(UnixMillis(), 10), ElementsAre("x"));
}

TEST(EngineTest, AStorageDataWithoutItsOwnRevisionsGivesEveryKeyTheNext) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"k": ["v"], "e": []})");  // as storage.py wrote it
  std::vector<std::string> warnings;
  EngineOptions options;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  {
    auto engine = MustOpen(dir / "storage.data", options);
    EXPECT_EQ(RevisionOf(*engine, "k"), 1u);
    EXPECT_EQ(RevisionOf(*engine, "e"), 1u);
    EXPECT_EQ(engine->GetStats().revision, 1u);
    ASSERT_TRUE(Append(*engine, "k", "w").ok());
    EXPECT_EQ(RevisionOf(*engine, "k"), 2u);
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], ::testing::HasSubstr("has no revisions of its own"));
  // Another tool rewrites storage.data: the meta file describes another one.
  WriteFile(dir / "storage.data", R"({"k": ["v", "w", "x"]})");
  auto engine = MustOpen(dir / "storage.data", options);
  EXPECT_EQ(RevisionOf(*engine, "k"), 3u) << "after the revision the meta file names";
  EXPECT_EQ(warnings.size(), 2u);
}

TEST(EngineTest, ReportsWhichDeletesFoundTheirKey) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch batch;
  batch.Append("a", "1");
  batch.Delete("a");
  batch.Delete("a");
  WriteResults applied;
  ASSERT_TRUE(engine->Write(batch, &applied).ok());
  EXPECT_THAT(AppliedOf(applied), ElementsAre(true, true, false));
  EXPECT_THAT(engine->Get("a").view().ToStrings(), IsEmpty());
}

std::vector<std::string> Range(const Engine& engine, std::string_view key, std::int64_t start,
                               std::int64_t stop) {
  return engine.GetRange(key, ListRange{start, stop}).view().ToStrings();
}

// LRANGE's indices: from 0 at the head or -1 at the tail, the stop
// included, clamped to the list; from the head or from the end alike.
TEST(EngineTest, GetRangeReadsTheValuesOfLrangesIndices) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  for (const char* v : {"a", "b", "c", "d", "e"}) ASSERT_TRUE(Append(*engine, "k", v).ok());
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  EXPECT_THAT(Range(*engine, "k", 0, -1), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(Range(*engine, "k", 1, 3), ElementsAre("b", "c", "d"));
  EXPECT_THAT(Range(*engine, "k", -2, -1), ElementsAre("d", "e"));
  EXPECT_THAT(Range(*engine, "k", 1, -2), ElementsAre("b", "c", "d"));
  EXPECT_THAT(Range(*engine, "k", -3, 3), ElementsAre("c", "d"));
  EXPECT_THAT(Range(*engine, "k", 2, 2), ElementsAre("c"));
  EXPECT_THAT(Range(*engine, "k", 3, 100), ElementsAre("d", "e")) << "stop clamped";
  EXPECT_THAT(Range(*engine, "k", -100, 1), ElementsAre("a", "b")) << "start clamped";
  EXPECT_THAT(Range(*engine, "k", 0, kMax), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(Range(*engine, "k", kMin, kMax), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(Range(*engine, "k", 3, 1), IsEmpty()) << "start after stop";
  EXPECT_THAT(Range(*engine, "k", -1, -2), IsEmpty());
  EXPECT_THAT(Range(*engine, "k", 5, 10), IsEmpty()) << "past the end";
  EXPECT_THAT(Range(*engine, "k", 0, -6), IsEmpty()) << "stop before the head";
  EXPECT_THAT(Range(*engine, "k", kMax, kMax), IsEmpty());
  EXPECT_THAT(Range(*engine, "absent", 0, -1), IsEmpty());
}

// The values in the range are copied alone, read together with the
// key's revision.
TEST(EngineTest, GetRangeCopiesOnlyItsValuesWithTheKeysRevision) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  ASSERT_TRUE(Append(*engine, "other", "x").ok());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(Append(*engine, "k", std::string(100, 'v')).ok());
  std::uint64_t revision = 0;
  const ValueList part = engine->GetRange("k", ListRange{-2, -1}, &revision);
  EXPECT_EQ(revision, 1001u);
  EXPECT_EQ(part.block_bytes(), 2u + 2 * 101) << "two values: one length byte and 100 bytes each";
  revision = 7;
  EXPECT_TRUE(engine->GetRange("absent", ListRange{}, &revision).empty());
  EXPECT_EQ(revision, 0u);
}

TEST(EngineTest, LengthCountsTheKeysValues) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"empty": [], "loaded": ["a", "b"]})");
  auto engine = MustOpen(dir / "storage.data");
  EXPECT_EQ(engine->Length("loaded"), 2u);
  EXPECT_EQ(engine->Length("empty"), 0u);
  EXPECT_EQ(engine->Length("absent"), 0u);
  ASSERT_TRUE(Append(*engine, "loaded", "c").ok());
  EXPECT_EQ(engine->Length("loaded"), 3u);
  ASSERT_TRUE(Delete(*engine, "loaded").ok());
  EXPECT_EQ(engine->Length("loaded"), 0u);
}

// Appends are acknowledged before they are applied: queued, and applied by
// whoever reads first. A reader started by the acknowledgement is not held
// off, and reads them.
TEST(EngineTest, AcknowledgedAppendsAreReadByAReaderTheyStart) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch batch;
  batch.Append("k", "1");
  batch.Append("k", "2");
  WriteResults applied;
  int acknowledgements = 0;
  auto acknowledge = [&] {
    ++acknowledgements;
    EXPECT_THAT(AppliedOf(applied), ElementsAre(true, true));
    auto read = std::async(std::launch::async, [&] { return engine->Get("k").view().ToStrings(); });
    ASSERT_EQ(read.wait_for(std::chrono::seconds(30)), std::future_status::ready)
        << "a reader held off while acknowledging";
    EXPECT_THAT(read.get(), ElementsAre("1", "2")) << "the reader missed what it was told of";
  };
  ASSERT_TRUE(engine->Write(batch, &applied, acknowledge).ok());
  EXPECT_EQ(acknowledgements, 1);
  EXPECT_FALSE(engine->ApplyQueued()) << "the reader applied them";
}

TEST(EngineTest, OnlyAcknowledgedAppendsAreQueued) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  auto acknowledge = [] {};
  WriteBatch appends;
  appends.Append("k", "1");
  ASSERT_TRUE(engine->Write(appends, nullptr, acknowledge).ok());
  EXPECT_TRUE(engine->ApplyQueued());
  EXPECT_FALSE(engine->ApplyQueued()) << "applied twice";

  ASSERT_TRUE(engine->Write(appends).ok());
  EXPECT_FALSE(engine->ApplyQueued()) << "queued without an acknowledgement to give";

  WriteBatch with_delete;
  with_delete.Append("k", "2");
  with_delete.Delete("other");
  ASSERT_TRUE(engine->Write(with_delete, nullptr, acknowledge).ok());
  EXPECT_FALSE(engine->ApplyQueued()) << "a delete's result is the store's to tell";

  WriteBatch big;
  big.Append("k", std::string(Engine::kMaxQueuedBytes, 'v'));
  ASSERT_TRUE(engine->Write(big, nullptr, acknowledge).ok());
  EXPECT_FALSE(engine->ApplyQueued()) << "a batch over kMaxQueuedBytes was copied";

  const auto values = engine->Get("k").view().ToStrings();
  ASSERT_EQ(values.size(), 4u);
  EXPECT_THAT(std::vector<std::string>(values.begin(), values.begin() + 3),
              ElementsAre("1", "1", "2"));
}

// A write that finds the last commit's appends still queued applies them and
// its own, so the queue never holds more than that.
TEST(EngineTest, AWriteAppliesAppendsLeftQueued) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  auto acknowledge = [] {};
  ASSERT_TRUE(Append(*engine, "k", "0").ok());
  for (const char* value : {"1", "2"}) {
    WriteBatch batch;
    batch.Append("k", value);
    ASSERT_TRUE(engine->Write(batch, nullptr, acknowledge).ok());
  }
  EXPECT_FALSE(engine->ApplyQueued()) << "two commits' appends were left queued";
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("0", "1", "2"));
}

// Each way to read or change the store first applies what is queued.
TEST(EngineTest, QueuedAppendsCountForEveryReadAndChange) {
  TestDir dir;
  EngineOptions options;
  options.compact_min_bytes = 1;  // the first write starts a compaction
  options.compact_percentage = 0;
  auto engine = MustOpen(dir / "storage.data", options);
  auto queue = [&](const std::string& key) {
    WriteBatch batch;
    batch.Append(key, "v");
    ASSERT_TRUE(engine->Write(batch, nullptr, [] {}).ok());
  };
  // The compaction's snapshot covers the journal up to its start, so it
  // takes in the append queued by the write that started it.
  queue("snapshotted");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (engine->GetStats().compactions == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(engine->GetStats().compactions, 1u);
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"snapshotted":["v"]})");

  queue("listed");
  EXPECT_THAT(engine->Keys("l"), ElementsAre("listed"));
  queue("counted");
  EXPECT_EQ(engine->GetStats().keys, 3u);
  queue("read");
  EXPECT_THAT(engine->Get("read").view().ToStrings(), ElementsAre("v"));
  queue("ranged");
  EXPECT_THAT(engine->GetRange("ranged", ListRange{-1, -1}).view().ToStrings(), ElementsAre("v"));
  queue("measured");
  EXPECT_EQ(engine->Length("measured"), 1u);
  queue("deleted");
  WriteBatch batch;
  batch.Delete("deleted");
  WriteResults applied;
  ASSERT_TRUE(engine->Write(batch, &applied).ok());
  EXPECT_THAT(AppliedOf(applied), ElementsAre(true)) << "the delete did not find the queued append";
  queue("folded");
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"),
            R"({"counted":["v"],"folded":["v"],"listed":["v"],"measured":["v"],"ranged":["v"],)"
            R"("read":["v"],"snapshotted":["v"]})");
}

TEST(EngineTest, SyncInFlightWhileAWriteWaitsForItsFdatasync) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");  // --fsync always
  EXPECT_FALSE(engine->SyncInFlight());
  bool saw_syncing = false;
  std::atomic<bool> watching = true;
  std::thread watcher([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!(saw_syncing = engine->SyncInFlight()) && std::chrono::steady_clock::now() < deadline) {
    }
    watching = false;
  });
  // Writes go on until the watcher saw one in its fdatasync, or gave up.
  while (watching) ASSERT_TRUE(Append(*engine, "k", "v").ok());
  watcher.join();
  EXPECT_TRUE(saw_syncing) << "no write was seen waiting for its fdatasync in 10 s";
  EXPECT_FALSE(engine->SyncInFlight()) << "still set after the writes";
}

// A delete's result is known once applied: then it is acknowledged, with
// readers free to run.
TEST(EngineTest, BatchesWithDeletesAreAcknowledgedOnceApplied) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  ASSERT_TRUE(Append(*engine, "gone", "x").ok());
  WriteBatch batch;
  batch.Append("k", "1");
  batch.Delete("gone");
  batch.Delete("absent");
  WriteResults applied;
  int acknowledgements = 0;
  auto acknowledge = [&] {
    ++acknowledgements;
    EXPECT_THAT(AppliedOf(applied), ElementsAre(true, true, false));
    auto read = std::async(std::launch::async, [&] { return engine->Get("k").view().ToStrings(); });
    ASSERT_EQ(read.wait_for(std::chrono::seconds(30)), std::future_status::ready)
        << "readers held off while acknowledging";
    EXPECT_THAT(read.get(), ElementsAre("1"));
  };
  ASSERT_TRUE(engine->Write(batch, &applied, acknowledge).ok());
  EXPECT_EQ(acknowledgements, 1);
}

TEST(EngineTest, FailedWritesAreNotAcknowledged) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  ASSERT_TRUE(engine->Close().ok());
  WriteBatch batch;
  batch.Append("k", "1");
  bool acknowledged = false;
  EXPECT_EQ(engine->Write(batch, nullptr, [&] { acknowledged = true; }).code(),
            Status::Code::kIOError);
  EXPECT_FALSE(acknowledged);
}

TEST(EngineTest, EmptyBatchWritesNothing) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  const auto before = engine->GetStats().journal_bytes;
  int acknowledgements = 0;
  ASSERT_TRUE(engine->Write(WriteBatch{}, nullptr, [&] { ++acknowledgements; }).ok());
  EXPECT_EQ(engine->GetStats().journal_bytes, before);
  EXPECT_EQ(acknowledgements, 1) << "a success, acknowledged like any other";
}

TEST(EngineTest, DamagedFileIsRefusedAndKept) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"a": ["x")");
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(dir / "storage.data", {}, &engine);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(engine, nullptr);
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"a": ["x")");
}

TEST(EngineTest, ReadersRunWhileWritersCommit) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  constexpr int kWriters = 4, kPerWriter = 25;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::size_t last = 0;
    while (!done.load()) {
      const auto n = engine->Get("k").view().count();
      EXPECT_GE(n, last) << "a reader saw the list shrink";
      last = n;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        EXPECT_TRUE(Append(*engine, "k", std::to_string(w) + ":" + std::to_string(i)).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  const auto values = engine->Get("k").view().ToStrings();
  EXPECT_EQ(values.size(), std::size_t{kWriters * kPerWriter});
  // Each writer's values appear in the order it wrote them.
  for (int w = 0; w < kWriters; ++w) {
    int next = 0;
    for (const auto& v : values) {
      if (v.starts_with(std::to_string(w) + ":")) {
        EXPECT_EQ(v, std::to_string(w) + ":" + std::to_string(next++));
      }
    }
    EXPECT_EQ(next, kPerWriter);
  }
}

// Compaction replaces storage.data and the journal while writers go on
// (on Windows: renamed over the open journal).
class CompactionTest : public CarryTest {};
INSTANTIATE_TEST_SUITE_P(Engine, CompactionTest, CarryTest::Modes(), CarryTest::Name);

TEST_P(CompactionTest, CompactionUnderConcurrentWritersKeepsEverything) {
  TestDir dir;
  EngineOptions options;
  options.compact_min_bytes = 2048;
  options.compact_percentage = 50;
  options.carry_under_lock_bytes = GetParam();
  constexpr int kWriters = 4;
  int written[kWriters];
  {
    auto engine = MustOpen(dir / "storage.data", options);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        int i = 0;
        for (; WritesGoOn(*engine, i); ++i) {
          EXPECT_TRUE(Append(*engine, "k" + std::to_string(w), std::to_string(i)).ok());
        }
        written[w] = i;
      });
    }
    for (auto& t : writers) t.join();
    EXPECT_GT(engine->GetStats().compactions, 0u);
    const Status closed = engine->Close();
    ASSERT_TRUE(closed.ok()) << closed.ToString();
  }
  auto engine = MustOpen(dir / "storage.data", options);
  for (int w = 0; w < kWriters; ++w) {
    const auto values = engine->Get("k" + std::to_string(w)).view().ToStrings();
    ASSERT_EQ(values.size(), static_cast<std::size_t>(written[w]));
    for (int i = 0; i < written[w]; ++i) EXPECT_EQ(values[i], std::to_string(i));
  }
}

// A queue: one thread appends, another pops from the head, while the
// journal is compacted; every value is popped once or still queued, in
// order, after a reopen (snapshots of the lists the trims left).
TEST_P(CompactionTest, PopsUnderCompactionTakeEachValueOnceAndSurviveAReopen) {
  TestDir dir;
  EngineOptions options;
  options.compact_min_bytes = 2048;
  options.compact_percentage = 50;
  options.carry_under_lock_bytes = GetParam();
  std::vector<std::string> popped;
  int appended = 0;
  {
    auto engine = MustOpen(dir / "storage.data", options);
    std::atomic<bool> done{false};
    std::thread popper([&] {
      WriteBatch pop;
      pop.Trim("q", {2, -1});
      WriteResults results;
      while (!done.load()) {
        ASSERT_TRUE(engine->Write(pop, &results).ok());
        for (std::string_view v : results.removed(0)) popped.emplace_back(v);
      }
    });
    for (; WritesGoOn(*engine, appended); ++appended) {
      EXPECT_TRUE(Append(*engine, "q", std::to_string(appended)).ok());
    }
    done = true;
    popper.join();
    EXPECT_GT(engine->GetStats().compactions, 0u);
  }
  EXPECT_GT(popped.size(), 0u);
  auto engine = MustOpen(dir / "storage.data", options);
  std::vector<std::string> all = popped;
  const ValueList queued = engine->Get("q");
  for (std::string_view v : queued.view()) all.emplace_back(v);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(appended));
  for (int i = 0; i < appended; ++i) EXPECT_EQ(all[i], std::to_string(i));
}

}  // namespace
}  // namespace kvd
