#include "store/value_list.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ValueListTest, EmptyListHasNoValues) {
  ValueList list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.view().count(), 0u);
  EXPECT_THAT(list.view().ToStrings(), IsEmpty());
  EXPECT_TRUE(ValueList(list).empty());
}

TEST(ValueListTest, KeepsValuesInOrderWithAnyBytes) {
  ValueList list;
  const std::vector<std::string> values = {"",
                                           "a",
                                           std::string("nul\0byte", 8),
                                           "caf\xc3\xa9",
                                           std::string(127, 'x'),
                                           std::string(128, 'y'),
                                           std::string(70000, 'z'),
                                           ""};
  for (const auto& v : values) list.Append(v);
  EXPECT_EQ(list.view().ToStrings(), values);
  EXPECT_EQ(list.view().count(), values.size());
  // 1-byte length prefixes up to 127, 2 bytes to 16383, 3 bytes beyond.
  EXPECT_EQ(list.packed_bytes(),
            std::size_t{1 + 1 + 1 + 1 + 9 + 5 + 1 + 127 + 2 + 128 + 3 + 70000 + 1});
}

TEST(ValueListTest, GrowsAcrossManyAppends) {
  ValueList list;
  for (int i = 0; i < 100000; ++i) list.Append(std::to_string(i));
  const auto strings = list.view().ToStrings();
  ASSERT_EQ(strings.size(), 100000u);
  for (int i = 0; i < 100000; i += 997) EXPECT_EQ(strings[i], std::to_string(i));
}

TEST(ValueListTest, CopiesAreIndependentAndExact) {
  ValueList list;
  list.Append("one");
  list.Append("two");
  ValueList copy(list);
  list.Append("three");
  copy.Append("deux");
  EXPECT_THAT(list.view().ToStrings(), ElementsAre("one", "two", "three"));
  EXPECT_THAT(copy.view().ToStrings(), ElementsAre("one", "two", "deux"));
  ValueList assigned;
  assigned = copy;
  EXPECT_THAT(assigned.view().ToStrings(), ElementsAre("one", "two", "deux"));
  ValueList moved(std::move(copy));
  EXPECT_THAT(moved.view().ToStrings(), ElementsAre("one", "two", "deux"));
}

TEST(ValueListTest, PrefixShowsTheValuesOfAnEarlierLength) {
  ValueList list;
  list.Append("a");
  list.Append("bb");
  const std::size_t then = list.packed_bytes();
  list.Append("ccc");
  EXPECT_THAT(list.view().Prefix(then).ToStrings(), ElementsAre("a", "bb"));
  EXPECT_THAT(list.view().Prefix(0).ToStrings(), IsEmpty());
}

TEST(ValueListTest, ClearKeepsTheListUsable) {
  ValueList list;
  for (int i = 0; i < 50; ++i) list.Append("value");
  list.Clear();
  EXPECT_TRUE(list.empty());
  list.Append("again");
  EXPECT_THAT(list.view().ToStrings(), ElementsAre("again"));
  ValueList exact(list);  // exact capacity: the next append must grow it
  exact.Clear();
  EXPECT_TRUE(exact.empty());
  EXPECT_EQ(exact.block_bytes(), 0u) << "an exact block has no room to keep";
  exact.Append("grown");
  exact.Append("more");
  EXPECT_THAT(exact.view().ToStrings(), ElementsAre("grown", "more"));
}

// The header in front of the values takes as few bytes as its varint: the
// used bytes over the capacity's log2 (zero for an exact copy).
TEST(ValueListTest, BlocksHoldTheirValuesBehindAShortHeader) {
  ValueList list;
  list.Append(std::string(40, 'a'));
  list.Append(std::string(40, 'b'));
  EXPECT_EQ(list.packed_bytes(), 82u);
  EXPECT_EQ(list.block_bytes(), 2u + 128) << "grown: room for 128 bytes, 2-byte header";
  const ValueList copy(list);
  EXPECT_EQ(copy.block_bytes(), 2u + 82) << "82 << 6 takes two varint bytes";
  EXPECT_EQ(ValueList().block_bytes(), 0u);

  ValueList small;
  small.Append("x");
  EXPECT_EQ(small.block_bytes(), 2u + 64) << "lists start with room for 64 bytes";

  ValueList big;
  for (int i = 0; i < 50000; ++i) big.Append(std::to_string(i));
  const std::size_t used = big.packed_bytes();
  ASSERT_EQ(used, 50000u + 238890) << "a length byte each, and their digits";
  EXPECT_EQ(big.block_bytes(), 4u + (1u << 19)) << "(2^19 << 6 | 19) takes four varint bytes";
  const ValueList big_copy(big);
  EXPECT_EQ(big_copy.block_bytes(), 4u + used);
  EXPECT_EQ(big_copy.view().ToStrings(), big.view().ToStrings());
}

