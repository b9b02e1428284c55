// The changes last applied to a store, in revision order, for watchers
// (PROTOCOL.md "watch"): each applied mutation's revision, kind, key and
// values (an append's value, the values a trim removed). Bounded in bytes:
// once it holds more, the oldest changes go, a chunk at a time. Knows
// nothing of threads: the engine guards it with the store's lock.
#ifndef KVD_STORE_CHANGE_HISTORY_H_
#define KVD_STORE_CHANGE_HISTORY_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/value_list.h"
#include "store/write_batch.h"
#include "store/write_results.h"

namespace kvd {

class ChangeHistory {
 public:
  // One change, as read back: views into the history, valid until it next
  // changes.
  struct Change {
    std::uint64_t revision = 0;
    Mutation::Kind kind = Mutation::Kind::kAppend;
    std::string_view key;
    // kAppend: the value appended; kTrim: the values removed, in list
    // order; other kinds: none.
    ValueView values;
    // The time in the mutation (Mutation::at): kExpire's expiry (0: none
    // now), kDeleteExpired's, an append's new expiry (0: none).
    std::uint64_t at = 0;
  };
  // Called for each change read, in revision order; false stops the read
  // before that change.
  using Visit = std::function<bool(const Change&)>;

  // Holds about `max_bytes` of changes (at least one chunk's worth).
  explicit ChangeHistory(std::size_t max_bytes);

  // Forgets every change: the next one recorded takes revision `revision`+1.
  void Reset(std::uint64_t revision);
  // Records the mutations of `batch` that `results` says were applied; the
  // first of them took revision last() + 1, and each the next.
  void Add(const WriteBatch& batch, const WriteResults& results);
  // Records one change, normally the one after last(); one after a gap
  // forgets the changes before the gap.
  void Add(const Change& change);

  // The revision before the oldest change held: a read may start after it,
  // or after any later revision.
  std::uint64_t floor() const { return floor_; }
  // The newest change's revision (floor() when none is held).
  std::uint64_t last() const { return last_; }
  // Bytes the changes take.
  std::size_t bytes() const { return bytes_; }
  std::size_t max_bytes() const { return max_bytes_; }

  // Calls `visit` for the changes after revision `after` whose key starts
  // with `prefix`, in order, until it returns false or the changes run out;
  // sets *position to the revision of the last change looked at (visited or
  // skipped for its key), or to `after` if none: the next read goes on after
  // it. False, visiting none, if `after` is before floor() (those changes
  // are gone).
  bool Read(std::uint64_t after, std::string_view prefix, const Visit& visit,
            std::uint64_t* position) const;
  // Appends the changes held, as bytes Decode reads back.
  void Encode(std::string* out) const;
  // Makes it hold what Encode wrote (keeping the newest max_bytes() of it);
  // false, leaving it as it was, if `in` is not such bytes.
  bool Decode(std::string_view in);

  // About how many bytes the changes after revision `after` take (whole
  // chunks): how far behind a reader at `after` is.
  std::size_t BytesAfter(std::uint64_t after) const;

 private:
  // Changes with consecutive revisions, packed: per change a u8 kind, the
  // key and the packed values, each as a varint length and its bytes, and
  // the time as a varint; and
  // where each starts, so that a read finds its revision without a walk.
  struct Chunk {
    std::uint64_t first = 0;  // the revision of its first change
    std::string bytes;
    std::vector<std::uint32_t> starts;  // of each change in `bytes`
    std::uint64_t count() const { return starts.size(); }
    std::size_t memory() const {
      return bytes.capacity() + starts.capacity() * sizeof(std::uint32_t);
    }
  };
  // Drops the oldest chunks while the changes take more than max_bytes_.
  void DropOldest();

  const std::size_t max_bytes_;
  const std::size_t chunk_bytes_;  // a chunk takes no more changes once this full
  std::deque<Chunk> chunks_;
  std::uint64_t floor_ = 0;
  std::uint64_t last_ = 0;
  std::size_t bytes_ = 0;
  std::string packed_;  // Add's scratch: an append's value, packed
};

}  // namespace kvd

#endif  // KVD_STORE_CHANGE_HISTORY_H_
