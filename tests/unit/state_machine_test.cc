#include "store/state_machine.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/command.h"
#include "tests/test_dir.h"
#include "tests/unit/engine_helpers.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::string_literals;

// A state machine over an engine of its own without the journal, as a
// cluster node has.
class Replica {
 public:
  Replica() : engine_(MustOpen(dir_ / "storage.data", Options())), machine_(*engine_) {}

  Engine& engine() { return *engine_; }
  StateMachine& machine() { return machine_; }
  std::vector<std::string> Values(const std::string& key) {
    return engine_->Get(key).view().ToStrings();
  }
  // Applies `entry`, which must decode; returns the results.
  std::vector<bool> Apply(const std::string& entry) {
    WriteResults results;
    EXPECT_TRUE(machine_.Apply(entry, &results));
    return AppliedOf(results);
  }

 private:
  static EngineOptions Options() {
    EngineOptions options;
    options.journal = false;
    return options;
  }

  TestDir dir_;
  std::unique_ptr<Engine> engine_;
  StateMachine machine_;
};

std::string Entry(const WriteBatch& batch) {
  std::string entry;
  command::EncodeWrites(batch, &entry);
  return entry;
}

// An entry of one request of `origin`: an append of `val` to `key`.
std::string AppendEntry(Origin origin, const std::string& key, const std::string& val) {
  WriteBatch batch;
  batch.SetOrigin(origin);
  batch.Append(key, val);
  return Entry(batch);
}

// An entry of one request of `origin`: a delete of `key`.
std::string DeleteEntry(Origin origin, const std::string& key) {
  WriteBatch batch;
  batch.SetOrigin(origin);
  batch.Delete(key);
  return Entry(batch);
}

std::string NodeAddressEntry(std::uint64_t node, const std::string& address) {
  std::string entry;
  command::EncodeNodeAddress(node, address, &entry);
  return entry;
}

TEST(StateMachineTest, ARequestIsAppliedOnce) {
  Replica r;
  EXPECT_THAT(r.Apply(AppendEntry({7, 1}, "k", "v")), ElementsAre(true));
  EXPECT_THAT(r.Apply(AppendEntry({7, 1}, "k", "v")), ElementsAre(true)) << "the retry";
  EXPECT_THAT(r.Values("k"), ElementsAre("v"));
}

TEST(StateMachineTest, ARetryOfAnEarlierRequestIsNotApplied) {
  Replica r;
  r.Apply(AppendEntry({7, 1}, "k", "1"));
  r.Apply(AppendEntry({7, 2}, "k", "2"));
  EXPECT_THAT(r.Apply(AppendEntry({7, 1}, "k", "1")), ElementsAre(true));
  EXPECT_THAT(r.Values("k"), ElementsAre("1", "2"));
}

TEST(StateMachineTest, AHigherSeqIsApplied) {
  Replica r;
  r.Apply(AppendEntry({7, 1}, "k", "1"));
  r.Apply(AppendEntry({7, 2}, "k", "2"));
  r.Apply(AppendEntry({7, 10}, "k", "10"));  // seqs may skip
  EXPECT_THAT(r.Values("k"), ElementsAre("1", "2", "10"));
}

TEST(StateMachineTest, NobodysWritesAreAppliedEveryTime) {
  Replica r;
  WriteBatch batch;
  batch.Append("k", "v");
  r.Apply(Entry(batch));
  r.Apply(Entry(batch));
  r.Apply(AppendEntry({0, 0}, "k", "v"));
  EXPECT_THAT(r.Values("k"), ElementsAre("v", "v", "v"));
}

// What a cluster node's get answers (doc/coordination.md, step 1): the
// same revisions on every replica that applied the same entries; a retry,
// a delete of an absent key and the directory make no change.
TEST(StateMachineTest, ReplicasDeriveTheSameRevisions) {
  Replica a, b;
  for (Replica* r : {&a, &b}) {
    r->Apply(AppendEntry({7, 1}, "k1", "a"));         // 1
    r->Apply(AppendEntry({7, 1}, "k1", "a"));         // a retry: none
    r->Apply(NodeAddressEntry(2, "127.0.0.1:7002"));  // not the store's
    WriteBatch batch;
    batch.Append("k1", "b");  // 2
    batch.Append("k2", "c");  // 3
    batch.Delete("absent");   // none
    r->Apply(Entry(batch));
    r->Apply(DeleteEntry({8, 1}, "k1"));  // 4
  }
  for (Replica* r : {&a, &b}) {
    std::uint64_t revision = 99;
    EXPECT_THAT(r->engine().Get("k2", &revision).view().ToStrings(), ElementsAre("c"));
    EXPECT_EQ(revision, 3u);
    EXPECT_TRUE(r->engine().Get("k1", &revision).empty());
    EXPECT_EQ(revision, 0u);
    EXPECT_EQ(r->engine().GetStats().revision, 4u);
  }
}

