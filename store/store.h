// The in-memory map from key to its ordered list of values. Knows nothing of
// files, sockets or threads: callers synchronize (see Engine).
#ifndef KVD_STORE_STORE_H_
#define KVD_STORE_STORE_H_

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/string.hpp>

#include "store/value_list.h"
#include "store/write_batch.h"

namespace kvd {

class Store {
 public:
  // Part of a key's values: a visit hands a key's values over in one part,
  // or in several when they outgrow it (`first` on the first, `last` on the
  // last), so that no visit takes long however many values a key has.
  using Visitor =
      std::function<void(std::string_view key, ValueView values, bool first, bool last)>;
  // Where a visit of the frozen view resumes: after the key visited last, or
  // within it when its values are visited only up to packed byte `offset`.
  struct FrozenCursor {
    std::string key;
    bool started = false;
    std::size_t offset = 0;
  };

  // Adds `val` after the values `key` already has.
  void Append(std::string_view key, std::string_view val);
  // Makes `key` hold exactly `values` (a snapshot may hold `"k": []`).
  // Loading a snapshot calls it once per key; cheapest when keys come in
  // ascending order, as kvd writes them.
  void Replace(std::string_view key, ValueList values);
  // Removes `key` with all its values; false if it was absent.
  bool Delete(std::string_view key);
  // Applies one mutation. Returns false only for a delete of an absent key.
  bool Apply(const Mutation& m);

  // The values of `key` in the order they were appended; null when absent.
  const ValueList* Find(std::string_view key) const;
  // Keys starting with `prefix`, in byte order.
  std::vector<std::string> Keys(std::string_view prefix) const;

  // Freezing gives a consistent view of the store as of the moment of
  // Freeze() that can be read piecewise while changes go on (to write a
  // snapshot without holding up writers). Until Thaw(), the first change to
  // each key keeps what the key held at Freeze(); appends, which only add
  // to the end, keep just the old length.
  void Freeze();
  void Thaw();
  // Visits keys of the frozen view in byte order, resuming at *cursor (a
  // default one starts at the first key), until at least `min_bytes` bytes of
  // keys and packed values were visited (a key's values are cut into parts
  // to stop there) or the keys ran out. Updates the cursor; returns false
  // once every key was visited.
  bool VisitFrozen(FrozenCursor* cursor, std::size_t min_bytes, const Visitor& visit) const;

  std::size_t key_count() const { return map_.size(); }
  std::size_t value_count() const { return value_count_; }
  // Bytes of keys and values held (not counting container overhead).
  std::size_t byte_count() const { return byte_count_; }

 private:
  // What a key changed since Freeze() held at Freeze().
  struct Before {
    bool existed = false;
    std::size_t packed_bytes = 0;  // of the values it had
    bool moved = false;            // a delete moved those values into `values`
    ValueList values;
  };
  // Records the key's frozen state before its first change.
  void Remember(std::string_view key);

  // Keys of up to 22 bytes live inside the tree's nodes (Boost's string
  // keeps that many in place, std::string 15): a lookup then costs one
  // cache miss per level of the tree rather than two for keys of 16 to 22
  // bytes, such as "key:" and 12 digits.
  using Key = boost::container::string;
  static std::string_view View(const Key& k) { return {k.data(), k.size()}; }
  static std::string_view View(std::string_view k) { return k; }
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) < View(b);
    }
  };

  std::map<Key, ValueList, KeyLess> map_;
  std::size_t value_count_ = 0;
  std::size_t byte_count_ = 0;
  bool frozen_ = false;
  std::map<std::string, Before, std::less<>> before_;
};

}  // namespace kvd

#endif  // KVD_STORE_STORE_H_
