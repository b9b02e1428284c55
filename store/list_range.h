// A part of a key's list of values, named as Redis's LRANGE and LTRIM name
// it: by the indices of its first and last value (inclusive), from 0 at the
// head, or when negative from -1 at the tail.
#ifndef KVD_STORE_LIST_RANGE_H_
#define KVD_STORE_LIST_RANGE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "store/value_list.h"
#include "util/varint.h"

namespace kvd {

struct ListRange {
  std::int64_t start = 0;
  std::int64_t stop = -1;  // the whole list

  // The values a range names in a list of `length` values: `count` values
  // from index `first`. Indices out of the list are clamped to it; a range
  // whose start comes after its stop (once both are counted from the head)
  // names none.
  struct Positions {
    std::size_t first = 0;
    std::size_t count = 0;
    bool operator==(const Positions&) const = default;
  };
  Positions Resolve(std::size_t length) const {
    const auto n = static_cast<std::int64_t>(length);
    std::int64_t first = start < 0 ? start + n : start;
    std::int64_t last = stop < 0 ? stop + n : stop;
    if (first < 0) first = 0;
    if (last >= n) last = n - 1;
    if (first > last) return {};
    return {static_cast<std::size_t>(first), static_cast<std::size_t>(last - first + 1)};
  }

  // The range a pop of `count` values from the head (or the tail) keeps:
  // all the others.
  static ListRange AfterPop(std::uint64_t count, bool from_tail) {
    constexpr std::uint64_t kMost = std::numeric_limits<std::int64_t>::max() - 1;
    const auto n = static_cast<std::int64_t>(count < kMost ? count : kMost);
    return from_tail ? ListRange{0, -n - 1} : ListRange{n, -1};
  }

  bool operator==(const ListRange&) const = default;
};

// What a pop answers of the values its trim (ListRange::AfterPop) removed,
// which come in list order: the order taken, the last first from the tail
// (as Redis's RPOP with a count).
inline std::vector<std::string> PoppedInOrder(ValueView removed, bool from_tail) {
  std::vector<std::string> values = removed.ToStrings();
  if (from_tail) std::reverse(values.begin(), values.end());
  return values;
}

// A range in the journal and in Raft log entries: start, then stop, each a
// signed varint (PutSignedVarint).
inline void PutListRange(std::string* out, ListRange range) {
  PutSignedVarint(out, range.start);
  PutSignedVarint(out, range.stop);
}
inline bool GetListRange(std::string_view* in, ListRange* range) {
  return GetSignedVarint(in, &range->start) && GetSignedVarint(in, &range->stop);
}

}  // namespace kvd

#endif  // KVD_STORE_LIST_RANGE_H_
