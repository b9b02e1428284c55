// Requests of the kvd wire protocol: one JSON object per line (PROTOCOL.md).
#ifndef KVD_PROTO_REQUEST_H_
#define KVD_PROTO_REQUEST_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.h"

namespace kvd::proto {

enum class Op {
  kPing,        // {"op":"ping"}
  kAppend,      // {"op":"append","key":K,"val":V}, optionally "if_revision":N or "if_length":N
  kAppendMany,  // {"op":"append_many","items":[{"key":K,"val":V},...]}
  kGet,         // {"op":"get","key":K}, optionally "start":S and "stop":E: a range of it
  kLen,         // {"op":"len","key":K}
  kDelete,      // {"op":"delete","key":K}
  kTrim,        // {"op":"trim","key":K,"start":S,"stop":E}
  kPop,         // {"op":"pop","key":K}, optionally "count":N, "from":"tail", "wait":SECONDS
  kExpire,      // {"op":"expire","key":K,"seconds":S} or "at_ms":UNIX_MS instead of "seconds"
  kPersist,     // {"op":"persist","key":K}
  kTtl,         // {"op":"ttl","key":K}
  kKeys,        // {"op":"keys"} or {"op":"keys","prefix":P}
  kStats,       // {"op":"stats"}
  kWatch,       // {"op":"watch"}, optionally "prefix":P and "from":REV: a stream of changes
  // Cluster mode (PROTOCOL.md, "Cluster mode").
  kCluster,          // {"op":"cluster"}: the cluster's status as this node sees it
  kClusterAdd,       // {"op":"cluster_add","node":ID,"address":"HOST:PORT"}
  kClusterRemove,    // {"op":"cluster_remove","node":ID}
  kClusterRegister,  // between nodes: {"op":"cluster_register","node":ID,"address":A}
  kReadIndex,        // between nodes: {"op":"read_index"}
};

std::string_view OpName(Op op);
// The op named `name`, if any.
std::optional<Op> OpFromName(std::string_view name);

// True for operations that change the store (and so wait for durability).
bool IsWrite(Op op);
// True for operations that read the store (and in cluster mode wait, unless
// stale, until they may: linearizable reads).
bool IsRead(Op op);
// True for the cluster mode's operations.
bool IsClusterOp(Op op);

// The longest a pop may wait for a value ("wait").
inline constexpr std::chrono::hours kMaxPopWait{24};
// A pop's wait of `seconds`, from 0 to kMaxPopWait's, up to the next
// millisecond; none if outside. The protocol, HTTP and kvctl read it so.
std::optional<std::chrono::milliseconds> PopWait(double seconds);

// The longest TTL an expire or an append takes, in seconds (100 years).
inline constexpr std::int64_t kMaxExpireSeconds = 100LL * 365 * 24 * 3600;

struct KeyValue {
  std::string key;
  std::string val;
  bool operator==(const KeyValue&) const = default;
};

struct Request {
  Op op = Op::kPing;
  std::string key;              // append, get, len, delete, trim, pop
  std::string val;              // append
  std::string prefix;           // keys, watch
  std::vector<KeyValue> items;  // append_many
  // append: applied only if the key's revision (if_revision), or its number
  // of values (if_length), is then this; at most one of them is set
  // (PROTOCOL.md, "Conditional append").
  std::optional<std::uint64_t> if_revision;
  std::optional<std::uint64_t> if_length;
  // get: with either set, only the values from index `start` (else 0) to
  // `stop` (else -1), as Redis's LRANGE counts them (PROTOCOL.md, "get").
  // trim: both set, the values kept.
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> stop;
  // pop: how many values it takes (at least 1), from which end, and how
  // long it waits for one while the key has none (0: not at all).
  std::uint64_t count = 1;
  bool from_tail = false;
  std::chrono::milliseconds wait{0};
  // watch: the revision after which its changes start (else: the current).
  std::optional<std::uint64_t> from_revision;
  // expire: the key expires in `seconds` (at most kMaxExpireSeconds; none
  // above 0: it is deleted now, as Redis's EXPIRE); append: in `ttl`
  // seconds if not 0 (from 1 to kMaxExpireSeconds). Either: at `at_ms`
  // instead (unix milliseconds, from 1), if not 0.
  std::int64_t seconds = 0;
  std::uint64_t ttl = 0;
  std::uint64_t at_ms = 0;
  // Writes: who sent it, so that a retry is applied once in cluster mode
  // (client 0: nobody; PROTOCOL.md, "Exactly once").
  std::uint64_t client = 0;
  std::uint64_t seq = 0;
  bool stale = false;      // reads: this node's state, which may lag the leader's
  bool local = false;      // cluster: this node's own state only
  std::uint64_t node = 0;  // cluster_add, cluster_remove, cluster_register
  std::string address;     // cluster_add, cluster_register
  // The request's "id" as compact JSON text, echoed verbatim in the response;
  // empty when the request has none.
  std::string id;

  static Request Ping() { return Request{}; }
  static Request Append(std::string key, std::string val);
  static Request AppendMany(std::vector<KeyValue> items);
  static Request Get(std::string key);
  static Request Len(std::string key);
  static Request Delete(std::string key);
  static Request Trim(std::string key, std::int64_t start, std::int64_t stop);
  static Request Pop(std::string key, std::uint64_t count = 1, bool from_tail = false);
  static Request Expire(std::string key, std::int64_t seconds);
  static Request Persist(std::string key);
  static Request Ttl(std::string key);
  static Request Keys(std::string prefix);
  static Request Stats();
  static Request Watch(std::string prefix, std::optional<std::uint64_t> from_revision);
};

// Decodes one request line (without or with its trailing "\n" / "\r\n").
// On error returns it; `request->id` is still filled in when the line was a
// JSON object with an "id", so that the error response can carry it.
std::optional<Error> DecodeRequest(std::string_view line, Request* request);

// Encodes `request` as one line, '\n' included.
std::string EncodeRequest(const Request& request);

}  // namespace kvd::proto

#endif  // KVD_PROTO_REQUEST_H_
