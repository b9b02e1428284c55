#include "store/store.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/engine_helpers.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

ValueList List(std::initializer_list<std::string_view> values) {
  ValueList list;
  for (std::string_view v : values) list.Append(v);
  return list;
}

// `size` changes drawn from `seed` over keys k0..k4999: one in five a
// delete, one in ten a pop of one value from the head, the others appends
// of their position's number.
WriteBatch RandomChanges(std::uint64_t seed, int size) {
  auto next = [&] { return (seed = seed * 6364136223846793005u + 1442695040888963407u) >> 33; };
  WriteBatch batch;
  for (int i = 0; i < size; ++i) {
    const std::string key = "k" + std::to_string(next() % 5000);
    const auto kind = next() % 10;
    if (kind < 2) {
      batch.Delete(key);
    } else if (kind == 2) {
      batch.Trim(key, {1, -1});
    } else {
      batch.Append(key, std::to_string(i));
    }
  }
  return batch;
}

TEST(StoreTest, AppendKeepsInsertionOrder) {
  Store store;
  store.Append("k", "b");
  store.Append("k", "a");
  store.Append("k", "c");
  ASSERT_NE(store.Find("k"), nullptr);
  EXPECT_THAT(store.Find("k")->view().ToStrings(), ElementsAre("b", "a", "c"));
}

TEST(StoreTest, RevisionsCountTheChangesAndNameEachKeysLast) {
  Store store;
  EXPECT_EQ(store.revision(), 0u);
  store.Append("a", "1");
  store.Append("b", "2");
  store.Append("a", "3");
  EXPECT_EQ(store.revision(), 3u);
  EXPECT_EQ(store.KeyRevision("a"), 3u);
  EXPECT_EQ(store.KeyRevision("b"), 2u);
  EXPECT_EQ(store.KeyRevision("absent"), 0u);
  EXPECT_FALSE(store.Delete("absent"));
  EXPECT_EQ(store.revision(), 3u) << "deleting nothing changes nothing";
  EXPECT_TRUE(store.Delete("b"));
  EXPECT_EQ(store.revision(), 4u);
  EXPECT_EQ(store.KeyRevision("b"), 0u);
  store.Append("b", "5");
  EXPECT_EQ(store.KeyRevision("b"), 5u);
  WriteBatch batch;
  batch.Append("c", "6");
  batch.Delete("absent");
  batch.Delete("a");
  store.Apply(batch);
  EXPECT_EQ(store.revision(), 7u) << "an applied batch counts its changes alone";
  EXPECT_EQ(store.KeyRevision("c"), 6u);
}

TEST(StoreTest, RevisionsAreSetAndReadInKeyOrder) {
  Store store;
  store.BeginLoad();
  store.Replace("k", List({"x"}));
  store.Replace("old", List({}));
  store.EndLoad();
  EXPECT_EQ(store.KeyRevision("k"), 0u) << "a loaded key has none until they are set";
  EXPECT_FALSE(store.SetRevisions({100, {42}})) << "one revision for two keys";
  EXPECT_EQ(store.revision(), 0u);
  ASSERT_TRUE(store.SetRevisions({100, {42, 7}}));
  EXPECT_EQ(store.revision(), 100u);
  EXPECT_EQ(store.KeyRevision("k"), 42u);
  EXPECT_EQ(store.KeyRevision("old"), 7u);
  store.Append("k", "y");
  EXPECT_EQ(store.revision(), 101u);
  EXPECT_EQ(store.KeyRevision("k"), 101u);
  const Store::Revisions r = store.GetRevisions();
  EXPECT_EQ(r.store, 101u);
  EXPECT_THAT(r.keys, ElementsAre(101u, 7u));
}

