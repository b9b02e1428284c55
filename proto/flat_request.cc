#include "proto/flat_request.h"

#include "util/utf8.h"

namespace kvd::proto::internal {
namespace {

// Reads the tokens of a flat object of strings; any surprise fails it.
class FlatReader {
 public:
  explicit FlatReader(std::string_view line) : s_(line) {}

  bool Expect(char c) {
    SkipSpace();
    if (at_ == s_.size() || s_[at_] != c) return false;
    ++at_;
    return true;
  }
  // A string without escapes or control characters (those take the general
  // path, which unescapes them or names the error).
  bool String(std::string_view* out) {
    if (!Expect('"')) return false;
    const std::size_t begin = at_;
    for (; at_ < s_.size(); ++at_) {
      const auto c = static_cast<unsigned char>(s_[at_]);
      if (c == '"') {
        *out = s_.substr(begin, at_ - begin);
        ++at_;
        return true;
      }
      if (c == '\\' || c < 0x20) return false;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return at_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t')) ++at_;
  }

  std::string_view s_;
  std::size_t at_ = 0;
};

}  // namespace

bool DecodeFlatRequest(std::string_view line, Request* request) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  FlatReader in(line);
  enum Member { kOp, kKey, kVal, kPrefix, kMembers };
  static constexpr std::string_view kNames[kMembers] = {"op", "key", "val", "prefix"};
  std::string_view values[kMembers];
  bool seen[kMembers] = {};
  if (!in.Expect('{')) return false;
  do {
    std::string_view name, value;
    if (!in.String(&name) || !in.Expect(':') || !in.String(&value)) return false;
    int m = 0;
    while (m < kMembers && kNames[m] != name) ++m;
    if (m == kMembers || seen[m] || !IsValidUtf8(value)) return false;
    seen[m] = true;
    values[m] = value;
  } while (in.Expect(','));
  if (!in.Expect('}') || !in.AtEnd() || !seen[kOp]) return false;

  const auto op = OpFromName(values[kOp]);
  // append_many's items are an array: never flat, even when missing; the
  // cluster's operations take numbers.
  if (!op || *op == Op::kAppendMany || IsClusterOp(*op)) return false;
  // Exactly the members the op reads: the general path ignores others, and
  // names what is missing.
  // A trim's range is numbers: never flat.
  if (*op == Op::kTrim) return false;
  const bool key = *op == Op::kAppend || *op == Op::kGet || *op == Op::kLen || *op == Op::kDelete ||
                   *op == Op::kPop || *op == Op::kPersist || *op == Op::kTtl;
  const bool val = *op == Op::kAppend;
  const bool prefix = *op == Op::kKeys || *op == Op::kWatch;
  if (seen[kKey] != key || seen[kVal] != val || (seen[kPrefix] && !prefix)) return false;
  request->op = *op;
  request->key.assign(values[kKey]);
  request->val.assign(values[kVal]);
  request->prefix.assign(values[kPrefix]);
  request->items.clear();
  request->if_revision.reset();
  request->if_length.reset();
  request->start.reset();
  request->stop.reset();
  request->count = 1;
  request->from_tail = false;
  request->wait = std::chrono::milliseconds(0);
  request->from_revision.reset();
  request->seconds = 0;
  request->ttl = request->at_ms = 0;
  request->id.clear();
  // The rest of a request slot that held another request before.
  request->client = request->seq = 0;
  request->stale = request->local = false;
  request->node = 0;
  request->address.clear();
  return true;
}

}  // namespace kvd::proto::internal
