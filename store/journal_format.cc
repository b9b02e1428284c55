#include "store/journal_format.h"

#include "util/crc32c.h"
#include "util/varint.h"

namespace kvd::journal {
namespace {

void PutFixed(std::string* out, std::uint64_t v, int bytes) {
  char little_endian[8];
  for (int i = 0; i < bytes; ++i) little_endian[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(little_endian, static_cast<std::size_t>(bytes));
}

// kBatch's flags byte.
constexpr unsigned kIsAppend = 1;
constexpr unsigned kSameKey = 2;
constexpr unsigned kIfRevision = 4;  // an append's Condition, a varint after the value
constexpr unsigned kIfLength = 8;
constexpr unsigned kIsTrim = 16;  // not an append: a trim, its range after the key
// A time, a varint at the end: an expire (alone) or an append's expiry
// (with kIsAppend); or an expired delete.
constexpr unsigned kExpires = 32;
constexpr unsigned kIsExpiredDelete = 64;

unsigned ConditionFlag(Condition::On on) {
  switch (on) {
    case Condition::On::kNothing:
      return 0;
    case Condition::On::kRevision:
      return kIfRevision;
    case Condition::On::kLength:
      return kIfLength;
  }
  return 0;
}

// A record is built in place at the end of *out: BeginRecord leaves room for
// the header, the payload is appended, EndRecord fills the header in.
std::size_t BeginRecord(std::string* out, RecordType type) {
  const std::size_t start = out->size();
  out->append(kHeaderSize, '\0');
  out->push_back(static_cast<char>(type));
  return start;
}

void EndRecord(std::string* out, std::size_t start) {
  const std::string_view payload(out->data() + start + kHeaderSize,
                                 out->size() - start - kHeaderSize);
  std::string header;
  PutFixed(&header, payload.size(), 4);
  PutFixed(&header, Crc32c(header), 4);
  PutFixed(&header, Crc32c(payload), 4);
  out->replace(start, kHeaderSize, header);
}

class PayloadReader {
 public:
  explicit PayloadReader(std::string_view in) : in_(in) {}
  bool Fixed(int bytes, std::uint64_t* v) {
    if (in_.size() < static_cast<std::size_t>(bytes)) return false;
    *v = 0;
    for (int i = 0; i < bytes; ++i) {
      *v |= std::uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    }
    in_.remove_prefix(bytes);
    return true;
  }
  // A string: its length in `length_bytes` bytes (0: as a varint), then its
  // bytes.
  bool String(int length_bytes, std::string_view* s) {
    std::uint64_t n = 0;
    if (!(length_bytes ? Fixed(length_bytes, &n) : GetVarint(&in_, &n)) || in_.size() < n) {
      return false;
    }
    *s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Revisions(Store::Revisions* r) { return GetRevisions(&in_, r); }
  bool Expiries(Store::Revisions* r) { return GetExpiries(&in_, r); }
  bool Varint(std::uint64_t* v) { return GetVarint(&in_, v); }
  bool Range(ListRange* range) { return GetListRange(&in_, range); }
  bool Snapshot(SnapshotId* id) {
    std::uint64_t crc = 0;
    if (!Fixed(8, &id->size) || !Fixed(4, &crc)) return false;
    id->crc = static_cast<std::uint32_t>(crc);
    return true;
  }
  bool Done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

void EncodeBase(const SnapshotId& id, std::string* out) {
  const std::size_t start = BeginRecord(out, RecordType::kBase);
  PutFixed(out, id.size, 8);
  PutFixed(out, id.crc, 4);
  EndRecord(out, start);
}

void EncodeCheckpoint(const SnapshotId& id, std::uint64_t offset, std::string* out) {
  const std::size_t start = BeginRecord(out, RecordType::kCheckpoint);
  PutFixed(out, id.size, 8);
  PutFixed(out, id.crc, 4);
  PutFixed(out, offset, 8);
  EndRecord(out, start);
}

void EncodeMeta(const SnapshotId& id, const Store::Revisions& revisions, std::string* out) {
  const bool expiries = !revisions.expiries.empty();
  const std::size_t start =
      BeginRecord(out, expiries ? RecordType::kMetaWithExpiries : RecordType::kMeta);
  PutFixed(out, id.size, 8);
  PutFixed(out, id.crc, 4);
  PutRevisions(revisions, out);
  if (expiries) PutExpiries(revisions, out);
  EndRecord(out, start);
}

void PutExpiries(const Store::Revisions& revisions, std::string* out) {
  PutVarint(out, revisions.expiries.size());
  std::uint64_t next = 0;
  for (const Store::Expiry& x : revisions.expiries) {
    PutVarint(out, x.key - next);
    PutVarint(out, x.at);
    next = x.key + 1;
  }
}

bool GetExpiries(std::string_view* in, Store::Revisions* revisions) {
  std::uint64_t count = 0;
  if (!GetVarint(in, &count) || count > revisions->keys.size()) return false;
  revisions->expiries.clear();
  std::uint64_t next = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t gap = 0;
    Store::Expiry x;
    if (!GetVarint(in, &gap) || !GetVarint(in, &x.at) || x.at == 0 ||
        gap >= revisions->keys.size() - next) {
      return false;
    }
    x.key = next + gap;
    next = x.key + 1;
    revisions->expiries.push_back(x);
  }
  return true;
}

void PutRevisions(const Store::Revisions& revisions, std::string* out) {
  PutVarint(out, revisions.store);
  PutVarint(out, revisions.keys.size());
  for (const std::uint64_t r : revisions.keys) PutVarint(out, r);
}

bool GetRevisions(std::string_view* in, Store::Revisions* revisions) {
  std::uint64_t count = 0;
  if (!GetVarint(in, &revisions->store) || !GetVarint(in, &count)) return false;
  revisions->keys.clear();
  revisions->expiries.clear();
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t key = 0;
    // A key's revision is at most the store's.
    if (!GetVarint(in, &key) || key > revisions->store) return false;
    revisions->keys.push_back(key);
  }
  return true;
}

void EncodeHead(const SnapshotId& base, const Store::Revisions& revisions, std::string* out) {
  EncodeBase(base, out);
  EncodeMeta(base, revisions, out);
}

void EncodeBatch(const WriteBatch& batch, std::string* out) {
  std::size_t size = out->size() + kHeaderSize + 1;
  for (const Mutation& m : batch.mutations()) {
    size += 1 + 4 * kMaxVarint + m.key.size() + m.val.size();
  }
  out->reserve(size);
  bool in_record = false;  // a record is open
  std::size_t start = 0;
  std::size_t payload_start = 0;
  std::string_view previous_key;  // of the open record's last mutation
  for (const Mutation& m : batch.mutations()) {
    if (in_record && out->size() - payload_start >= kMaxBatchPayload) {
      EndRecord(out, start);
      in_record = false;
    }
    const bool same_key = in_record && m.key == previous_key;
    if (!in_record) {
      start = BeginRecord(out, RecordType::kBatch);
      payload_start = out->size();
      in_record = true;
    }
    const bool append = m.kind == Mutation::Kind::kAppend;
    const bool trim = m.kind == Mutation::Kind::kTrim;
    const bool expires = m.kind == Mutation::Kind::kExpire || (append && m.at != 0);
    const bool expired_delete = m.kind == Mutation::Kind::kDeleteExpired;
    const unsigned condition = append ? ConditionFlag(m.condition.on) : 0;
    out->push_back(static_cast<char>(
        (append ? kIsAppend : 0) | (trim ? kIsTrim : 0) | (same_key ? kSameKey : 0) | condition |
        (expires ? kExpires : 0) | (expired_delete ? kIsExpiredDelete : 0)));
    if (!same_key) PutVarString(out, m.key);
    if (append) PutVarString(out, m.val);
    if (condition != 0) PutVarint(out, m.condition.value);
    if (trim) PutListRange(out, m.range);
    if (expires || expired_delete) PutVarint(out, m.at);
    previous_key = m.key;
  }
  if (in_record) EndRecord(out, start);
}

bool DecodePayload(std::string_view payload, Record* record) {
  if (payload.empty()) return false;
  PayloadReader in(payload.substr(1));
  record->type = static_cast<RecordType>(payload[0]);
  record->batch.Clear();
  std::string_view key, val;
  switch (record->type) {
    case RecordType::kBase:
      return in.Snapshot(&record->snapshot) && in.Done();
    case RecordType::kBatch:
      while (!in.Done()) {
        std::uint64_t flags = 0;
        constexpr std::uint64_t kKnown =
            kIsAppend | kSameKey | kIfRevision | kIfLength | kIsTrim | kExpires | kIsExpiredDelete;
        // One kind: an append (maybe expiring), a trim, an expire, an
        // expired delete, or none of these bits (a delete).
        if (!in.Fixed(1, &flags) || (flags & ~kKnown) != 0 ||
            ((flags & kIsAppend) && (flags & kIsTrim)) ||
            ((flags & kIsExpiredDelete) && (flags & (kIsAppend | kIsTrim | kExpires))) ||
            ((flags & kExpires) && (flags & kIsTrim))) {
          return false;
        }
        if (flags & kSameKey) {
          if (record->batch.empty()) return false;
        } else if (!in.String(0, &key)) {
          return false;
        }
        Condition condition;
        if (flags & kIfRevision) condition.on = Condition::On::kRevision;
        if (flags & kIfLength) {
          // One condition at most, on appends only.
          if (condition.on != Condition::On::kNothing) return false;
          condition.on = Condition::On::kLength;
        }
        std::uint64_t at = 0;
        if (!(flags & kIsAppend)) {
          if (condition.on != Condition::On::kNothing) return false;
          if (flags & kIsTrim) {
            ListRange range;
            if (!in.Range(&range)) return false;
            record->batch.Trim(key, range);
          } else if (flags & (kExpires | kIsExpiredDelete)) {
            if (!in.Varint(&at)) return false;
            if (flags & kExpires) {
              record->batch.Expire(key, at);
            } else {
              record->batch.DeleteExpired(key, at);
            }
          } else {
            record->batch.Delete(key);
          }
        } else if (in.String(0, &val) &&
                   (condition.on == Condition::On::kNothing || in.Varint(&condition.value)) &&
                   (!(flags & kExpires) || (in.Varint(&at) && at != 0))) {
          record->batch.Append(key, val, condition, at);
        } else {
          return false;
        }
      }
      return !record->batch.empty();
    case RecordType::kAppend:
      if (!in.String(4, &key) || !in.String(4, &val) || !in.Done()) return false;
      record->batch.Append(key, val);
      return true;
    case RecordType::kDelete:
      if (!in.String(4, &key) || !in.Done()) return false;
      record->batch.Delete(key);
      return true;
    case RecordType::kCheckpoint:
      return in.Snapshot(&record->snapshot) && in.Fixed(8, &record->offset) && in.Done();
    case RecordType::kMeta:
      return in.Snapshot(&record->snapshot) && in.Revisions(&record->revisions) && in.Done();
    case RecordType::kMetaWithExpiries:
      record->type = RecordType::kMeta;
      return in.Snapshot(&record->snapshot) && in.Revisions(&record->revisions) &&
             in.Expiries(&record->revisions) && !record->revisions.expiries.empty() && in.Done();
  }
  return false;
}

}  // namespace kvd::journal