TEST(StateMachineTest, EachClientHasASessionOfItsOwn) {
  Replica r;
  r.Apply(AppendEntry({1, 5}, "k", "a"));
  r.Apply(AppendEntry({2, 1}, "k", "b"));
  r.Apply(AppendEntry({2, 5}, "k", "c"));
  EXPECT_THAT(r.Values("k"), ElementsAre("a", "b", "c"));
}

TEST(StateMachineTest, ResultsComeOnePerMutationInOrder) {
  Replica r;
  WriteBatch batch;
  batch.Append("a", "1");
  batch.Delete("absent");
  batch.SetOrigin({1, 1});
  batch.Delete("a");
  batch.Delete("a");
  batch.SetOrigin({2, 1});
  batch.Append("b", "2");
  EXPECT_THAT(r.Apply(Entry(batch)), ElementsAre(true, false, true, false, true));
}

// Re-applying the delete would find the key gone and report false.
TEST(StateMachineTest, ARetriedDeleteReportsThatTheFirstFoundItsKey) {
  Replica r;
  r.Apply(AppendEntry({}, "k", "v"));
  EXPECT_THAT(r.Apply(DeleteEntry({7, 1}, "k")), ElementsAre(true));
  EXPECT_THAT(r.Apply(DeleteEntry({7, 1}, "k")), ElementsAre(true));
}

// Re-applying the delete would find the key appended since and delete it.
TEST(StateMachineTest, ARetriedDeleteReportsThatTheFirstFoundNoKey) {
  Replica r;
  EXPECT_THAT(r.Apply(DeleteEntry({7, 1}, "k")), ElementsAre(false));
  r.Apply(AppendEntry({}, "k", "v"));
  EXPECT_THAT(r.Apply(DeleteEntry({7, 1}, "k")), ElementsAre(false));
  EXPECT_THAT(r.Values("k"), ElementsAre("v"));
}

TEST(StateMachineTest, ARetryAmongNewRequestsGetsItsOwnResults) {
  Replica r;
  r.Apply(DeleteEntry({1, 1}, "x"));
  WriteBatch batch;
  batch.Append("a", "1");
  batch.SetOrigin({1, 1});
  batch.Delete("x");  // the retry: false, as the first time
  batch.SetOrigin({2, 1});
  batch.Delete("a");
  EXPECT_THAT(r.Apply(Entry(batch)), ElementsAre(true, false, true));
}

TEST(StateMachineTest, TheSameRequestTwiceInOneEntryIsAppliedOnce) {
  Replica r;
  WriteBatch batch;
  batch.SetOrigin({7, 1});
  batch.Append("k", "v");
  batch.SetOrigin({7, 1});
  batch.Append("k", "v");
  EXPECT_THAT(r.Apply(Entry(batch)), ElementsAre(true, true));
  EXPECT_THAT(r.Values("k"), ElementsAre("v"));
}

TEST(StateMachineTest, TheSameRequestTwiceInOneEntryReportsTheFirstResultsTwice) {
  Replica r;
  WriteBatch batch;
  batch.SetOrigin({7, 1});
  batch.Delete("k");  // absent: false
  batch.SetOrigin({});
  batch.Append("k", "v");
  batch.SetOrigin({7, 1});
  batch.Delete("k");  // the retry, not applied: false, as the first time
  EXPECT_THAT(r.Apply(Entry(batch)), ElementsAre(false, true, false));
  EXPECT_THAT(r.Values("k"), ElementsAre("v"));
}

// An entry of one request of `origin`: a pop of `count` values from the
// head of `key` (the trim that keeps the rest).
std::string PopEntry(Origin origin, const std::string& key, std::int64_t count) {
  WriteBatch batch;
  batch.SetOrigin(origin);
  batch.Trim(key, {count, -1});
  return Entry(batch);
}

