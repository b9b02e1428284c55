// An ordered list of changes to the store, applied and persisted together.
#ifndef KVD_STORE_WRITE_BATCH_H_
#define KVD_STORE_WRITE_BATCH_H_

#include <string>
#include <utility>
#include <vector>

namespace kvd {

struct Mutation {
  enum class Kind { kAppend, kDelete };
  Kind kind;
  std::string key;
  std::string val;  // kAppend only
};

class WriteBatch {
 public:
  void Append(std::string key, std::string val) {
    mutations_.push_back({Mutation::Kind::kAppend, std::move(key), std::move(val)});
  }
  void Delete(std::string key) {
    mutations_.push_back({Mutation::Kind::kDelete, std::move(key), {}});
  }
  // Moves every mutation of `other` to the end of this batch.
  void Absorb(WriteBatch&& other) {
    if (mutations_.empty()) {
      mutations_ = std::move(other.mutations_);
    } else {
      mutations_.insert(mutations_.end(), std::make_move_iterator(other.mutations_.begin()),
                        std::make_move_iterator(other.mutations_.end()));
    }
    other.mutations_.clear();
  }

  bool empty() const { return mutations_.empty(); }
  std::size_t size() const { return mutations_.size(); }
  const std::vector<Mutation>& mutations() const { return mutations_; }

 private:
  std::vector<Mutation> mutations_;
};

}  // namespace kvd

#endif  // KVD_STORE_WRITE_BATCH_H_
