#include "store/change_history.h"

#include <algorithm>

#include "util/varint.h"

namespace kvd {

namespace {

// A chunk's share of the whole: dropping the oldest loses about this much.
constexpr std::size_t kChunksPerHistory = 16;
constexpr std::size_t kMinChunkBytes = 4096;
constexpr std::size_t kMaxChunkBytes = 1 << 20;

// Reads the change at the front of *in (Chunk's packing) into *change and
// removes it from *in.
void TakeChange(std::string_view* in, ChangeHistory::Change* change) {
  change->kind = static_cast<Mutation::Kind>((*in)[0]);
  in->remove_prefix(1);
  std::string_view values;
  // The history wrote these bytes itself: they cannot be malformed.
  GetVarString(in, &change->key);
  GetVarString(in, &values);
  change->values = ValueView(values.data(), values.size());
  GetVarint(in, &change->at);
}

}  // namespace

ChangeHistory::ChangeHistory(std::size_t max_bytes)
    : max_bytes_(max_bytes),
      chunk_bytes_(std::clamp(max_bytes / kChunksPerHistory, kMinChunkBytes, kMaxChunkBytes)) {}

void ChangeHistory::Reset(std::uint64_t revision) {
  chunks_.clear();
  bytes_ = 0;
  floor_ = last_ = revision;
}

void ChangeHistory::Add(const WriteBatch& batch, const WriteResults& results) {
  std::size_t i = 0;
  for (const Mutation& m : batch.mutations()) {
    if (results.applied(i)) {
      ValueView values = results.removed(i);
      if (m.kind == Mutation::Kind::kAppend) {
        packed_.clear();
        PutVarString(&packed_, m.val);
        values = ValueView(packed_.data(), packed_.size());
      }
      Add(Change{last_ + 1, m.kind, m.key, values, m.at});
    }
    ++i;
  }
}

void ChangeHistory::Add(const Change& change) {
  if (change.revision != last_ + 1) Reset(change.revision - 1);
  const std::size_t size = 1 + kMaxVarint * 3 + change.key.size() + change.values.packed_bytes();
  if (chunks_.empty() || chunks_.back().bytes.size() + size > chunk_bytes_) {
    chunks_.emplace_back();
    chunks_.back().first = change.revision;
    chunks_.back().bytes.reserve(std::max(size, chunk_bytes_));
    bytes_ += chunks_.back().memory();
  }
  Chunk& chunk = chunks_.back();
  const std::size_t memory = chunk.memory();
  chunk.starts.push_back(static_cast<std::uint32_t>(chunk.bytes.size()));
  chunk.bytes.push_back(static_cast<char>(change.kind));
  PutVarString(&chunk.bytes, change.key);
  PutVarString(&chunk.bytes,
               std::string_view(change.values.packed_data(), change.values.packed_bytes()));
  PutVarint(&chunk.bytes, change.at);
  bytes_ += chunk.memory() - memory;
  last_ = change.revision;
  DropOldest();
}

void ChangeHistory::DropOldest() {
  while (bytes_ > max_bytes_ && chunks_.size() > 1) {
    bytes_ -= chunks_.front().memory();
    chunks_.pop_front();
    floor_ = chunks_.front().first - 1;
  }
}

bool ChangeHistory::Read(std::uint64_t after, std::string_view prefix, const Visit& visit,
                         std::uint64_t* position) const {
  *position = after;
  if (after < floor_) return false;
  // The first chunk with a change after `after`.
  auto chunk = std::partition_point(chunks_.begin(), chunks_.end(), [after](const Chunk& c) {
    return c.first + c.count() - 1 <= after;
  });
  for (; chunk != chunks_.end(); ++chunk) {
    const std::uint64_t skip = after >= chunk->first ? after - chunk->first + 1 : 0;
    std::string_view in = chunk->bytes;
    in.remove_prefix(chunk->starts[skip]);
    Change change;
    for (change.revision = chunk->first + skip; !in.empty(); ++change.revision) {
      TakeChange(&in, &change);
      if (change.key.starts_with(prefix) && !visit(change)) return true;
      *position = change.revision;
    }
  }
  return true;
}

void ChangeHistory::Encode(std::string* out) const {
  PutVarint(out, floor_);
  PutVarint(out, chunks_.size());
  for (const Chunk& chunk : chunks_) {
    PutVarint(out, chunk.count());
    PutVarString(out, chunk.bytes);
  }
}

bool ChangeHistory::Decode(std::string_view in) {
  std::uint64_t floor = 0, chunks = 0;
  if (!GetVarint(&in, &floor) || !GetVarint(&in, &chunks)) return false;
  std::deque<Chunk> decoded;
  std::uint64_t last = floor;
  for (std::uint64_t i = 0; i < chunks; ++i) {
    Chunk chunk;
    chunk.first = last + 1;
    std::uint64_t count = 0;
    std::string_view bytes;
    if (!GetVarint(&in, &count) || !GetVarString(&in, &bytes)) return false;
    // Each change whole: a kind, then a key and values that end inside it.
    for (std::string_view walk = bytes; !walk.empty();) {
      chunk.starts.push_back(static_cast<std::uint32_t>(bytes.size() - walk.size()));
      std::string_view key, values;
      std::uint64_t at = 0;
      walk.remove_prefix(1);
      if (!GetVarString(&walk, &key) || !GetVarString(&walk, &values) || !GetVarint(&walk, &at)) {
        return false;
      }
    }
    if (chunk.count() != count || count == 0) return false;
    chunk.bytes.assign(bytes);
    last += count;
    decoded.push_back(std::move(chunk));
  }
  if (!in.empty()) return false;
  chunks_ = std::move(decoded);
  floor_ = floor;
  last_ = last;
  bytes_ = 0;
  for (const Chunk& chunk : chunks_) bytes_ += chunk.memory();
  DropOldest();
  return true;
}

std::size_t ChangeHistory::BytesAfter(std::uint64_t after) const {
  std::size_t bytes = 0;
  for (auto chunk = chunks_.rbegin();
       chunk != chunks_.rend() && chunk->first + chunk->count() - 1 > after; ++chunk) {
    bytes += chunk->bytes.size();
  }
  return bytes;
}

}  // namespace kvd
