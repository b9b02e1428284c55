// CRC-32C (Castagnoli), the checksum of journal records and of snapshot
// identities. Uses the SSE4.2 crc32 instruction where the CPU has it (start-up
// checksums the whole storage.data, a noticeable cost with the table-driven
// Boost.CRC), Boost.CRC elsewhere.
#ifndef KVD_UTIL_CRC32C_H_
#define KVD_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kvd {

// Checksums data given piece by piece.
class Crc32cAccumulator {
 public:
  void Update(const void* data, std::size_t size);
  std::uint32_t checksum() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xFFFFFFFF;
};

inline std::uint32_t Crc32c(std::string_view data) {
  Crc32cAccumulator crc;
  crc.Update(data.data(), data.size());
  return crc.checksum();
}

namespace internal {
// Boost.CRC alone, whatever the CPU has: for tests.
std::uint32_t Crc32cPortable(std::string_view data);
}  // namespace internal

}  // namespace kvd

#endif  // KVD_UTIL_CRC32C_H_
