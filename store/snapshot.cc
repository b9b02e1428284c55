#include "store/snapshot.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/filewritestream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

#include "store/atomic_file.h"
#include "store/utf8.h"

namespace kvd {
namespace {

// Builds the store straight from the parser's events, so a large snapshot is
// never held twice in memory, and refuses any other shape of document.
class SnapshotHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, SnapshotHandler> {
 public:
  explicit SnapshotHandler(Store* store) : store_(store) {}

  bool StartObject() {
    if (state_ != State::kStart) return Fail("values must be arrays of strings");
    state_ = State::kObject;
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (!IsValidUtf8(std::string_view(s, n))) return Fail(kLoneSurrogate);
    key_.assign(s, n);
    // Like Python's json.load, a repeated key keeps only its last list.
    store_->Delete(key_);
    return true;
  }
  bool StartArray() {
    if (state_ != State::kObject) {
      return Fail(state_ == State::kStart ? "the document must be a JSON object"
                                          : "values must be strings");
    }
    state_ = State::kArray;
    store_->Touch(key_);
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (state_ != State::kArray) return Default();
    if (!IsValidUtf8(std::string_view(s, n))) return Fail(kLoneSurrogate);
    store_->Append(key_, std::string(s, n));
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    state_ = State::kObject;
    return true;
  }
  bool EndObject(rapidjson::SizeType) { return true; }
  bool Default() {
    switch (state_) {
      case State::kStart:
        return Fail("the document must be a JSON object");
      case State::kObject:
        return Fail("each key must map to an array of strings");
      case State::kArray:
        return Fail("values must be strings");
    }
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  enum class State { kStart, kObject, kArray };
  // RapidJSON lets a lone "\udc00" escape through as an encoded surrogate.
  static constexpr const char* kLoneSurrogate =
      "a \\u escape encodes a lone UTF-16 surrogate, which is not valid UTF-8";

  bool Fail(const char* why) {
    error_ = why;
    return false;
  }

  Store* store_;
  State state_ = State::kStart;
  std::string key_;
  std::string error_;
};

Status CorruptionAt(const std::filesystem::path& path, const std::string& text, std::size_t offset,
                    const std::string& why) {
  const auto begin = text.begin();
  const auto at = begin + static_cast<std::ptrdiff_t>(std::min(offset, text.size()));
  const auto line = 1 + std::count(begin, at, '\n');
  const auto line_start = std::find(std::make_reverse_iterator(at), text.rend(), '\n').base();
  const auto column = 1 + (at - line_start);
  return Status::Corruption(path.string() + ": line " + std::to_string(line) + ", column " +
                            std::to_string(column) + " (byte " + std::to_string(offset) +
                            "): " + why);
}

// The batch's effect per key, to write store + batch without changing store.
struct Overlay {
  bool replaced = false;  // a delete dropped the key's stored values
  std::vector<std::string_view> appended;
};

std::map<std::string_view, Overlay> OverlayOf(const WriteBatch& batch) {
  std::map<std::string_view, Overlay> overlay;
  for (const Mutation& m : batch.mutations()) {
    Overlay& o = overlay[m.key];
    if (m.kind == Mutation::Kind::kDelete) {
      o = Overlay{true, {}};
    } else {
      o.appended.push_back(m.val);
    }
  }
  return overlay;
}

using SnapshotWriter =
    rapidjson::Writer<rapidjson::FileWriteStream, rapidjson::UTF8<>, rapidjson::ASCII<>>;

void WriteString(SnapshotWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void WriteEntry(SnapshotWriter& w, std::string_view key, const Store::Values* stored,
                const Overlay* overlay) {
  const bool replaced = overlay != nullptr && overlay->replaced;
  if (stored == nullptr || replaced) {
    // The key exists only through this batch: a delete without a later append removes it.
    if (overlay == nullptr || overlay->appended.empty()) return;
  }
  WriteString(w, key);
  w.StartArray();
  if (stored != nullptr && !replaced) {
    for (const auto& v : *stored) WriteString(w, v);
  }
  if (overlay != nullptr) {
    for (const auto v : overlay->appended) WriteString(w, v);
  }
  w.EndArray();
}

}  // namespace

Status LoadSnapshot(const std::filesystem::path& path, Store* store) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return Status::OK();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path.string() + ": " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError("cannot read " + path.string());
  // RapidJSON would take a NUL byte for the end of the text.
  if (auto nul = text.find('\0'); nul != std::string::npos) {
    return CorruptionAt(path, text, nul, "NUL byte");
  }

  SnapshotHandler handler(store);
  rapidjson::Reader reader;
  rapidjson::StringStream stream(text.c_str());
  const auto result = reader.Parse<rapidjson::kParseValidateEncodingFlag>(stream, handler);
  if (result.IsError()) {
    const std::string why = result.Code() == rapidjson::kParseErrorTermination
                                ? handler.error()
                                : rapidjson::GetParseError_En(result.Code());
    return CorruptionAt(path, text, result.Offset(), why);
  }
  return Status::OK();
}

Status SaveSnapshot(const std::filesystem::path& path, const Store& store,
                    const WriteBatch& pending) {
  const auto overlay = OverlayOf(pending);
  return ReplaceFileAtomically(path, [&](std::FILE* file) {
    char buffer[64 * 1024];
    rapidjson::FileWriteStream stream(file, buffer, sizeof(buffer));
    SnapshotWriter w(stream);
    w.StartObject();
    // Merge the store's keys with keys that only the batch has, in key order.
    auto next = overlay.begin();
    store.ForEach([&](const std::string& key, const Store::Values& values) {
      for (; next != overlay.end() && next->first < key; ++next) {
        WriteEntry(w, next->first, nullptr, &next->second);
      }
      const Overlay* o = nullptr;
      if (next != overlay.end() && next->first == key) o = &(next++)->second;
      WriteEntry(w, key, &values, o);
    });
    for (; next != overlay.end(); ++next) WriteEntry(w, next->first, nullptr, &next->second);
    w.EndObject();
    stream.Flush();
    return w.IsComplete();
  });
}

}  // namespace kvd
