#include "store/write_batch.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/describe_batch.h"

namespace kvd {
namespace {

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
}

}  // namespace
}  // namespace kvd