// A retried pop must answer the values the first took: applied again, it
// would take others, and the first ones would reach nobody.
TEST(StateMachineTest, ARetriedPopAnswersTheValuesTheFirstTook) {
  Replica r;
  for (const char* v : {"1", "2", "3"}) r.Apply(AppendEntry({}, "q", v));
  WriteResults first, retry;
  ASSERT_TRUE(r.machine().Apply(PopEntry({7, 1}, "q", 2), &first));
  EXPECT_THAT(first.removed(0).ToStrings(), ElementsAre("1", "2"));
  ASSERT_TRUE(r.machine().Apply(PopEntry({7, 1}, "q", 2), &retry));
  EXPECT_THAT(AppliedOf(retry), ElementsAre(true));
  EXPECT_THAT(retry.removed(0).ToStrings(), ElementsAre("1", "2"));
  EXPECT_THAT(r.Values("q"), ElementsAre("3"));
  // And after a snapshot restored elsewhere.
  Replica to;
  ASSERT_TRUE(to.machine().Restore(r.machine().Snapshot()).ok());
  WriteResults restored;
  ASSERT_TRUE(to.machine().Apply(PopEntry({7, 1}, "q", 2), &restored));
  EXPECT_THAT(restored.removed(0).ToStrings(), ElementsAre("1", "2"));
  EXPECT_THAT(to.Values("q"), ElementsAre("3"));
  EXPECT_EQ(to.machine().Snapshot(), r.machine().Snapshot());
}

TEST(StateMachineTest, AnEntryThatDoesNotDecodeChangesNothing) {
  Replica r;
  const std::string entry = AppendEntry({7, 1}, "k", "v");
  WriteResults applied;
  applied.Add(true);
  EXPECT_FALSE(r.machine().Apply(entry.substr(0, entry.size() - 1), &applied));
  EXPECT_TRUE(applied.empty());
  EXPECT_FALSE(r.machine().Apply("", &applied));
  EXPECT_THAT(r.Values("k"), IsEmpty());
  r.Apply(entry);
  EXPECT_THAT(r.Values("k"), ElementsAre("v")) << "the broken entry started a session";
}

TEST(StateMachineTest, NodeAddressesFillTheDirectory) {
  Replica r;
  EXPECT_THAT(r.machine().Directory(), IsEmpty());
  EXPECT_THAT(r.Apply(NodeAddressEntry(1, "127.0.0.1:7001")), IsEmpty());
  r.Apply(NodeAddressEntry(2, "127.0.0.1:7002"));
  r.Apply(NodeAddressEntry(1, "10.0.0.1:8001"));  // moved
  EXPECT_EQ(r.machine().Directory(),
            (std::map<std::uint64_t, std::string>{{1, "10.0.0.1:8001"}, {2, "127.0.0.1:7002"}}));
  EXPECT_EQ(r.engine().GetStats().keys, 0u) << "the directory is not in the store";
}

// Replica `r`'s state: its store with values that were appended, deleted
// and appended again, client 7 at request 2 (a delete that found nothing),
// and two nodes in the directory.
void Populate(Replica& r) {
  r.Apply(AppendEntry({}, "a", "1"));
  r.Apply(AppendEntry({7, 1}, "b", "x, \"y\"\n\xc3\xa9"));
  r.Apply(DeleteEntry({}, "a"));
  r.Apply(AppendEntry({}, "a", "2"));
  r.Apply(AppendEntry({}, "", ""));
  r.Apply(DeleteEntry({7, 2}, "absent"));
  r.Apply(AppendEntry({8, 1}, "c", "3"));
  r.Apply(NodeAddressEntry(1, "127.0.0.1:7001"));
  r.Apply(NodeAddressEntry(2, "127.0.0.1:7002"));
}

TEST(StateMachineTest, RestoreOfASnapshotGivesTheSameStore) {
  Replica from, to;
  Populate(from);
  ASSERT_TRUE(to.machine().Restore(from.machine().Snapshot()).ok());
  EXPECT_THAT(to.engine().Keys(""), ElementsAre("", "a", "b", "c"));
  EXPECT_THAT(to.Values("a"), ElementsAre("2"));
  EXPECT_THAT(to.Values("b"), ElementsAre("x, \"y\"\n\xc3\xa9"));
  EXPECT_THAT(to.Values(""), ElementsAre(""));
  EXPECT_EQ(to.engine().SnapshotText(), from.engine().SnapshotText());
  EXPECT_EQ(to.machine().Snapshot(), from.machine().Snapshot());
  Store::Revisions revisions;
  to.engine().SnapshotText(&revisions);
  EXPECT_EQ(revisions.store, 6u);
  EXPECT_THAT(revisions.keys, ElementsAre(5u, 4u, 2u, 6u)) << "\"\", a, b, c";
}

