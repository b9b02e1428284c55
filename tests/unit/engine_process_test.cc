// Engine tests that need POSIX processes: crashes (fork, then SIGKILL
// before anything is closed), another process taking the lock, and
// RLIMIT_FSIZE standing in for a full disk. Not built for Windows, where
// tests/windows/pipe_test.sh restarts a real kvd.exe instead.
#include "store/engine.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/journal_format.h"
#include "store/journal_writer.h"
#include "tests/test_dir.h"
#include "tests/unit/engine_helpers.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Runs `body` in a child process that dies at its end without closing
// anything, as a crash would (`body` ends with CRASH_HERE); returns once the
// child is gone.
#define CRASH_HERE ::kill(::getpid(), SIGKILL)  // no destructors: the engine is never closed
template <typename Body>
void InCrashingChild(Body body) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    body();
    ::_exit(2);  // body returned, and so closed what it opened
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child failed before its crash, status " << status;
}

TEST(EngineTest, AcknowledgedWritesSurviveACrash) {
  TestDir dir;
  InCrashingChild([&] {
    std::unique_ptr<Engine> engine;
    if (!Engine::Open(dir / "storage.data", {}, &engine).ok()) ::_exit(1);
    for (const char* v : {"x", "y, z"}) {
      if (!Append(*engine, "a", v).ok()) ::_exit(1);
    }
    CRASH_HERE;
  });
  EXPECT_TRUE(std::filesystem::exists(dir / "storage.data.journal"));
  auto engine = MustOpen(dir / "storage.data");
  EXPECT_THAT(engine->Get("a").view().ToStrings(), ElementsAre("x", "y, z"));
}

// Trims are replayed from the journal: the same values go, and the
// revisions come out as they were.
TEST(EngineTest, AcknowledgedTrimsSurviveACrash) {
  TestDir dir;
  InCrashingChild([&] {
    std::unique_ptr<Engine> engine;
    if (!Engine::Open(dir / "storage.data", {}, &engine).ok()) ::_exit(1);
    for (const char* v : {"1", "2", "3", "4", "5", "6"}) {
      if (!Append(*engine, "q", v).ok()) ::_exit(1);
    }
    WriteBatch trims;
    trims.Trim("q", {1, -1});  // pops "1"
    trims.Trim("q", {0, -2});  // pops "6"
    trims.Trim("q", {1, 2});   // drops "2" and "5"
    trims.Trim("absent", {1, -1});
    if (!engine->Write(trims).ok()) ::_exit(1);
    CRASH_HERE;
  });
  auto engine = MustOpen(dir / "storage.data");
  std::uint64_t revision = 0;
  EXPECT_THAT(engine->Get("q", &revision).view().ToStrings(), ElementsAre("3", "4"));
  EXPECT_EQ(revision, 9u);
  EXPECT_EQ(engine->GetStats().revision, 9u);
}

TEST(EngineTest, FailedWriteChangesNothingAndWritesResumeAfterwards) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  ASSERT_TRUE(Append(*engine, "a", "kept").ok());
  // A file size limit makes the journal write fail like a full disk would:
  // no more space can be reserved, and the write runs out of room halfway
  // (it is larger than the space reserved already).
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  const auto journal_file = dir / "storage.data.journal";
  const std::uint64_t records = engine->GetStats().journal_bytes;
  rlimit tight = old;
  tight.rlim_cur = std::filesystem::file_size(journal_file) + 10;
  ::setrlimit(RLIMIT_FSIZE, &tight);
  const Status failed = Append(*engine, "a", std::string(2 * JournalWriter::kPreallocateStep, 'x'));
  ::setrlimit(RLIMIT_FSIZE, &old);
  EXPECT_EQ(failed.code(), Status::Code::kIOError);
  EXPECT_THAT(engine->Get("a").view().ToStrings(), ElementsAre("kept"))
      << "readers never see a failed write";
  EXPECT_EQ(engine->GetStats().journal_bytes, records);
  EXPECT_EQ(std::filesystem::file_size(journal_file), records)
      << "the partial record (and the reserved space) was cut off";
  ASSERT_TRUE(Append(*engine, "a", "after").ok()) << "writes resume once the cause is gone";
  ASSERT_TRUE(engine->Close().ok());
  auto reopened = MustOpen(dir / "storage.data");
  EXPECT_THAT(reopened->Get("a").view().ToStrings(), ElementsAre("kept", "after"));
}

TEST(EngineTest, JournalOfAnotherStorageDataIsRefused) {
  TestDir dir;
  InCrashingChild([&] {
    std::unique_ptr<Engine> engine;
    if (!Engine::Open(dir / "storage.data", {}, &engine).ok()) ::_exit(1);
    if (!Append(*engine, "a", "journaled").ok()) ::_exit(1);
    CRASH_HERE;
  });
  // Someone edits storage.data (say, with storage.py) while the journal holds changes.
  WriteFile(dir / "storage.data", R"({"b": ["edited"]})");
  const std::string journal = ReadFile(dir / "storage.data.journal");
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(dir / "storage.data", {}, &engine);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("replaced or edited"));
  EXPECT_EQ(ReadFile(dir / "storage.data.journal"), journal);
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"b": ["edited"]})");
}

