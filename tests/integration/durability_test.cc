// Crashes, torn journals, damaged files, full disks, locks and compaction:
// kvd never loses an acknowledged write and never invents one.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Values(const Daemon& kvd, const std::string& key) {
  return client::Client(kvd.socket()).Get(key);
}

// Where each record of a journal starts (header: u32 length, two u32 CRCs),
// up to the zeros of the space kvd reserves after the records.
std::vector<std::size_t> RecordOffsets(const std::string& journal) {
  std::vector<std::size_t> offsets;
  for (std::size_t pos = 0;
       pos + 12 <= journal.size() && journal.compare(pos, 12, std::string(12, '\0')) != 0;) {
    offsets.push_back(pos);
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i)
      length |= std::uint32_t{static_cast<unsigned char>(journal[pos + i])} << (8 * i);
    pos += 12 + length;
  }
  return offsets;
}

// The journal of a kvd killed with SIGKILL after appending v0..v<n-1> to
// "k", one record each: its records, and separately the whole file.
struct Crashed {
  std::string records;
  std::string file;  // the records and zeros: space reserved for more
};
Crashed CrashedJournal(const TestDir& dir, int n) {
  {
    Daemon kvd(dir);
    client::Client c(kvd.socket());
    for (int i = 0; i < n; ++i) c.Append("k", "v" + std::to_string(i));
    kvd.Kill();
  }
  Crashed crashed;
  crashed.file = ReadFile(dir / "storage.data.journal");
  const auto offsets = RecordOffsets(crashed.file);
  std::size_t end = offsets.back() + 12;
  for (int i = 0; i < 4; ++i) {
    end += std::size_t{static_cast<unsigned char>(crashed.file[offsets.back() + i])} << (8 * i);
  }
  crashed.records = crashed.file.substr(0, end);
  return crashed;
}

TEST(CrashTest, FiftyKillNineCyclesLoseNoAcknowledgedWrite) {
  TestDir dir;
  constexpr int kCycles = 50, kClients = 6;
  std::mt19937 rng(20261128);
  std::vector<int> next_seq(kClients, 0);
  std::vector<std::vector<int>> acked(kClients);  // per client, in order
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    Daemon kvd(dir);
    // Everything acknowledged so far is there, in each client's order, and
    // nothing that was never sent.
    const auto values = Values(kvd, "crash");
    std::vector<std::vector<int>> present(kClients);
    for (const auto& v : values) {
      const auto dash = v.find('-');
      ASSERT_NE(dash, std::string::npos) << v;
      const int c = std::stoi(v.substr(1, dash - 1)), seq = std::stoi(v.substr(dash + 1));
      ASSERT_TRUE(c >= 0 && c < kClients && seq < next_seq[c]) << "never sent: " << v;
      ASSERT_TRUE(present[c].empty() || present[c].back() < seq) << "out of order: " << v;
      present[c].push_back(seq);
    }
    for (int c = 0; c < kClients; ++c) {
      std::set<int> have(present[c].begin(), present[c].end());
      for (int seq : acked[c]) ASSERT_TRUE(have.contains(seq)) << "lost c" << c << "-" << seq;
    }

    std::vector<std::thread> clients;
    std::mutex mu;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        try {
          client::Client conn(kvd.socket());
          for (;;) {
            int seq;
            {
              std::lock_guard lock(mu);
              seq = next_seq[c]++;
            }
            conn.Append("crash", "c" + std::to_string(c) + "-" + std::to_string(seq));
            std::lock_guard lock(mu);
            acked[c].push_back(seq);
          }
        } catch (const client::Error&) {
          // The daemon died under us: that is the test.
        }
      });
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution(5, 120)(rng)));
    kvd.Kill();
    for (auto& t : clients) t.join();
  }
  std::size_t total = 0;
  for (const auto& a : acked) total += a.size();
  EXPECT_GT(total, std::size_t{kCycles}) << "the clients hardly wrote anything";
}

