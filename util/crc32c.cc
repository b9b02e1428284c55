#include "util/crc32c.h"

#include <cstring>

#include <boost/crc.hpp>

namespace kvd {
namespace {

// The state is the CRC register without the final inversion, so a Boost
// accumulator resumes from it and the hardware path shares it as is.
std::uint32_t UpdatePortable(std::uint32_t state, const char* p, std::size_t n) {
  boost::crc_optimal<32, 0x1EDC6F41, 0, 0, true, true> crc(state);
  crc.process_bytes(p, n);
  return crc.checksum();
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) std::uint32_t UpdateSse42(std::uint32_t state, const char* p,
                                                            std::size_t n) {
  std::uint64_t crc = state;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    crc = __builtin_ia32_crc32di(crc, word);
  }
  auto crc32 = static_cast<std::uint32_t>(crc);
  for (; n > 0; ++p, --n) crc32 = __builtin_ia32_crc32qi(crc32, static_cast<unsigned char>(*p));
  return crc32;
}

const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

void Crc32cAccumulator::Update(const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (kHaveSse42) {
    state_ = UpdateSse42(state_, p, size);
    return;
  }
#endif
  state_ = UpdatePortable(state_, p, size);
}

std::uint32_t internal::Crc32cPortable(std::string_view data) {
  return ~UpdatePortable(0xFFFFFFFF, data.data(), data.size());
}

}  // namespace kvd
