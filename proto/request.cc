#include "proto/request.h"

#include <array>
#include <cmath>
#include <utility>

#include "proto/flat_request.h"
#include "proto/json_line.h"

namespace kvd::proto {
namespace {

using internal::AsString;
using internal::FindString;

constexpr std::array<std::pair<Op, std::string_view>, 19> kOps{{
    {Op::kPing, "ping"},
    {Op::kAppend, "append"},
    {Op::kAppendMany, "append_many"},
    {Op::kGet, "get"},
    {Op::kLen, "len"},
    {Op::kDelete, "delete"},
    {Op::kTrim, "trim"},
    {Op::kPop, "pop"},
    {Op::kExpire, "expire"},
    {Op::kPersist, "persist"},
    {Op::kTtl, "ttl"},
    {Op::kKeys, "keys"},
    {Op::kStats, "stats"},
    {Op::kWatch, "watch"},
    {Op::kCluster, "cluster"},
    {Op::kClusterAdd, "cluster_add"},
    {Op::kClusterRemove, "cluster_remove"},
    {Op::kClusterRegister, "cluster_register"},
    {Op::kReadIndex, "read_index"},
}};

Error Missing(const char* field) {
  return Error{ErrorCode::kInvalidRequest, std::string("missing string field \"") + field + "\""};
}

// Reads the required string member `name` into *out.
std::optional<Error> RequireString(const rapidjson::Value& object, const char* name,
                                   std::string* out) {
  std::optional<Error> error;
  const rapidjson::Value* v = FindString(object, name, &error);
  if (error) return error;
  if (v == nullptr) return Missing(name);
  *out = AsString(*v);
  return std::nullopt;
}

// Reads the optional member `name`, a non-negative integer, into *out.
std::optional<Error> OptionalCount(const rapidjson::Value& object, const char* name,
                                   std::uint64_t* out) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return std::nullopt;
  if (!it->value.IsUint64()) {
    return Error{ErrorCode::kInvalidRequest,
                 std::string("\"") + name + "\" must be a non-negative integer"};
  }
  *out = it->value.GetUint64();
  return std::nullopt;
}

// Reads the optional member `name`, a boolean, into *out.
std::optional<Error> OptionalBool(const rapidjson::Value& object, const char* name, bool* out) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return std::nullopt;
  if (!it->value.IsBool()) {
    return Error{ErrorCode::kInvalidRequest, std::string("\"") + name + "\" must be a boolean"};
  }
  *out = it->value.GetBool();
  return std::nullopt;
}

// A write's origin: "client" and "seq", both or neither, seq from 1.
std::optional<Error> DecodeOrigin(const rapidjson::Value& object, Request* request) {
  if (auto e = OptionalCount(object, "client", &request->client)) return e;
  if (auto e = OptionalCount(object, "seq", &request->seq)) return e;
  if ((request->client == 0) != (request->seq == 0)) {
    return Error{ErrorCode::kInvalidRequest, "\"client\" and \"seq\" go together, both above 0"};
  }
  return std::nullopt;
}

// An append's condition: "if_revision" or "if_length", a non-negative
// integer, at most one of them.
std::optional<Error> DecodeCondition(const rapidjson::Value& object, Request* request) {
  for (const auto& [name, out] : {std::pair{"if_revision", &request->if_revision},
                                  std::pair{"if_length", &request->if_length}}) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd()) continue;
    if (!it->value.IsUint64()) {
      return Error{ErrorCode::kInvalidRequest,
                   std::string("\"") + name + "\" must be a non-negative integer"};
    }
    *out = it->value.GetUint64();
  }
  if (request->if_revision && request->if_length) {
    return Error{ErrorCode::kInvalidRequest,
                 "\"if_revision\" and \"if_length\" cannot go together"};
  }
  return std::nullopt;
}

