// Revisions (proto/PROTOCOL.md, "Revisions") against a real kvd and the
// data file embedded: the store revision counts the changes (each appended
// value, each delete of a key that existed), a key's revision is that of
// the last change to it (0 while absent), through raw protocol lines and
// through both backends of the client library. And the conditional append
// built on them ("Conditional append"): applied only while the key's
// revision or length is as the client read it, else `conflict` with the
// key's revision.
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
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

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::IsEmpty;
using ::testing::StartsWith;

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

TEST(ConditionalAppendTest, SocketAppendsOnlyWhileTheConditionHolds) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k","val":"a","if_revision":0})"), R"({"ok":true})")
      << "0: the key is absent";
  const std::string refused = Ask(c, R"({"op":"append","key":"k","val":"x","if_revision":0})");
  EXPECT_EQ(ErrorCodeOf(refused), "conflict");
  EXPECT_THAT(refused, StartsWith(R"({"ok":false,"error":{"code":"conflict","message":")"));
  EXPECT_THAT(refused, EndsWith(R"(},"revision":1})")) << "the key's revision now";
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k","val":"b","if_revision":1})"), R"({"ok":true})");
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k","val":"c","if_length":2})"), R"({"ok":true})");
  EXPECT_THAT(Ask(c, R"({"op":"append","key":"k","val":"x","if_length":2})"),
              EndsWith(R"(},"revision":3})"));
  // The id is echoed before the error, the revision after it.
  EXPECT_THAT(Ask(c, R"({"op":"append","key":"k","val":"x","if_revision":2,"id":7})"),
              AllOf(StartsWith(R"({"ok":false,"id":7,"error":{"code":"conflict")"),
                    EndsWith(R"(},"revision":3})")));
  EXPECT_THAT(Ask(c, R"({"op":"append","key":"other","val":"x","if_revision":3})"),
              EndsWith(R"(},"revision":0})"))
      << "an absent key has revision 0";

  // Malformed conditions are invalid requests; nothing happens.
  for (const char* line : {R"({"op":"append","key":"k","val":"x","if_revision":3,"if_length":3})",
                           R"({"op":"append","key":"k","val":"x","if_revision":-1})",
                           R"({"op":"append","key":"k","val":"x","if_revision":1.5})",
                           R"({"op":"append","key":"k","val":"x","if_length":"3"})",
                           R"({"op":"append","key":"k","val":"x","if_revision":null})"}) {
    EXPECT_EQ(ErrorCodeOf(Ask(c, line)), "invalid_request") << line;
  }
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"),
            R"({"ok":true,"values":["a","b","c"],"revision":3})");
  EXPECT_EQ(StatOf(Ask(c, R"({"op":"stats"})"), "revision"), 3u)
      << "a refused append changes nothing";
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k","val":"d"})"), R"({"ok":true})")
      << "an unconditional append as before";
}

// The "revision" of a conflict answer; fails the test if it has none.
std::uint64_t ConflictRevisionOf(const std::optional<std::string>& line) {
  proto::Response response;
  if (!line || proto::DecodeResponse(*line, &response) || !response.error ||
      response.error->code != proto::ErrorCode::kConflict || !response.revision) {
    ADD_FAILURE() << "not a conflict with a revision: " << line.value_or("<no answer>");
    return 0;
  }
  return *response.revision;
}

TEST(ConditionalAppendTest, PipelinedConditionalAppendsEachGetTheirOwnResult) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  // Committed together, or in a few commits: each is decided in turn,
  // seeing the writes before it.
  c.Send(R"({"op":"append","key":"p","val":"a","if_revision":0})"
         "\n"
         R"({"op":"append","key":"p","val":"x","if_revision":0})"
         "\n"
         R"({"op":"append","key":"p","val":"b","if_revision":1})"
         "\n"
         R"({"op":"append","key":"q","val":"c"})"
         "\n"
         R"({"op":"append","key":"p","val":"x","if_length":1})"
         "\n"
         R"({"op":"append","key":"p","val":"d","if_length":2})"
         "\n"
         R"({"op":"get","key":"p"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  // The key's revision after the commit that refused it: what it was then,
  // or with the writes after it in the same commit.
  const std::uint64_t first = ConflictRevisionOf(c.ReadLine());
  EXPECT_TRUE(first == 1 || first == 2 || first == 4) << first;
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  const std::uint64_t second = ConflictRevisionOf(c.ReadLine());
  EXPECT_TRUE(second == 2 || second == 4) << second;
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":["a","b","d"],"revision":4})");
}

