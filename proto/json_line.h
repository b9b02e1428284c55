// Internal to proto/: parsing and writing one JSON line with RapidJSON.
#ifndef KVD_PROTO_JSON_LINE_H_
#define KVD_PROTO_JSON_LINE_H_

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "proto/error.h"

namespace kvd::proto::internal {

// Parses `line` as one JSON document, validating UTF-8 (also that \u escapes
// form valid code points). A trailing '\r' or '\n' is tolerated.
std::optional<Error> ParseJsonLine(std::string_view line, rapidjson::Document* doc);

// Serializes `value` as compact JSON (used to keep an "id" verbatim).
std::string ToJson(const rapidjson::Value& value);

using LineWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void WriteString(LineWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Returns the string member `name` of `object`, or nullptr when absent.
// Sets *error when present but not a string.
const rapidjson::Value* FindString(const rapidjson::Value& object, const char* name,
                                   std::optional<Error>* error);

inline std::string AsString(const rapidjson::Value& v) {
  return std::string(v.GetString(), v.GetStringLength());
}

}  // namespace kvd::proto::internal

#endif  // KVD_PROTO_JSON_LINE_H_
