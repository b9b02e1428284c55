#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StoreTest, AppendKeepsInsertionOrder) {
  Store store;
  store.Append("k", "b");
  store.Append("k", "a");
  store.Append("k", "c");
  ASSERT_NE(store.Find("k"), nullptr);
  EXPECT_THAT(*store.Find("k"), ElementsAre("b", "a", "c"));
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
  EXPECT_THAT(*store.Find(""), ElementsAre("", "x"));
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
  EXPECT_THAT(*store.Find("a"), ElementsAre("new"));
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
  EXPECT_THAT(*store.Find("k"), ElementsAre("2"));
}

TEST(StoreTest, TouchMakesAnEmptyKeyVisible) {
  Store store;
  store.Touch("empty");
  ASSERT_NE(store.Find("empty"), nullptr);
  EXPECT_THAT(*store.Find("empty"), IsEmpty());
  EXPECT_THAT(store.Keys(""), ElementsAre("empty"));
}

}  // namespace
}  // namespace kvd