TEST(StoreTest, AnExpireSetsOrClearsAKeysTimeAndTakesARevision) {
  Store store;
  EXPECT_FALSE(store.Expire("k", 1000)) << "absent";
  store.Append("k", "v");
  EXPECT_EQ(store.ExpiresAt("k"), 0u);
  EXPECT_FALSE(store.Expire("k", 0)) << "no expiry to remove";
  EXPECT_EQ(store.revision(), 1u);
  EXPECT_TRUE(store.Expire("k", 1000));
  EXPECT_EQ(store.revision(), 2u);
  EXPECT_EQ(store.KeyRevision("k"), 2u);
  EXPECT_EQ(store.ExpiresAt("k"), 1000u);
  EXPECT_EQ(store.expiring_count(), 1u);
  EXPECT_FALSE(store.Expired("k", 999));
  EXPECT_TRUE(store.Expired("k", 1000));
  store.Append("k", "w");
  EXPECT_EQ(store.ExpiresAt("k"), 1000u) << "an append keeps the key's expiry, as RPUSH does";
  EXPECT_TRUE(store.Expire("k", 0));
  EXPECT_EQ(store.ExpiresAt("k"), 0u);
  EXPECT_EQ(store.expiring_count(), 0u);
}

TEST(StoreTest, AnExpiredDeleteDeletesOnlyAKeyExpiredByItsTime) {
  Store store;
  WriteBatch batch;
  batch.Append("a", "1", {}, 100);  // an append with a TTL
  batch.Append("b", "2", {}, 200);
  batch.Append("c", "3");
  batch.DeleteExpired("a", 99);    // not yet
  batch.DeleteExpired("a", 100);   // now
  batch.DeleteExpired("c", 1000);  // never expires
  batch.DeleteExpired("z", 1000);  // absent
  WriteResults results;
  store.Apply(batch, &results);
  ASSERT_EQ(results.size(), 7u);
  EXPECT_FALSE(results.applied(3));
  EXPECT_TRUE(results.applied(4));
  EXPECT_FALSE(results.applied(5));
  EXPECT_FALSE(results.applied(6));
  EXPECT_EQ(store.Find("a"), nullptr);
  EXPECT_EQ(store.revision(), 4u) << "the expired delete counts as a delete";
  EXPECT_THAT(store.ExpiredKeys(1000, 10), ElementsAre("b"));
  // Moved on meanwhile: the delete of its old time keeps it.
  ASSERT_TRUE(store.Expire("b", 5000));
  WriteBatch late;
  late.DeleteExpired("b", 1000);
  store.Apply(late);
  EXPECT_NE(store.Find("b"), nullptr);
  store.Append("a", "fresh");
  EXPECT_EQ(store.ExpiresAt("a"), 0u) << "a key made anew has no expiry";
}

TEST(StoreTest, ExpiredKeysComeSoonestFirstUpToTheirNumber) {
  Store store;
  for (const auto& [key, at] : {std::pair{"x", 30}, std::pair{"y", 10}, std::pair{"z", 20}}) {
    store.Append(key, "v");
    store.Expire(key, at);
  }
  EXPECT_THAT(store.ExpiredKeys(25, 10), ElementsAre("y", "z"));
  EXPECT_THAT(store.ExpiredKeys(100, 2), ElementsAre("y", "z"));
  store.Delete("y");
  store.Trim("z", {5, 5});  // leaves none: deleted
  EXPECT_THAT(store.ExpiredKeys(100, 10), ElementsAre("x"));
  store.Clear();
  EXPECT_EQ(store.expiring_count(), 0u);
}

TEST(StoreTest, ExpiriesAreSetAndReadInKeyOrderWithTheRevisions) {
  Store store;
  store.BeginLoad();
  store.Replace("a", List({"x"}));
  store.Replace("b", List({"y"}));
  store.Replace("c", List({"z"}));
  store.EndLoad();
  EXPECT_FALSE(store.SetRevisions({9, {1, 2, 3}, {{3, 50}}})) << "a key index past them";
  EXPECT_FALSE(store.SetRevisions({9, {1, 2, 3}, {{2, 50}, {0, 40}}})) << "out of order";
  EXPECT_FALSE(store.SetRevisions({9, {1, 2, 3}, {{1, 0}}})) << "at 0";
  ASSERT_TRUE(store.SetRevisions({9, {1, 2, 3}, {{0, 40}, {2, 50}}}));
  EXPECT_EQ(store.ExpiresAt("a"), 40u);
  EXPECT_EQ(store.ExpiresAt("b"), 0u);
  EXPECT_EQ(store.ExpiresAt("c"), 50u);
  EXPECT_EQ(store.GetRevisions().expiries, (std::vector<Store::Expiry>{{0, 40}, {2, 50}}));
  store.ResetRevisions(9);
  EXPECT_EQ(store.expiring_count(), 0u) << "unknown revisions: no expiry is known either";
}

