// The journal, storage.data.journal: an append-only file of checksummed
// records, each describing one change made after the snapshot it is based on.
//
// Record:  u32 payload length | u32 CRC-32C of those 4 length bytes |
//          u32 CRC-32C of the payload | payload
// Payload: u8 type, then by type (fixed-size integers little-endian, varints
//          as LEB128: 7 bits a byte, low bits first):
//   kBase       u64 snapshot size, u32 snapshot CRC   first record of every journal:
//                                                     the storage.data it applies to
//   kBatch      mutations, in order, each: u8 flags (bit 0: an append; bit 4:
//               a trim; neither: a delete; bit 1: the key of the mutation
//               before it in this record; bit 2 or 3, on an append: applied
//               only if the key's revision, or its number of values, is the
//               varint after the value), then unless bit 1 the key as varint
//               length + bytes, then for an append the value as varint
//               length + bytes, for a trim its range (PutListRange). What
//               one Engine::Write persists; a record takes no more mutations
//               once its payload reaches kMaxBatchPayload.
//   kAppend     key, value (u32 length + bytes each)    one mutation a record, as
//   kDelete     key (u32 length + bytes)                kvd wrote before kBatch:
//                                                     still read, no longer written
//   kMeta       u64 snapshot size, u32 snapshot CRC, then the revisions of
//               the storage.data with that identity (PutRevisions): varint
//               store revision, varint key count, then each key's revision
//               as a varint, in the key order of that storage.data (byte
//               order, as kvd writes them): what the snapshot cannot hold.
//               Right after every kBase, for its storage.data; and before
//               every kCheckpoint, for the one it names (written while
//               writers go on, before the checkpoint holds them up). Replay
//               numbers the changes after that snapshot from its revision.
//               Journals written before revisions have none.
//   kMetaWithExpiries  kMeta's payload, then the expiry times of its keys
//               (PutExpiries): written instead of kMeta when some key
//               expires, so that a store without expiring keys keeps the
//               files an older kvd reads; decoded as a kMeta record.
//   kCheckpoint u64 snapshot size, u32 snapshot CRC, u64 offset
//               "a storage.data with this identity holds every record before
//               `offset`": written just before such a snapshot replaces
//               storage.data, so recovery knows where to resume either way.
//
// Why kBatch: with a header and two checksums per mutation, and the key again
// for every append to one list, a 16-byte append to "key:hotlist" takes 48
// bytes of journal; in a kBatch record, 18. A smaller journal costs fewer
// write bytes, replays faster, and is compacted less often, as compaction
// starts by journal size (doc/design.md, "Batch records in the journal").
// The format at length, with the recovery rules: doc/journal-format.md.
//
// The length has its own checksum so that damage to it is told apart from a
// record cut short by a crash, which is the only damage recovery forgives.
// Zeros may follow the last record (space the writer reserved): a header of
// zeros cannot pass its checksum, so they read as the end of the records.
#ifndef KVD_STORE_JOURNAL_FORMAT_H_
#define KVD_STORE_JOURNAL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/snapshot.h"
#include "store/write_batch.h"

namespace kvd::journal {

inline constexpr std::size_t kHeaderSize = 12;

enum class RecordType : std::uint8_t {
  kBase = 1,
  kAppend = 2,
  kDelete = 3,
  kCheckpoint = 4,
  kBatch = 5,
  kMeta = 6,
  kMetaWithExpiries = 7,
};

// Where a kBatch record ends and the next begins: large enough that a header
// per record costs nothing, small enough for its u32 length whatever a commit
// merges (a record exceeds it by at most its last mutation).
inline constexpr std::size_t kMaxBatchPayload = 1 << 20;

struct Record {
  RecordType type;
  WriteBatch batch;            // kBatch, kAppend, kDelete: the mutations
  SnapshotId snapshot;         // kBase, kCheckpoint, kMeta
  std::uint64_t offset = 0;    // kCheckpoint
  Store::Revisions revisions;  // kMeta (kMetaWithExpiries decodes as kMeta)
};

// Appends the encoded record(s) to *out.
void EncodeBase(const SnapshotId& id, std::string* out);
void EncodeCheckpoint(const SnapshotId& id, std::uint64_t offset, std::string* out);
void EncodeMeta(const SnapshotId& id, const Store::Revisions& revisions, std::string* out);
// Store::Revisions as bytes, as kMeta holds them (cluster snapshots too):
// appended to *out; read from the front of *in, which loses them (false if
// they are cut short or a key's revision is above the store's).
void PutRevisions(const Store::Revisions& revisions, std::string* out);
bool GetRevisions(std::string_view* in, Store::Revisions* revisions);
// Store::Revisions::expiries as bytes (after the revisions, whose key count
// bounds them): varint count, then each expiry as the varint gap from the
// key index after the one before (from 0) and the varint time. GetExpiries
// is false if they are cut short, out of order, past the key count or at 0.
void PutExpiries(const Store::Revisions& revisions, std::string* out);
bool GetExpiries(std::string_view* in, Store::Revisions* revisions);
// A journal's first records: kBase for `base`, then kMeta of `revisions`.
void EncodeHead(const SnapshotId& base, const Store::Revisions& revisions, std::string* out);
// A non-empty batch as kBatch records; nothing for an empty one.
void EncodeBatch(const WriteBatch& batch, std::string* out);

// Decodes a payload whose checksum has been verified; false if malformed.
bool DecodePayload(std::string_view payload, Record* record);

}  // namespace kvd::journal

#endif  // KVD_STORE_JOURNAL_FORMAT_H_
