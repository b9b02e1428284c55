// Revisions (proto/PROTOCOL.md, "Revisions") against a real kvd and the
// data file embedded: the store revision counts the changes (each appended
// value, each delete of a key that existed), a key's revision is that of
// the last change to it (0 while absent), through raw protocol lines and
// through both backends of the client library.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "kvd/embedded.h"
#include "proto/response.h"
#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A request line over the socket, and its answer.
std::string Ask(Connection& c, const std::string& line) {
  c.Send(line + "\n");
  return c.ReadLine().value_or("<no answer>");
}

// The stat `name` of a stats answer (a line, or the client library's list);
// fails the test if it is absent.
std::uint64_t StatOf(const std::vector<std::pair<std::string, std::uint64_t>>& stats,
                     const std::string& name) {
  for (const auto& [n, v] : stats) {
    if (n == name) return v;
  }
  ADD_FAILURE() << "no stat " << name;
  return 0;
}
std::uint64_t StatOf(const std::string& line, const std::string& name) {
  proto::Response response;
  if (auto bad = proto::DecodeResponse(line, &response)) {
    ADD_FAILURE() << bad->message << ": " << line;
    return 0;
  }
  return StatOf(response.stats, name);
}

TEST(RevisionTest, SocketGetAnswersTheKeysRevisionAndStatsTheStores) {
  TestDir dir;
  Daemon kvd(dir, {"--max-key-size", "16"});
  Connection c(kvd.socket());
  EXPECT_EQ(StatOf(Ask(c, R"({"op":"stats"})"), "revision"), 0u) << "an empty store";
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k1"})"), R"({"ok":true,"values":[],"revision":0})");
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k1","val":"a"})"), R"({"ok":true})");  // 1
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k1","val":"b"})"), R"({"ok":true})");  // 2
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k2","val":"c"})"), R"({"ok":true})");  // 3
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k1"})"), R"({"ok":true,"values":["a","b"],"revision":2})");
  EXPECT_EQ(Ask(c, R"({"op":"delete","key":"k1"})"), R"({"ok":true,"deleted":true})");  // 4
  // The contract's members first, in their order; the revision after them.
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k2","id":"r"})"),
            R"({"ok":true,"id":"r","values":["c"],"revision":3})");
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k1"})"), R"({"ok":true,"values":[],"revision":0})")
      << "a deleted key is absent";
  EXPECT_EQ(StatOf(Ask(c, R"({"op":"stats"})"), "revision"), 4u);

  // No change, no revision: a delete of an absent key, a failed write, reads.
  EXPECT_EQ(Ask(c, R"({"op":"delete","key":"k1"})"), R"({"ok":true,"deleted":false})");
  EXPECT_EQ(ErrorCodeOf(Ask(c, R"({"op":"append","key":"a-key-over-16-bytes","val":"x"})")),
            "key_too_large");
  EXPECT_EQ(ErrorCodeOf(Ask(c, R"({"op":"append_many","items":[{"key":"k2","val":"x"},)"
                               R"({"key":"a-key-over-16-bytes","val":"y"}]})")),
            "key_too_large");
  EXPECT_EQ(StatOf(Ask(c, R"({"op":"stats"})"), "revision"), 4u);
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k2"})"), R"({"ok":true,"values":["c"],"revision":3})");

  // An append_many makes a change per item, in item order.
  EXPECT_EQ(Ask(c, R"({"op":"append_many","items":[{"key":"k2","val":"d"},)"
                   R"({"key":"k3","val":"e"},{"key":"k2","val":"f"}]})"),
            R"({"ok":true})");  // 5, 6, 7
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k2"})"),
            R"({"ok":true,"values":["c","d","f"],"revision":7})");
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k3"})"), R"({"ok":true,"values":["e"],"revision":6})");
  // A key written again after its delete gets the revision of that write.
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k1","val":"again"})"), R"({"ok":true})");  // 8
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k1"})"), R"({"ok":true,"values":["again"],"revision":8})");
  EXPECT_EQ(StatOf(Ask(c, R"({"op":"stats"})"), "revision"), 8u);
}

TEST(RevisionTest, PipelinedWritesAreNumberedInTheirOrder) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  // One commit for the run of writes, read by the gets after it.
  c.Send(R"({"op":"append","key":"x","val":"1"})"
         "\n"
         R"({"op":"append","key":"y","val":"2"})"
         "\n"
         R"({"op":"delete","key":"nothing"})"
         "\n"
         R"({"op":"append","key":"x","val":"3"})"
         "\n"
         R"({"op":"get","key":"y"})"
         "\n"
         R"({"op":"get","key":"x"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"deleted":false})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["2"],"revision":2})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["1","3"],"revision":3})");
}