// A range: "start" and "stop", integers, either or both for a get, both
// for a trim. Refused on any other op rather than ignored, so that no range
// passes for one taken.
std::optional<Error> DecodeRange(const rapidjson::Value& object, Request* request) {
  for (const auto& [name, out] :
       {std::pair{"start", &request->start}, std::pair{"stop", &request->stop}}) {
    auto it = object.FindMember(name);
    if (it == object.MemberEnd()) {
      if (request->op == Op::kTrim) {
        return Error{ErrorCode::kInvalidRequest,
                     std::string("missing integer field \"") + name + "\""};
      }
      continue;
    }
    if (request->op != Op::kGet && request->op != Op::kTrim) {
      return Error{ErrorCode::kInvalidRequest,
                   std::string("\"") + name + "\" is only for get and trim"};
    }
    if (!it->value.IsInt64()) {
      return Error{ErrorCode::kInvalidRequest,
                   std::string("\"") + name + "\" must be an integer (64-bit, signed)"};
    }
    *out = it->value.GetInt64();
  }
  return std::nullopt;
}

// A pop's "count" (an integer from 1), "from" ("head" or "tail") and
// "wait" (seconds, a number from 0 to kMaxPopWait's).
std::optional<Error> DecodePop(const rapidjson::Value& object, Request* request) {
  if (auto it = object.FindMember("count"); it != object.MemberEnd()) {
    if (!it->value.IsUint64() || it->value.GetUint64() == 0) {
      return Error{ErrorCode::kInvalidRequest, "\"count\" must be an integer from 1"};
    }
    request->count = it->value.GetUint64();
  }
  std::optional<Error> error;
  if (const rapidjson::Value* from = FindString(object, "from", &error)) {
    const std::string_view end(from->GetString(), from->GetStringLength());
    if (end != "head" && end != "tail") {
      return Error{ErrorCode::kInvalidRequest, "\"from\" must be \"head\" or \"tail\""};
    }
    request->from_tail = end == "tail";
  }
  if (error) return error;
  if (auto it = object.FindMember("wait"); it != object.MemberEnd()) {
    const std::optional<std::chrono::milliseconds> wait =
        it->value.IsNumber() ? PopWait(it->value.GetDouble()) : std::nullopt;
    if (!wait) {
      return Error{ErrorCode::kInvalidRequest,
                   "\"wait\" must be a number of seconds from 0 to " +
                       std::to_string(std::chrono::seconds(kMaxPopWait).count())};
    }
    request->wait = *wait;
  }
  return std::nullopt;
}

// An expiry: an expire's "seconds" (an integer) or an append's "ttl" (an
// integer from 1), at most kMaxExpireSeconds, or instead of either "at_ms"
// (unix milliseconds, from 1). An expire needs one of them.
std::optional<Error> DecodeExpiry(const rapidjson::Value& object, Request* request) {
  const bool expire = request->op == Op::kExpire;
  const char* const name = expire ? "seconds" : "ttl";
  auto relative = object.FindMember(name);
  auto absolute = object.FindMember("at_ms");
  const bool has_relative = relative != object.MemberEnd();
  const bool has_absolute = absolute != object.MemberEnd();
  if (has_relative && has_absolute) {
    return Error{ErrorCode::kInvalidRequest,
                 std::string("\"") + name + "\" and \"at_ms\" cannot go together"};
  }
  if (has_absolute) {
    if (!absolute->value.IsUint64() || absolute->value.GetUint64() == 0) {
      return Error{ErrorCode::kInvalidRequest,
                   "\"at_ms\" must be unix time in milliseconds, from 1"};
    }
    request->at_ms = absolute->value.GetUint64();
    return std::nullopt;
  }
  if (!has_relative) {
    if (!expire) return std::nullopt;
    return Error{ErrorCode::kInvalidRequest, "missing integer field \"seconds\" (or \"at_ms\")"};
  }
  const rapidjson::Value& v = relative->value;
  if (!v.IsInt64() || v.GetInt64() > kMaxExpireSeconds || (!expire && v.GetInt64() < 1)) {
    return Error{ErrorCode::kInvalidRequest, std::string("\"") + name + "\" must be an integer " +
                                                 (expire ? "up" : "from 1 up") + " to " +
                                                 std::to_string(kMaxExpireSeconds) + " (seconds)"};
  }
  if (expire) {
    request->seconds = v.GetInt64();
  } else {
    request->ttl = static_cast<std::uint64_t>(v.GetInt64());
  }
  return std::nullopt;
}

