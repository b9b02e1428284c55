#include "store/store.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

ValueList List(std::initializer_list<std::string_view> values) {
  ValueList list;
  for (std::string_view v : values) list.Append(v);
  return list;
}

TEST(StoreTest, AppendKeepsInsertionOrder) {
  Store store;
  store.Append("k", "b");
  store.Append("k", "a");
  store.Append("k", "c");
  ASSERT_NE(store.Find("k"), nullptr);
  EXPECT_THAT(store.Find("k")->view().ToStrings(), ElementsAre("b", "a", "c"));
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
  while (store.VisitFrozen(&cursor, chunk,
                           [&](std::string_view k, ValueView v, bool first, bool last) {
                             AddPart(&entries, k, v, first, last, &open);
                           })) {
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
  while (store.VisitFrozen(&cursor, 7, [&](std::string_view k, ValueView v, bool first, bool last) {
    AddPart(&entries, k, v, first, last, &open);
  })) {
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
    more = store.VisitFrozen(&cursor, kChunk,
                             [&](std::string_view k, ValueView v, bool first, bool last) {
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

}  // namespace
}  // namespace kvd
