// The in-memory map from key to its ordered list of values. Knows nothing of
// files, sockets or threads: callers synchronize (see Engine).
#ifndef KVD_STORE_STORE_H_
#define KVD_STORE_STORE_H_

#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/container/string.hpp>
#include <boost/intrusive/set.hpp>
#include <boost/intrusive/unordered_set.hpp>

#include "store/value_list.h"
#include "store/write_batch.h"
#include "store/write_results.h"

namespace kvd {

class Store {
 public:
  Store();
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Part of a key's values: a visit hands a key's values over in one part,
  // or in several when they outgrow it (`first` on the first, `last` on the
  // last), so that no visit takes long however many values a key has; with
  // the key's revision and expiry time (0: none).
  using Visitor = std::function<void(std::string_view key, ValueView values, bool first, bool last,
                                     std::uint64_t revision, std::uint64_t expires_at)>;
  // Where a visit of the frozen view resumes: after the key visited last, or
  // within it when its values are visited only up to packed byte `offset`.
  struct FrozenCursor {
    std::string key;
    bool started = false;
    std::size_t offset = 0;
  };

  // Revisions (doc/coordination.md): the store's revision counts the
  // changes made by Append and Delete (a delete of an absent key changes
  // nothing); a key's revision is that of the last change to it, 0 while it
  // is absent. Loading (Replace) and Clear leave the store's revision as it
  // is and give the keys they add 0, until SetRevisions.
  std::uint64_t revision() const { return revision_; }
  // The revision of `key`: of the last change to it; 0 if absent.
  std::uint64_t KeyRevision(std::string_view key) const;
  // What a snapshot cannot hold, so the journal keeps it beside one: the
  // store's revision and each key's, in the keys' byte order, and the
  // expiry times of the keys that have one.
  struct Expiry {
    std::uint64_t key = 0;  // the key's index in byte order
    std::uint64_t at = 0;   // unix milliseconds, not 0
    bool operator==(const Expiry&) const = default;
  };
  struct Revisions {
    std::uint64_t store = 0;
    std::vector<std::uint64_t> keys;
    std::vector<Expiry> expiries{};  // by ascending key index
  };
  Revisions GetRevisions() const;
  // Gives the store and each key (in byte order) the revisions and expiry
  // times `r` holds; false, changing nothing, if it holds another number of
  // keys or an expiry of a key index past them.
  bool SetRevisions(const Revisions& r);
  // For keys whose revisions are unknown (a storage.data without its own):
  // gives every key, and the store, the revision after `last` (the store
  // stays at `last` while empty), so that revisions do not go back past
  // `last` and a condition on an older one fails rather than succeeds. No
  // key expires then: an expiry that is not known is none.
  void ResetRevisions(std::uint64_t last);

  // Expiry (PROTOCOL.md, "expire"): the store keeps each key's expiry time
  // and changes it only by mutations that carry their time (Mutation::at);
  // it never reads a clock. Readers (Engine) treat a key whose time has
  // come as absent; the node that commits deletes it (kDeleteExpired).
  // The unix millisecond at which `key` expires; 0 if never or absent.
  std::uint64_t ExpiresAt(std::string_view key) const;
  // Whether `key` exists with an expiry time at or before `now`.
  bool Expired(std::string_view key, std::uint64_t now) const;
  // Up to `max` keys whose expiry time is at or before `now`, soonest first.
  std::vector<std::string> ExpiredKeys(std::uint64_t now, std::size_t max) const;
  // How many keys have an expiry time.
  std::size_t expiring_count() const { return expiring_.size(); }

