// Internal to proto/: parsing and writing one JSON line with RapidJSON.
#ifndef KVD_PROTO_JSON_LINE_H_
#define KVD_PROTO_JSON_LINE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include "proto/error.h"

namespace kvd::proto::internal {

// A document whose values and parse stack live in buffers of its own for
// a typical line, so that decoding a line usually allocates nothing.
class LineDocument {
 public:
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                              rapidjson::MemoryPoolAllocator<>>;
  LineDocument() : doc_(&values_, sizeof(stack_buffer_), &stack_) {}
  LineDocument(const LineDocument&) = delete;
  LineDocument& operator=(const LineDocument&) = delete;
  Document& doc() { return doc_; }

 private:
  char value_buffer_[4096];
  char stack_buffer_[1024];
  rapidjson::MemoryPoolAllocator<> values_{value_buffer_, sizeof(value_buffer_)};
  rapidjson::MemoryPoolAllocator<> stack_{stack_buffer_, sizeof(stack_buffer_)};
  Document doc_;
};

// Parses `line` as one JSON document, validating UTF-8 (also that \u escapes
// form valid code points). A trailing '\r' or '\n' is tolerated.
std::optional<Error> ParseJsonLine(std::string_view line, LineDocument::Document* doc);

// A RapidJSON output stream appending to a std::string.
struct StringAppender {
  using Ch = char;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};
// Found by argument-dependent lookup from RapidJSON's writer. Reserving per
// string would defeat std::string's geometric growth, so it does nothing.
inline void PutReserve(StringAppender&, std::size_t) {}
inline void PutUnsafe(StringAppender& s, char c) { s.Put(c); }

using LineWriter = rapidjson::Writer<StringAppender>;

// Serializes `value` as compact JSON (used to keep an "id" verbatim).
std::string ToJson(const rapidjson::Value& value);

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

// The error of a server's line that is not what the protocol says.
Error MalformedResponse(const std::string& what);

// Reads the member `name` of `object`, if present, into *out: an array of
// strings, else a MalformedResponse.
std::optional<Error> ReadStringArray(const rapidjson::Value& object, const char* name,
                                     std::optional<std::vector<std::string>>* out);

}  // namespace kvd::proto::internal

#endif  // KVD_PROTO_JSON_LINE_H_
