// Varints (LEB128): 7 bits a byte, low bits first, the high bit set on every
// byte but the last. How ValueList packs its values' lengths and the journal's
// batch records store theirs.
#ifndef KVD_UTIL_VARINT_H_
#define KVD_UTIL_VARINT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kvd {

// Bytes of the longest varint, a 64-bit value's.
inline constexpr std::size_t kMaxVarint = 10;

// Writes `v` to `out`, which has room for kMaxVarint bytes; returns how many
// it wrote.
inline std::size_t PutVarint(std::uint64_t v, char* out) {
  std::size_t i = 0;
  for (; v >= 0x80; v >>= 7) out[i++] = static_cast<char>((v & 0x7f) | 0x80);
  out[i++] = static_cast<char>(v);
  return i;
}

// Bytes PutVarint writes for `v`.
inline std::size_t VarintLength(std::uint64_t v) {
  std::size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// Writes `v` in exactly `width` bytes (at least VarintLength(v)), padding
// with continuation bytes that add zeros: GetVarint reads the same value, and
// a field of fixed width can be rewritten in place as its value grows.
inline void PutPaddedVarint(std::uint64_t v, std::size_t width, char* out) {
  for (std::size_t i = 0; i + 1 < width; ++i, v >>= 7) {
    out[i] = static_cast<char>((v & 0x7f) | 0x80);
  }
  out[width - 1] = static_cast<char>(v);
}

// Reads the varint at the front of *in into *v and removes it from *in;
// false if *in ends inside it or it runs over kMaxVarint bytes.
inline bool GetVarint(std::string_view* in, std::uint64_t* v) {
  *v = 0;
  for (std::size_t i = 0; i < in->size() && i < kMaxVarint; ++i) {
    const auto byte = static_cast<unsigned char>((*in)[i]);
    *v |= std::uint64_t{byte & 0x7fu} << (7 * i);
    if (byte < 0x80) {
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

// Appends `v` as a varint.
inline void PutVarint(std::string* out, std::uint64_t v) {
  char bytes[kMaxVarint];
  out->append(bytes, PutVarint(v, bytes));
}

// Appends `s` as its length (a varint), then its bytes.
inline void PutVarString(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

// Reads a string PutVarString wrote from the front of *in into *s (a view
// into *in's text) and removes it from *in; false if *in ends inside it.
inline bool GetVarString(std::string_view* in, std::string_view* s) {
  std::uint64_t n = 0;
  if (!GetVarint(in, &n) || in->size() < n) return false;
  *s = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

// Appends a signed `v` as a varint of its zigzag form (0, -1, 1, -2, ... as
// 0, 1, 2, 3, ...), so that small negative numbers take few bytes too.
inline void PutSignedVarint(std::string* out, std::int64_t v) {
  PutVarint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

// Reads what PutSignedVarint wrote, as GetVarint does.
inline bool GetSignedVarint(std::string_view* in, std::int64_t* v) {
  std::uint64_t zigzag = 0;
  if (!GetVarint(in, &zigzag)) return false;
  *v = static_cast<std::int64_t>(zigzag >> 1) ^ -static_cast<std::int64_t>(zigzag & 1);
  return true;
}

}  // namespace kvd

#endif  // KVD_UTIL_VARINT_H_