TEST(StateMachineTest, ASnapshotCarriesTheExpiriesAndAFormat3OneHasNone) {
  Replica from, to;
  WriteBatch batch;
  batch.Append("a", "1", {}, UnixMillis() + 3600 * 1000);
  batch.Append("b", "2");
  batch.Append("c", "3");
  batch.Expire("c", 1);  // long expired: hidden, until its expired delete
  from.Apply(Entry(batch));
  EXPECT_THAT(from.engine().Keys(""), ElementsAre("a", "b"));
  const std::string snapshot = from.machine().Snapshot();
  EXPECT_EQ(snapshot.front(), '\x04');
  ASSERT_TRUE(to.machine().Restore(snapshot).ok());
  EXPECT_EQ(to.machine().Snapshot(), snapshot);
  EXPECT_GT(to.engine().TimeToLive("a"), 3500 * 1000);
  EXPECT_EQ(to.engine().TimeToLive("b"), -1);
  EXPECT_EQ(to.engine().TimeToLive("c"), -2);
  EXPECT_THAT(to.engine().ExpiredKeys(UnixMillis(), 10), ElementsAre("c"));
  // Format 3: the revisions without expiries after them.
  ASSERT_TRUE(to.machine().Restore("\x03\x00\x00\x05\x01\x05{\"k\":[\"v\"]}"s).ok());
  EXPECT_EQ(to.engine().TimeToLive("k"), -1);
  EXPECT_EQ(to.engine().KeyRevision("k"), 5u);
}

TEST(StateMachineTest, ReplicasApplyingAnExpiredDeleteLateDecideAlike) {
  Replica early, late;
  WriteBatch first;
  first.Append("k", "old", {}, 1000);
  WriteBatch later;
  later.DeleteExpired("k", 1000);  // as the leader committed it, by its clock
  later.Append("k", "new");
  for (Replica* r : {&early, &late}) {
    r->Apply(Entry(first));
    EXPECT_THAT(r->Apply(Entry(later)), ElementsAre(true, true));
    EXPECT_THAT(r->Values("k"), ElementsAre("new")) << "an append to an expired key starts afresh";
  }
  EXPECT_EQ(early.machine().Snapshot(), late.machine().Snapshot());
}

TEST(StateMachineTest, ASnapshotFromBeforeRevisionsRestoresWithTheFirst) {
  Replica to;
  // Format 1: no sessions, no nodes, the text.
  ASSERT_TRUE(to.machine().Restore("\x01\x00\x00{\"k\":[\"v\"]}"s).ok());
  EXPECT_THAT(to.Values("k"), ElementsAre("v"));
  std::uint64_t revision = 0;
  to.engine().Get("k", &revision);
  EXPECT_EQ(revision, 1u);
}

TEST(StateMachineTest, ASnapshotOfFormat2RestoresItsSessions) {
  Replica to;
  // Client 7's request 1 had one result, false; no nodes; no revisions but
  // the store's; the text.
  ASSERT_TRUE(to.machine().Restore("\x02\x01\x07\x01\x01\x00\x00\x05\x00{}"s).ok());
  EXPECT_THAT(to.Apply(DeleteEntry({7, 1}, "k")), ElementsAre(false));
  EXPECT_EQ(to.engine().GetStats().revision, 5u);
}

TEST(StateMachineTest, ASnapshotWithMalformedRemovedValuesIsCorruption) {
  Replica to;
  // A result byte of 3 (applied, values follow), then a string of 3 bytes
  // that are no packed values: a value of 5 bytes, "ab".
  const std::string bad =
      "\x03\x01\x07\x01\x01\x03\x03\x05"
      "ab\x00\x00\x00{}"s;
  EXPECT_EQ(to.machine().Restore(bad).code(), Status::Code::kCorruption);
  std::string good = bad;
  good.replace(good.find("\x05"
                         "ab"),
               3,
               "\x02"
               "ab");
  EXPECT_TRUE(to.machine().Restore(good).ok());
}

