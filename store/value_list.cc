#include "store/value_list.h"

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "util/varint.h"

namespace kvd {
namespace {

// Smallest power of two holding `bytes`; lists start at 64 bytes.
unsigned CapacityLog2For(std::size_t bytes) {
  constexpr std::size_t kMinCapacity = 64;
  return static_cast<unsigned>(std::bit_width(std::bit_ceil(std::max(bytes, kMinCapacity)) - 1));
}

char* Allocate(char* block, std::size_t bytes) {
  void* p = std::realloc(block, bytes);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<char*>(p);
}

}  // namespace

void ValueView::Iterator::Decode() {
  header_ = 0;
  length_ = 0;
  if (at_ == end_) return;
  std::string_view rest(at_, static_cast<std::size_t>(end_ - at_));
  std::uint64_t n = 0;
  GetVarint(&rest, &n);  // the list wrote it: whole
  header_ = static_cast<std::size_t>(end_ - at_) - rest.size();
  length_ = static_cast<std::size_t>(n);
}

std::size_t ValueView::count() const {
  std::size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::vector<std::string> ValueView::ToStrings() const {
  std::vector<std::string> strings;
  for (std::string_view v : *this) strings.emplace_back(v);
  return strings;
}

ValueView ValueView::Slice(std::size_t from, std::size_t min_bytes) const {
  const ValueView rest(data_ + from, bytes_ - from);
  if (rest.bytes_ <= min_bytes) return rest;
  auto it = rest.begin();
  while (it != rest.end() && static_cast<std::size_t>(it.at_ - rest.data_) < min_bytes) ++it;
  return rest.Prefix(static_cast<std::size_t>(it.at_ - rest.data_));
}

ValueView ValueView::Values(std::size_t first, std::size_t count) const {
  auto it = begin();
  for (std::size_t i = 0; i < first && it != end(); ++i) ++it;
  const char* from = it.at_;
  for (std::size_t i = 0; i < count && it != end(); ++i) ++it;
  return {from, static_cast<std::size_t>(it.at_ - from)};
}

ValueList::ValueList(ValueView values) {
  if (values.empty()) return;
  const Header h{values.packed_bytes(), 0, VarintLength(values.packed_bytes() << kCapacityBits)};
  block_ = Allocate(nullptr, h.width + h.used);
  set_header(h);
  std::memcpy(block_ + h.width, values.packed_data(), h.used);
}

ValueList& ValueList::operator=(const ValueList& other) {
  if (this != &other) *this = ValueList(other);
  return *this;
}

ValueList& ValueList::operator=(ValueList&& other) noexcept {
  if (this != &other) {
    std::free(block_);
    block_ = other.block_;
    other.block_ = nullptr;
  }
  return *this;
}

ValueList::~ValueList() { std::free(block_); }

ValueList::Header ValueList::header() const {
  if (block_ == nullptr) return {};
  // The header ends inside the block: GetVarint reads no further.
  std::string_view in(block_, kMaxVarint);
  std::uint64_t v = 0;
  GetVarint(&in, &v);
  return {static_cast<std::size_t>(v >> kCapacityBits),
          static_cast<unsigned>(v & ((1u << kCapacityBits) - 1)), kMaxVarint - in.size()};
}

void ValueList::set_header(const Header& h) {
  PutPaddedVarint(std::uint64_t{h.used} << kCapacityBits | h.capacity_log2, h.width, block_);
}

std::size_t ValueList::packed_bytes() const { return header().used; }

std::size_t ValueList::block_bytes() const {
  const Header h = header();
  return block_ == nullptr ? 0 : h.width + h.capacity();
}

void ValueList::Append(std::string_view value) {
  char prefix[kMaxVarint];
  const std::size_t prefix_bytes = PutVarint(value.size(), prefix);
  Header h = header();
  const std::size_t needed = h.used + prefix_bytes + value.size();
  if (needed > h.capacity()) {
    // Doubling keeps a hot key's appends amortized O(1).
    const unsigned capacity_log2 = CapacityLog2For(needed);
    const std::size_t capacity = std::size_t{1} << capacity_log2;
    const std::size_t width =
        VarintLength(std::uint64_t{capacity} << kCapacityBits | capacity_log2);
    block_ = Allocate(block_, width + capacity);
    // The header may have grown: the values move up behind it.
    if (h.used > 0) std::memmove(block_ + width, block_ + h.width, h.used);
    h.capacity_log2 = capacity_log2;
    h.width = width;
  }
  char* end = block_ + h.width + h.used;
  std::memcpy(end, prefix, prefix_bytes);
  std::memcpy(end + prefix_bytes, value.data(), value.size());
  h.used = needed;
  set_header(h);
}

void ValueList::Clear() {
  Header h = header();
  if (h.capacity_log2 == 0) {
    // An exact block has no room to reuse.
    std::free(std::exchange(block_, nullptr));
    return;
  }
  h.used = 0;
  set_header(h);
}

ValueView ValueList::view() const {
  const Header h = header();
  return block_ == nullptr ? ValueView() : ValueView(block_ + h.width, h.used);
}

}  // namespace kvd
