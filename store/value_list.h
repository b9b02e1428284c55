// A key's values, packed: one heap block holding each value as a varint
// length followed by its bytes, in append order. A key with two 40-byte
// values costs one 84-byte allocation instead of a vector and two strings
// (four allocations, about 200 bytes), and a reader copies it with one
// memcpy.
#ifndef KVD_STORE_VALUE_LIST_H_
#define KVD_STORE_VALUE_LIST_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace kvd {

// A read-only view of packed values (of a ValueList, or a prefix of one).
// Valid while the list it came from is neither changed nor destroyed.
class ValueView {
 public:
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;

    Iterator() = default;
    std::string_view operator*() const { return {at_ + header_, length_}; }
    Iterator& operator++() {
      at_ += header_ + length_;
      Decode();
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& other) const { return at_ == other.at_; }

   private:
    friend class ValueView;
    Iterator(const char* at, const char* end) : at_(at), end_(end) { Decode(); }
    // Reads the length prefix at at_.
    void Decode();

    const char* at_ = nullptr;
    const char* end_ = nullptr;
    std::size_t header_ = 0;  // bytes of the length prefix
    std::size_t length_ = 0;  // bytes of the value
  };

  ValueView() = default;
  ValueView(const char* data, std::size_t bytes) : data_(data), bytes_(bytes) {}

  Iterator begin() const { return Iterator(data_, data_ + bytes_); }
  Iterator end() const { return Iterator(data_ + bytes_, data_ + bytes_); }
  bool empty() const { return bytes_ == 0; }
  // Number of values; walks them.
  std::size_t count() const;
  // Packed bytes, length prefixes included.
  std::size_t packed_bytes() const { return bytes_; }
  const char* packed_data() const { return data_; }
  // The first `packed_bytes` bytes: the values a list held when its
  // packed_bytes() was that.
  ValueView Prefix(std::size_t packed_bytes) const { return {data_, packed_bytes}; }
  // The whole values from packed byte `from` (where a value starts) on, as
  // few as make at least `min_bytes` packed bytes, or all that are left.
  ValueView Slice(std::size_t from, std::size_t min_bytes) const;
  // The values with indices [first, first + count), as many of them as
  // there are; walks the values before them.
  ValueView Values(std::size_t first, std::size_t count) const;
  std::vector<std::string> ToStrings() const;

 private:
  const char* data_ = nullptr;
  std::size_t bytes_ = 0;
};

class ValueList {
 public:
  ValueList() = default;
  // A list of exactly `values` (a view of another list's), in one allocation
  // of exactly what they take.
  explicit ValueList(ValueView values);
  // Copies allocate exactly what `other` uses.
  ValueList(const ValueList& other) : ValueList(other.view()) {}
  ValueList& operator=(const ValueList& other);
  ValueList(ValueList&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }
  ValueList& operator=(ValueList&& other) noexcept;
  ~ValueList();

  // Adds `value` after the others; amortized O(value.size()).
  void Append(std::string_view value);
  // Removes every value, keeping a grown list's allocation for reuse.
  void Clear();

  ValueView view() const;
  std::size_t packed_bytes() const;
  bool empty() const { return packed_bytes() == 0; }
  // Bytes of its heap block, header included (0 without one).
  std::size_t block_bytes() const;

 private:
  // The block starts with a varint header: the packed bytes used, shifted
  // left by kCapacityBits, over the log2 of the capacity, or 0 when the
  // capacity is exactly the bytes used (as copies and loaded lists are). An
  // exact block's header is as short as the varint; a grown block's is
  // padded to the width its largest value needs, so appends that fit never
  // move the values. Two 40-byte values (82 packed bytes) then take an
  // 84-byte block, a 96-byte chunk of glibc's malloc.
  static constexpr unsigned kCapacityBits = 6;
  struct Header {
    std::size_t used = 0;
    unsigned capacity_log2 = 0;
    std::size_t width = 0;  // bytes of the header: the values start there
    std::size_t capacity() const {
      return capacity_log2 == 0 ? used : std::size_t{1} << capacity_log2;
    }
  };
  Header header() const;
  void set_header(const Header& h);
  char* block_ = nullptr;  // null: no values
};

}  // namespace kvd

#endif  // KVD_STORE_VALUE_LIST_H_