// Appends and pops race while kvd is killed again and again: no value an
// acknowledged pop took comes back, no value is taken twice, and every
// acknowledged append stays until a pop takes it. A pop the crash cut off
// may have taken values unseen: at most its count of them go missing, and
// those never come back either.
TEST(CrashTest, KillNineCyclesNeitherBringBackPoppedValuesNorLoseOthers) {
  TestDir dir;
  // More appenders than poppers: the list grows, and pops from either end
  // leave values between them to check.
  constexpr int kCycles = 20, kAppenders = 4, kPoppers = 2;
  std::mt19937 rng(20261207);
  std::mutex mu;
  std::vector<int> next_seq(kAppenders, 0);
  std::set<std::string> appended;      // acknowledged appends
  std::set<std::string> popped;        // what acknowledged pops answered
  std::set<std::string> taken_unseen;  // acknowledged appends gone with a cut-off pop
  std::vector<std::string> taken_twice;
  std::uint64_t cut_off = 0;  // how many values the pops the last crash cut off asked for
  for (int cycle = 0; cycle <= kCycles; ++cycle) {
    Daemon kvd(dir);
    std::set<std::string> present;
    std::vector<int> last(kAppenders, -1);
    for (const auto& v : Values(kvd, "q")) {
      ASSERT_FALSE(popped.contains(v)) << "popped, yet back: " << v;
      ASSERT_FALSE(taken_unseen.contains(v)) << "gone, yet back: " << v;
      ASSERT_TRUE(present.insert(v).second) << "twice: " << v;
      const auto dash = v.find('-');
      ASSERT_NE(dash, std::string::npos) << v;
      const int a = std::stoi(v.substr(1, dash - 1)), seq = std::stoi(v.substr(dash + 1));
      ASSERT_TRUE(a >= 0 && a < kAppenders && seq < next_seq[a]) << "never sent: " << v;
      ASSERT_LT(last[a], seq) << "out of order: " << v;
      last[a] = seq;
    }
    std::uint64_t missing = 0;
    for (const auto& v : appended) {
      if (present.contains(v) || popped.contains(v) || taken_unseen.contains(v)) continue;
      taken_unseen.insert(v);
      ++missing;
    }
    ASSERT_LE(missing, cut_off) << "acknowledged appends lost";
    cut_off = 0;
    if (cycle == kCycles) break;

    std::vector<std::thread> clients;
    for (int a = 0; a < kAppenders; ++a) {
      clients.emplace_back([&, a] {
        try {
          client::Client conn(kvd.socket());
          for (;;) {
            std::string value;
            {
              std::lock_guard lock(mu);
              value = "a" + std::to_string(a) + "-" + std::to_string(next_seq[a]++);
            }
            conn.Append("q", value);
            std::lock_guard lock(mu);
            appended.insert(value);
          }
        } catch (const client::Error&) {
          // The daemon died under us: that is the test.
        }
      });
    }
    for (int p = 0; p < kPoppers; ++p) {
      clients.emplace_back([&, p] {
        std::uint64_t count = 0;
        try {
          client::Client conn(kvd.socket());
          for (std::uint64_t n = 0;; ++n) {
            count = 1 + (n + p) % 2;
            const std::vector<std::string> values = conn.Pop("q", count, (n / 2 + p) % 2 == 1);
            std::lock_guard lock(mu);
            for (const auto& v : values) {
              if (!popped.insert(v).second) taken_twice.push_back(v);
            }
          }
        } catch (const client::Error&) {
          std::lock_guard lock(mu);
          cut_off += count;
        }
      });
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution(5, 120)(rng)));
    kvd.Kill();
    for (auto& t : clients) t.join();
    ASSERT_THAT(taken_twice, ::testing::IsEmpty());
  }
  EXPECT_GT(popped.size(), std::size_t{kCycles}) << "the pops hardly took anything";
}