TEST(StateMachineTest, RestoredSessionsStillDropRetries) {
  Replica from, to;
  Populate(from);
  ASSERT_TRUE(to.machine().Restore(from.machine().Snapshot()).ok());
  to.Apply(AppendEntry({}, "absent", "v"));
  EXPECT_THAT(to.Apply(DeleteEntry({7, 2}, "absent")), ElementsAre(false))
      << "the retry did not report what the delete did the first time";
  EXPECT_THAT(to.Values("absent"), ElementsAre("v"));
  to.Apply(AppendEntry({7, 1}, "b", "again"));
  to.Apply(AppendEntry({8, 1}, "c", "again"));
  EXPECT_THAT(to.Values("b"), ElementsAre("x, \"y\"\n\xc3\xa9"));
  EXPECT_THAT(to.Values("c"), ElementsAre("3"));
  to.Apply(AppendEntry({7, 3}, "b", "next"));
  EXPECT_THAT(to.Values("b"), ElementsAre("x, \"y\"\n\xc3\xa9", "next"));
}

TEST(StateMachineTest, RestoredDirectoryIsTheSame) {
  Replica from, to;
  Populate(from);
  ASSERT_TRUE(to.machine().Restore(from.machine().Snapshot()).ok());
  EXPECT_EQ(to.machine().Directory(), from.machine().Directory());
  EXPECT_EQ(to.machine().Directory().size(), 2u);
}

TEST(StateMachineTest, RestoreReplacesTheWholeState) {
  Replica from, to;
  Populate(from);
  to.Apply(AppendEntry({9, 5}, "old", "v"));
  to.Apply(NodeAddressEntry(3, "127.0.0.1:7003"));
  ASSERT_TRUE(to.machine().Restore(from.machine().Snapshot()).ok());
  EXPECT_THAT(to.Values("old"), IsEmpty());
  EXPECT_EQ(to.machine().Directory().count(3), 0u);
  to.Apply(AppendEntry({9, 1}, "k", "v"));
  EXPECT_THAT(to.Values("k"), ElementsAre("v")) << "client 9's session outlived the restore";
}

TEST(StateMachineTest, RestoreOfGarbageIsCorruptionAndKeepsTheState) {
  Replica from, r;
  Populate(from);
  Populate(r);
  const std::string snapshot = from.machine().Snapshot();
  const std::string before = r.machine().Snapshot();
  for (const std::string& garbage : {
           ""s, "x"s, "\x05"s + snapshot.substr(1),                    // an unknown format
           snapshot.substr(0, 1), snapshot.substr(0, 3), "\x02\x05"s,  // sessions cut short
           "\x02\x00\x02\x01"s,                                        // the directory cut short
           "\x02\x00\x00\x01\x02\x01"s,                                // revisions cut short
           "\x04\x00\x00\x01\x01\x01\x02\x00\x05"s,                    // more expiries than keys
       }) {
    const Status s = r.machine().Restore(garbage);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
    EXPECT_EQ(r.machine().Snapshot(), before)
        << "after a restore of " << garbage.size() << " bytes of garbage";
  }
}

// The sessions and directory are whole, the store's text is damaged.
TEST(StateMachineTest, RestoreOfASnapshotWithADamagedStoreKeepsTheState) {
  Replica from, r;
  Populate(from);
  r.Apply(AppendEntry({}, "mine", "v"));
  const std::string snapshot = from.machine().Snapshot();
  const std::string text = from.engine().SnapshotText();
  ASSERT_EQ(snapshot.substr(snapshot.size() - text.size()), text);
  const std::string before = r.machine().Snapshot();
  const std::string damaged = snapshot.substr(0, snapshot.size() - text.size()) + R"({"a": ["x")";
  const Status s = r.machine().Restore(damaged);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(r.Values("mine"), ElementsAre("v")) << "the store was emptied";
  EXPECT_EQ(r.machine().Snapshot(), before);
}