TEST(StoreTest, TheFrozenViewKeepsTheExpiriesOfTheFreeze) {
  Store store;
  store.Append("a", "1");
  store.Append("b", "2");
  store.Expire("a", 40);
  store.Freeze();
  store.Expire("a", 0);
  store.Expire("b", 50);
  std::map<std::string, std::uint64_t> visited;
  Store::FrozenCursor cursor;
  while (store.VisitFrozen(
      &cursor, 1,
      [&](std::string_view k, ValueView, bool first, bool, std::uint64_t, std::uint64_t at) {
        if (first) visited[std::string(k)] = at;
      })) {
  }
  EXPECT_EQ(visited, (std::map<std::string, std::uint64_t>{{"a", 40}, {"b", 0}}));
  store.Thaw();
}

TEST(StoreTest, TheFrozenViewKeepsTheRevisionsOfTheFreeze) {
  Store store;
  store.Append("a", "1");
  store.Append("b", "2");
  store.Freeze();
  store.Append("a", "3");
  store.Delete("b");
  store.Append("c", "4");
  EXPECT_EQ(store.revision(), 5u);
  EXPECT_EQ(store.frozen_revision(), 2u);
  std::vector<std::pair<std::string, std::uint64_t>> visited;
  Store::FrozenCursor cursor;
  while (store.VisitFrozen(
      &cursor, 1,
      [&](std::string_view k, ValueView, bool first, bool, std::uint64_t r, std::uint64_t) {
        if (first) visited.emplace_back(k, r);
      })) {
  }
  EXPECT_THAT(visited, ElementsAre(std::pair<std::string, std::uint64_t>("a", 1),
                                   std::pair<std::string, std::uint64_t>("b", 2)));
  store.Thaw();
}

TEST(StoreTest, AConditionalAppendIsAppliedOnlyIfItsConditionHolds) {
  Store store;
  const Mutation if_absent{Mutation::Kind::kAppend, "k", "1", {Condition::On::kRevision, 0}, {}};
  EXPECT_TRUE(store.Apply(if_absent)) << "revision 0: absent";
  EXPECT_FALSE(store.Apply(if_absent)) << "now at revision 1";
  EXPECT_EQ(store.revision(), 1u) << "a failed condition changes nothing";
  EXPECT_TRUE(store.Apply({Mutation::Kind::kAppend, "k", "2", {Condition::On::kRevision, 1}, {}}));
  EXPECT_FALSE(store.Apply({Mutation::Kind::kAppend, "k", "x", {Condition::On::kLength, 1}, {}}));
  EXPECT_TRUE(store.Apply({Mutation::Kind::kAppend, "k", "3", {Condition::On::kLength, 2}, {}}));
  EXPECT_TRUE(store.Apply({Mutation::Kind::kAppend, "new", "v", {Condition::On::kLength, 0}, {}}));
  EXPECT_THAT(store.Find("k")->view().ToStrings(), ElementsAre("1", "2", "3"));
  EXPECT_EQ(store.revision(), 4u);
  WriteBatch batch;  // two clients that read revision 4 of "new"
  batch.Append("new", "first", {Condition::On::kRevision, 4});
  batch.Append("new", "second", {Condition::On::kRevision, 4});
  WriteResults applied;
  store.Apply(batch, &applied);
  EXPECT_THAT(AppliedOf(applied), ElementsAre(true, false)) << "exactly one wins";
}

TEST(StoreTest, MissingKeyIsAbsent) {
  Store store;
  store.Append("k", "v");
  EXPECT_EQ(store.Find("other"), nullptr);
  EXPECT_EQ(store.Find(""), nullptr);
}

TEST(StoreTest, EmptyKeysAndValuesAreOrdinary) {
  Store store;
  store.Append("", "");
  store.Append("", "x");
  ASSERT_NE(store.Find(""), nullptr);
  EXPECT_THAT(store.Find("")->view().ToStrings(), ElementsAre("", "x"));
}

