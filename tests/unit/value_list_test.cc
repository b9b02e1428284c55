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
  exact.Append("grown");
  exact.Append("more");
  EXPECT_THAT(exact.view().ToStrings(), ElementsAre("grown", "more"));
}

}  // namespace
}  // namespace kvd
