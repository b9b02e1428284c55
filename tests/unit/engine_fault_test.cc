// The engine under injected file-system faults (faulty_file_system.h): a
// failed call at every point of a scripted run, and power cuts at random
// points. Whatever happens, a reopen with the real file system must start,
// and hold exactly the acknowledged writes (and possibly the one in flight),
// with their revisions.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "store/data_files.h"
#include "store/engine.h"
#include "tests/test_dir.h"
#include "tests/unit/engine_helpers.h"
#include "tests/unit/faulty_file_system.h"

namespace kvd {
namespace {

using Op = FaultyFileSystem::Op;
using Fault = FaultyFileSystem::Fault;
// What a reader sees: the keys' values and revisions, and the store's.
struct Contents {
  std::map<std::string, std::vector<std::string>> values;
  std::map<std::string, std::uint64_t> revisions;
  std::uint64_t revision = 0;
  bool operator==(const Contents&) const = default;
};

void PrintTo(const Contents& contents, std::ostream* out) {
  *out << "revision " << contents.revision << ":";
  for (const auto& [key, values] : contents.values) {
    *out << " " << key << "@" << contents.revisions.at(key) << "=" << values.size() << " values";
  }
}

void ApplyTo(const WriteBatch& batch, Contents* contents) {
  for (const Mutation& m : batch.mutations()) {
    const std::string key(m.key);
    if (m.kind == Mutation::Kind::kAppend) {
      const auto values = contents->values.find(key);
      const auto revision = contents->revisions.find(key);
      const std::uint64_t holds =
          m.condition.on == Condition::On::kRevision
              ? (revision == contents->revisions.end() ? 0 : revision->second)
              : (values == contents->values.end() ? 0 : values->second.size());
      if (m.condition.on != Condition::On::kNothing && holds != m.condition.value) continue;
      contents->values[key].emplace_back(m.val);
      contents->revisions[key] = ++contents->revision;
    } else if (contents->values.erase(key) > 0) {
      contents->revisions.erase(key);
      ++contents->revision;
    }
  }
}

Contents Read(const Engine& engine) {
  Contents contents;
  for (const std::string& key : engine.Keys("")) {
    contents.values[key] = engine.Get(key, &contents.revisions[key]).view().ToStrings();
  }
  contents.revision = engine.GetStats().revision;
  return contents;
}

// Where the runs' files go: /dev/shm where there is one. The faulty file
// system decides what a power cut keeps, so the disk adds nothing but the
// time of ext4's flushes on rename and truncate, hundreds of runs over.
std::filesystem::path MemoryDir() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

// Small compaction thresholds: the script's writes make a few compactions.
EngineOptions ScriptOptions(FileSystem* fs) {
  EngineOptions options;
  options.fs = fs;
  options.compact_min_bytes = 1500;
  options.compact_percentage = 0;
  return options;
}

// The scripted run: open, 36 writes (appends to 5 keys, some on a condition
// that may or may not hold, a delete now and then, a batch of three), each
// waiting for the compaction it may start,
// then close. `acked` gets what was acknowledged; `in_flight` the first
// write that failed, applied after `acked` as of then (what a reopen may
// also hold). Stops at the first failure once `fs` has crashed.
struct ScriptResult {
  Contents acked;
  std::optional<Contents> in_flight;
  std::vector<std::string> errors;
  std::uint64_t compactions = 0;
};
ScriptResult RunScript(const std::filesystem::path& data, FaultyFileSystem* fs) {
  ScriptResult result;
  std::unique_ptr<Engine> engine;
  if (Status s = Engine::Open(data, ScriptOptions(fs), &engine); !s.ok()) {
    result.errors.push_back(s.ToString());
    return result;
  }
  for (int i = 0; i < 36; ++i) {
    WriteBatch batch;
    const std::string key = "key" + std::to_string(i % 5);
    if (i % 11 == 10) {
      batch.Delete(key);
    } else {
      Condition condition;
      if (i % 4 == 1) {
        // On the revision the key has (holds) or had before (fails), or on
        // a length of 2.
        const auto revision = result.acked.revisions.find(key);
        const std::uint64_t now = revision == result.acked.revisions.end() ? 0 : revision->second;
        condition = i % 8 == 1 ? Condition{Condition::On::kRevision, now - (i % 16 == 9)}
                               : Condition{Condition::On::kLength, 2};
      }
      batch.Append(key, "value " + std::to_string(i) + std::string(90, 'x'), condition);
      if (i % 7 == 3) {
        batch.Append(key, "second " + std::to_string(i));
        batch.Append("other", "third " + std::to_string(i));
      }
    }
    if (Status s = engine->Write(batch); s.ok()) {
      ApplyTo(batch, &result.acked);
    } else {
      result.errors.push_back(s.ToString());
      if (!result.in_flight) {
        result.in_flight = result.acked;
        ApplyTo(batch, &*result.in_flight);
      }
      if (fs->crashed()) break;
    }
    engine->WaitForCompaction();
  }
  result.compactions = engine->GetStats().compactions;
  if (Status s = engine->Close(); !s.ok()) result.errors.push_back(s.ToString());
  return result;
}

// Reopens `data` with the real file system: it must start, storage.data
// must be in the original tool's shape, and the contents must be what was
// acknowledged, or that and the write in flight.
void ExpectRecovers(const std::filesystem::path& data, const ScriptResult& run) {
  if (std::filesystem::exists(data)) {
    rapidjson::Document doc;
    const std::string text = ReadFile(data);
    doc.Parse(text.c_str(), text.size());
    ASSERT_FALSE(doc.HasParseError()) << "storage.data is not JSON: " << text;
    ASSERT_TRUE(doc.IsObject());
    for (const auto& member : doc.GetObject()) {
      ASSERT_TRUE(member.value.IsArray());
      for (const auto& v : member.value.GetArray()) ASSERT_TRUE(v.IsString());
    }
  }
  std::unique_ptr<Engine> engine;
  const Status s = Engine::Open(data, EngineOptions{}, &engine);
  ASSERT_TRUE(s.ok()) << "a damaged start: " << s.ToString();
  const Contents recovered = Read(*engine);
  if (run.in_flight && recovered == *run.in_flight) return;
  EXPECT_EQ(recovered, run.acked);
}

std::string Describe(const ScriptResult& run) {
  std::string text;
  for (const std::string& e : run.errors) text += "\n  " + e;
  return text.empty() ? " (no errors)" : text;
}

TEST(EngineFaultTest, FailedFsyncStopsWritesUntilReopen) {
  TestDir dir(MemoryDir());
  const auto data = dir / "storage.data";
  FaultyFileSystem fs;
  auto engine = MustOpen(data, ScriptOptions(&fs));
  ASSERT_TRUE(Append(*engine, "k", "1").ok());
  fs.FailNth(Op::kSyncData, fs.calls(Op::kSyncData) + 1, Fault::kEIO);
  const Status failed = Append(*engine, "k", "2");
  ASSERT_TRUE(fs.fired());
  EXPECT_EQ(failed.code(), Status::Code::kIOError);
  // The fsync would succeed now; the engine must not believe it.
  const Status refused = Append(*engine, "k", "3");
  EXPECT_EQ(refused.code(), Status::Code::kIOError);
  EXPECT_THAT(refused.message(), testing::HasSubstr("restart"));
  EXPECT_THAT(engine->Get("k").view().ToStrings(), testing::ElementsAre("1")) << "reads go on";
  EXPECT_FALSE(engine->Close().ok()) << "Close says the journal was left to replay";
  EXPECT_TRUE(std::filesystem::exists(JournalPath(data)));
  engine.reset();

  engine = MustOpen(data);
  EXPECT_THAT(engine->Get("k").view().ToStrings(), testing::ElementsAre("1"));
  EXPECT_TRUE(Append(*engine, "k", "4").ok()) << "reopened, writes go on";
}

TEST(EngineFaultTest, FailedBackgroundFsyncStopsWritesUntilReopen) {
  TestDir dir(MemoryDir());
  FaultyFileSystem fs;
  EngineOptions options = ScriptOptions(&fs);
  options.sync = SyncPolicy::kEverySec;
  auto engine = MustOpen(dir / "storage.data", options);
  fs.FailNth(Op::kSyncData, fs.calls(Op::kSyncData) + 1, Fault::kEIO);
  ASSERT_TRUE(Append(*engine, "k", "1").ok());  // acknowledged before its fsync
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!fs.fired() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs.fired()) << "no background fsync in 10 s";
  Status s;
  while ((s = Append(*engine, "k", "2")).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the syncer holds the lock
  }
  EXPECT_THAT(s.message(), testing::HasSubstr("restart"));
}

// The calls of `op` in a run of the script without faults (the run checked).
std::uint64_t CallsInACleanRun(Op op) {
  TestDir dir(MemoryDir());
  FaultyFileSystem fs;
  const ScriptResult run = RunScript(dir / "storage.data", &fs);
  EXPECT_TRUE(run.errors.empty()) << Describe(run);
  EXPECT_GE(run.compactions, 2u);
  return fs.calls(op);
}

// Every call of `op` in the scripted run, failed in turn with `fault`, then
// a power cut.
class EveryCallTest : public testing::TestWithParam<std::tuple<Op, Fault>> {};

TEST_P(EveryCallTest, FailingItKeepsEveryAcknowledgedWrite) {
  const auto [op, fault] = GetParam();
  const std::uint64_t count = CallsInACleanRun(op);
  ASSERT_FALSE(HasFailure());
  for (std::uint64_t n = 1; n <= count; ++n) {
    SCOPED_TRACE("failing call " + std::to_string(n) + " of " + std::to_string(count) + " (" +
                 FaultyFileSystem::Name(op) + ", " + FaultyFileSystem::Name(fault) + ")");
    TestDir dir(MemoryDir());
    FaultyFileSystem fs;
    fs.FailNth(op, n, fault);
    const ScriptResult run = RunScript(dir / "storage.data", &fs);
    ASSERT_TRUE(fs.fired());
    fs.LosePower();  // what was acknowledged was synced: a power cut keeps it
    ASSERT_NO_FATAL_FAILURE(ExpectRecovers(dir / "storage.data", run)) << Describe(run);
    if (HasFailure()) return;
  }
}

std::string CallName(const testing::TestParamInfo<std::tuple<Op, Fault>>& info) {
  std::string name = std::string(FaultyFileSystem::Name(std::get<0>(info.param))) + "_" +
                     FaultyFileSystem::Name(std::get<1>(info.param));
  std::erase(name, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(
    Engine, EveryCallTest,
    testing::Values(
        std::tuple(Op::kWrite, Fault::kEIO), std::tuple(Op::kWrite, Fault::kENOSPC),
        std::tuple(Op::kWrite, Fault::kEINTR), std::tuple(Op::kWrite, Fault::kShortWrite),
        std::tuple(Op::kSyncData, Fault::kEIO), std::tuple(Op::kSyncData, Fault::kEINTR),
        std::tuple(Op::kSync, Fault::kEIO), std::tuple(Op::kReplace, Fault::kEIO),
        std::tuple(Op::kSyncDirectory, Fault::kEIO), std::tuple(Op::kCreate, Fault::kENOSPC),
        std::tuple(Op::kOpen, Fault::kEIO), std::tuple(Op::kRead, Fault::kEIO),
        std::tuple(Op::kTruncate, Fault::kEIO), std::tuple(Op::kPreallocate, Fault::kENOSPC),
        std::tuple(Op::kRemove, Fault::kEIO), std::tuple(Op::kDuplicate, Fault::kEIO)),
    CallName);

// Power cuts at random calls of the scripted run. KVD_FAULT_SEED repeats a
// run; KVD_POWER_CUTS sets how many cuts (default 300).
TEST(EngineFaultTest, PowerLossAtRandomPointsKeepsEveryAcknowledgedWrite) {
  const std::uint64_t total = CallsInACleanRun(Op::kAny);
  ASSERT_FALSE(HasFailure());
  const char* seed_env = std::getenv("KVD_FAULT_SEED");
  const std::uint64_t seed =
      seed_env != nullptr ? std::strtoull(seed_env, nullptr, 10) : std::random_device()();
  const char* cuts_env = std::getenv("KVD_POWER_CUTS");
  const int cuts = cuts_env != nullptr ? std::atoi(cuts_env) : 300;
  std::cout << "power cuts: " << cuts << " over " << total << " calls, KVD_FAULT_SEED=" << seed
            << "\n";
  std::mt19937_64 random(seed);
  for (int i = 0; i < cuts; ++i) {
    const std::uint64_t cut = 1 + random() % total;
    SCOPED_TRACE("power cut at call " + std::to_string(cut) + " of " + std::to_string(total) +
                 " (KVD_FAULT_SEED=" + std::to_string(seed) + ")");
    TestDir dir(MemoryDir());
    FaultyFileSystem fs;
    fs.CrashAtCall(cut);
    const ScriptResult run = RunScript(dir / "storage.data", &fs);
    fs.LosePower();
    ASSERT_NO_FATAL_FAILURE(ExpectRecovers(dir / "storage.data", run)) << Describe(run);
    if (HasFailure()) return;
  }
}

TEST(FaultyFileSystemTest, LosePowerUndoesWhatNoFsyncCovered) {
  TestDir dir(MemoryDir());
  FaultyFileSystem fs;
  const auto a = dir / "a";
  const auto b = dir / "b";
  WriteFile(a, "synced");
  int fd = fs.OpenReadWrite(a);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fs.WriteAt(fd, "SYNCED and more", 15, 0), 15);
  ASSERT_EQ(fs.SyncData(fd), 0);
  ASSERT_EQ(fs.WriteAt(fd, "lost", 4, 2), 4);
  ASSERT_EQ(fs.Truncate(fd, 3), 0);
  fs.Close(fd);
  fd = fs.CreateNew(b);  // created, written, synced, but its directory never
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fs.WriteAt(fd, "new", 3, 0), 3);
  ASSERT_EQ(fs.Sync(fd), 0);
  fs.Close(fd);
  ASSERT_EQ(fs.Replace(b, a), 0);
  fs.LosePower();
  EXPECT_EQ(ReadFile(a), "SYNCED and more");
  EXPECT_FALSE(std::filesystem::exists(b));
}

}  // namespace
}  // namespace kvd
