#include "daemon/http_routes.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/http_docs.h"
#include "daemon/metric_text.h"
#include "util/utf8.h"

namespace kvd::daemon::http {
namespace {

namespace asio = boost::asio;
using Json = rapidjson::Writer<rapidjson::StringBuffer>;

void String(Json& json, std::string_view s) {
  json.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

Reply JsonReply(unsigned status, const std::function<void(Json&)>& fill) {
  rapidjson::StringBuffer buffer;
  Json json(buffer);
  json.StartObject();
  fill(json);
  json.EndObject();
  return Reply{
      status, "application/json", std::string(buffer.GetString(), buffer.GetSize()) + "\n", {}, {}};
}

// {"key":K,"values":[...],"revision":N}, encoded straight from the
// engine's packed copy (proto::AppendJsonString escapes as the JSON writer
// does).
Reply ValuesReply(std::string_view key, ValueView values, std::uint64_t revision) {
  std::string body = "{\"key\":";
  proto::AppendJsonString(key, &body);
  body += ",\"values\":[";
  bool first = true;
  for (std::string_view v : values) {
    if (!first) body.push_back(',');
    first = false;
    proto::AppendJsonString(v, &body);
  }
  body += "],\"revision\":";
  body += std::to_string(revision);
  body += "}\n";
  return Reply{200, "application/json", std::move(body), {}, {}};
}

Reply OkReply() {
  return JsonReply(200, [](Json& json) {
    json.Key("ok");
    json.Bool(true);
  });
}

unsigned StatusOf(proto::ErrorCode code) {
  switch (code) {
    case proto::ErrorCode::kKeyTooLarge:
    case proto::ErrorCode::kValueTooLarge:
      return 413;
    case proto::ErrorCode::kStorageError:
    case proto::ErrorCode::kUnavailable:
      return 503;
    case proto::ErrorCode::kConflict:
      return 409;
    default:
      return 500;
  }
}

// In cluster mode, waits until a read that starts now may read the engine
// (a linearizable read: Committer::ReadsWait), unless the request asks for
// a stale one (?stale=true); false with a 503 in *error if it may not.
// Whether the request asks for a stale read (?stale=true).
bool Stale(const Request& r) {
  const std::string* stale = r.Param("stale");
  return stale != nullptr && (*stale == "true" || *stale == "1");
}

asio::awaitable<bool> AwaitReadable(const Services& s, const Request& r, Reply* error) {
  if (!s.commits.ReadsWait() || Stale(r)) co_return true;
  const CommitResult ready = co_await s.commits.AsyncAwaitReadable(asio::use_awaitable);
  if (ready.status().ok()) co_return true;
  *error = ErrorReply(503, ready.status().message());
  co_return false;
}

// The write's origin from the optional client and seq parameters (both or
// neither), for a client that retries (PROTOCOL.md, "Exactly once"); false
// with a 400 in *error if they are malformed.
bool ReadOrigin(const Request& r, proto::Request* op, Reply* error) {
  const std::string* client = r.Param("client");
  const std::string* seq = r.Param("seq");
  if (client == nullptr && seq == nullptr) return true;
  auto number = [](const std::string* text, std::uint64_t* out) {
    if (text == nullptr || text->empty() || text->size() > 19 ||
        text->find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    *out = std::stoull(*text);
    return *out > 0;
  };
  if (!number(client, &op->client) || !number(seq, &op->seq)) {
    *error = ErrorReply(400, "client and seq go together, both whole numbers above 0");
    return false;
  }
  return true;
}

// An append's condition from the optional if_revision or if_length
// parameter (at most one, a whole number; PROTOCOL.md, "Conditional
// append"); false with a 400 in *error if malformed.
bool ReadCondition(const Request& r, proto::Request* op, Reply* error) {
  const std::string* revision = r.Param("if_revision");
  const std::string* length = r.Param("if_length");
  if (revision != nullptr && length != nullptr) {
    *error = ErrorReply(400, "if_revision and if_length cannot go together");
    return false;
  }
  const std::string* given = revision != nullptr ? revision : length;
  if (given == nullptr) return true;
  if (given->empty() || given->size() > 19 ||
      given->find_first_not_of("0123456789") != std::string::npos) {
    *error = ErrorReply(400, std::string(revision != nullptr ? "if_revision" : "if_length") +
                                 " must be a whole number, 0 or more");
    return false;
  }
  (revision != nullptr ? op->if_revision : op->if_length) = std::stoull(*given);
  return true;
}

// A range's start and stop parameters, those given (whole numbers, negative
// from the end, as in the protocol's get and trim), into *op; false with a
// 400 in *error if malformed.
bool ReadRange(const Request& r, proto::Request* op, Reply* error) {
  for (const auto& [name, out] : {std::pair{"start", &op->start}, std::pair{"stop", &op->stop}}) {
    const std::string* given = r.Param(name);
    if (given == nullptr) continue;
    const char* end = given->data() + given->size();
    std::int64_t n = 0;
    const auto [at, failed] = std::from_chars(given->data(), end, n);
    if (failed != std::errc() || at != end) {
      *error =
          ErrorReply(400, std::string(name) + " must be a whole number (negative: from the end)");
      return false;
    }
    *out = n;
  }
  return true;
}

// An expiry in seconds from parameter `name` (a whole number up to
// proto::kMaxExpireSeconds; from 1 if `from_one`, as an append's ttl) into
// *seconds; false with a 400 in *error if missing or malformed.
bool ReadSeconds(const Request& r, const char* name, bool from_one, std::int64_t* seconds,
                 Reply* error) {
  const std::string* given = r.Param(name);
  const char* end = given == nullptr ? nullptr : given->data() + given->size();
  if (given == nullptr || std::from_chars(given->data(), end, *seconds).ptr != end ||
      given->empty() || *seconds > proto::kMaxExpireSeconds || (from_one && *seconds < 1)) {
    *error = ErrorReply(400, std::string(name) + " must be a whole number of seconds" +
                                 (from_one ? " from 1" : "") + " up to " +
                                 std::to_string(proto::kMaxExpireSeconds));
    return false;
  }
  return true;
}

// An append's optional ttl parameter into *op; false with a 400 in *error
// if malformed.
bool ReadTtl(const Request& r, proto::Request* op, Reply* error) {
  if (r.Param("ttl") == nullptr) return true;
  std::int64_t seconds = 0;
  if (!ReadSeconds(r, "ttl", true, &seconds, error)) return false;
  op->ttl = static_cast<std::uint64_t>(seconds);
  return true;
}

// A pop's optional count (a whole number from 1), from (head or tail) and
// wait (seconds, as the protocol's) parameters into *pop; false with a 400
// in *error if malformed.
bool ReadPop(const Request& r, proto::Request* pop, Reply* error) {
  if (const std::string* count = r.Param("count")) {
    const char* end = count->data() + count->size();
    const auto [at, failed] = std::from_chars(count->data(), end, pop->count);
    if (failed != std::errc() || at != end || pop->count == 0) {
      *error = ErrorReply(400, "count must be a whole number from 1");
      return false;
    }
  }
  if (const std::string* from = r.Param("from")) {
    if (*from != "head" && *from != "tail") {
      *error = ErrorReply(400, "from must be head or tail");
      return false;
    }
    pop->from_tail = *from == "tail";
  }
  if (const std::string* wait = r.Param("wait")) {
    const char* end = wait->data() + wait->size();
    double seconds = -1;
    const auto [at, failed] = std::from_chars(wait->data(), end, seconds);
    const std::optional<std::chrono::milliseconds> given =
        failed == std::errc() && at == end ? proto::PopWait(seconds) : std::nullopt;
    if (!given) {
      *error =
          ErrorReply(400, "wait must be a number of seconds from 0 to " +
                              std::to_string(std::chrono::seconds(proto::kMaxPopWait).count()));
      return false;
    }
    pop->wait = *given;
  }
  return true;
}

// Runs `op` as the socket protocol does (size limits; writes through the
// commit queue, acknowledged once durable); a failure becomes *error.
asio::awaitable<std::optional<proto::Response>> Execute(const Services& s, proto::Request op,
                                                        Reply* error) {
  std::optional<proto::Response> response;
  if (auto e = CheckSizes(op, s.limits.max_key, s.limits.max_value)) {
    s.requests.CountError(op.op, e->code);
    *error = ErrorReply(StatusOf(e->code), e->message);
    co_return response;
  }
  if (proto::IsWrite(op.op)) {
    WriteBatch batch;
    const RequestMutations made = AppendMutations(op, s.engine, UnixMillis(), &batch);
    const CommitResult result = co_await s.commits.AsyncSubmit(batch, asio::use_awaitable);
    response = WriteResponse(op, result, s.engine, made.guards);
  } else {
    if (proto::IsRead(op.op) && !op.stale && s.commits.ReadsWait()) {
      const CommitResult ready = co_await s.commits.AsyncAwaitReadable(asio::use_awaitable);
      if (!ready.status().ok()) {
        s.requests.CountError(op.op, proto::ErrorCode::kUnavailable);
        *error = ErrorReply(503, ready.status().message());
        co_return response;
      }
    }
    response = ReadResponse(op, s.engine, s.stats);
  }
  if (response->error && response->error->code == proto::ErrorCode::kConflict) {
    // {"error":...,"revision":CUR}: what the client rereads before it retries.
    s.requests.CountError(op.op, response->error->code);
    *error = JsonReply(409, [&](Json& json) {
      json.Key("error");
      String(json, response->error->message);
      json.Key("revision");
      json.Uint64(response->revision.value_or(0));
    });
    response.reset();
  } else if (response->error) {
    s.requests.CountError(op.op, response->error->code);
    *error = ErrorReply(StatusOf(response->error->code), response->error->message);
    response.reset();
  } else {
    s.requests.Count(op.op);
  }
  co_return response;
}

// A key's values (or its range's) and its revision, read together
// (GetValues).
struct KeyValues {
  ValueList values;  // a copy, one allocation
  std::uint64_t revision = 0;
};

// The values and revision that `get` reads, or a 413 in *error when its key
// is over --max-key-size (a 503 when it may not be read, see AwaitReadable).
asio::awaitable<std::optional<KeyValues>> Get(const Services& s, const Request& r,
                                              const proto::Request& get, Reply* error) {
  if (auto e = CheckSizes(get, s.limits.max_key, s.limits.max_value)) {
    s.requests.CountError(proto::Op::kGet, e->code);
    *error = ErrorReply(StatusOf(e->code), e->message);
    co_return std::nullopt;
  }
  if (!co_await AwaitReadable(s, r, error)) {
    s.requests.CountError(proto::Op::kGet, proto::ErrorCode::kUnavailable);
    co_return std::nullopt;
  }
  s.requests.Count(proto::Op::kGet);
  KeyValues read;
  read.values = GetValues(get, s.engine, &read.revision);
  co_return read;
}

// The parameter `name`, or a 400 in *error.
const std::string* Required(const Request& r, std::string_view name, Reply* error) {
  const std::string* value = r.Param(name);
  if (value == nullptr) *error = ErrorReply(400, "missing parameter: " + std::string(name));
  return value;
}

asio::awaitable<Reply> Home(const Services& s, const Request& r) {
  co_return RenderDocs(r.accept, s.options.name, r.host);
}

asio::awaitable<Reply> Hello(const Services& s, const Request&) {
  co_return Reply{200, "text/plain; charset=utf-8", "Hello, World!\n" + s.options.name, {}, {}};
}

asio::awaitable<Reply> Health(const Services& s, const Request& r) {
  if (s.stopping()) co_return ErrorReply(503, "shutting down");
  if (const Status refused = s.engine.WriteRefusal(); !refused.ok()) {
    co_return ErrorReply(503, "writes are refused: " + refused.ToString());
  }
  std::optional<NodeRole> role;
  if (s.role) role = s.role();
  if (role) {
    if (!role->has_leader)
      co_return ErrorReply(503, "the cluster has no leader this node knows of");
    const std::string* wanted = r.Param("role");
    if (wanted != nullptr && *wanted == "leader" && !role->leader) {
      co_return ErrorReply(503, "this node is not the leader");
    }
  } else if (const Status last = s.commits.LastCommitStatus(); !last.ok()) {
    co_return ErrorReply(503, "the last write failed: " + last.ToString());
  }
  co_return JsonReply(200, [&](Json& json) {
    json.Key("status");
    json.String("ok");
    if (role) {
      json.Key("role");
      json.String(role->leader ? "leader" : "follower");
    }
  });
}

asio::awaitable<Reply> Metrics(const Services& s, const Request&) {
  co_return Reply{200, std::string(MetricText::kContentType), s.metrics(), {}, {}};
}

asio::awaitable<Reply> GetStorage(const Services& s, const Request& r) {
  Reply error;
  const std::string* key = Required(r, "key", &error);
  if (key == nullptr) co_return error;
  const std::optional<KeyValues> read = co_await Get(s, r, proto::Request::Get(*key), &error);
  if (!read) co_return error;
  co_return ValuesReply(*key, read->values.view(), read->revision);
}

asio::awaitable<Reply> PostStorage(const Services& s, const Request& r) {
  Reply error;
  const std::string* key = Required(r, "key", &error);
  const std::string* val = key ? Required(r, "val", &error) : nullptr;
  if (val == nullptr) co_return error;
  proto::Request op = proto::Request::Append(*key, *val);
  if (!ReadOrigin(r, &op, &error)) co_return error;
  if (!ReadCondition(r, &op, &error)) co_return error;
  if (!ReadTtl(r, &op, &error)) co_return error;
  if (!co_await Execute(s, std::move(op), &error)) co_return error;
  co_return OkReply();
}

asio::awaitable<Reply> ListKeys(const Services& s, const Request& r) {
  // Not a conditional inside the co_await: GCC 12 mishandles its temporary.
  const std::string* given = r.Param("prefix");
  proto::Request op = proto::Request::Keys(given != nullptr ? *given : std::string());
  op.stale = Stale(r);
  Reply error;
  auto response = co_await Execute(s, std::move(op), &error);
  if (!response) co_return error;
  co_return JsonReply(200, [&](Json& json) {
    json.Key("keys");
    json.StartArray();
    for (const auto& k : *response->keys) String(json, k);
    json.EndArray();
  });
}

asio::awaitable<Reply> GetKey(const Services& s, const Request& r) {
  Reply error;
  proto::Request get = proto::Request::Get(r.key);
  if (!ReadRange(r, &get, &error)) co_return error;
  const std::optional<KeyValues> read = co_await Get(s, r, get, &error);
  if (!read) co_return error;
  // A range may name none of a key's values: then only an absent key (of
  // revision 0) is not found.
  const bool ranged = get.start || get.stop;
  if (ranged ? read->revision == 0 : read->values.empty()) {
    co_return ErrorReply(404, "no such key");
  }
  co_return ValuesReply(r.key, read->values.view(), read->revision);
}

// A read answering {"key":K,NAME:N}: `op`, a len or a ttl of r.key.
asio::awaitable<Reply> KeyFigure(const Services& s, const Request& r, proto::Request op) {
  op.stale = Stale(r);
  Reply error;
  auto response = co_await Execute(s, std::move(op), &error);
  if (!response) co_return error;
  co_return JsonReply(200, [&](Json& json) {
    json.Key("key");
    String(json, r.key);
    if (response->length) {
      json.Key("length");
      json.Uint64(*response->length);
    } else {
      json.Key("ttl_ms");
      json.Int64(*response->ttl_ms);
    }
  });
}

asio::awaitable<Reply> KeyLength(const Services& s, const Request& r) {
  return KeyFigure(s, r, proto::Request::Len(r.key));
}

asio::awaitable<Reply> PopKey(const Services& s, const Request& r) {
  Reply error;
  proto::Request op = proto::Request::Pop(r.key);
  if (!ReadPop(r, &op, &error)) co_return error;
  if (!ReadOrigin(r, &op, &error)) co_return error;
  auto response = co_await Execute(s, op, &error);
  if (!response) co_return error;
  std::vector<std::string> values = std::move(*response->values);
  if (values.empty() && op.wait.count() > 0 && s.pop_waiters != nullptr) {
    // Took none: waits in the line of the socket's waiting pops. (Counted
    // once, as the pop its first commit answered.)
    boost::system::error_code ignored;
    auto [status, taken] =
        co_await s.pop_waiters->AsyncWait(op, asio::redirect_error(asio::use_awaitable, ignored));
    if (!status.ok()) co_return ErrorReply(503, "not popped: " + status.ToString());
    values = std::move(taken);
  }
  co_return JsonReply(200, [&](Json& json) {
    json.Key("key");
    String(json, r.key);
    json.Key("values");
    json.StartArray();
    for (const auto& v : values) String(json, v);
    json.EndArray();
  });
}

asio::awaitable<Reply> TrimKey(const Services& s, const Request& r) {
  Reply error;
  // Both indices: unlike a get's range, a trim's has no defaults.
  if (Required(r, "start", &error) == nullptr || Required(r, "stop", &error) == nullptr) {
    co_return error;
  }
  proto::Request op = proto::Request::Trim(r.key, 0, -1);
  if (!ReadRange(r, &op, &error)) co_return error;
  if (!ReadOrigin(r, &op, &error)) co_return error;
  if (!co_await Execute(s, std::move(op), &error)) co_return error;
  co_return OkReply();
}

asio::awaitable<Reply> ExpireKey(const Services& s, const Request& r) {
  Reply error;
  std::int64_t seconds = 0;
  if (!ReadSeconds(r, "seconds", false, &seconds, &error)) co_return error;
  proto::Request op = proto::Request::Expire(r.key, seconds);
  if (!ReadOrigin(r, &op, &error)) co_return error;
  auto response = co_await Execute(s, std::move(op), &error);
  if (!response) co_return error;
  if (!*response->existed) co_return ErrorReply(404, "no such key");
  co_return JsonReply(200, [](Json& json) {
    json.Key("existed");
    json.Bool(true);
  });
}

asio::awaitable<Reply> PersistKey(const Services& s, const Request& r) {
  Reply error;
  proto::Request op = proto::Request::Persist(r.key);
  if (!ReadOrigin(r, &op, &error)) co_return error;
  auto response = co_await Execute(s, std::move(op), &error);
  if (!response) co_return error;
  co_return JsonReply(200, [&](Json& json) {
    json.Key("persisted");
    json.Bool(*response->persisted);
  });
}

asio::awaitable<Reply> KeyTtl(const Services& s, const Request& r) {
  return KeyFigure(s, r, proto::Request::Ttl(r.key));
}

asio::awaitable<Reply> PostKey(const Services& s, const Request& r) {
  if (!IsValidUtf8(r.body)) co_return ErrorReply(400, "the body is not valid UTF-8");
  Reply error;
  proto::Request op = proto::Request::Append(r.key, r.body);
  if (!ReadOrigin(r, &op, &error)) co_return error;
  if (!ReadCondition(r, &op, &error)) co_return error;
  if (!ReadTtl(r, &op, &error)) co_return error;
  if (!co_await Execute(s, std::move(op), &error)) co_return error;
  co_return OkReply();
}

asio::awaitable<Reply> DeleteKey(const Services& s, const Request& r) {
  Reply error;
  proto::Request op = proto::Request::Delete(r.key);
  if (!ReadOrigin(r, &op, &error)) co_return error;
  auto response = co_await Execute(s, std::move(op), &error);
  if (!response) co_return error;
  if (!*response->deleted) co_return ErrorReply(404, "no such key");
  co_return JsonReply(200, [](Json& json) {
    json.Key("deleted");
    json.Bool(true);
  });
}

// A revision given as text: a whole number, 0 or more.
std::optional<std::uint64_t> RevisionOf(const std::string& text) {
  std::uint64_t n = 0;
  const char* end = text.data() + text.size();
  const auto [at, failed] = std::from_chars(text.data(), end, n);
  if (text.empty() || failed != std::errc() || at != end) return std::nullopt;
  return n;
}

asio::awaitable<Reply> Watch(const Services& s, const Request& r) {
  const std::string* prefix = r.Param("prefix");
  proto::Request op = proto::Request::Watch(prefix != nullptr ? *prefix : std::string(), {});
  // An EventSource reconnecting sends the URL it first used, and the id of
  // the last event it received: that is where it goes on.
  if (!r.last_event_id.empty()) {
    op.from_revision = RevisionOf(r.last_event_id);
    if (!op.from_revision) {
      co_return ErrorReply(400, "Last-Event-ID must be a revision, a whole number");
    }
  } else if (const std::string* from = r.Param("from")) {
    op.from_revision = RevisionOf(*from);
    if (!op.from_revision) co_return ErrorReply(400, "from must be a whole number, 0 or more");
  }
  if (auto e = CheckSizes(op, s.limits.max_key, s.limits.max_value)) {
    s.requests.CountError(op.op, e->code);
    co_return ErrorReply(StatusOf(e->code), e->message);
  }
  std::uint64_t position = 0;
  const proto::Response start = WatchStart(op, s.engine, &position);
  if (start.error) {
    // compacted: {"error":...,"revision":OLDEST}, where a watch may start.
    s.requests.CountError(op.op, start.error->code);
    co_return JsonReply(410, [&](Json& json) {
      json.Key("error");
      String(json, start.error->message);
      json.Key("revision");
      json.Uint64(start.revision.value_or(0));
    });
  }
  s.requests.Count(op.op);
  Reply reply{200, "text/event-stream", {}, {}, {}};
  reply.watch = WatchStream{std::move(op.prefix), position};
  co_return reply;
}

asio::awaitable<Reply> Stats(const Services& s, const Request& r) {
  Reply error;
  proto::Request op = proto::Request::Stats();
  op.stale = Stale(r);
  auto response = co_await Execute(s, std::move(op), &error);
  if (!response) co_return error;
  co_return JsonReply(200, [&](Json& json) {
    for (const auto& [name, value] : response->stats) {
      String(json, name);
      json.Uint64(value);
    }
  });
}

// Splits a route's path pattern as ParseTarget splits a request's.
std::vector<std::string_view> Pattern(std::string_view path) {
  std::vector<std::string_view> segments;
  path.remove_prefix(1);
  while (!path.empty()) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return segments;
}

// True if `segments` match `pattern` (a route's path, split); sets *key to its {key}.
bool Matches(const std::vector<std::string_view>& pattern, const std::vector<std::string>& segments,
             std::string* key) {
  if (pattern.size() != segments.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{key}") {
      *key = segments[i];
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

const std::string* Request::Param(std::string_view name) const {
  const std::string* value = FindParam(target.query, name);
  return value != nullptr ? value : FindParam(form, name);
}

Reply ErrorReply(unsigned status, std::string_view message) {
  return JsonReply(status, [&](Json& json) {
    json.Key("error");
    String(json, message);
  });
}

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {Verb::get,
       "/",
       "This description of the API: HTML for browsers (Accept: text/html), JSON for "
       "Accept: application/json, plain text otherwise.",
       {},
       {"/", "", ""},
       {},
       Home},
      {Verb::get,
       "/hello",
       "A greeting and the name of the server (kvd --name), as plain text.",
       {},
       {"/hello", "", "Hello, World!\nServer 1"},
       {},
       Hello},
      {Verb::get,
       "/health",
       "For load balancers: 200 while this server can serve reads and persist writes; 503 when "
       "its last write could not be made durable (e.g. a full disk; until a write succeeds "
       "again) and while it shuts down. In cluster mode: 200 with this node's role while it "
       "knows a leader, 503 otherwise.",
       {{"role", "query", "cluster mode: leader, to answer 200 on the leader only"}},
       {"/health", "", "{\"status\":\"ok\"}\n"},
       {{503, "the last write failed, or the server is shutting down"},
        {503, "cluster mode: no leader is known, or ?role=leader on another node"}},
       Health},
      {Verb::post,
       "/api/v1/storage",
       "Appends val to the values of key (like kvctl --key K --val V); answers once the write "
       "is durable under the server's --fsync policy. With if_revision or if_length, only if "
       "the key is still as the client read it (a compare-and-set; 409 otherwise). The "
       "parameters may also come as an application/x-www-form-urlencoded body.",
       {{"key", "query", "the key (UTF-8, percent-encoded)"},
        {"val", "query", "the value to append (UTF-8, percent-encoded)"},
        {"client", "query", "cluster mode, optional: this client's id, a number above 0"},
        {"seq", "query", "with client: this write's number; a retry with the same is applied once"},
        {"if_revision", "query",
         "optional: append only if the key's revision is still this (0: the key is absent)"},
        {"if_length", "query", "optional, instead: append only if the key holds this many values"},
        {"ttl", "query", "optional: the key then expires in this many seconds (from 1)"}},
       {"/api/v1/storage?key=fruit&val=green%20apple", "", "{\"ok\":true}\n"},
       {{400, "key or val missing, or not UTF-8 once percent-decoded"},
        {400, "if_revision or if_length not a whole number, or both given"},
        {400, "ttl not a whole number of seconds from 1 (up to 100 years)"},
        {409,
         "the condition did not hold: nothing appended; {\"error\":...,\"revision\":N} "
         "gives the key's revision (read it again, then retry)"},
        {413, "key or val over --max-key-size / --max-value-size"},
        {503, "the write could not be made durable; it did not happen"},
        {503, "cluster mode: no leader could take it (unavailable); retry, with client and seq"}},
       PostStorage},
      {Verb::get,
       "/api/v1/storage",
       "The values of key in the order they were appended ([] for a missing key), and its "
       "revision: that of the last change to it (0 for a missing key). The store's revision "
       "counts the changes made to it (each appended value, each delete of a key that "
       "existed, each pop or trim that removed values).",
       {{"key", "query", "the key (UTF-8, percent-encoded)"},
        {"stale", "query", "cluster mode: true to read this node's state at once (may lag)"}},
       {"/api/v1/storage?key=fruit", "",
        "{\"key\":\"fruit\",\"values\":[\"green apple\"],\"revision\":1}\n"},
       {{400, "key missing, or not UTF-8 once percent-decoded"}, {413, "key over --max-key-size"}},
       GetStorage},
      {Verb::post,
       "/api/v1/keys/{key}",
       "Appends the request body, byte for byte, to the values of key (curl --data-binary); "
       "answers once the write is durable. With if_revision or if_length, only if the key is "
       "still as the client read it (409 otherwise).",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"value", "body", "the value to append (UTF-8)"},
        {"client", "query", "cluster mode, optional: this client's id, a number above 0"},
        {"seq", "query", "with client: this write's number; a retry with the same is applied once"},
        {"if_revision", "query",
         "optional: append only if the key's revision is still this (0: the key is absent)"},
        {"if_length", "query", "optional, instead: append only if the key holds this many values"},
        {"ttl", "query", "optional: the key then expires in this many seconds (from 1)"}},
       {"/api/v1/keys/fruit", "pear", "{\"ok\":true}\n"},
       {{400, "the key or the body is not UTF-8"},
        {400, "if_revision or if_length not a whole number, or both given"},
        {400, "ttl not a whole number of seconds from 1 (up to 100 years)"},
        {409,
         "the condition did not hold: nothing appended; {\"error\":...,\"revision\":N} "
         "gives the key's revision (read it again, then retry)"},
        {413, "key or body over --max-key-size / --max-value-size"},
        {503, "the write could not be made durable; it did not happen"},
        {503, "cluster mode: no leader could take it (unavailable); retry, with client and seq"}},
       PostKey},
      {Verb::get,
       "/api/v1/keys/{key}",
       "The values of key in the order they were appended, and its revision (as GET "
       "/api/v1/storage). With start or stop, only the values from index start to index stop, "
       "both included, as Redis's LRANGE: 0 is the first value, -1 the last (negative counts "
       "from the end); indices past either end are clamped, and a range that names none gives "
       "[].",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"start", "query", "optional: the index of the first value (default 0)"},
        {"stop", "query", "optional: the index of the last value (default -1, the last)"},
        {"stale", "query", "cluster mode: true to read this node's state at once (may lag)"}},
       {"/api/v1/keys/fruit", "",
        "{\"key\":\"fruit\",\"values\":[\"green apple\",\"pear\"],\"revision\":2}\n"},
       {{400, "the key is not UTF-8"},
        {400, "start or stop not a whole number"},
        {404, "the key has no values (with start or stop: the key does not exist)"},
        {413, "key over --max-key-size"}},
       GetKey},
      {Verb::get,
       "/api/v1/keys/{key}/length",
       "The number of values key holds; 0 for a missing key (as Redis's LLEN).",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"stale", "query", "cluster mode: true to read this node's state at once (may lag)"}},
       {"/api/v1/keys/fruit/length", "", "{\"key\":\"fruit\",\"length\":2}\n"},
       {{400, "the key is not UTF-8"}, {413, "key over --max-key-size"}},
       KeyLength},
      {Verb::post,
       "/api/v1/keys/{key}/pop",
       "Takes up to count values from the head of key (from=tail: from the tail) and answers "
       "them in the order taken, the last first from the tail (as Redis's LPOP and RPOP with a "
       "count); [] when the key has none. A key left without values is deleted. Answers once "
       "the removal is durable. With wait, a pop of a key without values waits up to that many "
       "seconds for one (values go to waiting pops in the order they came, each to one), and "
       "answers [] if none came.",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"count", "query", "optional: how many values to take, at most (default 1)"},
        {"from", "query", "optional: head (the default) or tail"},
        {"wait", "query",
         "optional: seconds to wait for a value while the key has none (default 0, at most "
         "86400; a fraction rounds up to the millisecond)"},
        {"client", "query", "cluster mode, optional: this client's id, a number above 0"},
        {"seq", "query",
         "with client: this write's number; a retry with the same is applied once, and answers "
         "the values the first took"}},
       {"/api/v1/keys/fruit/pop?from=tail", "", "{\"key\":\"fruit\",\"values\":[\"pear\"]}\n"},
       {{400, "the key is not UTF-8"},
        {400,
         "count not a whole number from 1, from not head or tail, or wait not a number "
         "of seconds from 0 to 86400"},
        {413, "key over --max-key-size"},
        {503, "the removal could not be made durable; it did not happen"},
        {503, "cluster mode: no leader could take it (unavailable); retry, with client and seq"}},
       PopKey},
      {Verb::post,
       "/api/v1/keys/{key}/trim",
       "Keeps only the values of key from index start to index stop, both included, as Redis's "
       "LTRIM (indices as in GET /api/v1/keys/{key}: 0 the first, -1 the last, clamped), and "
       "removes the others; a key left without values is deleted. Answers once the removal is "
       "durable.",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"start", "query", "the index of the first value to keep"},
        {"stop", "query", "the index of the last value to keep"},
        {"client", "query", "cluster mode, optional: this client's id, a number above 0"},
        {"seq", "query",
         "with client: this write's number; a retry with the same is applied once"}},
       {"/api/v1/keys/fruit/trim?start=0&stop=0", "", "{\"ok\":true}\n"},
       {{400, "the key is not UTF-8"},
        {400, "start or stop missing, or not a whole number"},
        {413, "key over --max-key-size"},
        {503, "the removal could not be made durable; it did not happen"},
        {503, "cluster mode: no leader could take it (unavailable); retry, with client and seq"}},
       TrimKey},
      {Verb::post,
       "/api/v1/keys/{key}/expire",
       "Makes key expire in seconds (as Redis's EXPIRE): from then on it is gone for every "
       "reader, and a write to it starts afresh. Seconds of 0 or less delete it now. A write "
       "does not change a key's expiry, unless it is an append with ttl. Answers once durable.",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"seconds", "query", "how long the key lives from now, in seconds"},
        {"client", "query", "cluster mode, optional: this client's id, a number above 0"},
        {"seq", "query",
         "with client: this write's number; a retry with the same is applied once"}},
       {"/api/v1/keys/fruit/expire?seconds=60", "", "{\"existed\":true}\n"},
       {{400, "the key is not UTF-8"},
        {400, "seconds missing, or not a whole number up to 100 years"},
        {404, "no such key (nothing changed)"},
        {413, "key over --max-key-size"},
        {503, "the write could not be made durable; it did not happen"},
        {503, "cluster mode: no leader could take it (unavailable); retry, with client and seq"}},
       ExpireKey},
      {Verb::post,
       "/api/v1/keys/{key}/persist",
       "Makes key expire never (as Redis's PERSIST); persisted is false if the key is missing "
       "or had no expiry. Answers once durable.",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"client", "query", "cluster mode, optional: this client's id, a number above 0"},
        {"seq", "query",
         "with client: this write's number; a retry with the same is applied once"}},
       {"/api/v1/keys/fruit/persist", "", "{\"persisted\":true}\n"},
       {{400, "the key is not UTF-8"},
        {413, "key over --max-key-size"},
        {503, "the write could not be made durable; it did not happen"},
        {503, "cluster mode: no leader could take it (unavailable); retry, with client and seq"}},
       PersistKey},
      {Verb::get,
       "/api/v1/keys/{key}/ttl",
       "The milliseconds before key expires (as Redis's PTTL): -1 if it never does, -2 if it "
       "is missing.",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"stale", "query", "cluster mode: true to read this node's state at once (may lag)"}},
       {"/api/v1/keys/fruit/ttl", "", "{\"key\":\"fruit\",\"ttl_ms\":-1}\n"},
       {{400, "the key is not UTF-8"}, {413, "key over --max-key-size"}},
       KeyTtl},
      {Verb::get,
       "/api/v1/keys",
       "The keys, in byte order; with prefix, only those starting with it.",
       {{"prefix", "query", "optional: only keys starting with this"}},
       {"/api/v1/keys?prefix=fr", "", "{\"keys\":[\"fruit\"]}\n"},
       {{400, "prefix not UTF-8 once percent-decoded"}, {413, "prefix over --max-key-size"}},
       ListKeys},
      {Verb::delete_,
       "/api/v1/keys/{key}",
       "Removes key with all its values; answers once the removal is durable.",
       {{"key", "path", "the key (UTF-8, percent-encoded; %2F for a slash)"},
        {"client", "query", "cluster mode, optional: this client's id, a number above 0"},
        {"seq", "query",
         "with client: this write's number; a retry with the same is applied once"}},
       {"/api/v1/keys/fruit", "", "{\"deleted\":true}\n"},
       {{400, "the key is not UTF-8"},
        {404, "there was no such key"},
        {413, "key over --max-key-size"},
        {503, "the removal could not be made durable; it did not happen"}},
       DeleteKey},
      {Verb::get,
       "/api/v1/watch",
       "A stream of the changes to the keys starting with prefix, as Server-Sent Events "
       "(text/event-stream, for curl -N or a browser's EventSource), in revision order: per "
       "change an event whose id is its revision and whose data is the change as one line of "
       "JSON: its revision, key, kind (append, delete, or trim for a trim or a pop) and values "
       "(the value appended, the values removed, none for a delete). The stream first sets the "
       "id to the revision it starts after. It goes on until the client leaves or the server "
       "stops; one that falls too far behind ends with an event named error whose data is "
       "{\"ok\":false,\"error\":{\"code\":\"slow_watcher\",...},\"revision\":N} (and id N): "
       "watch again from N. A reconnecting EventSource sends Last-Event-ID and resumes after "
       "it, each change once.",
       {{"prefix", "query", "optional: only the changes to keys starting with this"},
        {"from", "query",
         "optional: the revision to start after (default: the store's revision now); the "
         "changes after it must still be kept"},
        {"Last-Event-ID", "header",
         "optional: the id of the last event received; takes the place of from"}},
       // From 4: the expire at 4 carries a time that differs from run to run.
       {"/api/v1/watch?prefix=fr&from=4", "",
        "id: 4\n\n"
        "id: 5\ndata: {\"revision\":5,\"key\":\"fruit\",\"kind\":\"persist\",\"values\":[]}\n\n"
        "id: 6\ndata: {\"revision\":6,\"key\":\"fruit\",\"kind\":\"delete\",\"values\":[]}\n\n"},
       {{400, "prefix not UTF-8, or from or Last-Event-ID not a whole number"},
        {410,
         "the changes after from are no longer kept: {\"error\":...,\"revision\":N}, N the "
         "oldest revision a watch may start from (read the keys again, then watch from there)"},
        {413, "prefix over --max-key-size"}},
       Watch},
      {Verb::get,
       "/api/v1/stats",
       "Counters of the store and the server, as in kvctl stats (revision: the store's "
       "revision).",
       {},
       {"/api/v1/stats", "", ""},
       {},
       Stats},
      {Verb::get,
       "/metrics",
       "Prometheus metrics, in the text exposition format 0.0.4: requests and errors by "
       "operation, connections, the store's size and revision, commits and their duration, "
       "compactions, HTTP responses by route, and in cluster mode the node's Raft figures.",
       {},
       {"/metrics", "", ""},
       {},
       Metrics},
  };
  return routes;
}