// A pseudo-random mix of requests, retries, nobody's writes and node
// addresses.
std::vector<std::string> RandomEntries(std::uint64_t seed, int count) {
  auto next = [&] { return (seed = seed * 6364136223846793005u + 1442695040888963407u) >> 33; };
  std::map<std::uint64_t, std::uint64_t> seqs;  // client -> its last new request
  std::vector<std::string> entries;
  for (int i = 0; i < count; ++i) {
    if (next() % 20 == 0) {
      entries.push_back(NodeAddressEntry(next() % 5 + 1, "127.0.0.1:" + std::to_string(i + 1)));
      continue;
    }
    WriteBatch batch;
    for (std::uint64_t request = 0, requests = next() % 4 + 1; request < requests; ++request) {
      const std::uint64_t client = next() % 6;  // 0: nobody
      std::uint64_t seq = 0;
      if (client != 0) {
        std::uint64_t& last = seqs[client];
        // One in three a retry of this request or an earlier one.
        seq = last > 0 && next() % 3 == 0 ? last - next() % last : ++last;
      }
      batch.SetOrigin({client, seq});
      for (std::uint64_t m = 0, ms = next() % 3 + 1; m < ms; ++m) {
        const std::string key = "k" + std::to_string(next() % 8);
        if (next() % 4 == 0) {
          batch.Delete(key);
        } else {
          batch.Append(key, std::to_string(i));
        }
      }
    }
    entries.push_back(Entry(batch));
  }
  return entries;
}

TEST(StateMachineTest, MachinesApplyingTheSameEntriesEndEqual) {
  Replica a, b;
  for (const std::string& entry : RandomEntries(42, 500)) {
    EXPECT_EQ(a.Apply(entry), b.Apply(entry));
  }
  EXPECT_GT(a.engine().GetStats().values, 0u);
  EXPECT_EQ(a.machine().Snapshot(), b.machine().Snapshot());
}

TEST(StateMachineTest, AMachineRestoredMidwayEndsEqualToOneThatAppliedEverything) {
  Replica a, b;
  const std::vector<std::string> entries = RandomEntries(7, 500);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i == entries.size() / 2) {
      ASSERT_TRUE(b.machine().Restore(a.machine().Snapshot()).ok());
    }
    const std::vector<bool> applied = a.Apply(entries[i]);
    if (i >= entries.size() / 2) {
      EXPECT_EQ(b.Apply(entries[i]), applied) << "entry " << i;
    }
  }
  EXPECT_EQ(a.machine().Snapshot(), b.machine().Snapshot());
}

// Clients 1..kMaxSessions, each at request 1, in one entry.
std::string FullSessionsEntry() {
  WriteBatch batch;
  for (std::uint64_t client = 1; client <= StateMachine::kMaxSessions; ++client) {
    batch.SetOrigin({client, 1});
    batch.Append("k", "v");
  }
  return Entry(batch);
}

TEST(StateMachineTest, TheLeastRecentlyUsedSessionIsEvicted) {
  Replica r;
  r.Apply(FullSessionsEntry());
  ASSERT_EQ(r.Values("k").size(), StateMachine::kMaxSessions);
  r.Apply(AppendEntry({1, 1}, "k", "v"));  // a retry: client 1 is now the most recent
  r.Apply(AppendEntry({StateMachine::kMaxSessions + 1, 1}, "new", "v"));  // evicts client 2
  r.Apply(AppendEntry({1, 1}, "one", "v"));
  r.Apply(AppendEntry({3, 1}, "three", "v"));
  EXPECT_THAT(r.Values("one"), IsEmpty()) << "client 1's session was evicted";
  EXPECT_THAT(r.Values("three"), IsEmpty()) << "client 3's session was evicted";
  r.Apply(AppendEntry({2, 1}, "two", "v"));
  EXPECT_THAT(r.Values("two"), ElementsAre("v")) << "client 2's session was kept";
}

TEST(StateMachineTest, RestoredSessionsKeepTheirOrderOfUse) {
  Replica from, to;
  from.Apply(FullSessionsEntry());
  from.Apply(AppendEntry({1, 1}, "k", "v"));  // client 1 is now the most recent
  ASSERT_TRUE(to.machine().Restore(from.machine().Snapshot()).ok());
  to.Apply(AppendEntry({StateMachine::kMaxSessions + 1, 1}, "new", "v"));  // evicts client 2
  to.Apply(AppendEntry({1, 1}, "one", "v"));
  to.Apply(AppendEntry({2, 1}, "two", "v"));
  EXPECT_THAT(to.Values("one"), IsEmpty()) << "client 1's session was evicted";
  EXPECT_THAT(to.Values("two"), ElementsAre("v")) << "client 2's session was kept";
}

}  // namespace
}  // namespace kvd