std::optional<Error> DecodeItems(const rapidjson::Value& object, std::vector<KeyValue>* items) {
  auto it = object.FindMember("items");
  if (it == object.MemberEnd() || !it->value.IsArray()) {
    return Error{ErrorCode::kInvalidRequest, "\"items\" must be an array of {\"key\",\"val\"}"};
  }
  items->reserve(it->value.Size());
  for (const auto& item : it->value.GetArray()) {
    if (!item.IsObject()) {
      return Error{ErrorCode::kInvalidRequest, "each of \"items\" must be an object"};
    }
    KeyValue kv;
    if (auto e = RequireString(item, "key", &kv.key)) return e;
    if (auto e = RequireString(item, "val", &kv.val)) return e;
    items->push_back(std::move(kv));
  }
  return std::nullopt;
}

}  // namespace

Request Request::Append(std::string key, std::string val) {
  Request r;
  r.op = Op::kAppend;
  r.key = std::move(key);
  r.val = std::move(val);
  return r;
}

Request Request::AppendMany(std::vector<KeyValue> items) {
  Request r;
  r.op = Op::kAppendMany;
  r.items = std::move(items);
  return r;
}

Request Request::Get(std::string key) {
  Request r;
  r.op = Op::kGet;
  r.key = std::move(key);
  return r;
}

Request Request::Len(std::string key) {
  Request r;
  r.op = Op::kLen;
  r.key = std::move(key);
  return r;
}

Request Request::Delete(std::string key) {
  Request r;
  r.op = Op::kDelete;
  r.key = std::move(key);
  return r;
}

Request Request::Trim(std::string key, std::int64_t start, std::int64_t stop) {
  Request r;
  r.op = Op::kTrim;
  r.key = std::move(key);
  r.start = start;
  r.stop = stop;
  return r;
}

Request Request::Pop(std::string key, std::uint64_t count, bool from_tail) {
  Request r;
  r.op = Op::kPop;
  r.key = std::move(key);
  r.count = count;
  r.from_tail = from_tail;
  return r;
}

Request Request::Expire(std::string key, std::int64_t seconds) {
  Request r;
  r.op = Op::kExpire;
  r.key = std::move(key);
  r.seconds = seconds;
  return r;
}

Request Request::Persist(std::string key) {
  Request r;
  r.op = Op::kPersist;
  r.key = std::move(key);
  return r;
}

Request Request::Ttl(std::string key) {
  Request r;
  r.op = Op::kTtl;
  r.key = std::move(key);
  return r;
}

Request Request::Keys(std::string prefix) {
  Request r;
  r.op = Op::kKeys;
  r.prefix = std::move(prefix);
  return r;
}

Request Request::Stats() {
  Request r;
  r.op = Op::kStats;
  return r;
}

Request Request::Watch(std::string prefix, std::optional<std::uint64_t> from_revision) {
  Request r;
  r.op = Op::kWatch;
  r.prefix = std::move(prefix);
  r.from_revision = from_revision;
  return r;
}

std::optional<Op> OpFromName(std::string_view name) {
  for (const auto& [op, n] : kOps) {
    if (n == name) return op;
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> PopWait(double seconds) {
  if (!(seconds >= 0) || seconds > std::chrono::seconds(kMaxPopWait).count()) return std::nullopt;
  // Up to the next millisecond; the slack keeps a number that is a whole
  // count of them (as EncodeRequest writes one) from rounding up.
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000 - 1e-6)));
}

