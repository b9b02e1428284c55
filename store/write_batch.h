// An ordered list of changes to the store, applied and persisted together.
#ifndef KVD_STORE_WRITE_BATCH_H_
#define KVD_STORE_WRITE_BATCH_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "store/list_range.h"

namespace kvd {

// What must hold for an append to be applied (a compare-and-set): checked
// where the mutation is applied, so that a replay and every replica decide
// alike.
struct Condition {
  enum class On : std::uint8_t {
    kNothing,   // unconditional
    kRevision,  // the key's revision (Store::KeyRevision) is `value`
    kLength,    // the key holds `value` values
  };
  On on = On::kNothing;
  std::uint64_t value = 0;
  bool operator==(const Condition&) const = default;
};

struct Mutation {
  enum class Kind {
    kAppend,
    kDelete,
    // Keeps only the values in `range` (LTRIM); a pop is the trim that keeps
    // all but the values it takes. A key left without values is deleted.
    kTrim,
    // Makes an existing key expire at `at` (0: never again, as PERSIST).
    kExpire,
    // Deletes the key only if it has an expiry time at or before `at`: the
    // expired delete the committing node makes, decided alike on replay and
    // on every replica however late it is applied, and keeping a key whose
    // expiry was moved or removed meanwhile.
    kDeleteExpired,
  };
  Kind kind;
  std::string_view key;  // views into the batch: valid while it is unchanged
  std::string_view val;  // kAppend only
  Condition condition;   // kAppend only
  ListRange range;       // kTrim only
  // Unix time in milliseconds, chosen by the node that commits (never read
  // from the clock where the mutation is applied): kExpire's and
  // kDeleteExpired's; on kAppend, if not 0, the key's new expiry once the
  // value is appended (an append with a TTL).
  std::uint64_t at = 0;
};

// Who sent a group of mutations, for exactly-once writes in cluster mode: a
// client numbers its requests, and the replicated state machine applies a
// client's request `seq` once, however often it is retried
// (store/state_machine.h). Client 0 is nobody: applied every time.
struct Origin {
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  bool operator==(const Origin&) const = default;
};

// Keys and values are copied into one buffer of the batch: building one costs
// no allocation per mutation, and a batch that is cleared and refilled (a
// connection's, the commit queue's) reuses its memory.
class WriteBatch {
 public:
  // The mutations added from now on, until the next call, are `origin`'s
  // (each call starts a request of its own, even if it names the same
  // origin again). Before the first call they are nobody's. Only cluster
  // mode reads origins.
  void SetOrigin(Origin origin) { origins_.push_back(OriginMark{origin, entries_.size()}); }
  // The origin of the mutations added next.
  Origin current_origin() const { return origins_.empty() ? Origin{} : origins_.back().origin; }
  // Calls fn(origin, first, count) for each run of mutations of one origin,
  // in order, covering every mutation.
  template <typename Fn>
  void ForEachOrigin(const Fn& fn) const {
    std::size_t at = 0;
    for (std::size_t i = 0; i <= origins_.size(); ++i) {
      const std::size_t end = i < origins_.size() ? origins_[i].first : entries_.size();
      if (end > at) fn(i == 0 ? Origin{} : origins_[i - 1].origin, at, end - at);
      at = std::max(at, end);
    }
  }

  void Append(std::string_view key, std::string_view val, Condition condition = {},
              std::uint64_t expire_at = 0) {
    Add(Mutation::Kind::kAppend, key, val, condition, {}, expire_at);
  }
  void Delete(std::string_view key) { Add(Mutation::Kind::kDelete, key, {}, {}); }
  void Trim(std::string_view key, ListRange range) {
    Add(Mutation::Kind::kTrim, key, {}, {}, range);
  }
  void Expire(std::string_view key, std::uint64_t at) {
    Add(Mutation::Kind::kExpire, key, {}, {}, {}, at);
  }
  void DeleteExpired(std::string_view key, std::uint64_t at) {
    Add(Mutation::Kind::kDeleteExpired, key, {}, {}, {}, at);
  }
  // A copy of `m` (of another batch).
  void Add(const Mutation& m) { Add(m.kind, m.key, m.val, m.condition, m.range, m.at); }
  // Appends a copy of every mutation of `other` (another batch).
  void Absorb(const WriteBatch& other) {
    if (other.empty()) return;
    const std::size_t base = entries_.size();
    if (!origins_.empty() && (other.origins_.empty() || other.origins_.front().first > 0)) {
      origins_.push_back(OriginMark{Origin{}, base});  // other's first mutations are nobody's
    }
    for (const OriginMark& mark : other.origins_) {
      origins_.push_back(OriginMark{mark.origin, base + mark.first});
    }
    bytes_ += other.bytes_;
    entries_.insert(entries_.end(), other.entries_.begin(), other.entries_.end());
  }
  // Empties the batch; its memory stays for the next mutations.
  void Clear() {
    bytes_.clear();
    entries_.clear();
    origins_.clear();
  }
  // The memory the batch holds, so that a holder can bound what it keeps.
  std::size_t capacity_bytes() const {
    return bytes_.capacity() + entries_.capacity() * sizeof(Entry) +
           origins_.capacity() * sizeof(OriginMark);
  }

  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  // Bytes of keys and values.
  std::size_t bytes() const { return bytes_.size(); }
  // Whether every mutation is an unconditional append without a TTL (whose
  // result is known before it is applied, and which changes no expiry: it
  // always adds its value).
  bool AppendsOnly() const {
    for (const Entry& e : entries_) {
      if (e.kind != Mutation::Kind::kAppend || e.condition.on != Condition::On::kNothing ||
          e.at != 0) {
        return false;
      }
    }
    return true;
  }

 private:
  struct Entry {
    Mutation::Kind kind;
    std::size_t key_size;
    std::size_t val_size;
    Condition condition;
    ListRange range;
    std::uint64_t at;
  };
  // From mutation `first` on, the mutations are `origin`'s.
  struct OriginMark {
    Origin origin;
    std::size_t first;
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
        return Mutation{entry_->kind,
                        std::string_view(bytes_, entry_->key_size),
                        std::string_view(bytes_ + entry_->key_size, entry_->val_size),
                        entry_->condition,
                        entry_->range,
                        entry_->at};
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
  void Add(Mutation::Kind kind, std::string_view key, std::string_view val, Condition condition,
           ListRange range = {}, std::uint64_t at = 0) {
    bytes_ += key;
    bytes_ += val;
    entries_.push_back(Entry{kind, key.size(), val.size(), condition, range, at});
  }

  std::string bytes_;  // each mutation's key, then its value, in order
  std::vector<Entry> entries_;
  std::vector<OriginMark> origins_;  // in order of `first`
};

}  // namespace kvd

#endif  // KVD_STORE_WRITE_BATCH_H_
