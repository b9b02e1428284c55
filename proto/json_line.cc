#include "proto/json_line.h"

#include <cmath>

#include <rapidjson/error/en.h>

#include "util/utf8.h"

namespace kvd::proto::internal {
namespace {

// What RapidJSON accepts but kvd does not: a lone "\udc00" escape (let
// through as an encoded surrogate, not valid UTF-8), and an integer too
// large for a double to hold exactly (it could not be echoed as sent).
std::optional<Error> CheckValues(const rapidjson::Value& v) {
  if (v.IsString() && !IsValidUtf8(std::string_view(v.GetString(), v.GetStringLength()))) {
    return Error{ErrorCode::kInvalidUtf8, "invalid UTF-8: an escape encodes a lone surrogate"};
  }
  if (v.IsDouble() && std::fabs(v.GetDouble()) >= 9007199254740992.0) {  // 2^53
    return Error{ErrorCode::kInvalidRequest, "number too large to be kept exactly"};
  }
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      if (auto e = CheckValues(item)) return e;
    }
  }
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (auto e = CheckValues(m.name)) return e;
      if (auto e = CheckValues(m.value)) return e;
    }
  }
  return std::nullopt;
}

// Requests need three levels; the limit leaves room for structured ids.
constexpr int kMaxDepth = 32;

// Where `line` nests arrays and objects deeper than kMaxDepth, if it does.
// Checked before parsing: RapidJSON's DOM walks recurse, and deep input
// would exhaust the stack.
std::optional<std::size_t> TooDeepAt(std::string_view line) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> ParseJsonLine(std::string_view line, LineDocument::Document* doc) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // RapidJSON reads NUL as the end of input; JSON text never holds a raw NUL.
  if (auto nul = line.find('\0'); nul != std::string_view::npos) {
    return Error{ErrorCode::kInvalidJson, "raw NUL byte at byte " + std::to_string(nul)};
  }
  if (auto at = TooDeepAt(line)) {
    return Error{ErrorCode::kInvalidRequest, "nested deeper than " + std::to_string(kMaxDepth) +
                                                 " levels at byte " + std::to_string(*at)};
  }
  // CheckValues checks every string's UTF-8 anyway; the parser's own,
  // byte-by-byte encoding check is needed only to name the position of bad
  // input, so only a line that fails pays for it, in a second parse.
  doc->Parse<rapidjson::kParseNoFlags>(line.data(), line.size());
  if (!doc->HasParseError()) {
    auto error = CheckValues(*doc);
    if (!error || error->code != ErrorCode::kInvalidUtf8) return error;
  }
  doc->Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  if (!doc->HasParseError()) return CheckValues(*doc);
  const auto code = doc->GetParseError();
  const std::string where = " at byte " + std::to_string(doc->GetErrorOffset());
  if (code == rapidjson::kParseErrorStringInvalidEncoding ||
      code == rapidjson::kParseErrorStringUnicodeSurrogateInvalid) {
    return Error{ErrorCode::kInvalidUtf8, "invalid UTF-8" + where};
  }
  const std::size_t offset = doc->GetErrorOffset();
  if (code == rapidjson::kParseErrorStringEscapeInvalid && offset < line.size() &&
      static_cast<unsigned char>(line[offset]) < 0x20) {
    return Error{ErrorCode::kInvalidJson, "invalid JSON: unescaped control character" + where};
  }
  return Error{ErrorCode::kInvalidJson,
               std::string("invalid JSON: ") + rapidjson::GetParseError_En(code) + where};
}

std::string ToJson(const rapidjson::Value& value) {
  std::string json;
  StringAppender out{&json};
  LineWriter writer(out);
  value.Accept(writer);
  return json;
}

const rapidjson::Value* FindString(const rapidjson::Value& object, const char* name,
                                   std::optional<Error>* error) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return nullptr;
  if (!it->value.IsString()) {
    *error = Error{ErrorCode::kInvalidRequest, std::string("\"") + name + "\" must be a string"};
    return nullptr;
  }
  return &it->value;
}

Error MalformedResponse(const std::string& what) {
  return Error{ErrorCode::kInvalidJson, "malformed response: " + what};
}

std::optional<Error> ReadStringArray(const rapidjson::Value& object, const char* name,
                                     std::optional<std::vector<std::string>>* out) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) return std::nullopt;
  if (!it->value.IsArray()) return MalformedResponse(std::string(name) + " is not an array");
  std::vector<std::string> items;
  items.reserve(it->value.Size());
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return MalformedResponse(std::string(name) + " holds a non-string");
    items.push_back(AsString(v));
  }
  *out = std::move(items);
  return std::nullopt;
}

}  // namespace kvd::proto::internal