std::string_view OpName(Op op) {
  for (const auto& [o, name] : kOps) {
    if (o == op) return name;
  }
  return "?";
}

bool IsWrite(Op op) {
  return op == Op::kAppend || op == Op::kAppendMany || op == Op::kDelete || op == Op::kTrim ||
         op == Op::kPop || op == Op::kExpire || op == Op::kPersist;
}

bool IsRead(Op op) {
  return op == Op::kGet || op == Op::kLen || op == Op::kKeys || op == Op::kStats || op == Op::kTtl;
}

bool IsClusterOp(Op op) {
  return op == Op::kCluster || op == Op::kClusterAdd || op == Op::kClusterRemove ||
         op == Op::kClusterRegister || op == Op::kReadIndex;
}

std::optional<Error> DecodeRequest(std::string_view line, Request* request) {
  // Most requests are flat, and reading them without a JSON document is
  // much cheaper (doc/design.md, "Less work per request").
  if (internal::DecodeFlatRequest(line, request)) return std::nullopt;
  return internal::DecodeRequestDocument(line, request);
}

std::optional<Error> internal::DecodeRequestDocument(std::string_view line, Request* request) {
  *request = Request{};
  internal::LineDocument storage;
  auto& doc = storage.doc();
  if (auto e = internal::ParseJsonLine(line, &doc)) return e;
  if (!doc.IsObject()) return Error{ErrorCode::kInvalidRequest, "a request must be a JSON object"};
  if (auto id = doc.FindMember("id"); id != doc.MemberEnd())
    request->id = internal::ToJson(id->value);

  std::optional<Error> error;
  const rapidjson::Value* op_name = FindString(doc, "op", &error);
  if (error) return error;
  if (op_name == nullptr) return Missing("op");
  const auto op = OpFromName(std::string_view(op_name->GetString(), op_name->GetStringLength()));
  if (!op) return Error{ErrorCode::kUnknownOp, "unknown op \"" + AsString(*op_name) + "\""};
  request->op = *op;

  if (IsWrite(*op)) {
    if (auto e = DecodeOrigin(doc, request)) return e;
  }
  if (IsRead(*op)) {
    if (auto e = OptionalBool(doc, "stale", &request->stale)) return e;
  }
  if (auto e = DecodeRange(doc, request)) return e;
  switch (*op) {
    case Op::kAppend:
      if (auto e = RequireString(doc, "key", &request->key)) return e;
      if (auto e = RequireString(doc, "val", &request->val)) return e;
      if (auto e = DecodeExpiry(doc, request)) return e;
      return DecodeCondition(doc, request);
    case Op::kExpire:
      if (auto e = RequireString(doc, "key", &request->key)) return e;
      return DecodeExpiry(doc, request);
    case Op::kAppendMany:
      return DecodeItems(doc, &request->items);
    case Op::kGet:
    case Op::kLen:
    case Op::kDelete:
    case Op::kTrim:
    case Op::kPersist:
    case Op::kTtl:
      return RequireString(doc, "key", &request->key);
    case Op::kPop:
      if (auto e = RequireString(doc, "key", &request->key)) return e;
      return DecodePop(doc, request);
    case Op::kKeys:
      if (const rapidjson::Value* p = FindString(doc, "prefix", &error))
        request->prefix = AsString(*p);
      return error;
    case Op::kWatch: {
      if (const rapidjson::Value* p = FindString(doc, "prefix", &error))
        request->prefix = AsString(*p);
      if (error) return error;
      std::uint64_t from = 0;
      if (auto e = OptionalCount(doc, "from", &from)) return e;
      if (doc.HasMember("from")) request->from_revision = from;
      return std::nullopt;
    }
    case Op::kPing:
    case Op::kStats:
    case Op::kReadIndex:
      return std::nullopt;
    case Op::kCluster:
      return OptionalBool(doc, "local", &request->local);
    case Op::kClusterAdd:
    case Op::kClusterRegister:
      if (auto e = RequireString(doc, "address", &request->address)) return e;
      [[fallthrough]];
    case Op::kClusterRemove:
      if (auto e = OptionalCount(doc, "node", &request->node)) return e;
      if (request->node == 0) {
        return Error{ErrorCode::kInvalidRequest, "\"node\" must be a node id above 0"};
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::string EncodeRequest(const Request& request) {
  std::string line;
  internal::StringAppender out{&line};
  internal::LineWriter w(out);
  w.StartObject();
  w.Key("op");
  internal::WriteString(w, OpName(request.op));
  if (!request.id.empty()) {
    w.Key("id");
    w.RawValue(request.id.data(), request.id.size(), rapidjson::kObjectType);
  }
  if (request.client != 0) {
    w.Key("client");
    w.Uint64(request.client);
    w.Key("seq");
    w.Uint64(request.seq);
  }
  if (request.stale) {
    w.Key("stale");
    w.Bool(true);
  }
  switch (request.op) {
    case Op::kAppend:
      w.Key("key");
      internal::WriteString(w, request.key);
      w.Key("val");
      internal::WriteString(w, request.val);
      if (request.if_revision) {
        w.Key("if_revision");
        w.Uint64(*request.if_revision);
      }
      if (request.if_length) {
        w.Key("if_length");
        w.Uint64(*request.if_length);
      }
      if (request.ttl != 0) {
        w.Key("ttl");
        w.Uint64(request.ttl);
      }
      if (request.at_ms != 0) {
        w.Key("at_ms");
        w.Uint64(request.at_ms);
      }
      break;
    case Op::kExpire:
      w.Key("key");
      internal::WriteString(w, request.key);
      if (request.at_ms != 0) {
        w.Key("at_ms");
        w.Uint64(request.at_ms);
      } else {
        w.Key("seconds");
        w.Int64(request.seconds);
      }
      break;
    case Op::kAppendMany:
      w.Key("items");
      w.StartArray();
      for (const auto& kv : request.items) {
        w.StartObject();
        w.Key("key");
        internal::WriteString(w, kv.key);
        w.Key("val");
        internal::WriteString(w, kv.val);
        w.EndObject();
      }
      w.EndArray();
      break;
    case Op::kPop:
      w.Key("key");
      internal::WriteString(w, request.key);
      if (request.count != 1) {
        w.Key("count");
        w.Uint64(request.count);
      }
      if (request.from_tail) {
        w.Key("from");
        internal::WriteString(w, "tail");
      }
      if (request.wait.count() > 0) {
        w.Key("wait");
        w.Double(static_cast<double>(request.wait.count()) / 1000);
      }
      break;
    case Op::kGet:
    case Op::kLen:
    case Op::kDelete:
    case Op::kTrim:
    case Op::kPersist:
    case Op::kTtl:
      w.Key("key");
      internal::WriteString(w, request.key);
      if (request.start) {
        w.Key("start");
        w.Int64(*request.start);
      }
      if (request.stop) {
        w.Key("stop");
        w.Int64(*request.stop);
      }
      break;
    case Op::kKeys:
    case Op::kWatch:
      if (!request.prefix.empty()) {
        w.Key("prefix");
        internal::WriteString(w, request.prefix);
      }
      if (request.from_revision) {
        w.Key("from");
        w.Uint64(*request.from_revision);
      }
      break;
    case Op::kPing:
    case Op::kStats:
    case Op::kReadIndex:
      break;
    case Op::kCluster:
      if (request.local) {
        w.Key("local");
        w.Bool(true);
      }
      break;
    case Op::kClusterAdd:
    case Op::kClusterRegister:
      w.Key("address");
      internal::WriteString(w, request.address);
      [[fallthrough]];
    case Op::kClusterRemove:
      w.Key("node");
      w.Uint64(request.node);
      break;
  }
  w.EndObject();
  line += '\n';
  return line;
}

}  // namespace kvd::proto
