#include "store/value_list.h"

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

#include "store/varint.h"

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

ValueList::ValueList(const ValueList& other) {
  const std::size_t used = other.packed_bytes();
  if (used == 0) return;
  block_ = Allocate(nullptr, kHeader + used);
  set_header(used, 0);
  std::memcpy(payload(), other.payload(), used);
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

std::uint64_t ValueList::header() const {
  if (block_ == nullptr) return 0;
  std::uint64_t h;
  std::memcpy(&h, block_, sizeof h);
  return h;
}

void ValueList::set_header(std::size_t used, unsigned capacity_log2) {
  const std::uint64_t h = std::uint64_t{used} | std::uint64_t{capacity_log2} << kCapacityShift;
  std::memcpy(block_, &h, sizeof h);
}

std::size_t ValueList::packed_bytes() const { return header() & kUsedMask; }

std::size_t ValueList::capacity() const {
  const auto log2 = static_cast<unsigned>(header() >> kCapacityShift);
  return log2 == 0 ? packed_bytes() : std::size_t{1} << log2;
}

void ValueList::Append(std::string_view value) {
  char prefix[kMaxVarint];
  const std::size_t prefix_bytes = PutVarint(value.size(), prefix);
  const std::size_t used = packed_bytes();
  const std::size_t needed = used + prefix_bytes + value.size();
  unsigned capacity_log2 = static_cast<unsigned>(header() >> kCapacityShift);
  if (needed > capacity()) {
    // Doubling keeps a hot key's appends amortized O(1).
    capacity_log2 = CapacityLog2For(needed);
    block_ = Allocate(block_, kHeader + (std::size_t{1} << capacity_log2));
  }
  std::memcpy(payload() + used, prefix, prefix_bytes);
  std::memcpy(payload() + used + prefix_bytes, value.data(), value.size());
  set_header(needed, capacity_log2);
}

void ValueList::Clear() {
  if (block_ != nullptr) set_header(0, static_cast<unsigned>(header() >> kCapacityShift));
}

ValueView ValueList::view() const {
  return block_ == nullptr ? ValueView() : ValueView(payload(), packed_bytes());
}

}  // namespace kvd
