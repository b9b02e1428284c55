#include "proto/json_line.h"

#include <rapidjson/error/en.h>

namespace kvd::proto::internal {

std::optional<Error> ParseJsonLine(std::string_view line, rapidjson::Document* doc) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // RapidJSON reads NUL as the end of input; JSON text never holds a raw NUL.
  if (auto nul = line.find('\0'); nul != std::string_view::npos) {
    return Error{ErrorCode::kInvalidJson, "raw NUL byte at byte " + std::to_string(nul)};
  }
  doc->Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  if (!doc->HasParseError()) return std::nullopt;
  const auto code = doc->GetParseError();
  const std::string where = " at byte " + std::to_string(doc->GetErrorOffset());
  if (code == rapidjson::kParseErrorStringInvalidEncoding ||
      code == rapidjson::kParseErrorStringUnicodeSurrogateInvalid) {
    return Error{ErrorCode::kInvalidUtf8, "invalid UTF-8" + where};
  }
  return Error{ErrorCode::kInvalidJson,
               std::string("invalid JSON: ") + rapidjson::GetParseError_En(code) + where};
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  LineWriter writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
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

}  // namespace kvd::proto::internal
