// CRC-32C (Castagnoli), the checksum of journal records and of snapshot
// identities, from Boost.CRC.
#ifndef KVD_STORE_CRC32C_H_
#define KVD_STORE_CRC32C_H_

#include <cstdint>
#include <string_view>

#include <boost/crc.hpp>

namespace kvd {

using Crc32cAccumulator = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

inline std::uint32_t Crc32c(std::string_view data) {
  Crc32cAccumulator crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

}  // namespace kvd

#endif  // KVD_STORE_CRC32C_H_
