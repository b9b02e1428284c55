// An ordered list of changes to the store, applied and persisted together.
#ifndef KVD_STORE_WRITE_BATCH_H_
#define KVD_STORE_WRITE_BATCH_H_

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace kvd {

struct Mutation {
  enum class Kind { kAppend, kDelete };
  Kind kind;
  std::string_view key;  // views into the batch: valid while it is unchanged
  std::string_view val;  // kAppend only
};

// Keys and values are copied into one buffer of the batch: building one costs
// no allocation per mutation, and a batch that is cleared and refilled (a
// connection's, the commit queue's) reuses its memory.
class WriteBatch {
 public:
  void Append(std::string_view key, std::string_view val) {
    Add(Mutation::Kind::kAppend, key, val);
  }
  void Delete(std::string_view key) { Add(Mutation::Kind::kDelete, key, {}); }
  // Appends a copy of every mutation of `other` (another batch).
  void Absorb(const WriteBatch& other) {
    bytes_ += other.bytes_;
    entries_.insert(entries_.end(), other.entries_.begin(), other.entries_.end());
  }
  // Empties the batch; its memory stays for the next mutations.
  void Clear() {
    bytes_.clear();
    entries_.clear();
  }
  // The memory the batch holds, so that a holder can bound what it keeps.
  std::size_t capacity_bytes() const {
    return bytes_.capacity() + entries_.capacity() * sizeof(Entry);
  }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  // Bytes of keys and values.
  std::size_t bytes() const { return bytes_.size(); }
  // Whether every mutation is an append (whose result is known before it is
  // applied: it always adds its value).
  bool AppendsOnly() const {
    for (const Entry& e : entries_) {
      if (e.kind != Mutation::Kind::kAppend) return false;
    }
    return true;
  }

 private:
  struct Entry {
    Mutation::Kind kind;
    std::size_t key_size;
    std::size_t val_size;
  };

 public:
  // The mutations in order, as a range of Mutation values.
  class Mutations {
   public:
    class iterator {
     public:
      using iterator_category = std::input_iterator_tag;
      using value_type = Mutation;
      using difference_type = std::ptrdiff_t;
      using pointer = void;
      using reference = Mutation;

      iterator(const Entry* entry, const char* bytes) : entry_(entry), bytes_(bytes) {}
      Mutation operator*() const {
        return Mutation{entry_->kind, std::string_view(bytes_, entry_->key_size),
                        std::string_view(bytes_ + entry_->key_size, entry_->val_size)};
      }
      iterator& operator++() {
        bytes_ += entry_->key_size + entry_->val_size;
        ++entry_;
        return *this;
      }
      bool operator==(const iterator& other) const { return entry_ == other.entry_; }

     private:
      const Entry* entry_;
      const char* bytes_;  // where *entry_'s key starts
    };

    iterator begin() const { return {batch_.entries_.data(), batch_.bytes_.data()}; }
    iterator end() const { return {batch_.entries_.data() + batch_.entries_.size(), nullptr}; }
    std::size_t size() const { return batch_.size(); }

   private:
    friend class WriteBatch;
    explicit Mutations(const WriteBatch& batch) : batch_(batch) {}
    const WriteBatch& batch_;
  };

  Mutations mutations() const { return Mutations(*this); }

 private:
  void Add(Mutation::Kind kind, std::string_view key, std::string_view val) {
    bytes_ += key;
    bytes_ += val;
    entries_.push_back(Entry{kind, key.size(), val.size()});
  }

  std::string bytes_;  // each mutation's key, then its value, in order
  std::vector<Entry> entries_;
};

}  // namespace kvd

#endif  // KVD_STORE_WRITE_BATCH_H_