const std::vector<Route::Error>& CommonErrors() {
  static const std::vector<Route::Error> errors = {
      {400, "the request is not well-formed HTTP/1.1, or its target is badly percent-encoded"},
      {404, "no route has this path"},
      {405, "the route exists, but not for this method (the Allow header lists the methods)"},
      {413, "the body is over the limit (about 3 x (--max-key-size + --max-value-size))"},
      {431,
       "the request line and headers are over --http-max-header bytes; send large values "
       "in the body"},
      {500, "a bug in kvd"},
      {503, "the server is at --max-connections HTTP connections, or shutting down"},
  };
  return errors;
}

asio::awaitable<Reply> Dispatch(const Services& services, Request& request) {
  const Verb method = request.method == Verb::head ? Verb::get : request.method;
  std::string allow;
  static const std::vector<std::vector<std::string_view>> patterns = [] {
    std::vector<std::vector<std::string_view>> split;
    for (const Route& route : Routes()) split.push_back(Pattern(route.path));
    return split;
  }();
  for (std::size_t i = 0; i < Routes().size(); ++i) {
    const Route& route = Routes()[i];
    if (!Matches(patterns[i], request.target.segments, &request.key)) continue;
    if (route.method == method) {
      // Query parameters may come as a form body, unless the body is a value.
      auto takes = [&route](std::string_view in) {
        return std::any_of(route.params.begin(), route.params.end(),
                           [in](const Route::Param& p) { return p.in == in; });
      };
      if (takes("query") && !takes("body") && request.form_body) {
        if (auto e = ParseForm(request.body, &request.form))
          co_return ErrorReply(400, "body: " + *e);
      }
      request.route = route.path;
      co_return co_await route.handle(services, request);
    }
    if (!allow.empty()) allow += ", ";
    allow += std::string(boost::beast::http::to_string(route.method));
    if (route.method == Verb::get) allow += ", HEAD";
  }
  if (allow.empty()) co_return ErrorReply(404, "no such route; GET / lists them");
  Reply reply = ErrorReply(405, "method not allowed here; allowed: " + allow);
  reply.allow = std::move(allow);
  co_return reply;
}

}  // namespace kvd::daemon::http
