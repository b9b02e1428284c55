#include "store/snapshot.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/encodedstream.h>
#include <rapidjson/encodings.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

#include "store/atomic_file.h"
#include "util/crc32c.h"
#include "util/utf8.h"

namespace kvd {
namespace {

// Builds the store straight from the parser's events, so a large snapshot is
// never held twice in memory, and refuses any other shape of document. With
// a null store it only checks.
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
    return true;
  }
  bool StartArray() {
    if (state_ != State::kObject) {
      return Fail(state_ == State::kStart ? "the document must be a JSON object"
                                          : "values must be strings");
    }
    state_ = State::kArray;
    values_.Clear();
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (state_ != State::kArray) return Default();
    if (!IsValidUtf8(std::string_view(s, n))) return Fail(kLoneSurrogate);
    values_.Append(std::string_view(s, n));
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    state_ = State::kObject;
    // Like Python's json.load, a repeated key keeps only its last list.
    if (store_ != nullptr) store_->Replace(key_, values_);  // a copy: exactly the size it needs
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
  ValueList values_;  // of key_ so far; reused from key to key
  std::string error_;
};

Status CorruptionAt(const std::string& name, std::string_view text, std::size_t offset,
                    const std::string& why) {
  const auto begin = text.begin();
  const auto at = begin + static_cast<std::ptrdiff_t>(std::min(offset, text.size()));
  const auto line = 1 + std::count(begin, at, '\n');
  const auto line_start = std::find(std::make_reverse_iterator(at), text.rend(), '\n').base();
  const auto column = 1 + (at - line_start);
  return Status::Corruption(name + ": line " + std::to_string(line) + ", column " +
                            std::to_string(column) + " (byte " + std::to_string(offset) +
                            "): " + why);
}

// A RapidJSON output stream to a file (or, without one, to a string),
// keeping the CRC and size of what it wrote.
class IdentifyingStream {
 public:
  using Ch = char;
  explicit IdentifyingStream(const FileAppend* append) : append_(append) {}
  explicit IdentifyingStream(std::string* text) : text_(text) {}
  void Put(char c) {
    buffer_[used_++] = c;
    if (used_ == sizeof(buffer_)) Flush();
  }
  void Flush() {
    crc_.Update(buffer_, used_);
    size_ += used_;
    if (append_ == nullptr) {
      text_->append(buffer_, used_);
    } else if (!failed_ && !(*append_)(std::string_view(buffer_, used_))) {
      failed_ = true;
    }
    used_ = 0;
  }
  bool failed() const { return failed_; }
  SnapshotId id() const { return SnapshotId{size_, crc_.checksum()}; }

