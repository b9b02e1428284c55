#include "util/crc32c.h"

#include <string>

#include <gtest/gtest.h>

namespace kvd {
namespace {

TEST(Crc32cTest, KnownValues) {
  // RFC 3720, B.4, and the usual check value.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(internal::Crc32cPortable("123456789"), 0xE3069283u);
  EXPECT_EQ(internal::Crc32cPortable(std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(Crc32cTest, PiecewiseEqualsWholeAndPortableEqualsFast) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  const std::uint32_t whole = Crc32c(data);
  EXPECT_EQ(internal::Crc32cPortable(data), whole);
  for (std::size_t cut : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    Crc32cAccumulator crc;
    crc.Update(data.data(), cut);
    crc.Update(data.data() + cut, data.size() - cut);
    EXPECT_EQ(crc.checksum(), whole) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace kvd
