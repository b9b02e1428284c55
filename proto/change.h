// The lines a watch streams (PROTOCOL.md "watch"): one JSON object per
// change, {"revision":R,"key":K,"kind":"append","values":[V]}, in revision
// order, after the watch's {"ok":true,"revision":N}.
#ifndef KVD_PROTO_CHANGE_H_
#define KVD_PROTO_CHANGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.h"
#include "proto/response.h"

namespace kvd::proto {

enum class ChangeKind {
  kAppend,   // values: the value appended; at_ms: the key's new expiry, if it has a TTL
  kDelete,   // values: none (also a delete of a key whose time had come)
  kTrim,     // a trim or a pop; values: those it removed, in list order
  kExpire,   // values: none; at_ms: when the key expires
  kPersist,  // values: none: the key no longer expires
};

std::string_view ChangeKindName(ChangeKind kind);

struct Change {
  std::uint64_t revision = 0;
  std::string key;
  ChangeKind kind = ChangeKind::kAppend;
  std::vector<std::string> values;
  std::uint64_t at_ms = 0;  // an expire's time, an append's with a TTL (unix ms); 0: none
};

// Appends the line of one change, '\n' included, taking the values from any
// range of string_views (a server's own containers, without copies); an
// "at_ms" member follows the values unless `at_ms` is 0.
template <typename StringRange>
void AppendChangeLine(std::uint64_t revision, std::string_view key, ChangeKind kind,
                      const StringRange& values, std::uint64_t at_ms, std::string* out) {
  *out += "{\"revision\":";
  *out += std::to_string(revision);
  *out += ",\"key\":";
  AppendJsonString(key, out);
  *out += ",\"kind\":\"";
  *out += ChangeKindName(kind);
  *out += "\",\"values\":[";
  bool first = true;
  for (std::string_view v : values) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(v, out);
  }
  out->push_back(']');
  if (at_ms != 0) {
    *out += ",\"at_ms\":";
    *out += std::to_string(at_ms);
  }
  *out += "}\n";
}

// A line of a watch's stream: a change, or the response that ends the
// stream (an error: slow_watcher, ...).
struct WatchLine {
  std::optional<Change> change;
  std::optional<Response> end;
};
// Decodes one line of a watch's stream; an error only for a line that is
// neither a change nor a response.
std::optional<Error> DecodeWatchLine(std::string_view line, WatchLine* out);

}  // namespace kvd::proto

#endif  // KVD_PROTO_CHANGE_H_
