// Responses of the kvd wire protocol: one JSON object per line (PROTOCOL.md).
#ifndef KVD_PROTO_RESPONSE_H_
#define KVD_PROTO_RESPONSE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/error.h"

namespace kvd::proto {

// One response. Which payload member is set depends on the request's op:
// get -> values and revision, len -> length, keys -> keys, delete ->
// deleted, expire -> existed, persist -> persisted, ttl -> ttl_ms, stats ->
// stats, cluster -> cluster, read_index -> index.
struct Response {
  std::string id;              // the request's "id" as JSON text; empty if none
  std::optional<Error> error;  // set: {"ok":false,"error":{...}}
  std::optional<std::vector<std::string>> values;
  // get: the key's revision (of the last change to it; 0 if absent). Unset
  // in the answer of a kvd from before revisions. Also with a `conflict`
  // error: the key's revision read right after the append was refused.
  std::optional<std::uint64_t> revision;
  std::optional<std::vector<std::string>> keys;
  std::optional<bool> deleted;
  std::optional<std::uint64_t> length;  // len: the key's number of values
  std::optional<bool> existed;          // expire: the key existed (it expires now)
  std::optional<bool> persisted;        // persist: the key had an expiry, now removed
  // ttl: milliseconds before the key expires; -1: never, -2: absent (PTTL).
  std::optional<std::int64_t> ttl_ms;
  std::vector<std::pair<std::string, std::uint64_t>> stats;
  std::string cluster;                 // cluster: the status object, as JSON text
  std::optional<std::uint64_t> index;  // read_index

  bool ok() const { return !error.has_value(); }
  static Response Failure(Error error, std::string id = {}) {
    Response r;
    r.id = std::move(id);
    r.error = std::move(error);
    return r;
  }
};

// Encodes `response` as one line, '\n' included.
std::string EncodeResponse(const Response& response);
// The same, appended to *out.
void AppendResponse(const Response& response, std::string* out);

// Appends `s` as a JSON string, escaped exactly as RapidJSON's writer does.
void AppendJsonString(std::string_view s, std::string* out);

// Appends the response to a get, {"ok":true,"values":[...],"revision":N}
// with the request's `id` (JSON text, empty if none), taking the values
// from any range of string_views: a server encodes them from its own
// containers without copying each into a std::string first. The same line
// as AppendResponse makes of a Response with these values and revision.
template <typename StringRange>
void AppendValuesResponse(std::string_view id, const StringRange& values, std::uint64_t revision,
                          std::string* out) {
  *out += "{\"ok\":true";
  if (!id.empty()) {
    *out += ",\"id\":";
    *out += id;
  }
  *out += ",\"values\":[";
  bool first = true;
  for (std::string_view v : values) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(v, out);
  }
  *out += "],\"revision\":";
  *out += std::to_string(revision);
  *out += "}\n";
}

// Decodes one response line. Returns an error only when the line is not a
// well-formed response; a server-side failure is a successfully decoded
// Response with `error` set.
std::optional<Error> DecodeResponse(std::string_view line, Response* response);

}  // namespace kvd::proto

#endif  // KVD_PROTO_RESPONSE_H_
