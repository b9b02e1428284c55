// What kvctl, or any program, talks to (installed as <kvd/backend.h>): the
// daemon over its socket (Client, <kvd/client.h>) or the data file directly
// through the storage engine (Embedded, <kvd/embedded.h>). Both give the
// same results for the same data. Failures throw kvd::client::Error.
// The installed headers need C++17 and nothing outside <kvd/...>.
#ifndef KVD_CLIENT_BACKEND_H_
#define KVD_CLIENT_BACKEND_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kvd/error.h"

namespace kvd::client {

// What must hold for Append(key, val, condition) to append: the key's
// revision (see Get with a revision; 0: the key is absent), or its number
// of values, is still `value` when the append is applied
// (proto/PROTOCOL.md, "Conditional append").
struct Condition {
  enum class On { kRevision, kLength };
  On on = On::kRevision;
  std::uint64_t value = 0;

  static Condition Revision(std::uint64_t revision) { return {On::kRevision, revision}; }
  static Condition Length(std::uint64_t length) { return {On::kLength, length}; }
};

// One value to append to a key (AppendMany).
struct KeyValue {
  std::string key;
  std::string val;
};

// Keys and values are UTF-8 (invalid UTF-8 is refused with "invalid_utf8");
// empty strings, commas, quotes and newlines are ordinary characters.
class Backend {
 public:
  virtual ~Backend();
  // Succeeds when the other side answers (Embedded: always).
  virtual void Ping() = 0;
  // Returns once the value is durable (Client: under the daemon's fsync policy).
  virtual void Append(std::string_view key, std::string_view val) = 0;
  // Appends all items in order, as one write: all or nothing.
  virtual void AppendMany(std::vector<KeyValue> items) = 0;
  // The values of `key` in append order; empty when the key is missing.
  virtual std::vector<std::string> Get(std::string_view key) = 0;
  // Removes `key`; false if it did not exist.
  virtual bool Delete(std::string_view key) = 0;
  // Keys starting with `prefix` (all keys when empty), in byte order.
  virtual std::vector<std::string> Keys(std::string_view prefix = {}) = 0;
  // Counters by name ("keys", "values", "bytes", "revision": the store's
  // revision, and more from a daemon).
  virtual std::vector<std::pair<std::string, std::uint64_t>> Stats() = 0;

  // Get, and in *revision (unless null) the key's revision: the store
  // revision of the last change to the key, 0 when it is missing. The store
  // revision counts the store's changes, each appended value, each delete
  // of a key that existed and each pop or trim that removed values
  // (proto/PROTOCOL.md, "Revisions"). Values and revision are read together
  // (Client: in one request): the revision is that of exactly these values.
  // Client throws "bad_response" if the daemon answers no revision (a kvd
  // from before revisions).
  // (Declared last: the virtual functions before it keep their places.)
  virtual std::vector<std::string> Get(std::string_view key, std::uint64_t* revision) = 0;

  // Appends `val` to `key` only if `condition` holds then (a compare-and-
  // set: read the key's revision with Get, append with it; of clients
  // racing with the same revision one wins). Otherwise appends nothing and
  // throws Conflict carrying the key's current revision. Returns once the
  // value is durable, as Append. Client: the daemon (in a cluster, its
  // leader) decides; a retried request gets the first answer again.
  // (Declared after Get with a revision: the virtual functions before it
  // keep their places.)
  virtual void Append(std::string_view key, std::string_view val, const Condition& condition) = 0;

  // Part of `key`'s values, as Redis's LRANGE names it: those from index
  // `start` to index `stop`, both included, counted from 0 at the first or,
  // when negative, from -1 at the last. Indices past either end are
  // clamped; a range that names none gives none, as a missing key does. In
  // *revision (unless null) the key's revision, read with them as by Get.
  // Client: one get request with a range (a kvd from before ranges ignores
  // the range and answers every value).
  // (Declared after the conditional Append, as are the functions after it:
  // the virtual functions before them keep their places.)
  virtual std::vector<std::string> GetRange(std::string_view key, std::int64_t start,
                                            std::int64_t stop,
                                            std::uint64_t* revision = nullptr) = 0;
  // How many values `key` holds; 0 when it is missing.
  virtual std::uint64_t Length(std::string_view key) = 0;

  // Keeps only `key`'s values from index `start` to index `stop`, both
  // included, named as by GetRange (Redis's LTRIM), and removes the others.
  // A key left without values is deleted; a missing key stays missing.
  // Returns once the removal is durable, as Append. Client: one trim
  // request.
  // (Declared after Length, as is Pop: the virtual functions before them
  // keep their places.)
  virtual void Trim(std::string_view key, std::int64_t start, std::int64_t stop) = 0;
  // Takes up to `count` values (1 or more, else "invalid_request") from the
  // head of `key`, or from its tail, and returns them in the order taken:
  // from the tail, the last first (as Redis's LPOP and RPOP with a count).
  // A key left without values is deleted. Returns once the removal is
  // durable; empty when the key has no values. While it has none, waits up
  // to `wait` (at most 24 hours, else "invalid_request") for one, and
  // returns empty if none came. Client: one pop request, and the daemon
  // waits, serving waiting pops in the order they came and each value to
  // one of them (the connection answers nothing else meanwhile); a retried
  // request gets the values the first took. Embedded: it polls the key
  // every few milliseconds, and only another thread of this process can
  // append meanwhile (the data file's lock keeps other processes out).
  virtual std::vector<std::string> Pop(
      std::string_view key, std::uint64_t count = 1, bool from_tail = false,
      std::chrono::milliseconds wait = std::chrono::milliseconds(0)) = 0;

  // Expiry (proto/PROTOCOL.md, "expire"): a key whose time has come is gone
  // for every reader at once, and a write to it starts afresh.
  // (Declared after Pop: the virtual functions before them keep their
  // places.)
  // Makes `key` expire `seconds` from now (at most 100 years, else
  // "invalid_request"), as Redis's EXPIRE: `seconds` of 0 or less deletes it
  // now. False if the key is missing (then nothing changes). Returns once
  // durable, as Append.
  virtual bool Expire(std::string_view key, std::int64_t seconds) = 0;
  // Makes `key` expire never again, as Redis's PERSIST; false if it is
  // missing or had no expiry.
  virtual bool Persist(std::string_view key) = 0;
  // The milliseconds before `key` expires, as Redis's PTTL: -1 if it never
  // does, -2 if it is missing.
  virtual std::int64_t TimeToLive(std::string_view key) = 0;
  // Append, and `key` then expires `ttl` from now (1 s to 100 years, else
  // "invalid_request"), in one write.
  virtual void AppendWithTtl(std::string_view key, std::string_view val,
                             std::chrono::seconds ttl) = 0;
};

}  // namespace kvd::client

#endif  // KVD_CLIENT_BACKEND_H_