TEST(StoreTest, DeleteRemovesKeyAndReportsWhetherItExisted) {
  Store store;
  store.Append("a", "1");
  store.Append("a", "2");
  store.Append("b", "3");
  EXPECT_TRUE(store.Delete("a"));
  EXPECT_FALSE(store.Delete("a"));
  EXPECT_EQ(store.Find("a"), nullptr);
  EXPECT_EQ(store.key_count(), 1u);
  EXPECT_EQ(store.value_count(), 1u);
  EXPECT_EQ(store.byte_count(), 2u);  // "b" + "3"
}

TEST(StoreTest, AppendAfterDeleteStartsAfresh) {
  Store store;
  store.Append("a", "old");
  store.Delete("a");
  store.Append("a", "new");
  EXPECT_THAT(store.Find("a")->view().ToStrings(), ElementsAre("new"));
}

TEST(StoreTest, KeysAreSortedAndFilteredByPrefix) {
  Store store;
  for (const char* k : {"user:2", "user:1", "job:1", "user", "usex"}) store.Append(k, "v");
  EXPECT_THAT(store.Keys(""), ElementsAre("job:1", "user", "user:1", "user:2", "usex"));
  EXPECT_THAT(store.Keys("user:"), ElementsAre("user:1", "user:2"));
  EXPECT_THAT(store.Keys("user"), ElementsAre("user", "user:1", "user:2"));
  EXPECT_THAT(store.Keys("zzz"), IsEmpty());
}

TEST(StoreTest, CountsFollowAppendsAndDeletes) {
  Store store;
  store.Append("ab", "cde");
  store.Append("ab", "f");
  store.Append("g", "");
  EXPECT_EQ(store.key_count(), 2u);
  EXPECT_EQ(store.value_count(), 3u);
  EXPECT_EQ(store.byte_count(), 2u + 3 + 1 + 1 + 0);
}

TEST(StoreTest, ApplyRunsMutationsInOrder) {
  Store store;
  WriteBatch batch;
  batch.Append("k", "1");
  batch.Delete("k");
  batch.Append("k", "2");
  batch.Delete("absent");
  std::vector<bool> results;
  for (const auto& m : batch.mutations()) results.push_back(store.Apply(m));
  EXPECT_THAT(results, ElementsAre(true, true, true, false));
  EXPECT_THAT(store.Find("k")->view().ToStrings(), ElementsAre("2"));
}

// Apply of a whole batch (which fetches the table ahead of the mutation it
// applies) does what applying its mutations one by one does: for batches
// shorter and longer than how far it fetches ahead, with keys repeated, and
// with the table doubling in the middle of the batch.
TEST(StoreTest, ApplyOfABatchDoesWhatApplyingEachMutationDoes) {
  for (const int size : {0, 1, 3, 17, 40, 20000}) {
    const WriteBatch batch = RandomChanges(7, size);
    Store whole, each;
    whole.Append("k1", "before");
    each.Append("k1", "before");
    WriteResults whole_results, each_results;
    whole_results.Add(true);  // kept: Apply adds to them
    each_results.Add(true);
    whole.Apply(batch, &whole_results);
    for (const auto& m : batch.mutations()) {
      std::string removed;
      const bool applied = each.Apply(m, &removed);
      each_results.Add(applied, ValueView(removed.data(), removed.size()));
    }
    ASSERT_EQ(whole_results.size(), batch.size() + 1) << size;
    for (std::size_t i = 0; i < whole_results.size(); ++i) {
      EXPECT_EQ(whole_results.applied(i), each_results.applied(i)) << i;
      EXPECT_EQ(whole_results.removed(i).ToStrings(), each_results.removed(i).ToStrings()) << i;
    }
    const std::vector<std::string> keys = each.Keys("");
    ASSERT_EQ(whole.Keys(""), keys) << size;
    for (const std::string& key : keys) {
      EXPECT_EQ(whole.Find(key)->view().ToStrings(), each.Find(key)->view().ToStrings()) << key;
    }
    EXPECT_EQ(whole.value_count(), each.value_count()) << size;
    EXPECT_EQ(whole.byte_count(), each.byte_count()) << size;
    if (size == 20000) {
      EXPECT_GT(keys.size(), 1000u);  // the table doubled meanwhile
    }
  }
}

