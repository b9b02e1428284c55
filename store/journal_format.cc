#include "store/journal_format.h"

#include "store/crc32c.h"

namespace kvd::journal {
namespace {

void PutFixed(std::string* out, std::uint64_t v, int bytes) {
  char little_endian[8];
  for (int i = 0; i < bytes; ++i) little_endian[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(little_endian, static_cast<std::size_t>(bytes));
}

void PutString(std::string* out, std::string_view s) {
  PutFixed(out, s.size(), 4);
  out->append(s);
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
  bool String(std::string* s) {
    std::uint64_t n = 0;
    if (!Fixed(4, &n) || in_.size() < n) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
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

void EncodeBatch(const WriteBatch& batch, std::string* out) {
  std::size_t size = out->size();
  for (const Mutation& m : batch.mutations()) {
    size += kHeaderSize + 1 + 4 + m.key.size() + (m.kind == Mutation::Kind::kAppend ? 4 : 0) +
            m.val.size();
  }
  out->reserve(size);
  for (const Mutation& m : batch.mutations()) {
    const bool append = m.kind == Mutation::Kind::kAppend;
    const std::size_t start = BeginRecord(out, append ? RecordType::kAppend : RecordType::kDelete);
    PutString(out, m.key);
    if (append) PutString(out, m.val);
    EndRecord(out, start);
  }
}

bool DecodePayload(std::string_view payload, Record* record) {
  if (payload.empty()) return false;
  PayloadReader in(payload.substr(1));
  record->type = static_cast<RecordType>(payload[0]);
  switch (record->type) {
    case RecordType::kBase:
      return in.Snapshot(&record->snapshot) && in.Done();
    case RecordType::kAppend:
      return in.String(&record->key) && in.String(&record->val) && in.Done();
    case RecordType::kDelete:
      return in.String(&record->key) && in.Done();
    case RecordType::kCheckpoint:
      return in.Snapshot(&record->snapshot) && in.Fixed(8, &record->offset) && in.Done();
  }
  return false;
}

}  // namespace kvd::journal