// Conditional appends are journaled with their condition, and replayed
// after a crash to the outcome they had: the refused ones stay refused,
// even where the key they were refused on has changed since.
TEST(CrashTest, ConditionalAppendsReplayAsDecidedAfterKillNine) {
  TestDir dir;
  std::vector<std::string> values;
  std::uint64_t revision = 0;
  {
    Daemon kvd(dir);
    client::Client c(kvd.socket());
    c.Append("k", "a", client::Condition::Revision(0));
    EXPECT_THROW(c.Append("k", "x", client::Condition::Revision(0)), client::Conflict);
    EXPECT_TRUE(c.Delete("k"));
    c.Append("k", "b", client::Condition::Length(0));  // would not hold before the delete
    EXPECT_THROW(c.Append("k", "x", client::Condition::Length(0)), client::Conflict);
    // Decided together in one commit.
    Connection raw(kvd.socket());
    raw.Send(R"({"op":"append","key":"k","val":"c","if_length":1})"
             "\n"
             R"({"op":"append","key":"k","val":"x","if_length":1})"
             "\n"
             R"({"op":"append","key":"j","val":"x","if_revision":5})"
             "\n");
    EXPECT_EQ(raw.ReadLine(), R"({"ok":true})");
    EXPECT_EQ(ErrorCodeOf(raw.ReadLine()), "conflict");
    EXPECT_EQ(ErrorCodeOf(raw.ReadLine()), "conflict");
    values = c.Get("k", &revision);
    kvd.Kill();
  }
  EXPECT_THAT(values, ElementsAre("b", "c"));
  Daemon kvd(dir);
  client::Client c(kvd.socket());
  std::uint64_t replayed = 0;
  EXPECT_EQ(c.Get("k", &replayed), values);
  EXPECT_EQ(replayed, revision);
  EXPECT_TRUE(c.Get("j").empty());
  // And the revision read before the crash still wins after it.
  EXPECT_THROW(c.Append("k", "x", client::Condition::Revision(revision - 1)), client::Conflict);
  c.Append("k", "d", client::Condition::Revision(revision));
  EXPECT_THAT(c.Get("k"), ElementsAre("b", "c", "d"));
}

TEST(TornJournalTest, ReservedSpaceAfterTheRecordsIsNoDamage) {
  TestDir dir;
  const Crashed crashed = CrashedJournal(dir, 3);
  ASSERT_GT(crashed.file.size(), crashed.records.size()) << "kvd reserved no journal space";
  Daemon kvd(dir);
  EXPECT_THAT(Values(kvd, "k"), ElementsAre("v0", "v1", "v2"));
  EXPECT_THAT(kvd.Log(), Not(HasSubstr("torn")));
  client::Client(kvd.socket()).Append("k", "after");
  kvd.Kill();
  Daemon again(dir);
  EXPECT_THAT(Values(again, "k"), ElementsAre("v0", "v1", "v2", "after"));
}

TEST(TornJournalTest, EveryCutInsideTheLastRecordKeepsAllEarlierRecords) {
  TestDir source;
  const Crashed crashed = CrashedJournal(source, 6);
  const std::string& journal = crashed.records;
  const auto offsets = RecordOffsets(journal);
  ASSERT_EQ(offsets.size(), 8u);  // the base and meta records, and six appends
  for (std::size_t cut = offsets.back() + 1; cut < journal.size(); ++cut) {
    TestDir dir;
    // Cut off at the end of the file, or (alternately) followed by the
    // zeros of reserved space where the rest of the write never landed.
    std::string torn = journal.substr(0, cut);
    if (cut % 2 == 0) torn += std::string(journal.size() - cut + 4096, '\0');
    WriteFile(dir / "storage.data.journal", torn);
    Daemon kvd(dir);
    EXPECT_THAT(Values(kvd, "k"), ElementsAre("v0", "v1", "v2", "v3", "v4")) << "cut at " << cut;
    const std::string log = kvd.Log();
    EXPECT_THAT(log, HasSubstr("<4>"));
    EXPECT_THAT(log, HasSubstr((dir / "storage.data.journal").string()));
    EXPECT_THAT(log, HasSubstr("torn record at offset " + std::to_string(offsets.back())));
    // And it goes on from there: new writes follow the kept records.
    client::Client(kvd.socket()).Append("k", "after");
    ASSERT_EQ(kvd.Stop(), 0);
    EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"k":["v0","v1","v2","v3","v4","after"]})");
  }
}