TEST(StoreTest, ReplaceSetsAKeysWholeList) {
  Store store;
  store.Replace("b", List({"1", "2"}));
  store.Replace("a", List({"x"}));
  store.Replace("b", List({"3"}));
  EXPECT_THAT(store.Find("b")->view().ToStrings(), ElementsAre("3"));
  EXPECT_THAT(store.Keys(""), ElementsAre("a", "b"));
  EXPECT_EQ(store.value_count(), 2u);
  EXPECT_EQ(store.byte_count(), 4u);  // a x b 3
}

TEST(StoreTest, EmptyKeyFromASnapshotIsVisible) {
  Store store;
  store.Replace("empty", List({}));
  ASSERT_NE(store.Find("empty"), nullptr);
  EXPECT_THAT(store.Find("empty")->view().ToStrings(), IsEmpty());
  EXPECT_THAT(store.Keys(""), ElementsAre("empty"));
}

// The store's two indexes (tree and hash table) stay in step through
// thousands of inserts (the table doubling many times), deletes and
// re-inserts: checked against a std::map of the same changes.
TEST(StoreTest, ManyKeysStayFindableAndOrdered) {
  Store store;
  std::map<std::string, std::vector<std::string>> model;
  const WriteBatch changes = RandomChanges(42, 20000);
  for (const Mutation& m : changes.mutations()) {
    const std::string key(m.key);
    if (m.kind == Mutation::Kind::kDelete) {
      EXPECT_EQ(store.Delete(key), model.erase(key) == 1) << key;
    } else {
      store.Append(key, m.val);
      model[key].emplace_back(m.val);
    }
  }
  ASSERT_EQ(store.key_count(), model.size());
  std::vector<std::string> keys;
  for (const auto& [key, values] : model) {
    keys.push_back(key);
    ASSERT_NE(store.Find(key), nullptr) << key;
    EXPECT_EQ(store.Find(key)->view().ToStrings(), values) << key;
  }
  EXPECT_EQ(store.Keys(""), keys);
  std::vector<std::string> with_prefix;
  std::copy_if(keys.begin(), keys.end(), std::back_inserter(with_prefix),
               [](const std::string& k) { return k.starts_with("k49"); });
  EXPECT_FALSE(with_prefix.empty());
  EXPECT_EQ(store.Keys("k49"), with_prefix);
  for (int i = 5000; i < 5100; ++i) EXPECT_EQ(store.Find("k" + std::to_string(i)), nullptr);
}

// A load (a snapshot's keys, in any order, a key repeated) leaves a store
// that finds, lists and changes its keys as if they had come one by one.
TEST(StoreTest, LoadedKeysAreFoundListedAndChangeable) {
  enum class Order { kAscending, kDescending, kNumbered };  // key0, key1, ..., key10, key11, ...
  for (const Order order : {Order::kAscending, Order::kDescending, Order::kNumbered}) {
    SCOPED_TRACE(static_cast<int>(order));
    const auto name = [order](int k) {
      return "key" + std::to_string(order == Order::kNumbered ? k : 100000 + k);
    };
    Store store;
    store.BeginLoad();
    for (int i = 0; i < 3000; ++i) {
      const int k = order == Order::kDescending ? 2999 - i : i;
      store.Replace(name(k), List({std::to_string(k)}));
      if (k == 20) store.Replace(name(k), List({"at once"}));  // right after itself
    }
    store.Replace(name(7), List({"again"}));  // the last one of a key counts
    store.EndLoad();
    ASSERT_EQ(store.key_count(), 3000u);
    EXPECT_EQ(store.value_count(), 3000u);
    for (int k = 0; k < 3000; ++k) {
      const ValueList* values = store.Find(name(k));
      ASSERT_NE(values, nullptr) << k;
      const std::string expected = k == 7 ? "again" : k == 20 ? "at once" : std::to_string(k);
      EXPECT_THAT(values->view().ToStrings(), ElementsAre(expected));
    }
    const std::vector<std::string> keys = store.Keys("");
    EXPECT_EQ(keys.size(), 3000u);
    EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
    store.Append(name(1), "more");
    EXPECT_THAT(store.Find(name(1))->view().ToStrings(), ElementsAre("1", "more"));
    EXPECT_TRUE(store.Delete(name(2999)));
    EXPECT_EQ(store.Find(name(2999)), nullptr);
    EXPECT_EQ(store.key_count(), 2999u);
  }
}

