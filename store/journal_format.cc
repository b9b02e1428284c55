#include "store/journal_format.h"

#include "store/crc32c.h"

namespace kvd::journal {
namespace {

void PutFixed(std::string* out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutString(std::string* out, std::string_view s) {
  PutFixed(out, s.size(), 4);
  out->append(s);
}

// Frames `payload` as a record at the end of *out.
void PutRecord(std::string* out, std::string_view payload) {
  std::string length;
  PutFixed(&length, payload.size(), 4);
  out->append(length);
  PutFixed(out, Crc32c(length), 4);
  PutFixed(out, Crc32c(payload), 4);
  out->append(payload);
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
  std::string payload(1, static_cast<char>(RecordType::kBase));
  PutFixed(&payload, id.size, 8);
  PutFixed(&payload, id.crc, 4);
  PutRecord(out, payload);
}

void EncodeCheckpoint(const SnapshotId& id, std::uint64_t offset, std::string* out) {
  std::string payload(1, static_cast<char>(RecordType::kCheckpoint));
  PutFixed(&payload, id.size, 8);
  PutFixed(&payload, id.crc, 4);
  PutFixed(&payload, offset, 8);
  PutRecord(out, payload);
}

void EncodeBatch(const WriteBatch& batch, std::string* out) {
  std::string payload;
  for (const Mutation& m : batch.mutations()) {
    payload.clear();
    const bool append = m.kind == Mutation::Kind::kAppend;
    payload.push_back(static_cast<char>(append ? RecordType::kAppend : RecordType::kDelete));
    PutString(&payload, m.key);
    if (append) PutString(&payload, m.val);
    PutRecord(out, payload);
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