TEST(TornJournalTest, DamageInTheMiddleIsRefusedAndNothingIsTouched) {
  TestDir source;
  const std::string journal = CrashedJournal(source, 6).file;
  const auto offsets = RecordOffsets(journal);
  // A byte of a middle record's length, of its checksum, and of its payload.
  for (std::size_t at : {offsets[3], offsets[3] + 5, offsets[3] + 14}) {
    TestDir dir;
    std::string damaged = journal;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    WriteFile(dir / "storage.data.journal", damaged);
    WriteFile(dir / "storage.data", "{}");
    RunResult r = RunKvd(
        {"--socket", (dir / "kvd.sock").string(), "--data", (dir / "storage.data").string()});
    EXPECT_EQ(r.exit_code, 1) << "flipped byte " << at;
    EXPECT_THAT(r.err, HasSubstr((dir / "storage.data.journal").string()));
    EXPECT_THAT(r.err, HasSubstr("offset " + std::to_string(offsets[3])));
    EXPECT_EQ(ReadFile(dir / "storage.data.journal"), damaged);
    EXPECT_EQ(ReadFile(dir / "storage.data"), "{}");
    EXPECT_FALSE(std::filesystem::exists(dir / "kvd.sock"));
  }
}

TEST(TornJournalTest, CheckReportsAndRepairCutsDeliberately) {
  TestDir dir;
  const std::string journal = CrashedJournal(dir, 6).file;
  const auto offsets = RecordOffsets(journal);
  std::string damaged = journal;
  // offsets: the base and meta records, then an append each for v0 ... v5.
  damaged[offsets[5] + 14] ^= 0x01;
  WriteFile(dir / "storage.data.journal", damaged);
  const std::string data = (dir / "storage.data").string();

  RunResult check = RunKvd({"--check", "--data", data});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.out, HasSubstr("offset " + std::to_string(offsets[5])));
  EXPECT_EQ(ReadFile(dir / "storage.data.journal"), damaged) << "--check changes nothing";

  RunResult repair = RunKvd({"--repair", "--data", data});
  EXPECT_EQ(repair.exit_code, 0) << repair.out;
  EXPECT_THAT(repair.out, HasSubstr("cut the journal at offset " + std::to_string(offsets[5])));
  bool saved = false;
  for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
    if (f.path().filename().string().starts_with("storage.data.journal.damaged-")) {
      saved = ReadFile(f.path()) == damaged;
    }
  }
  EXPECT_TRUE(saved) << "the damaged journal is kept";
  RunResult recheck = RunKvd({"--check", "--data", data});
  EXPECT_EQ(recheck.exit_code, 0);
  // The base and meta records and the appends of v0, v1 and v2 (a record
  // each: one per commit).
  EXPECT_THAT(recheck.out, HasSubstr(": 5 whole records (3 changes) in "));
  Daemon kvd(dir);
  EXPECT_THAT(Values(kvd, "k"), ElementsAre("v0", "v1", "v2"));
}

// A journal that does not start with its base record applies to no
// storage.data: kvd refuses to start, --check says so for the same reason
// (one rule for both), and --repair sets the journal aside.
TEST(TornJournalTest, AJournalWithoutItsBaseRecordIsRefusedByStartAndCheckAlike) {
  TestDir dir;
  const std::string journal = CrashedJournal(dir, 3).file;
  const auto offsets = RecordOffsets(journal);
  const std::string headless = journal.substr(offsets[1]);
  WriteFile(dir / "storage.data.journal", headless);
  const std::string data = (dir / "storage.data").string();

  RunResult start = RunKvd({"--socket", (dir / "kvd.sock").string(), "--data", data});
  EXPECT_EQ(start.exit_code, 1);
  EXPECT_THAT(start.err, HasSubstr("no base record"));
  RunResult check = RunKvd({"--check", "--data", data});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.out, HasSubstr("no base record"));
  EXPECT_EQ(ReadFile(dir / "storage.data.journal"), headless) << "nothing is touched";

  RunResult repair = RunKvd({"--repair", "--data", data});
  EXPECT_EQ(repair.exit_code, 0) << repair.out;
  EXPECT_THAT(repair.out, HasSubstr("set the journal aside"));
  EXPECT_EQ(RunKvd({"--check", "--data", data}).exit_code, 0);
}

