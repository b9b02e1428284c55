#include "store/write_batch.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/describe_batch.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;

TEST(WriteBatchTest, KeepsMutationsInOrderWithTheirBytes) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  batch.Append("a", "1");
  batch.Delete("b");
  batch.Append("", "");
  batch.Append(std::string(100, 'k'), std::string(1000, 'v'));
  EXPECT_EQ(batch.size(), 4u);
  EXPECT_THAT(Describe(batch),
              ::testing::ElementsAre(
                  "append a=1", "delete b",
                  "append =", "append " + std::string(100, 'k') + "=" + std::string(1000, 'v')));
}

TEST(WriteBatchTest, AbsorbCopiesAndClearKeepsTheMemory) {
  WriteBatch merged, part;
  part.Append("x", "1");
  part.Delete("y");
  merged.Append("w", "0");
  merged.Absorb(part);
  merged.Absorb(part);
  EXPECT_THAT(Describe(merged), ::testing::ElementsAre("append w=0", "append x=1", "delete y",
                                                       "append x=1", "delete y"));
  EXPECT_EQ(part.size(), 2u) << "the absorbed batch is unchanged";
  const std::size_t capacity = merged.capacity_bytes();
  merged.Clear();
  EXPECT_TRUE(merged.empty());
  EXPECT_EQ(merged.capacity_bytes(), capacity);
  merged.Append("z", "2");
  EXPECT_THAT(Describe(merged), ::testing::ElementsAre("append z=2"));
}

TEST(WriteBatchTest, AppendsOnlyUntilADeleteJoins) {
  WriteBatch appends, mixed;
  EXPECT_TRUE(appends.AppendsOnly()) << "an empty batch";
  appends.Append("a", "1");
  appends.Append("b", "2");
  EXPECT_TRUE(appends.AppendsOnly());
  mixed.Append("c", "3");
  mixed.Delete("a");
  EXPECT_FALSE(mixed.AppendsOnly());
  appends.Absorb(mixed);
  EXPECT_FALSE(appends.AppendsOnly()) << "absorbed a delete";
  appends.Clear();
  EXPECT_TRUE(appends.AppendsOnly()) << "cleared";
  appends.Append("c", "3", {Condition::On::kRevision, 0});
  EXPECT_FALSE(appends.AppendsOnly()) << "a conditional append's result is not known before";
}

TEST(WriteBatchTest, MutationsWithoutAnOriginAreNobodys) {
  WriteBatch batch;
  EXPECT_EQ(batch.current_origin(), Origin{});
  EXPECT_THAT(Runs(batch), ::testing::IsEmpty()) << "no mutations, no runs";
  batch.Append("a", "1");
  batch.Delete("b");
  EXPECT_THAT(Runs(batch), ElementsAre("0/0 @0+2"));
}

TEST(WriteBatchTest, EachMutationBelongsToTheOriginSetBeforeIt) {
  WriteBatch batch;
  batch.Append("a", "1");
  batch.SetOrigin({7, 1});
  EXPECT_EQ(batch.current_origin(), (Origin{7, 1}));
  batch.Append("b", "2");
  batch.Delete("c");
  batch.SetOrigin({8, 42});
  batch.Delete("d");
  EXPECT_EQ(batch.current_origin(), (Origin{8, 42}));
  EXPECT_THAT(Runs(batch), ElementsAre("0/0 @0+1", "7/1 @1+2", "8/42 @3+1"));
}

TEST(WriteBatchTest, SettingTheSameOriginAgainStartsARequestOfItsOwn) {
  WriteBatch batch;
  batch.SetOrigin({7, 1});
  batch.Append("a", "1");
  batch.SetOrigin({7, 1});
  batch.Append("a", "1");
  EXPECT_THAT(Runs(batch), ElementsAre("7/1 @0+1", "7/1 @1+1"));
}

TEST(WriteBatchTest, OriginsWithoutMutationsMakeNoRuns) {
  WriteBatch batch;
  batch.SetOrigin({1, 1});
  batch.SetOrigin({2, 1});
  batch.Append("a", "1");
  batch.SetOrigin({3, 1});
  EXPECT_EQ(batch.current_origin(), (Origin{3, 1}));
  EXPECT_THAT(Runs(batch), ElementsAre("2/1 @0+1"));
}

TEST(WriteBatchTest, AbsorbShiftsTheAbsorbedOriginsPastTheMutationsBefore) {
  WriteBatch merged, part;
  merged.SetOrigin({1, 1});
  merged.Append("a", "1");
  merged.Append("b", "2");
  part.SetOrigin({2, 5});
  part.Delete("c");
  part.SetOrigin({3, 9});
  part.Append("d", "4");
  merged.Absorb(part);
  EXPECT_THAT(Runs(merged), ElementsAre("1/1 @0+2", "2/5 @2+1", "3/9 @3+1"));
  EXPECT_THAT(Describe(merged), ElementsAre("append a=1", "append b=2", "delete c", "append d=4"));
  EXPECT_THAT(Runs(part), ElementsAre("2/5 @0+1", "3/9 @1+1")) << "the absorbed batch is unchanged";
}

TEST(WriteBatchTest, AbsorbedMutationsWithoutAnOriginStayNobodys) {
  WriteBatch merged, leading, none;
  merged.SetOrigin({1, 1});
  merged.Append("a", "1");
  leading.Append("b", "2");  // before leading's first origin
  leading.SetOrigin({2, 1});
  leading.Append("c", "3");
  none.Delete("d");
  merged.Absorb(leading);
  merged.Absorb(none);
  EXPECT_THAT(Runs(merged), ElementsAre("1/1 @0+1", "0/0 @1+1", "2/1 @2+1", "0/0 @3+1"));
}

TEST(WriteBatchTest, AbsorbIntoABatchWithoutOriginsKeepsBothSides) {
  WriteBatch merged, part;
  merged.Append("a", "1");
  part.SetOrigin({2, 1});
  part.Append("b", "2");
  merged.Absorb(part);
  EXPECT_THAT(Runs(merged), ElementsAre("0/0 @0+1", "2/1 @1+1"));
}

TEST(WriteBatchTest, ClearDropsTheOrigins) {
  WriteBatch batch;
  batch.SetOrigin({7, 1});
  batch.Append("a", "1");
  batch.Clear();
  EXPECT_EQ(batch.current_origin(), Origin{});
  batch.Append("b", "2");
  EXPECT_THAT(Runs(batch), ElementsAre("0/0 @0+1"));
}

}  // namespace
}  // namespace kvd
