#include "proto/response.h"

#include "proto/json_line.h"

namespace kvd::proto {
namespace {

using internal::AsString;
using internal::LineWriter;
using internal::WriteString;

void WriteStringArray(LineWriter& w, const char* name, const std::vector<std::string>& items) {
  w.Key(name);
  w.StartArray();
  for (const auto& s : items) WriteString(w, s);
  w.EndArray();
}

Error Malformed(const std::string& what) {
  return Error{ErrorCode::kInvalidJson, "malformed response: " + what};
}

std::optional<Error> ReadStringArray(const rapidjson::Value& doc, const char* name,
                                     std::optional<std::vector<std::string>>* out) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) return std::nullopt;
  if (!it->value.IsArray()) return Malformed(std::string(name) + " is not an array");
  std::vector<std::string> items;
  items.reserve(it->value.Size());
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return Malformed(std::string(name) + " holds a non-string");
    items.push_back(AsString(v));
  }
  *out = std::move(items);
  return std::nullopt;
}

std::optional<Error> ReadError(const rapidjson::Value& doc, Response* response) {
  auto it = doc.FindMember("error");
  if (it == doc.MemberEnd() || !it->value.IsObject()) return Malformed("no error object");
  const auto& e = it->value;
  auto code = e.FindMember("code");
  auto message = e.FindMember("message");
  if (code == e.MemberEnd() || !code->value.IsString()) return Malformed("error without code");
  Error error{ErrorCode::kInternal, ""};
  // A code this client does not know stays visible in the message.
  const std::string name = AsString(code->value);
  if (auto known = ErrorCodeFromName(name)) {
    error.code = *known;
  } else {
    error.message = name + ": ";
  }
  if (message != e.MemberEnd() && message->value.IsString())
    error.message += AsString(message->value);
  response->error = std::move(error);
  return std::nullopt;
}

}  // namespace

std::string EncodeResponse(const Response& response) {
  std::string line;
  AppendResponse(response, &line);
  return line;
}

void AppendResponse(const Response& response, std::string* line) {
  internal::StringAppender out{line};
  LineWriter w(out);
  w.StartObject();
  w.Key("ok");
  w.Bool(response.ok());
  if (!response.id.empty()) {
    w.Key("id");
    w.RawValue(response.id.data(), response.id.size(), rapidjson::kObjectType);
  }
  if (response.error) {
    w.Key("error");
    w.StartObject();
    w.Key("code");
    WriteString(w, ErrorCodeName(response.error->code));
    w.Key("message");
    WriteString(w, response.error->message);
    w.EndObject();
  }
  if (response.values) WriteStringArray(w, "values", *response.values);
  if (response.keys) WriteStringArray(w, "keys", *response.keys);
  if (response.deleted) {
    w.Key("deleted");
    w.Bool(*response.deleted);
  }
  if (!response.stats.empty()) {
    w.Key("stats");
    w.StartObject();
    for (const auto& [name, value] : response.stats) {
      WriteString(w, name);
      w.Uint64(value);
    }
    w.EndObject();
  }
  w.EndObject();
  *line += '\n';
}

std::optional<Error> DecodeResponse(std::string_view line, Response* response) {
  *response = Response{};
  internal::LineDocument storage;
  auto& doc = storage.doc();
  if (auto e = internal::ParseJsonLine(line, &doc)) return e;
  if (!doc.IsObject()) return Malformed("not an object");
  auto ok = doc.FindMember("ok");
  if (ok == doc.MemberEnd() || !ok->value.IsBool()) return Malformed("no boolean \"ok\"");
  if (auto id = doc.FindMember("id"); id != doc.MemberEnd())
    response->id = internal::ToJson(id->value);
  if (!ok->value.GetBool()) return ReadError(doc, response);

  if (auto e = ReadStringArray(doc, "values", &response->values)) return e;
  if (auto e = ReadStringArray(doc, "keys", &response->keys)) return e;
  if (auto d = doc.FindMember("deleted"); d != doc.MemberEnd()) {
    if (!d->value.IsBool()) return Malformed("\"deleted\" is not a boolean");
    response->deleted = d->value.GetBool();
  }
  if (auto s = doc.FindMember("stats"); s != doc.MemberEnd()) {
    if (!s->value.IsObject()) return Malformed("\"stats\" is not an object");
    for (const auto& m : s->value.GetObject()) {
      if (!m.value.IsUint64()) return Malformed("stat \"" + AsString(m.name) + "\" is not a count");
      response->stats.emplace_back(AsString(m.name), m.value.GetUint64());
    }
  }
  return std::nullopt;
}

}  // namespace kvd::proto