// --check says where the revisions will come from: the journal's, the
// meta file, or new ones for a storage.data another tool wrote.
TEST(CheckTest, ReportsWhereTheRevisionsComeFrom) {
  TestDir dir;
  const std::string data = (dir / "storage.data").string();
  {
    Daemon kvd(dir);
    for (const char* v : {"1", "2", "3"}) client::Client(kvd.socket()).Append("k", v);
    kvd.Kill();
  }
  RunResult check = RunKvd({"--check", "--data", data});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_THAT(check.out, Not(HasSubstr("no revisions"))) << "the journal has them";
  {
    Daemon kvd(dir);
    ASSERT_EQ(kvd.Stop(), 0);
  }
  check = RunKvd({"--check", "--data", data});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_THAT(check.out, HasSubstr("storage.data.meta: OK, revision 3"));
  WriteFile(dir / "storage.data", R"({"k": ["1", "2", "3", "by hand"]})");
  check = RunKvd({"--check", "--data", data});
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_THAT(check.out, HasSubstr("kvd gives every key a new revision at start"));
}

TEST(FsyncPolicyTest, EveryPolicySurvivesAProcessCrash) {
  for (const char* policy : {"always", "everysec", "no"}) {
    TestDir dir;
    {
      Daemon kvd(dir, {"--fsync", policy});
      client::Client c(kvd.socket());
      for (int i = 0; i < 50; ++i) c.Append("k", std::to_string(i));
      kvd.Kill();  // the page cache outlives the process
    }
    Daemon kvd(dir);
    EXPECT_EQ(Values(kvd, "k").size(), 50u) << policy;
  }
  EXPECT_EQ(RunKvd({"--fsync", "sometimes"}).exit_code, 2);
}

TEST(CompactionTest, ValuesWrittenDuringCompactionAreNeitherLostNorDuplicated) {
  TestDir dir;
  // The writers go on until three compactions have ended, however long a
  // compaction takes on a busy disk, so that writes overlap each of them.
  constexpr int kClients = 8, kKeys = 5, kCompactions = 3;
  std::vector<int> written(kClients, 0);
  {
    Daemon kvd(dir, {"--compact-min-size", "4096", "--compact-percentage", "50"});
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        client::Client conn(kvd.socket());
        for (int i = 0; !stop.load(); ++i) {
          conn.Append("k" + std::to_string(i % kKeys), std::to_string(c) + ":" + std::to_string(i));
          written[c] = i + 1;
        }
      });
    }
    client::Client observer(kvd.socket());
    std::uint64_t compactions = 0;
    Eventually(
        [&] {
          for (const auto& [name, value] : observer.Stats()) {
            if (name == "compactions") compactions = value;
          }
          return compactions >= kCompactions;
        },
        std::chrono::seconds(120), std::chrono::milliseconds(20));
    stop = true;
    for (auto& t : clients) t.join();
    ASSERT_GE(compactions, std::uint64_t{kCompactions}) << "within 120 s";
    kvd.Kill();  // recovery must combine the compacted snapshot and the journal
  }
  Daemon kvd(dir);
  std::multiset<std::string> seen;
  for (int k = 0; k < kKeys; ++k) {
    for (const auto& v : Values(kvd, "k" + std::to_string(k))) seen.insert(v);
  }
  std::size_t total = 0;
  for (int c = 0; c < kClients; ++c) {
    total += written[c];
    for (int i = 0; i < written[c]; ++i) {
      ASSERT_EQ(seen.count(std::to_string(c) + ":" + std::to_string(i)), 1u) << c << ":" << i;
    }
  }
  EXPECT_EQ(seen.size(), total) << "no value that was not acknowledged";
}

