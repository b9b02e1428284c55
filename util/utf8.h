// UTF-8 validity, the one rule every stored key and value obeys: the
// protocol codec checks requests and the engine checks files by it.
#ifndef KVD_UTIL_UTF8_H_
#define KVD_UTIL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <rapidjson/encodings.h>

namespace kvd {

// True if `text` is well-formed UTF-8: no stray or overlong bytes and no
// encoded UTF-16 surrogates (which JSON's "\udc00" escapes would produce).
inline bool IsValidUtf8(std::string_view text) {
  struct Input {
    using Ch = char;
    const char* p;
    const char* end;
    Ch Peek() const { return p == end ? '\0' : *p; }
    Ch Take() { return p == end ? '\0' : *p++; }
  } in{text.data(), text.data() + text.size()};
  struct Discard {
    void Put(char) {}
  } out;
  for (;;) {
    // Most keys and values are ASCII: skip it 8 bytes at a time.
    while (in.end - in.p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, in.p, sizeof word);
      if ((word & 0x8080808080808080u) != 0) break;
      in.p += 8;
    }
    while (in.p != in.end && static_cast<unsigned char>(*in.p) < 0x80) ++in.p;
    if (in.p == in.end) return true;
    if (!rapidjson::UTF8<>::Validate(in, out)) return false;
  }
}

}  // namespace kvd

#endif  // KVD_UTIL_UTF8_H_