  // Adds `val` after the values `key` already has.
  void Append(std::string_view key, std::string_view val);
  // Makes `key` hold exactly `values` (a snapshot may hold `"k": []`).
  // Loading a snapshot calls it once per key; cheapest when keys come in
  // ascending order, as kvd writes them.
  void Replace(std::string_view key, ValueList values);
  // Loading many keys (a snapshot): between BeginLoad() and EndLoad() only
  // Replace() may be called. Into an empty store, its keys go into the tree
  // alone (see Entry), and EndLoad() adds them to the hash table in one
  // pass, sized for them and fetching buckets ahead, rather than one by one
  // at random places of a table that keeps doubling.
  void BeginLoad();
  void EndLoad();
  // Removes every key. Not while frozen.
  void Clear();
  // Removes `key` with all its values; false if it was absent.
  bool Delete(std::string_view key);
  // Makes `key` expire at `at` (0: never); false, changing nothing, if it
  // is absent, or if `at` is 0 and it had no expiry. Takes a revision.
  bool Expire(std::string_view key, std::uint64_t at);
  // Keeps only the values of `key` in `range` (LTRIM), deleting the key if
  // none are left; appends the values it removes, packed in list order, to
  // *removed if given. False if it removed none. A trim that keeps the
  // values from some index to the end (a pop from the head) walks only the
  // values it removes, and moves none of the others.
  bool Trim(std::string_view key, ListRange range, std::string* removed = nullptr);
  // Applies one mutation, appending what a trim removes to *removed as Trim
  // does. Returns false, changing nothing, for a delete of an absent key,
  // an append whose condition does not hold, a trim that removes nothing,
  // an expire that Expire refuses and an expired delete of a key that has
  // not expired by the mutation's time.
  bool Apply(const Mutation& m, std::string* removed = nullptr);
  // Whether `condition` holds for `key` (a list's length is counted: it
  // takes a walk of its values).
  bool Holds(std::string_view key, const Condition& condition) const;
  // Applies the batch's mutations in order, adding the result of each (what
  // Apply returns, what a trim removed) to *results if given. Faster than
  // one by one: the table's memory for the keys a few mutations on is
  // fetched meanwhile (see ForEachFetchingAhead), so a batch's cache misses
  // overlap instead of each stalling in turn.
  void Apply(const WriteBatch& batch, WriteResults* results = nullptr);

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
  // The store's revision at Freeze().
  std::uint64_t frozen_revision() const { return frozen_revision_; }
  // Visits keys of the frozen view in byte order, resuming at *cursor (a
  // default one starts at the first key), until at least `min_bytes` bytes of
  // keys and packed values were visited (a key's values are cut into parts
  // to stop there) or the keys ran out. Updates the cursor; returns false
  // once every key was visited.
  bool VisitFrozen(FrozenCursor* cursor, std::size_t min_bytes, const Visitor& visit) const;

  std::size_t key_count() const { return tree_.size(); }
  std::size_t value_count() const { return value_count_; }
  // Bytes of keys and values held (not counting container overhead).
  std::size_t byte_count() const { return byte_count_; }

 private:
  // What a key held at Freeze(), kept for the frozen view from the key's
  // first change since: whether it existed, and the packed length of its
  // values, which are the live list's prefix of that length until a change
  // drops them (DropValues moves them here then).
  struct FrozenImage {
    bool existed = false;
    std::size_t packed_bytes = 0;  // of the values it had
    std::uint64_t revision = 0;    // it had
    std::uint64_t expires_at = 0;  // it had
    bool moved = false;            // DropValues moved those values into `values`
    ValueList values;
  };
  // While frozen, before the first change to `key` since Freeze(): keeps its
  // frozen image. Every change calls it before it touches the key.
  void KeepFrozenImage(std::string_view key);