class EmbeddedTest : public ::testing::Test {
 protected:
  RunResult Embedded(std::vector<std::string> args) {
    args.insert(args.begin(),
                {KvctlBin(), "--embedded", "--data", (dir_ / "storage.data").string()});
    return RunCommand(args);
  }
  TestDir dir_;
};

TEST_F(EmbeddedTest, WorksWithoutADaemonAndLeavesTheOriginalShape) {
  EXPECT_EQ(Embedded({"--key", "a", "--val", "x"}).exit_code, 0);
  EXPECT_EQ(Embedded({"--key", "a", "--val", "y, z"}).exit_code, 0);
  EXPECT_EQ(Embedded({"--key", "a"}).out, "x, y, z\n");
  EXPECT_EQ(Embedded({"keys"}).out, "a\n");
  EXPECT_EQ(ReadFile(dir_ / "storage.data"), R"({"a":["x","y, z"]})");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "storage.data.journal"));
}

// kvctl revision and stats work on the data file too, and the revisions
// outlive each run (each opens the file anew).
TEST_F(EmbeddedTest, RevisionAndStatsWorkWithoutADaemon) {
  EXPECT_EQ(Embedded({"revision", "absent"}).out, "0\n");
  EXPECT_THAT(Embedded({"stats"}).out, HasSubstr("\nrevision:0\n"));
  ASSERT_EQ(Embedded({"append", "k", "v"}).exit_code, 0);
  ASSERT_EQ(Embedded({"append", "j", "v"}).exit_code, 0);
  ASSERT_EQ(Embedded({"append", "k", "w"}).exit_code, 0);
  const RunResult revision = Embedded({"revision", "k"});
  EXPECT_EQ(revision.exit_code, 0) << revision.err;
  EXPECT_EQ(revision.out, "3\n");
  EXPECT_EQ(Embedded({"revision", "j"}).out, "2\n");
  EXPECT_EQ(Embedded({"revision", "absent"}).out, "0\n");
  const RunResult stats = Embedded({"stats"});
  EXPECT_THAT(stats.out, ::testing::StartsWith("keys:2\nvalues:3\n"));
  EXPECT_THAT(stats.out, HasSubstr("\nrevision:3\n"));
}

// kvctl range and len read the data file too.
TEST_F(EmbeddedTest, RangeAndLenWorkWithoutADaemon) {
  EXPECT_EQ(Embedded({"len", "k"}).out, "0\n");
  for (const char* v : {"a", "b", "c"}) ASSERT_EQ(Embedded({"append", "k", v}).exit_code, 0);
  const RunResult range = Embedded({"range", "k", "-2", "-1"});
  EXPECT_EQ(range.exit_code, 0) << range.err;
  EXPECT_EQ(range.out, "b, c\n");
  EXPECT_EQ(Embedded({"range", "k", "0", "0", "--json"}).out, "[\"a\"]\n");
  EXPECT_EQ(Embedded({"len", "k"}).out, "3\n");
}

// kvctl pop and trim change the data file too; a pop that waits polls it
// (nobody else may write it meanwhile) and ends with an empty line.
TEST_F(EmbeddedTest, PopAndTrimWorkWithoutADaemon) {
  for (const char* v : {"a", "b", "c", "d", "e"})
    ASSERT_EQ(Embedded({"append", "k", v}).exit_code, 0);
  const RunResult pop = Embedded({"pop", "k", "--tail", "--count", "2"});
  EXPECT_EQ(pop.exit_code, 0) << pop.err;
  EXPECT_EQ(pop.out, "e, d\n");
  EXPECT_EQ(Embedded({"trim", "k", "1", "-1"}).exit_code, 0);
  EXPECT_EQ(Embedded({"get", "k"}).out, "b, c\n");
  EXPECT_EQ(Embedded({"pop", "k", "--count", "9", "--json"}).out, "[\"b\",\"c\"]\n");
  EXPECT_EQ(Embedded({"keys"}).out, "");
  EXPECT_EQ(Embedded({"revision", "k"}).out, "0\n");
  const auto start = std::chrono::steady_clock::now();
  const RunResult waited = Embedded({"pop", "k", "--wait", "0.3"});
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_EQ(waited.out, "\n");
  EXPECT_EQ(ReadFile(dir_ / "storage.data"), "{}");
}