// Loading into a store that holds keys already adds them one by one.
TEST(StoreTest, LoadIntoAStoreWithKeysKeepsThem) {
  Store store;
  store.Append("kept", "v");
  store.BeginLoad();
  store.Replace("a", List({"1"}));
  store.Replace("kept", List({"replaced"}));
  store.EndLoad();
  EXPECT_THAT(store.Keys(""), ElementsAre("a", "kept"));
  EXPECT_THAT(store.Find("kept")->view().ToStrings(), ElementsAre("replaced"));
  EXPECT_THAT(store.Find("a")->view().ToStrings(), ElementsAre("1"));
}

using Entries = std::vector<std::pair<std::string, std::vector<std::string>>>;

// Adds a visited part to `entries`, checking that parts come whole and in order.
void AddPart(Entries* entries, std::string_view key, ValueView values, bool first, bool last,
             bool* open) {
  EXPECT_EQ(first, !*open) << key;
  if (first) entries->emplace_back(std::string(key), std::vector<std::string>{});
  EXPECT_EQ(entries->back().first, key);
  for (std::string_view v : values) entries->back().second.emplace_back(v);
  *open = !last;
}

Entries FrozenView(const Store& store, std::size_t chunk) {
  Entries entries;
  Store::FrozenCursor cursor;
  bool open = false;
  while (
      store.VisitFrozen(&cursor, chunk,
                        [&](std::string_view k, ValueView v, bool first, bool last, std::uint64_t,
                            std::uint64_t) { AddPart(&entries, k, v, first, last, &open); })) {
  }
  EXPECT_FALSE(open);
  return entries;
}

TEST(StoreTest, UnfrozenViewIsTheWholeStore) {
  Store store;
  store.Append("b", "1");
  store.Append("a", "2");
  store.Replace("c", List({}));
  EXPECT_EQ(FrozenView(store, 1), (Entries{{"a", {"2"}}, {"b", {"1"}}, {"c", {}}}));
}

TEST(StoreTest, FrozenViewIgnoresEveryLaterChange) {
  Store store;
  store.Append("keep", "k1");
  store.Append("grow", "g1");
  store.Append("gone", "x1");
  store.Append("gone", "x2");
  store.Append("reborn", "r1");
  store.Freeze();
  const Entries frozen = {
      {"gone", {"x1", "x2"}}, {"grow", {"g1"}}, {"keep", {"k1"}}, {"reborn", {"r1"}}};
  store.Append("grow", "g2");
  store.Delete("gone");
  store.Append("new", "n1");
  store.Delete("reborn");
  store.Append("reborn", "r2");
  store.Delete("reborn");
  store.Append("reborn", "r3");
  store.Append("aaa", "first");
  store.Replace("zzz", List({}));
  for (std::size_t chunk : {1, 2, 100}) EXPECT_EQ(FrozenView(store, chunk), frozen) << chunk;
  // The live store moved on meanwhile.
  EXPECT_THAT(store.Find("grow")->view().ToStrings(), ElementsAre("g1", "g2"));
  EXPECT_THAT(store.Find("reborn")->view().ToStrings(), ElementsAre("r3"));
  EXPECT_EQ(store.Find("gone"), nullptr);
  store.Thaw();
  EXPECT_EQ(FrozenView(store, 100), (Entries{{"aaa", {"first"}},
                                             {"grow", {"g1", "g2"}},
                                             {"keep", {"k1"}},
                                             {"new", {"n1"}},
                                             {"reborn", {"r3"}},
                                             {"zzz", {}}}));
}

TEST(StoreTest, FrozenViewCanBeReadWhileChangesInterleave) {
  Store store;
  for (int i = 0; i < 100; ++i) store.Append("k" + std::to_string(i), "v");
  store.Freeze();
  Entries entries;
  Store::FrozenCursor cursor;
  bool open = false;
  int round = 0;
  while (
      store.VisitFrozen(&cursor, 7,
                        [&](std::string_view k, ValueView v, bool first, bool last, std::uint64_t,
                            std::uint64_t) { AddPart(&entries, k, v, first, last, &open); })) {
    // Between chunks, writers change keys on both sides of the cursor.
    store.Delete("k" + std::to_string(round * 3));
    store.Append("k" + std::to_string(99 - round), "later");
    store.Append("k" + std::to_string(round) + "x", "new");
    ++round;
  }
  ASSERT_EQ(entries.size(), 100u);
  for (const auto& [k, v] : entries) EXPECT_THAT(v, ElementsAre("v")) << k;
}

