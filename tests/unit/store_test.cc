#include "store/store.h"

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

Entries FrozenView(const Store& store, std::size_t chunk) {
  Entries entries;
  std::string cursor;
  bool started = false;
  while (store.VisitFrozen(&cursor, &started, chunk, [&](std::string_view k, ValueView v) {
    entries.emplace_back(std::string(k), v.ToStrings());
  })) {
  }
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
  std::string cursor;
  bool started = false;
  int round = 0;
  while (store.VisitFrozen(&cursor, &started, 7, [&](std::string_view k, ValueView v) {
    entries.emplace_back(std::string(k), v.ToStrings());
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

}  // namespace
}  // namespace kvd