// Either backend: appends while the condition holds, else Conflict with
// the key's revision.
void ExpectConditionalAppends(client::Backend& kv) {
  using client::Condition;
  kv.Append("k", "a", Condition::Revision(0));
  try {
    kv.Append("k", "x", Condition::Revision(0));
    ADD_FAILURE() << "appended though the key's revision is 1";
  } catch (const client::Conflict& e) {
    EXPECT_EQ(e.code(), "conflict");
    EXPECT_EQ(e.revision(), 1u);
  }
  kv.Append("k", "b", Condition::Revision(1));
  kv.Append("k", "c", Condition::Length(2));
  try {
    kv.Append("k", "x", Condition::Length(2));
    ADD_FAILURE() << "appended though the key holds 3 values";
  } catch (const client::Error& e) {  // a Conflict is an Error
    EXPECT_EQ(e.code(), "conflict");
    EXPECT_EQ(dynamic_cast<const client::Conflict&>(e).revision(), 3u);
  }
  kv.Append("new", "n", Condition::Length(0));
  EXPECT_THROW(kv.Append("absent", "x", Condition::Revision(4)), client::Conflict);
  std::uint64_t revision = 0;
  EXPECT_THAT(kv.Get("k", &revision), ElementsAre("a", "b", "c"));
  EXPECT_EQ(revision, 3u);
  EXPECT_THAT(kv.Get("absent"), IsEmpty());
  EXPECT_EQ(StatOf(kv.Stats(), "revision"), 4u);
}

TEST(ConditionalAppendTest, ClientThrowsConflictWithTheRevision) {
  TestDir dir;
  Daemon kvd(dir);
  client::Client kv(kvd.socket());
  ExpectConditionalAppends(kv);
}

TEST(ConditionalAppendTest, EmbeddedThrowsConflictWithTheRevision) {
  TestDir dir;
  client::Embedded kv(dir / "storage.data", std::chrono::seconds(5));
  ExpectConditionalAppends(kv);
  kv.Close();
}

// The issue's race: in each round every client reads the key's revision,
// then all try to append with it at once; exactly one wins the round.
void ExpectOneWinnerPerRound(const std::vector<client::Backend*>& clients, int rounds) {
  const std::size_t n = clients.size();
  std::vector<std::atomic<int>> winners(static_cast<std::size_t>(rounds));
  std::atomic<int> failures{0};
  std::barrier sync(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      client::Backend& kv = *clients[t];
      for (int r = 0; r < rounds; ++r) {
        std::uint64_t revision = 0;
        try {
          kv.Get("race", &revision);
        } catch (const client::Error&) {
          ++failures;
        }
        sync.arrive_and_wait();  // all have read: nobody has written yet
        try {
          kv.Append("race", std::to_string(r) + "/" + std::to_string(t),
                    client::Condition::Revision(revision));
          ++winners[static_cast<std::size_t>(r)];
        } catch (const client::Conflict& e) {
          if (e.revision() <= revision) ++failures;  // someone else's append came first
        } catch (const client::Error&) {
          ++failures;
        }
        sync.arrive_and_wait();  // the round is decided
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  for (int r = 0; r < rounds; ++r) {
    EXPECT_EQ(winners[static_cast<std::size_t>(r)], 1) << "round " << r;
  }
  const std::vector<std::string> values = clients.front()->Get("race");
  ASSERT_EQ(values.size(), static_cast<std::size_t>(rounds));
  for (int r = 0; r < rounds; ++r) {
    EXPECT_THAT(values[static_cast<std::size_t>(r)], StartsWith(std::to_string(r) + "/"));
  }
}

TEST(ConditionalAppendTest, TwentyRacingClientsOneWinnerEachRound) {
  TestDir dir;
  Daemon kvd(dir);
  std::vector<std::unique_ptr<client::Client>> owned;
  std::vector<client::Backend*> clients;
  for (int i = 0; i < 20; ++i) {
    owned.push_back(std::make_unique<client::Client>(kvd.socket()));
    clients.push_back(owned.back().get());
  }
  ExpectOneWinnerPerRound(clients, 50);
}

TEST(ConditionalAppendTest, TwentyRacingThreadsOnOneEmbeddedOneWinnerEachRound) {
  TestDir dir;
  client::Embedded kv(dir / "storage.data", std::chrono::seconds(5));
  ExpectOneWinnerPerRound(std::vector<client::Backend*>(20, &kv), 30);
  kv.Close();
}

}  // namespace
}  // namespace kvd::testing