// A key with more values than a visit takes comes in parts, and later
// changes to it between the parts (appends, a delete, a new list) do not show.
TEST(StoreTest, FrozenKeyWithManyValuesComesInPartsWhileItChanges) {
  Store store;
  store.Append("a", "first");
  std::vector<std::string> big;
  for (int i = 0; i < 1000; ++i) {
    big.push_back("value" + std::to_string(i));
    store.Append("big", big.back());
  }
  store.Append("z", "last");
  store.Freeze();
  constexpr std::size_t kChunk = 100;
  Entries entries;
  Store::FrozenCursor cursor;
  bool open = false;
  int visits = 0;
  std::size_t most = 0;  // packed bytes of values in one visit
  for (bool more = true; more; ++visits) {
    std::size_t bytes = 0;
    more = store.VisitFrozen(
        &cursor, kChunk,
        [&](std::string_view k, ValueView v, bool first, bool last, std::uint64_t, std::uint64_t) {
          bytes += v.packed_bytes();
          AddPart(&entries, k, v, first, last, &open);
        });
    most = std::max(most, bytes);
    store.Append("big", "later" + std::to_string(visits));
    if (visits == 20) store.Delete("big");
  }
  EXPECT_EQ(entries, (Entries{{"a", {"first"}}, {"big", big}, {"z", {"last"}}}));
  EXPECT_GT(visits, 50) << "about 9 KB of values in visits of about 100 bytes";
  EXPECT_LE(most, kChunk + 9) << "no visit goes past its size by more than one value";
  store.Thaw();
  EXPECT_EQ(store.Find("big")->view().count(), std::size_t(visits - 21));
}

std::vector<std::string> Strings(const std::string& packed) {
  return ValueView(packed.data(), packed.size()).ToStrings();
}

TEST(StoreTest, TrimKeepsTheRangeAndHandsOverWhatItRemovesInListOrder) {
  Store store;
  for (const char* v : {"a", "b", "c", "d", "e"}) store.Append("k", v);
  std::string removed;
  EXPECT_TRUE(store.Trim("k", {1, -2}, &removed));
  EXPECT_THAT(store.Find("k")->view().ToStrings(), ElementsAre("b", "c", "d"));
  EXPECT_THAT(Strings(removed), ElementsAre("a", "e"));
  EXPECT_EQ(store.value_count(), 3u);
  EXPECT_EQ(store.byte_count(), 1u + 3u);
  EXPECT_EQ(store.KeyRevision("k"), 6u) << "a trim is a change";
  removed.clear();
  EXPECT_FALSE(store.Trim("k", {0, -1}, &removed)) << "keeps everything";
  EXPECT_FALSE(store.Trim("k", {-10, 10}, &removed)) << "clamped: keeps everything";
  EXPECT_FALSE(store.Trim("absent", {0, 0}, &removed));
  EXPECT_TRUE(removed.empty());
  EXPECT_EQ(store.revision(), 6u) << "trims that remove nothing change nothing";
}

TEST(StoreTest, PopsAreTrimsThatKeepTheRest) {
  Store store;
  for (int i = 0; i < 10; ++i) store.Append("q", std::to_string(i));
  std::string removed;
  EXPECT_TRUE(store.Trim("q", {2, -1}, &removed));  // two from the head
  EXPECT_THAT(Strings(removed), ElementsAre("0", "1"));
  removed.clear();
  EXPECT_TRUE(store.Trim("q", {0, -3}, &removed));  // two from the tail
  EXPECT_THAT(Strings(removed), ElementsAre("8", "9"));
  EXPECT_THAT(store.Find("q")->view().ToStrings(), ElementsAre("2", "3", "4", "5", "6", "7"));
  store.Append("q", "10");
  EXPECT_THAT(store.Find("q")->view().ToStrings(), ElementsAre("2", "3", "4", "5", "6", "7", "10"));
}