 private:
  const FileAppend* append_ = nullptr;
  std::string* text_ = nullptr;
  char buffer_[64 * 1024];
  std::size_t used_ = 0;
  std::uint64_t size_ = 0;
  Crc32cAccumulator crc_;
  bool failed_ = false;
};

// RapidJSON's writer finds these by argument-dependent lookup.
inline void PutReserve(IdentifyingStream&, std::size_t) {}
inline void PutUnsafe(IdentifyingStream& stream, char c) { stream.Put(c); }

using SnapshotJsonWriter =
    rapidjson::Writer<IdentifyingStream, rapidjson::UTF8<>, rapidjson::ASCII<>>;

class JsonSink final : public SnapshotSink {
 public:
  explicit JsonSink(SnapshotJsonWriter& w) : w_(w) {}
  void Entry(std::string_view key, ValueView values, bool first, bool last) override {
    if (first) {
      w_.String(key.data(), static_cast<rapidjson::SizeType>(key.size()));
      w_.StartArray();
    }
    for (std::string_view v : values) {
      w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
    if (last) w_.EndArray();
  }

 private:
  SnapshotJsonWriter& w_;
};

// Bytes of NUL after the text for the loading parse: RapidJSON reads strings
// from a StringStream in whole aligned 16-byte blocks (with SSE2, see
// meson.build), up to 15 bytes past the NUL that ends them.
constexpr std::size_t kScanPadding = 16;
static_assert(kScanPadding <= kReadWholeFileSpare, "LoadSnapshot pads without copying the file");

// The validating parse. A MemoryStream stops at the end of the text; a
// StringStream would read on past the terminator when the text ends inside
// a multi-byte character that it checks.
rapidjson::ParseResult ParseValidating(std::string_view text, SnapshotHandler& handler) {
  rapidjson::Reader reader;
  rapidjson::MemoryStream memory(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(memory);
  return reader.Parse<rapidjson::kParseValidateEncodingFlag>(stream, handler);
}

}  // namespace

std::string SnapshotId::ToString() const {
  return "size " + std::to_string(size) + ", crc32c " + std::to_string(crc);
}

Status LoadSnapshot(const std::filesystem::path& path, Store* store, SnapshotId* id,
                    FileSystem* fs) {
  *id = SnapshotId{};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return Status::OK();
  std::string text;
  if (Status s = ReadWholeFile(path, &text, fs); !s.ok()) return s;
  return ParseSnapshot(std::move(text), path.string(), store, id);
}

Status ParseSnapshot(std::string text, const std::string& name, Store* store, SnapshotId* id) {
  *id = SnapshotId{};
  // RapidJSON takes a NUL byte for the end of the text.
  if (auto nul = text.find('\0'); nul != std::string::npos) {
    return CorruptionAt(name, text, nul, "NUL byte");
  }
  const std::size_t size = text.size();
  text.append(kScanPadding, '\0');  // into ReadWholeFile's spare room: no copy
  const std::string_view json(text.data(), size);

  // Every key and value goes through IsValidUtf8 in the handler, so the
  // parser's own byte-by-byte encoding check is redundant on the way in.
  // Only a damaged file pays for a second, validating parse, which names the
  // exact position of bad encoding.
  SnapshotHandler loader(store);
  if (store != nullptr) store->BeginLoad();
  rapidjson::Reader reader;
  rapidjson::StringStream stream(text.c_str());
  const bool failed = reader.Parse<rapidjson::kParseNoFlags>(stream, loader).IsError();
  if (store != nullptr) store->EndLoad();
  if (failed) {
    SnapshotHandler checker(nullptr);
    const auto result = ParseValidating(json, checker);
    if (result.IsError()) {
      const std::string why = result.Code() == rapidjson::kParseErrorTermination
                                  ? checker.error()
                                  : rapidjson::GetParseError_En(result.Code());
      return CorruptionAt(name, json, result.Offset(), why);
    }
    return Status::Corruption(name + ": unreadable, but no damage was found on a second reading");
  }
  *id = SnapshotId{json.size(), Crc32c(json)};
  return Status::OK();
}

namespace {

// Writes the snapshot produce(sink) supplies to `stream`; false if it failed.
bool WriteSnapshot(IdentifyingStream& stream, const std::function<void(SnapshotSink&)>& produce,
                   SnapshotId* id) {
  SnapshotJsonWriter w(stream);
  JsonSink sink(w);
  w.StartObject();
  produce(sink);
  w.EndObject();
  stream.Flush();
  *id = stream.id();
  return w.IsComplete() && !stream.failed();
}

}  // namespace

Status WriteSnapshotFile(const std::filesystem::path& path,
                         const std::function<void(SnapshotSink&)>& produce, SnapshotId* id,
                         FileSystem* fs) {
  return WriteFileDurably(
      path,
      [&](const FileAppend& append) {
        IdentifyingStream stream(&append);
        return WriteSnapshot(stream, produce, id);
      },
      fs);
}

std::string SnapshotText(const std::function<void(SnapshotSink&)>& produce) {
  std::string text;
  IdentifyingStream stream(&text);
  SnapshotId id;
  WriteSnapshot(stream, produce, &id);
  return text;
}

}  // namespace kvd