  // A key with its values, linked into two indexes: a tree in byte order of
  // the keys (Keys, snapshots) and a hash table that finds one without a
  // search (every read and write: walking the tree costs a cache miss per
  // level). Keys of up to 22 bytes live inside the entry (Boost's string
  // keeps that many in place, std::string 15). The tree's hook keeps its
  // colour in a pointer's spare bit, which pays for the table's link; the
  // stored hash (rehashing reads no keys, a lookup compares few), the key's
  // revision and its expiry time take 8 bytes each: 88 bytes, still a
  // 96-byte heap block. The table adds 8 bytes per key for its buckets.
  using Key = boost::container::string;
  static std::string_view View(const Key& k) { return {k.data(), k.size()}; }
  struct Entry : boost::intrusive::set_base_hook<boost::intrusive::optimize_size<true>>,
                 boost::intrusive::unordered_set_base_hook<boost::intrusive::store_hash<true>> {
    explicit Entry(std::string_view k) : key(k.data(), k.size()) {}
    // The tree's hook keeps the colour in its parent pointer's low bit, and
    // setting the pointer keeps that bit: it is read before it is first
    // written (valgrind: a jump on an uninitialised value). So an entry's
    // memory starts zeroed.
    static void* operator new(std::size_t size) {
      return std::memset(::operator new(size), 0, size);
    }
    static void operator delete(void* p) { ::operator delete(p); }
    Key key;
    ValueList values;
    std::uint64_t revision = 0;
    std::uint64_t expires_at = 0;  // unix milliseconds; 0: never
  };
  struct KeyOf {
    using type = std::string_view;
    std::string_view operator()(const Entry& e) const { return View(e.key); }
  };
  using Tree = boost::intrusive::set<Entry, boost::intrusive::key_of_value<KeyOf>>;
  using Table = boost::intrusive::unordered_set<Entry, boost::intrusive::key_of_value<KeyOf>,
                                                boost::intrusive::hash<std::hash<std::string_view>>,
                                                boost::intrusive::power_2_buckets<true>,
                                                boost::intrusive::compare_hash<true>>;

  // The entry of `key`, or null.
  const Entry* Lookup(std::string_view key) const;
  Entry* Lookup(std::string_view key) {
    return const_cast<Entry*>(std::as_const(*this).Lookup(key));
  }
  // The entry of `key`, added (with no values) if there was none; sets
  // *inserted to whether it was added.
  Entry& FindOrInsert(std::string_view key, bool* inserted = nullptr);
  // Moves the table to a new array of `buckets` buckets (a power of two).
  void Rehash(std::size_t buckets);
  // Calls fn(item) for each item of [first, last) whose key (key_of(item))
  // is at a random place of the table, fetching into the cache meanwhile
  // what a lookup or insert of a key reads: its bucket, kFetchAhead * 2 items
  // before it is used, and the entry the bucket links first (the key itself
  // or one that shares its bucket), kFetchAhead items before, once the
  // bucket has arrived.
  template <typename It, typename GetKey, typename Fn>
  void ForEachFetchingAhead(It first, It last, const GetKey& key_of, const Fn& fn);
  // FindOrInsert while loading_: the tree alone.
  Entry& FindOrInsertLoading(std::string_view key, bool* inserted);
  // Takes `e`'s values out of the counts, and hands them to the frozen view
  // if it still needs them.
  void DropValues(Entry& e);
  // After KeepFrozenImage: whether the frozen view still reads `e`'s values
  // in place (then they may only be appended to).
  bool FrozenViewReads(const Entry& e) const;
  // Gives `e` the expiry time `at` (0: none), in expiring_ too.
  void SetExpiry(Entry& e, std::uint64_t at);

  Tree tree_;
  // Doubled once the table holds as many entries as buckets.
  std::unique_ptr<Table::bucket_type[]> buckets_;
  Table table_;
  std::size_t value_count_ = 0;
  std::size_t byte_count_ = 0;
  std::uint64_t revision_ = 0;
  std::uint64_t frozen_revision_ = 0;
  bool frozen_ = false;
  bool loading_ = false;
  Entry* last_loaded_ = nullptr;  // while loading_
  // While frozen: the keys changed since Freeze(), with what they held then.
  std::map<std::string, FrozenImage, std::less<>> frozen_images_;
  // The keys that expire, by time: which to delete first.
  std::set<std::pair<std::uint64_t, Entry*>> expiring_;
  std::string removed_;  // Apply(batch)'s scratch: what a trim removed
};

}  // namespace kvd

#endif  // KVD_STORE_STORE_H_