TEST(EngineTest, RecoveryResumesAtTheCheckpointOfTheInstalledSnapshot) {
  // A compaction that crashed after installing storage.data but before
  // cutting the journal leaves: the old journal, ending in a checkpoint for
  // the new storage.data, and maybe records after it.
  TestDir dir;
  InCrashingChild([&] {
    std::unique_ptr<Engine> engine;
    if (!Engine::Open(dir / "storage.data", {}, &engine).ok()) ::_exit(1);
    if (!Append(*engine, "k", "1").ok() || !Append(*engine, "k", "2").ok()) ::_exit(1);
    CRASH_HERE;
  });
  const std::string old_journal = JournalRecords(dir / "storage.data.journal");
  {
    auto engine = MustOpen(dir / "storage.data");
    ASSERT_TRUE(engine->Close().ok());  // storage.data now holds 1 and 2
  }
  Store folded;
  SnapshotId id;
  ASSERT_TRUE(LoadSnapshot(dir / "storage.data", &folded, &id).ok());
  std::string journal = old_journal;
  journal::EncodeCheckpoint(id, old_journal.size(), &journal);
  WriteBatch later;
  later.Append("k", "3");
  journal::EncodeBatch(later, &journal);
  WriteFile(dir / "storage.data.journal", journal);

  auto engine = MustOpen(dir / "storage.data");
  EXPECT_THAT(engine->Get("k").view().ToStrings(), ElementsAre("1", "2", "3"))
      << "nothing replayed twice";
  ASSERT_TRUE(engine->Close().ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"k":["1","2","3"]})");
}

TEST(EngineTest, AnotherProcessCannotOpenTheSameDataFile) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  // POSIX record locks only exclude other processes, so ask a child.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<Engine> second;
    Status s = Engine::Open(dir / "storage.data", {}, &second);
    EngineOptions embedded;
    embedded.lock_mode = DataLock::Mode::kEmbedded;
    Status e = Engine::Open(dir / "storage.data", embedded, &second);
    ::_exit(s.code() == Status::Code::kBusy && e.code() == Status::Code::kBusy &&
                    e.message().find("running kvd") != std::string::npos
                ? 0
                : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "second open was not refused as busy";
}

class CrashAfterCompactionTest : public CarryTest {};
INSTANTIATE_TEST_SUITE_P(Engine, CrashAfterCompactionTest, CarryTest::Modes(), CarryTest::Name);

TEST_P(CrashAfterCompactionTest, BackgroundCompactionLosesAndDuplicatesNothing) {
  TestDir dir;
  EngineOptions options;
  options.compact_min_bytes = 2048;
  options.compact_percentage = 50;
  options.carry_under_lock_bytes = GetParam();
  constexpr int kWriters = 4;
  InCrashingChild([&] {
    std::unique_ptr<Engine> engine;
    if (!Engine::Open(dir / "storage.data", options, &engine).ok()) ::_exit(1);
    std::vector<std::thread> writers;
    std::atomic<bool> failed{false};
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; WritesGoOn(*engine, i); ++i) {
          WriteBatch batch;
          batch.Append("k" + std::to_string(i % 7), std::to_string(w) + ":" + std::to_string(i));
          if (i % 50 == 49) batch.Delete("tmp");
          batch.Append("tmp", "t");
          if (!engine->Write(batch).ok()) failed = true;
        }
      });
    }
    for (auto& t : writers) t.join();
    if (failed || engine->GetStats().compactions == 0) ::_exit(1);
    CRASH_HERE;
  });  // crashes without Close: recovery must combine storage.data and journal
  auto engine = MustOpen(dir / "storage.data", options);
  // Each writer's values "w:0", "w:1", ... once each, up to as many as it
  // wrote (kMinCompactionWrites at least), and nothing else.
  std::multiset<std::string> seen;
  for (int k = 0; k < 7; ++k) {
    for (const auto& v : engine->Get("k" + std::to_string(k)).view().ToStrings()) seen.insert(v);
  }
  std::size_t expected = 0;
  for (int w = 0; w < kWriters; ++w) {
    int i = 0;
    for (std::size_t n; (n = seen.count(std::to_string(w) + ":" + std::to_string(i))) > 0; ++i) {
      EXPECT_EQ(n, 1u);
    }
    EXPECT_GE(i, kMinCompactionWrites) << "writer " << w;
    expected += static_cast<std::size_t>(i);
  }
  EXPECT_EQ(seen.size(), expected);
}

}  // namespace
}  // namespace kvd