TEST(ValueListTest, ValuesSurviveTheHeaderGrowingWider) {
  // Exact copies have the shortest header; growing them widens it to fit
  // the new capacity, and the values move behind it.
  for (std::size_t length : {60, 200, 300, 40000}) {
    ValueList list;
    list.Append(std::string(length, 'v'));
    ValueList exact(list);
    exact.Append("next");
    EXPECT_THAT(exact.view().ToStrings(), ElementsAre(std::string(length, 'v'), "next")) << length;
  }
}

TEST(ValueListTest, DropFrontAndTruncateRemoveWholeValuesFromEitherEnd) {
  ValueList list;
  for (const char* v : {"a", "bb", "ccc", "dddd", "e"}) list.Append(v);
  list.DropFront(2);  // "a"
  EXPECT_THAT(list.view().ToStrings(), ElementsAre("bb", "ccc", "dddd", "e"));
  EXPECT_EQ(list.packed_bytes(), 3u + 4u + 5u + 2u);
  list.Truncate(3 + 4);  // keeps "bb", "ccc"
  EXPECT_THAT(list.view().ToStrings(), ElementsAre("bb", "ccc"));
  list.Append("f");
  EXPECT_THAT(list.view().ToStrings(), ElementsAre("bb", "ccc", "f"));
  EXPECT_THAT(ValueList(list).view().ToStrings(), ElementsAre("bb", "ccc", "f"));
  list.DropFront(list.packed_bytes());
  EXPECT_TRUE(list.empty());
  list.Append("g");
  EXPECT_THAT(list.view().ToStrings(), ElementsAre("g"));
}

// Values dropped from the front leave a dead head that appends and growth
// must skip, on exact blocks (copies) and grown ones alike.
TEST(ValueListTest, AQueueOfDropsAndAppendsKeepsItsValues) {
  for (const bool exact : {false, true}) {
    ValueList list;
    std::vector<std::string> model;
    for (int i = 0; i < 2000; ++i) {
      model.push_back(
          std::string(static_cast<std::size_t>(i % 150), static_cast<char>('a' + i % 26)));
      list.Append(model.back());
      if (exact && i % 3 == 0) list = ValueList(list);
      if (i % 3 == 0) {
        const std::size_t first = list.view().Values(0, 1).packed_bytes();
        list.DropFront(first);
        model.erase(model.begin());
      }
      ASSERT_EQ(list.view().count(), model.size()) << i;
    }
    EXPECT_EQ(list.view().ToStrings(), model);
  }
}

TEST(ValueListTest, ValuesViewsARunOfValuesByIndex) {
  ValueList list;
  for (const char* v : {"a", "bb", "", "dddd", "e"}) list.Append(v);
  EXPECT_THAT(list.view().Values(1, 3).ToStrings(), ElementsAre("bb", "", "dddd"));
  EXPECT_THAT(list.view().Values(0, 1).ToStrings(), ElementsAre("a"));
  EXPECT_THAT(list.view().Values(3, 10).ToStrings(), ElementsAre("dddd", "e"));
  EXPECT_THAT(list.view().Values(5, 1).ToStrings(), IsEmpty());
  EXPECT_THAT(list.view().Values(2, 0).ToStrings(), IsEmpty());
}

// A list made of a view holds those values alone, in an exact block (a
// ranged read's copy).
TEST(ValueListTest, AListOfAViewCopiesJustThoseValues) {
  ValueList list;
  for (const char* v : {"a", "bb", "ccc", "dddd"}) list.Append(v);
  const ValueList part(list.view().Values(1, 2));
  EXPECT_THAT(part.view().ToStrings(), ElementsAre("bb", "ccc"));
  EXPECT_EQ(part.block_bytes(), 2u + 7) << "7 packed bytes; 7 << 6 takes two varint bytes";
  EXPECT_EQ(ValueList(list.view().Values(4, 2)).block_bytes(), 0u) << "no values: no block";
}

}  // namespace
}  // namespace kvd
