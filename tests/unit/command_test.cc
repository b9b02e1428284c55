#include "store/command.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/describe_batch.h"

namespace kvd::command {
namespace {

using ::testing::ElementsAre;
using namespace std::string_literals;

std::string Writes(const WriteBatch& batch) {
  std::string entry;
  EncodeWrites(batch, &entry);
  return entry;
}

std::string NodeAddress(std::uint64_t node, std::string_view address) {
  std::string entry;
  EncodeNodeAddress(node, address, &entry);
  return entry;
}

// A batch of every kind of run and mutation: nobody's first and in the
// middle, one client's request twice, empty and binary keys and values.
WriteBatch Mixed() {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  WriteBatch batch;
  batch.Append("a", "1");
  batch.Delete("gone");
  batch.SetOrigin({7, 1});
  batch.Append("", "");
  batch.Append("\0\xff\n\x80"s, "\0"s + std::string(300, '\xfe'));
  batch.Delete("");
  batch.SetOrigin({0, 0});
  batch.Append("b", "2");
  batch.SetOrigin({kMax, kMax});
  batch.Delete("c");
  batch.SetOrigin({kMax, kMax});
  batch.Delete("c");
  batch.Append("d", "3", {Condition::On::kRevision, kMax});
  batch.Append("d", "4", {Condition::On::kLength, 0});
  batch.Trim("q",
             {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()});
  return batch;
}

TEST(CommandTest, WritesRoundTripWithTheirOrigins) {
  const WriteBatch batch = Mixed();
  Command command;
  ASSERT_TRUE(Decode(Writes(batch), &command));
  EXPECT_EQ(command.type, Type::kWrites);
  EXPECT_EQ(Describe(command.batch), Describe(batch));
  EXPECT_THAT(Runs(command.batch), ElementsAre("0/0 @0+2", "7/1 @2+3", "0/0 @5+1",
                                               "18446744073709551615/18446744073709551615 @6+1",
                                               "18446744073709551615/18446744073709551615 @7+4"));
  EXPECT_THAT(Describe(command.batch)[8], "append d=3 if revision 18446744073709551615");
  EXPECT_THAT(Describe(command.batch)[9], "append d=4 if length 0");
  EXPECT_THAT(Describe(command.batch)[10], "trim q -9223372036854775808 9223372036854775807");
}

TEST(CommandTest, ExpiriesRoundTripWithTheirTimes) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  WriteBatch batch;
  batch.Expire("k", kMax);
  batch.Expire("k", 0);
  batch.DeleteExpired("k", 1700000000000);
  batch.Append("k", "v", {}, 5);
  batch.Append("k", "w", {Condition::On::kRevision, 9}, 6);
  batch.Append("k", "x", {Condition::On::kLength, 0}, 7);
  Command command;
  ASSERT_TRUE(Decode(Writes(batch), &command));
  EXPECT_THAT(Describe(command.batch),
              ElementsAre("expire k 18446744073709551615", "expire k 0",
                          "delete k if expired by 1700000000000", "append k=v expire 5",
                          "append k=w if revision 9 expire 6", "append k=x if length 0 expire 7"));
  // Kind 5, an expire: the key, then the time.
  WriteBatch one;
  one.Expire("k", 300);
  EXPECT_EQ(Writes(one), "\x01\x01\x00\x00\x01\x05\x01k\xac\x02"s);
  // Kind 7, an append with a TTL, whose condition kind is no Condition::On.
  std::string bad = "\x01\x01\x00\x00\x01\x07\x01k\x01v\x03\x05"s;
  EXPECT_FALSE(Decode(bad, &command));
  bad[bad.size() - 2] = '\x00';
  EXPECT_TRUE(Decode(bad, &command));
  bad.back() = '\x00';
  EXPECT_FALSE(Decode(bad, &command)) << "an append that expires at 0";
}

TEST(CommandTest, EmptyBatchRoundTrips) {
  Command command;
  command.batch.Append("stale", "x");
  ASSERT_TRUE(Decode(Writes(WriteBatch{}), &command));
  EXPECT_EQ(command.type, Type::kWrites);
  EXPECT_TRUE(command.batch.empty()) << "the command's earlier batch was kept";
}

TEST(CommandTest, NodeAddressRoundTrips) {
  Command command;
  ASSERT_TRUE(Decode(NodeAddress(300, "10.0.0.2:7002"), &command));
  EXPECT_EQ(command.type, Type::kNodeAddress);
  EXPECT_EQ(command.node, 300u);
  EXPECT_EQ(command.address, "10.0.0.2:7002");
}

TEST(CommandTest, UpToSevenZeroBytesOfPaddingAreAccepted) {
  for (std::size_t padding = 0; padding <= 7; ++padding) {
    Command writes, address;
    ASSERT_TRUE(Decode(Writes(Mixed()) + std::string(padding, '\0'), &writes)) << padding;
    EXPECT_EQ(Describe(writes.batch), Describe(Mixed())) << padding;
    EXPECT_EQ(Runs(writes.batch), Runs(Mixed())) << padding;
    ASSERT_TRUE(Decode(NodeAddress(2, "127.0.0.1:1") + std::string(padding, '\0'), &address))
        << padding;
    EXPECT_EQ(address.address, "127.0.0.1:1") << padding;
  }
}

TEST(CommandTest, EightZeroBytesAreMoreThanPadding) {
  Command command;
  EXPECT_FALSE(Decode(Writes(Mixed()) + std::string(8, '\0'), &command));
  EXPECT_FALSE(Decode(NodeAddress(2, "127.0.0.1:1") + std::string(8, '\0'), &command));
}

TEST(CommandTest, ANonZeroTrailingByteIsRefused) {
  Command command;
  for (const std::string& tail : {"\x01"s, "\0\0\0x"s, "\0\0\0\0\0\0\x80"s}) {
    EXPECT_FALSE(Decode(Writes(Mixed()) + tail, &command)) << tail.size();
    EXPECT_FALSE(Decode(NodeAddress(2, "127.0.0.1:1") + tail, &command)) << tail.size();
  }
}

TEST(CommandTest, EveryTruncationIsRefused) {
  for (const std::string& entry : {Writes(Mixed()), Writes(WriteBatch{}),
                                   NodeAddress(1u << 20, "127.0.0.1:7001"), NodeAddress(1, "")}) {
    for (std::size_t length = 0; length < entry.size(); ++length) {
      Command command;
      EXPECT_FALSE(Decode(entry.substr(0, length), &command))
          << length << " of " << entry.size() << " bytes";
    }
  }
}

TEST(CommandTest, AnUnknownTypeIsRefused) {
  std::string entry = NodeAddress(2, "127.0.0.1:1");
  for (const char type : {'\0', '\x03', '\xff'}) {
    entry[0] = type;
    Command command;
    EXPECT_FALSE(Decode(entry, &command)) << static_cast<int>(type);
  }
}

TEST(CommandTest, AnUnknownMutationKindIsRefused) {
  // Writes, one run: client 0, seq 0, one mutation of kind `kind`, key "k",
  // value "v".
  auto entry = [](char kind) { return "\x01\x01\x00\x00\x01"s + kind + "\x01k\x01v"; };
  Command command;
  ASSERT_TRUE(Decode(entry('\x01'), &command)) << "an append";
  EXPECT_THAT(Describe(command.batch), ElementsAre("append k=v"));
  for (const char kind : {'\x02', '\x7f', '\xff'}) {
    EXPECT_FALSE(Decode(entry(kind), &command)) << static_cast<int>(kind);
  }
}

}  // namespace
}  // namespace kvd::command