// kvctl --embedded decides conditional appends on the data file itself.
TEST_F(EmbeddedTest, ConditionalAppendExitsThreeOnConflict) {
  RunResult r = Embedded({"--key", "k", "--val", "a", "--if-length", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Embedded({"--key", "k", "--val", "x", "--if-length", "0"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, ::testing::StartsWith("kvctl: conflict: "));
  EXPECT_THAT(r.err, ::testing::MatchesRegex(".*\\(revision [0-9]+\\)\n"));
  const std::string revision = Embedded({"revision", "k"}).out;
  ASSERT_FALSE(revision.empty());
  r = Embedded({"--key", "k", "--val", "x", "--if-revision", "999"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("(revision " + revision.substr(0, revision.size() - 1) + ")"));
  EXPECT_EQ(Embedded({"--key", "k", "--val", "b", "--if-revision",
                      revision.substr(0, revision.size() - 1)})
                .exit_code,
            0);
  EXPECT_EQ(Embedded({"--key", "k"}).out, "a, b\n");
}

TEST_F(EmbeddedTest, RefusedWhileADaemonOwnsTheFile) {
  Daemon kvd(dir_);
  RunResult r = Embedded({"--key", "a", "--val", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("running kvd"));
  EXPECT_TRUE(Values(kvd, "a").empty());
}

TEST_F(EmbeddedTest, HundredConcurrentAppendsLoseNothing) {
  std::vector<Process> writers;
  for (int i = 0; i < 100; ++i) {
    writers.emplace_back(std::vector<std::string>{KvctlBin(), "--embedded", "--data",
                                                  (dir_ / "storage.data").string(), "--key", "k",
                                                  "--val", "v" + std::to_string(i)},
                         ProcessOptions{});
  }
  for (auto& w : writers) ASSERT_EQ(w.Wait(), 0) << w.Stderr();
  RunResult r = Embedded({"get", "k", "--json"});
  for (int i = 0; i < 100; ++i) EXPECT_THAT(r.out, HasSubstr("\"v" + std::to_string(i) + "\""));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), ','), 99);
}

TEST(FullDiskTest, AppendsFailClearlyReadsGoOnAndWritesResumeOnceThereIsRoom) {
  TestDir dir;
  TmpfsMount disk(dir / "disk");
  if (!disk.mounted()) GTEST_SKIP() << "needs root to mount a tmpfs";
  const auto data = dir / "disk" / "storage.data";
  std::vector<std::string> acked;
  {
    Daemon kvd(dir / "kvd.sock", data);
    client::Client c(kvd.socket());
    c.Append("k", "before");
    acked.push_back("before");
    // Fill the disk, then keep appending until the journal cannot grow.
    {
      std::ofstream filler(dir / "disk" / "filler", std::ios::binary);
      filler << std::string(300 * 1024, 'f');
    }
    std::string failure;
    for (int i = 0; i < 10000 && failure.empty(); ++i) {
      const std::string v = "v" + std::to_string(i) + std::string(200, 'x');
      try {
        c.Append("k", v);
        acked.push_back(v);
      } catch (const client::Error& e) {
        EXPECT_EQ(e.code(), "storage_error");
        failure = e.what();
      }
    }
    ASSERT_FALSE(failure.empty()) << "the disk never filled up";
    EXPECT_THAT(failure, HasSubstr("No space left"));
    EXPECT_EQ(c.Get("k"), acked) << "reads go on and show exactly what was acknowledged";
    std::filesystem::remove(dir / "disk" / "filler");
    c.Append("k", "after");
    acked.push_back("after");
    ASSERT_EQ(kvd.Stop(), 0);
  }
  Daemon kvd(dir / "kvd.sock", data);
  EXPECT_EQ(Values(kvd, "k"), acked);
}

}  // namespace
}  // namespace kvd::testing
