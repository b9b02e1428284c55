#include "store/engine.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_dir.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::unique_ptr<Engine> MustOpen(const std::filesystem::path& path) {
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(path, &engine);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return engine;
}

TEST(EngineTest, WriteIsDurableBeforeItReturns) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch batch;
  batch.Append("a", "x");
  batch.Append("a", "y, z");
  ASSERT_TRUE(engine->Write(batch).ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"a":["x","y, z"]})");
  EXPECT_THAT(engine->Get("a"), ElementsAre("x", "y, z"));
}

TEST(EngineTest, EmptyBatchWritesNothing) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  ASSERT_TRUE(engine->Write(WriteBatch{}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "storage.data"));
}

TEST(EngineTest, ReopenSeesEverythingWritten) {
  TestDir dir;
  {
    auto engine = MustOpen(dir / "storage.data");
    for (int i = 0; i < 5; ++i) {
      WriteBatch batch;
      batch.Append("k" + std::to_string(i % 2), std::to_string(i));
      ASSERT_TRUE(engine->Write(batch).ok());
    }
  }
  auto engine = MustOpen(dir / "storage.data");
  EXPECT_THAT(engine->Get("k0"), ElementsAre("0", "2", "4"));
  EXPECT_THAT(engine->Get("k1"), ElementsAre("1", "3"));
  EXPECT_THAT(engine->Keys(""), ElementsAre("k0", "k1"));
  const auto stats = engine->GetStats();
  EXPECT_EQ(stats.keys, 2u);
  EXPECT_EQ(stats.values, 5u);
}

TEST(EngineTest, ReportsWhichDeletesFoundTheirKey) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch batch;
  batch.Append("a", "1");
  batch.Delete("a");
  batch.Delete("a");
  std::vector<bool> applied;
  ASSERT_TRUE(engine->Write(batch, &applied).ok());
  EXPECT_THAT(applied, ElementsAre(true, true, false));
  EXPECT_THAT(engine->Get("a"), IsEmpty());
}

TEST(EngineTest, FailedWriteChangesNothing) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch first;
  first.Append("a", "kept");
  ASSERT_TRUE(engine->Write(first).ok());
  std::filesystem::create_directories(dir / "storage.data.tmp" / "blocker");
  WriteBatch second;
  second.Append("a", "lost");
  EXPECT_EQ(engine->Write(second).code(), Status::Code::kIOError);
  EXPECT_THAT(engine->Get("a"), ElementsAre("kept")) << "readers never see a failed write";
  std::filesystem::remove_all(dir / "storage.data.tmp");
  ASSERT_TRUE(engine->Write(second).ok()) << "writes resume once the cause is gone";
  EXPECT_THAT(engine->Get("a"), ElementsAre("kept", "lost"));
}

TEST(EngineTest, DamagedFileIsRefusedAndKept) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"a": ["x")");
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(dir / "storage.data", &engine);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(engine, nullptr);
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"a": ["x")");
}

TEST(EngineTest, AnotherProcessCannotOpenTheSameDataFile) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  // POSIX record locks only exclude other processes, so ask a child.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<Engine> second;
    Status s = Engine::Open(dir / "storage.data", &second);
    ::_exit(s.code() == Status::Code::kBusy ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "second open was not refused as busy";
}

TEST(EngineTest, ReadersRunWhileWritersCommit) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  constexpr int kWriters = 4, kPerWriter = 25;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    std::size_t last = 0;
    while (!done.load()) {
      const auto n = engine->Get("k").size();
      EXPECT_GE(n, last) << "a reader saw the list shrink";
      last = n;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        WriteBatch batch;
        batch.Append("k", std::to_string(w) + ":" + std::to_string(i));
        EXPECT_TRUE(engine->Write(batch).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  const auto values = engine->Get("k");
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

}  // namespace
}  // namespace kvd