TEST(StoreTest, ATrimThatKeepsNothingDeletesTheKey) {
  Store store;
  store.Append("k", "a");
  store.Append("k", "b");
  store.Append("other", "x");
  std::string removed;
  EXPECT_TRUE(store.Trim("k", {5, -1}, &removed));
  EXPECT_THAT(Strings(removed), ElementsAre("a", "b"));
  EXPECT_EQ(store.Find("k"), nullptr);
  EXPECT_THAT(store.Keys(""), ElementsAre("other"));
  EXPECT_EQ(store.value_count(), 1u);
  EXPECT_EQ(store.byte_count(), std::string("other").size() + 1);
  EXPECT_EQ(store.KeyRevision("k"), 0u);
  EXPECT_EQ(store.revision(), 4u);
}

// A queue's way: many pops from the head, appends behind them; the values
// left are the same as a list rebuilt from scratch would hold.
TEST(StoreTest, AQueueOfPopsAndAppendsKeepsItsOrder) {
  Store store;
  std::vector<std::string> model;
  int next = 0;
  for (int round = 0; round < 300; ++round) {
    for (int i = 0; i < round % 7; ++i) {
      model.push_back("v" + std::to_string(next) + std::string(next % 13, 'x'));
      store.Append("q", model.back());
      ++next;
    }
    const std::size_t take = std::min<std::size_t>(model.size(), round % 5);
    std::string removed;
    EXPECT_EQ(store.Trim("q", {static_cast<std::int64_t>(take), -1}, &removed), take > 0);
    EXPECT_EQ(Strings(removed), std::vector<std::string>(model.begin(), model.begin() + take));
    model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(take));
    const ValueList* list = store.Find("q");
    EXPECT_EQ(list == nullptr ? std::vector<std::string>{} : list->view().ToStrings(), model)
        << "round " << round;
  }
}

TEST(StoreTest, FrozenViewKeepsWhatATrimRemoves) {
  Store store;
  for (const char* v : {"a", "b", "c"}) store.Append("head", v);
  for (const char* v : {"a", "b", "c"}) store.Append("tail", v);
  store.Append("gone", "g");
  store.Freeze();
  EXPECT_TRUE(store.Trim("head", {1, -1}));
  EXPECT_TRUE(store.Trim("tail", {0, -2}));
  store.Append("tail", "d");  // would overwrite "c" in place
  EXPECT_TRUE(store.Trim("gone", {1, -1}));
  store.Append("new", "n");
  EXPECT_TRUE(store.Trim("new", {1, -1}));
  const Entries frozen = {{"gone", {"g"}}, {"head", {"a", "b", "c"}}, {"tail", {"a", "b", "c"}}};
  for (std::size_t chunk : {1, 100}) EXPECT_EQ(FrozenView(store, chunk), frozen) << chunk;
  EXPECT_THAT(store.Find("head")->view().ToStrings(), ElementsAre("b", "c"));
  EXPECT_THAT(store.Find("tail")->view().ToStrings(), ElementsAre("a", "b", "d"));
  EXPECT_EQ(store.value_count(), 5u);
  EXPECT_TRUE(store.Trim("head", {1, -1})) << "a second trim, after the first moved them";
  EXPECT_EQ(FrozenView(store, 100), frozen);
  store.Thaw();
  EXPECT_EQ(FrozenView(store, 100), (Entries{{"head", {"c"}}, {"tail", {"a", "b", "d"}}}));
}

TEST(StoreTest, ApplyOfABatchReportsWhatEachTrimRemoved) {
  Store store;
  WriteBatch batch;
  batch.Append("q", "1");
  batch.Append("q", "2");
  batch.Trim("q", {1, -1});
  batch.Delete("absent");
  batch.Trim("q", {1, -1});
  WriteResults results;
  store.Apply(batch, &results);
  EXPECT_THAT(AppliedOf(results), ElementsAre(true, true, true, false, true));
  EXPECT_THAT(results.removed(2).ToStrings(), ElementsAre("1"));
  EXPECT_THAT(results.removed(4).ToStrings(), ElementsAre("2"));
  EXPECT_TRUE(results.removed(0).empty());
  EXPECT_EQ(store.Find("q"), nullptr);
}

}  // namespace
}  // namespace kvd
