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

#include "store/write_batch.h"

namespace kvd {

class Store {
 public:
  using Values = std::vector<std::string>;

  // Adds `val` after the values `key` already has.
  void Append(std::string_view key, std::string val);
  // Makes `key` present with no values (a snapshot may hold `"k": []`).
  void Touch(std::string_view key);
  // Removes `key` with all its values; false if it was absent.
  bool Delete(std::string_view key);
  // Applies one mutation. Returns false only for a delete of an absent key.
  bool Apply(const Mutation& m);

  // The values of `key` in the order they were appended; null when absent.
  const Values* Find(std::string_view key) const;
  // Keys starting with `prefix`, in byte order.
  std::vector<std::string> Keys(std::string_view prefix) const;
  // Calls fn(key, values) for every key, in byte order of the keys.
  void ForEach(const std::function<void(const std::string&, const Values&)>& fn) const;

  std::size_t key_count() const { return map_.size(); }
  std::size_t value_count() const { return value_count_; }
  // Bytes of keys and values held (not counting container overhead).
  std::size_t byte_count() const { return byte_count_; }

 private:
  std::map<std::string, Values, std::less<>> map_;
  std::size_t value_count_ = 0;
  std::size_t byte_count_ = 0;
};

}  // namespace kvd

#endif  // KVD_STORE_STORE_H_
