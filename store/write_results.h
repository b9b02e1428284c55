// What applying a write batch did, mutation by mutation: whether each
// changed the store (Store::Apply), and the values a trim removed (a pop's
// answer).
#ifndef KVD_STORE_WRITE_RESULTS_H_
#define KVD_STORE_WRITE_RESULTS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "store/value_list.h"

namespace kvd {

class WriteResults {
 public:
  // Empties it; its memory stays for the next results.
  void Clear() {
    results_.clear();
    removed_.clear();
  }
  // Makes it `count` results that removed nothing, each `applied`.
  void Assign(std::size_t count, bool applied) {
    Clear();
    results_.assign(count, Result{applied, 0, 0});
  }
  // Adds the next mutation's result.
  void Add(bool applied, ValueView removed = {}) {
    results_.push_back(Result{applied, removed_.size(), removed.packed_bytes()});
    removed_.append(removed.packed_data(), removed.packed_bytes());
  }
  // Replaces result `i`.
  void Set(std::size_t i, bool applied, ValueView removed = {}) {
    results_[i] = Result{applied, removed_.size(), removed.packed_bytes()};
    removed_.append(removed.packed_data(), removed.packed_bytes());
  }
  // Adds copies of `count` results of `other` from its result `first` on.
  void AddFrom(const WriteResults& other, std::size_t first, std::size_t count) {
    for (std::size_t i = first; i < first + count; ++i) Add(other.applied(i), other.removed(i));
  }

  std::size_t size() const { return results_.size(); }
  bool empty() const { return results_.empty(); }
  // False for a delete of an absent key, an append whose condition did not
  // hold, and a trim that removed nothing.
  bool applied(std::size_t i) const { return results_[i].applied; }
  // The values mutation `i` removed, in list order: a trim's; none for
  // other kinds.
  ValueView removed(std::size_t i) const {
    return {removed_.data() + results_[i].removed_at, results_[i].removed_bytes};
  }

 private:
  struct Result {
    bool applied;
    std::size_t removed_at;  // in removed_
    std::size_t removed_bytes;
  };
  std::vector<Result> results_;
  std::string removed_;  // the removed values, packed as a ValueList packs them
};

}  // namespace kvd

#endif  // KVD_STORE_WRITE_RESULTS_H_
