#include "proto/response.h"

#include "proto/json_line.h"

namespace kvd::proto {
namespace {

using internal::AsString;

void AppendStringArray(std::string_view name, const std::vector<std::string>& items,
                       std::string* out) {
  *out += ",\"";
  *out += name;
  *out += "\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(items[i], out);
  }
  out->push_back(']');
}

Error Malformed(const std::string& what) { return internal::MalformedResponse(what); }

using internal::ReadStringArray;

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

// Copies runs of plain bytes whole: get and keys answers are mostly such
// runs, which the writer's byte-at-a-time escaping makes costly.
void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s, run, i - run);
    run = i + 1;
    out->push_back('\\');
    // The characters with a two-character escape, and that character.
    static constexpr std::string_view kShort = "\"\\\b\f\n\r\t", kLetter = "\"\\bfnrt";
    if (const auto at = kShort.find(static_cast<char>(c)); at != std::string_view::npos) {
      out->push_back(kLetter[at]);
    } else {
      out->append("u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    }
  }
  out->append(s, run, s.size() - run);
  out->push_back('"');
}

std::string EncodeResponse(const Response& response) {
  std::string line;
  AppendResponse(response, &line);
  return line;
}

// Written by hand rather than with RapidJSON's writer: a response is a flat
// object, and the writer's byte-at-a-time output makes answering gets
// costly.
void AppendResponse(const Response& response, std::string* line) {
  *line += response.ok() ? "{\"ok\":true" : "{\"ok\":false";
  if (!response.id.empty()) {
    *line += ",\"id\":";
    *line += response.id;
  }
  if (response.error) {
    *line += ",\"error\":{\"code\":";
    AppendJsonString(ErrorCodeName(response.error->code), line);
    *line += ",\"message\":";
    AppendJsonString(response.error->message, line);
    line->push_back('}');
  }
  if (response.values) AppendStringArray("values", *response.values, line);
  if (response.revision) *line += ",\"revision\":" + std::to_string(*response.revision);
  if (response.keys) AppendStringArray("keys", *response.keys, line);
  if (response.deleted) *line += *response.deleted ? ",\"deleted\":true" : ",\"deleted\":false";
  if (response.length) *line += ",\"length\":" + std::to_string(*response.length);
  if (response.existed) *line += *response.existed ? ",\"existed\":true" : ",\"existed\":false";
  if (response.persisted) {
    *line += *response.persisted ? ",\"persisted\":true" : ",\"persisted\":false";
  }
  if (response.ttl_ms) *line += ",\"ttl_ms\":" + std::to_string(*response.ttl_ms);
  if (!response.stats.empty()) {
    *line += ",\"stats\":{";
    for (std::size_t i = 0; i < response.stats.size(); ++i) {
      if (i > 0) line->push_back(',');
      AppendJsonString(response.stats[i].first, line);
      line->push_back(':');
      *line += std::to_string(response.stats[i].second);
    }
    line->push_back('}');
  }
  if (!response.cluster.empty()) {
    *line += ",\"cluster\":";
    *line += response.cluster;
  }
  if (response.index) *line += ",\"index\":" + std::to_string(*response.index);
  *line += "}\n";
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
  if (auto r = doc.FindMember("revision"); r != doc.MemberEnd()) {
    if (!r->value.IsUint64()) return Malformed("\"revision\" is not a count");
    response->revision = r->value.GetUint64();
  }
  if (!ok->value.GetBool()) return ReadError(doc, response);

  if (auto e = ReadStringArray(doc, "values", &response->values)) return e;
  if (auto e = ReadStringArray(doc, "keys", &response->keys)) return e;
  if (auto d = doc.FindMember("deleted"); d != doc.MemberEnd()) {
    if (!d->value.IsBool()) return Malformed("\"deleted\" is not a boolean");
    response->deleted = d->value.GetBool();
  }
  for (const auto& [name, out] :
       {std::pair{"existed", &response->existed}, std::pair{"persisted", &response->persisted}}) {
    if (auto b = doc.FindMember(name); b != doc.MemberEnd()) {
      if (!b->value.IsBool()) return Malformed(std::string("\"") + name + "\" is not a boolean");
      *out = b->value.GetBool();
    }
  }
  if (auto t = doc.FindMember("ttl_ms"); t != doc.MemberEnd()) {
    if (!t->value.IsInt64()) return Malformed("\"ttl_ms\" is not an integer");
    response->ttl_ms = t->value.GetInt64();
  }
  if (auto n = doc.FindMember("length"); n != doc.MemberEnd()) {
    if (!n->value.IsUint64()) return Malformed("\"length\" is not a count");
    response->length = n->value.GetUint64();
  }
  if (auto s = doc.FindMember("stats"); s != doc.MemberEnd()) {
    if (!s->value.IsObject()) return Malformed("\"stats\" is not an object");
    for (const auto& m : s->value.GetObject()) {
      if (!m.value.IsUint64()) return Malformed("stat \"" + AsString(m.name) + "\" is not a count");
      response->stats.emplace_back(AsString(m.name), m.value.GetUint64());
    }
  }
  if (auto c = doc.FindMember("cluster"); c != doc.MemberEnd()) {
    if (!c->value.IsObject()) return Malformed("\"cluster\" is not an object");
    response->cluster = internal::ToJson(c->value);
  }
  if (auto i = doc.FindMember("index"); i != doc.MemberEnd()) {
    if (!i->value.IsUint64()) return Malformed("\"index\" is not a count");
    response->index = i->value.GetUint64();
  }
  return std::nullopt;
}

}  // namespace kvd::proto
