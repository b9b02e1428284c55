#include "proto/change.h"

#include <array>
#include <utility>

#include "proto/json_line.h"

namespace kvd::proto {
namespace {

constexpr std::array<std::pair<ChangeKind, std::string_view>, 5> kKinds{{
    {ChangeKind::kAppend, "append"},
    {ChangeKind::kDelete, "delete"},
    {ChangeKind::kTrim, "trim"},
    {ChangeKind::kExpire, "expire"},
    {ChangeKind::kPersist, "persist"},
}};

}  // namespace

std::string_view ChangeKindName(ChangeKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "?";
}

std::optional<Error> DecodeWatchLine(std::string_view line, WatchLine* out) {
  *out = WatchLine{};
  internal::LineDocument storage;
  auto& doc = storage.doc();
  if (auto e = internal::ParseJsonLine(line, &doc)) return e;
  if (!doc.IsObject()) return internal::MalformedResponse("not an object");
  if (doc.HasMember("ok")) {
    Response response;
    if (auto e = DecodeResponse(line, &response)) return e;
    out->end = std::move(response);
    return std::nullopt;
  }
  Change change;
  auto revision = doc.FindMember("revision");
  if (revision == doc.MemberEnd() || !revision->value.IsUint64()) {
    return internal::MalformedResponse("a change without a revision");
  }
  change.revision = revision->value.GetUint64();
  std::optional<Error> error;
  const rapidjson::Value* key = internal::FindString(doc, "key", &error);
  const rapidjson::Value* kind = internal::FindString(doc, "kind", &error);
  if (key == nullptr || kind == nullptr) {
    return internal::MalformedResponse("a change without a key or kind");
  }
  change.key = internal::AsString(*key);
  const std::string_view kind_name(kind->GetString(), kind->GetStringLength());
  bool known = false;
  for (const auto& [k, name] : kKinds) {
    if (name == kind_name) {
      change.kind = k;
      known = true;
    }
  }
  if (!known) return internal::MalformedResponse("a change of unknown kind");
  std::optional<std::vector<std::string>> values;
  if (auto e = internal::ReadStringArray(doc, "values", &values)) return e;
  if (values) change.values = std::move(*values);
  if (auto at = doc.FindMember("at_ms"); at != doc.MemberEnd()) {
    if (!at->value.IsUint64()) return internal::MalformedResponse("\"at_ms\" is not a count");
    change.at_ms = at->value.GetUint64();
  }
  out->change = std::move(change);
  return std::nullopt;
}

}  // namespace kvd::proto
