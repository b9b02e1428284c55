// The journal, storage.data.journal: an append-only file of checksummed
// records, each describing one change made after the snapshot it is based on.
//
// Record:  u32 payload length | u32 CRC-32C of those 4 length bytes |
//          u32 CRC-32C of the payload | payload
// Payload: u8 type, then by type (integers little-endian, strings as
//          u32 length + bytes):
//   kBase       u64 snapshot size, u32 snapshot CRC   first record of every journal:
//                                                     the storage.data it applies to
//   kAppend     key, value
//   kDelete     key
//   kCheckpoint u64 snapshot size, u32 snapshot CRC, u64 offset
//               "a storage.data with this identity holds every record before
//               `offset`": written just before such a snapshot replaces
//               storage.data, so recovery knows where to resume either way.
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

#include "store/snapshot.h"
#include "store/write_batch.h"

namespace kvd::journal {

inline constexpr std::size_t kHeaderSize = 12;

enum class RecordType : std::uint8_t { kBase = 1, kAppend = 2, kDelete = 3, kCheckpoint = 4 };

struct Record {
  RecordType type;
  std::string key, val;      // kAppend, kDelete
  SnapshotId snapshot;       // kBase, kCheckpoint
  std::uint64_t offset = 0;  // kCheckpoint
};

// Appends the encoded record(s) to *out.
void EncodeBase(const SnapshotId& id, std::string* out);
void EncodeCheckpoint(const SnapshotId& id, std::uint64_t offset, std::string* out);
void EncodeBatch(const WriteBatch& batch, std::string* out);

// Decodes a payload whose checksum has been verified; false if malformed.
bool DecodePayload(std::string_view payload, Record* record);

}  // namespace kvd::journal

#endif  // KVD_STORE_JOURNAL_FORMAT_H_
