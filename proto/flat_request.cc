#include "proto/flat_request.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include "util/utf8.h"

namespace kvd::proto::internal {
namespace {

// Reads the tokens of a flat object of strings and numbers; any surprise
// fails it.
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
  // A number's characters, checked by whoever reads them.
  bool Number(std::string_view* out) {
    SkipSpace();
    const std::size_t begin = at_;
    while (at_ < s_.size() &&
           (s_[at_] == '-' || s_[at_] == '.' || (s_[at_] >= '0' && s_[at_] <= '9'))) {
      ++at_;
    }
    *out = s_.substr(begin, at_ - begin);
    return at_ > begin;
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

// The members the fast path knows, as bits of a set.
enum Member { kOp, kKey, kVal, kPrefix, kStart, kStop, kCount, kFrom, kWait, kMembers };
constexpr std::string_view kNames[kMembers] = {"op",   "key",   "val",  "prefix", "start",
                                               "stop", "count", "from", "wait"};
constexpr unsigned Bit(int member) { return 1u << member; }
// Members whose value is a number; the others are strings.
constexpr unsigned kNumbers = Bit(kStart) | Bit(kStop) | Bit(kCount) | Bit(kWait);

// The members an op must have and those it may have.
struct Shape {
  unsigned required;
  unsigned optional;
};

// Ops that take anything else (append_many's items, an expire's numbers,
// the cluster's) are never flat.
std::optional<Shape> ShapeOf(Op op) {
  const unsigned op_key = Bit(kOp) | Bit(kKey);
  switch (op) {
    case Op::kAppend:
      return Shape{op_key | Bit(kVal), 0};
    case Op::kGet:
      return Shape{op_key, Bit(kStart) | Bit(kStop)};
    case Op::kTrim:
      return Shape{op_key | Bit(kStart) | Bit(kStop), 0};
    case Op::kPop:
      return Shape{op_key, Bit(kCount) | Bit(kFrom) | Bit(kWait)};
    case Op::kLen:
    case Op::kDelete:
    case Op::kPersist:
    case Op::kTtl:
      return Shape{op_key, 0};
    case Op::kKeys:
    case Op::kWatch:
      return Shape{Bit(kOp), Bit(kPrefix)};
    case Op::kPing:
    case Op::kStats:
      return Shape{Bit(kOp), 0};
    default:
      return std::nullopt;
  }
}

// A JSON integer in its one canonical spelling (no "-0", no leading zero)
// that fits 64 signed bits; others take the general path.
bool ParseInteger(std::string_view text, std::int64_t* out) {
  const std::string_view digits = text.starts_with('-') ? text.substr(1) : text;
  if (digits.empty() || (digits[0] == '0' && text.size() > 1)) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return error == std::errc() && end == text.data() + text.size();
}

// Non-negative seconds with at most three decimals (as EncodeRequest writes
// a wait), as the same double the general path's parser makes of them:
// the digits as an integer, divided once by a power of ten.
std::optional<double> ParseDecimal(std::string_view text) {
  const std::size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (whole.empty() || whole.size() > 9 || (whole[0] == '0' && whole.size() > 1) ||
      (point != std::string_view::npos && (fraction.empty() || fraction.size() > 3))) {
    return std::nullopt;
  }
  std::int64_t n = 0;
  for (std::string_view part : {whole, fraction}) {
    for (char c : part) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
  }
  constexpr double kPowersOfTen[] = {1, 10, 100, 1000};
  return static_cast<double>(n) / kPowersOfTen[fraction.size()];
}

}  // namespace

bool DecodeFlatRequest(std::string_view line, Request* request) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  FlatReader in(line);
  std::string_view values[kMembers];
  unsigned seen = 0;
  if (!in.Expect('{')) return false;
  do {
    std::string_view name, value;
    if (!in.String(&name) || !in.Expect(':')) return false;
    int m = 0;
    while (m < kMembers && kNames[m] != name) ++m;
    if (m == kMembers || (seen & Bit(m))) return false;
    const bool read = (Bit(m) & kNumbers) ? in.Number(&value) : in.String(&value);
    if (!read || !IsValidUtf8(value)) return false;
    seen |= Bit(m);
    values[m] = value;
  } while (in.Expect(','));
  if (!in.Expect('}') || !in.AtEnd() || !(seen & Bit(kOp))) return false;

  const auto op = OpFromName(values[kOp]);
  if (!op) return false;
  const std::optional<Shape> shape = ShapeOf(*op);
  // Exactly the members the op reads: the general path ignores others, and
  // names what is missing.
  if (!shape || (seen & shape->required) != shape->required ||
      (seen & ~(shape->required | shape->optional)) != 0) {
    return false;
  }
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
  for (const auto& [m, out] :
       {std::pair{kStart, &request->start}, std::pair{kStop, &request->stop}}) {
    if (!(seen & Bit(m))) continue;
    std::int64_t n = 0;
    if (!ParseInteger(values[m], &n)) return false;
    *out = n;
  }
  if (seen & Bit(kCount)) {
    std::int64_t n = 0;
    if (!ParseInteger(values[kCount], &n) || n < 1) return false;
    request->count = static_cast<std::uint64_t>(n);
  }
  if (seen & Bit(kFrom)) {
    if (values[kFrom] != "head" && values[kFrom] != "tail") return false;
    request->from_tail = values[kFrom] == "tail";
  }
  if (seen & Bit(kWait)) {
    const std::optional<double> seconds = ParseDecimal(values[kWait]);
    const std::optional<std::chrono::milliseconds> wait =
        seconds ? PopWait(*seconds) : std::nullopt;
    if (!wait) return false;
    request->wait = *wait;
  }
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