// The issue's example through either backend: append a, b to k1, c to k2,
// delete k1; then more.
void ExpectRevisions(client::Backend& kv) {
  EXPECT_EQ(StatOf(kv.Stats(), "revision"), 0u) << "an empty store";
  kv.Append("k1", "a");
  kv.Append("k1", "b");
  kv.Append("k2", "c");
  EXPECT_TRUE(kv.Delete("k1"));
  std::uint64_t revision = 99;
  EXPECT_THAT(kv.Get("k2", &revision), ElementsAre("c"));
  EXPECT_EQ(revision, 3u);
  revision = 99;
  EXPECT_THAT(kv.Get("k1", &revision), IsEmpty());
  EXPECT_EQ(revision, 0u) << "a deleted key";
  revision = 99;
  EXPECT_THAT(kv.Get("never", &revision), IsEmpty());
  EXPECT_EQ(revision, 0u) << "a key never written";
  EXPECT_EQ(StatOf(kv.Stats(), "revision"), 4u);
  EXPECT_FALSE(kv.Delete("k1"));
  EXPECT_EQ(StatOf(kv.Stats(), "revision"), 4u) << "deleting nothing changes nothing";
  kv.AppendMany({{"k2", "d"}, {"k3", "e"}});
  EXPECT_THAT(kv.Get("k2", &revision), ElementsAre("c", "d"));
  EXPECT_EQ(revision, 5u);
  EXPECT_THAT(kv.Get("k3", &revision), ElementsAre("e"));
  EXPECT_EQ(revision, 6u);
  EXPECT_EQ(StatOf(kv.Stats(), "revision"), 6u);
  EXPECT_THAT(kv.Get("k3", nullptr), ElementsAre("e")) << "no revision asked for";
}

// Every key's revision and the store's, as a client reads them.
std::vector<std::pair<std::string, std::uint64_t>> Revisions(client::Backend& kv) {
  std::vector<std::pair<std::string, std::uint64_t>> revisions;
  for (const std::string& key : kv.Keys("")) {
    std::uint64_t revision = 0;
    kv.Get(key, &revision);
    revisions.emplace_back(key, revision);
  }
  revisions.emplace_back("(store)", StatOf(kv.Stats(), "revision"));
  return revisions;
}

// Revisions outlive kvd: a clean stop (the meta file), a kill -9 (the
// journal), compactions (tiny thresholds: every few writes compact), and
// a kill -9 after them.
TEST(RevisionTest, RevisionsSurviveRestartsKillsAndCompactions) {
  TestDir dir;
  const std::vector<std::string> compact_often = {"--compact-min-size", "200",
                                                  "--compact-percentage", "0"};
  std::vector<std::pair<std::string, std::uint64_t>> expected;
  auto write_some = [](client::Backend& kv, int round) {
    for (int i = 0; i < 30; ++i) kv.Append("k" + std::to_string(i % 7), std::to_string(round));
    kv.Delete("k3");
    kv.Delete("absent");
  };
  {
    Daemon kvd(dir);
    client::Client kv(kvd.socket());
    write_some(kv, 0);
    expected = Revisions(kv);
    EXPECT_EQ(expected.back().second, 31u);
    ASSERT_EQ(kvd.Stop(), 0);
  }
  {
    Daemon kvd(dir);
    client::Client kv(kvd.socket());
    EXPECT_EQ(Revisions(kv), expected) << "after a clean stop";
    write_some(kv, 1);
    expected = Revisions(kv);
    kvd.Kill();
  }
  {
    Daemon kvd(dir, compact_often);
    client::Client kv(kvd.socket());
    EXPECT_EQ(Revisions(kv), expected) << "after kill -9";
    write_some(kv, 2);
    write_some(kv, 3);
    EXPECT_GT(StatOf(kv.Stats(), "compactions"), 0u);
    expected = Revisions(kv);
    kvd.Kill();
  }
  Daemon kvd(dir);
  client::Client kv(kvd.socket());
  EXPECT_EQ(Revisions(kv), expected) << "after compactions and kill -9";
  EXPECT_EQ(expected.back().second, 4 * 31u);
}

TEST(RevisionTest, ClientReadsValuesAndRevisionTogether) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client kv(kvd.socket());
  ExpectRevisions(kv);
}

TEST(RevisionTest, EmbeddedReadsValuesAndRevisionTogether) {
  TestDir dir;
  client::Embedded kv(dir / "storage.data", std::chrono::seconds(5));
  ExpectRevisions(kv);
  kv.Close();
}

// With one key, written by one writer, the key's revision is its number of
// values: a read that took values and revision apart would see them
// disagree while the writer goes on.
void ExpectReadTogetherWhileWritten(client::Backend& writer, client::Backend& reader) {
  constexpr int kBatches = 60, kPerBatch = 5;
  std::atomic<bool> done{false};
  std::thread write([&] {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<client::KeyValue> batch;
      for (int i = 0; i < kPerBatch; ++i) batch.push_back({"k", std::to_string(b * kPerBatch + i)});
      writer.AppendMany(std::move(batch));
    }
    done = true;
  });
  int reads = 0, torn = 0;
  std::uint64_t last = 0;
  for (bool finished = false; !finished;) {
    finished = done;  // read once more after the writer ended
    std::uint64_t revision = 0;
    const std::vector<std::string> values = reader.Get("k", &revision);
    if (revision != values.size()) ++torn;
    EXPECT_GE(revision, last) << "revisions never go back";
    last = revision;
    ++reads;
  }
  write.join();
  EXPECT_EQ(torn, 0) << "reads whose revision was not that of their values, of " << reads;
  EXPECT_EQ(last, std::uint64_t{kBatches * kPerBatch});
  EXPECT_GT(reads, 1);
}

TEST(RevisionTest, ClientGetIsOneReadWhileAnotherClientWrites) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client writer(kvd.socket());
  client::Client reader(kvd.socket());
  ExpectReadTogetherWhileWritten(writer, reader);
}

TEST(RevisionTest, EmbeddedGetIsOneReadWhileAnotherThreadWrites) {
  TestDir dir;
  client::Embedded kv(dir / "storage.data", std::chrono::seconds(5));
  ExpectReadTogetherWhileWritten(kv, kv);  // an Embedded may be shared by threads
  kv.Close();
}

}  // namespace
}  // namespace kvd::testing
