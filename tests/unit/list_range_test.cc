#include "store/list_range.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kvd {
namespace {

using Positions = ListRange::Positions;

TEST(ListRangeTest, NonNegativeIndicesCountFromTheHeadWithStopInclusive) {
  EXPECT_EQ((ListRange{0, 2}.Resolve(5)), (Positions{0, 3}));
  EXPECT_EQ((ListRange{2, 2}.Resolve(5)), (Positions{2, 1}));
  EXPECT_EQ((ListRange{1, 4}.Resolve(5)), (Positions{1, 4}));
}

TEST(ListRangeTest, NegativeIndicesCountFromTheTail) {
  EXPECT_EQ((ListRange{0, -1}.Resolve(5)), (Positions{0, 5}));
  EXPECT_EQ((ListRange{-2, -1}.Resolve(5)), (Positions{3, 2}));
  EXPECT_EQ((ListRange{1, -2}.Resolve(5)), (Positions{1, 3}));
}

TEST(ListRangeTest, OutOfRangeIndicesAreClamped) {
  EXPECT_EQ((ListRange{0, 100}.Resolve(5)), (Positions{0, 5}));
  EXPECT_EQ((ListRange{-100, 1}.Resolve(5)), (Positions{0, 2}));
  EXPECT_EQ((ListRange{-100, 100}.Resolve(5)), (Positions{0, 5}));
}

TEST(ListRangeTest, EmptyWhenStartComesAfterStopOrBeyondTheList) {
  EXPECT_EQ((ListRange{3, 1}.Resolve(5)), (Positions{}));
  EXPECT_EQ((ListRange{5, 10}.Resolve(5)), (Positions{}));
  EXPECT_EQ((ListRange{0, -6}.Resolve(5)), (Positions{}));
  EXPECT_EQ((ListRange{-1, -2}.Resolve(5)), (Positions{}));
  EXPECT_EQ((ListRange{0, -1}.Resolve(0)), (Positions{}));
}

// A pop keeps the values it does not take, and answers those it took in the
// order taken: from the tail, the last first.
TEST(ListRangeTest, APopKeepsTheOthersAndAnswersInTheOrderTaken) {
  EXPECT_EQ(ListRange::AfterPop(2, false), (ListRange{2, -1}));
  EXPECT_EQ(ListRange::AfterPop(2, true), (ListRange{0, -3}));
  EXPECT_EQ((ListRange::AfterPop(2, true).Resolve(5)), (Positions{0, 3}));
  EXPECT_EQ((ListRange::AfterPop(9, false).Resolve(5)), (Positions{}));
  ValueList taken;
  for (const char* v : {"a", "b", "c"}) taken.Append(v);
  EXPECT_THAT(PoppedInOrder(taken.view(), false), ::testing::ElementsAre("a", "b", "c"));
  EXPECT_THAT(PoppedInOrder(taken.view(), true), ::testing::ElementsAre("c", "b", "a"));
  EXPECT_THAT(PoppedInOrder(ValueView{}, true), ::testing::IsEmpty());
}

}  // namespace
}  // namespace kvd
