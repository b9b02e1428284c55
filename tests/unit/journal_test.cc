// The journal file: space reserved ahead of the records (both ways), and how the reader
// tells the end of the records, a torn last record and damage apart.
#include "store/journal_writer.h"

#ifdef __linux__
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>
#endif

#include <optional>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/journal_format.h"
#include "store/journal_reader.h"
#include "tests/test_dir.h"
#include "tests/unit/describe_batch.h"
#include "util/crc32c.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::string_literals;

std::string AppendRecord(const std::string& key, const std::string& val) {
  WriteBatch batch;
  batch.Append(key, val);
  std::string record;
  journal::EncodeBatch(batch, &record);
  return record;
}

using Reservation = JournalWriter::Reservation;

// A journal of a base record and `n` appends k=v0..v<n-1>, written through
// JournalWriter; returns its records (without reserved space).
std::string WriteJournal(const std::filesystem::path& path, int n,
                         Reservation reservation = Reservation::kAllocated) {
  std::unique_ptr<JournalWriter> writer;
  EXPECT_TRUE(
      JournalWriter::Create(path, SnapshotId{}, Store::Revisions{}, reservation, &writer).ok());
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(writer->Append(AppendRecord("k", "v" + std::to_string(i))).ok());
    EXPECT_TRUE(writer->Sync().ok());
  }
  return ReadFile(path).substr(0, writer->size());
}

std::vector<std::string> AppendedValues(const JournalContents& contents) {
  std::vector<std::string> values;
  for (const auto& e : contents.entries) {
    for (const Mutation& m : e.record.batch.mutations()) {
      if (m.kind == Mutation::Kind::kAppend) values.emplace_back(m.val);
    }
  }
  return values;
}

std::string Fixed32(std::uint32_t v) {
  return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
}

// A record around `payload`, with the header of journal_format.h.
std::string Framed(const std::string& payload) {
  const std::string length = Fixed32(static_cast<std::uint32_t>(payload.size()));
  return length + Fixed32(internal::Crc32cPortable(length)) +
         Fixed32(internal::Crc32cPortable(payload)) + payload;
}

// The mutations of every record, as "append k=v" / "delete k".
std::vector<std::string> Mutations(const JournalContents& contents) {
  std::vector<std::string> out;
  for (const auto& e : contents.entries) Describe(e.record.batch, &out);
  return out;
}

// The record layout of journal_format.h, byte by byte.
TEST(JournalTest, ABatchRecordHasTheDocumentedBytes) {
  EXPECT_EQ(AppendRecord("k", "vw"), Framed(std::string("\x05\x01\x01k\x02vw", 7)));
  WriteBatch batch;
  batch.Append("k", "vw");
  batch.Delete("k");       // the same key: not repeated
  batch.Append("j", "");   // another key
  batch.Append("k", "x");  // not the previous key: written again
  std::string records = "kept";
  journal::EncodeBatch(batch, &records);
  EXPECT_EQ(records, "kept" + Framed(std::string("\x05"
                                                 "\x01\x01k\x02vw"
                                                 "\x02"
                                                 "\x01\x01j\x00"
                                                 "\x01\x01k\x01x",
                                                 17)));
  WriteBatch conditional;
  conditional.Append("k", "v", {Condition::On::kRevision, 300});
  conditional.Append("k", "w", {Condition::On::kLength, 2});
  std::string both;
  journal::EncodeBatch(conditional, &both);
  EXPECT_EQ(both, Framed(std::string("\x05"
                                     "\x05\x01k\x01v\xac\x02"  // bit 2: if revision 300
                                     "\x0b\x01w\x02",          // bits 3 and 1: if length 2
                                     12)));
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(both, "j", &contents).ok());
  EXPECT_THAT(Mutations(contents),
              ElementsAre("append k=v if revision 300", "append k=w if length 2"));
  std::string none = "kept";
  journal::EncodeBatch(WriteBatch(), &none);
  EXPECT_EQ(none, "kept");
}

TEST(JournalTest, ATrimHasTheDocumentedBytesAndReadsBack) {
  WriteBatch batch;
  batch.Trim("k", {2, -1});
  batch.Trim("k", {-300, 64});
  std::string records;
  journal::EncodeBatch(batch, &records);
  EXPECT_EQ(records, Framed(std::string("\x05"
                                        "\x10\x01k\x04\x01"      // bit 4: trim; 2, -1
                                        "\x12\xd7\x04\x80\x01",  // bits 4 and 1: -300, 64
                                        11)));
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(records, "j", &contents).ok());
  EXPECT_THAT(Mutations(contents), ElementsAre("trim k 2 -1", "trim k -300 64"));
  journal::Record record;
  EXPECT_FALSE(journal::DecodePayload("\x05\x11\x01k\x01v\x04\x01"s, &record))
      << "an append and a trim";
  EXPECT_FALSE(journal::DecodePayload("\x05\x14\x01k\x04\x01\x07"s, &record))
      << "a trim with a condition";
  EXPECT_FALSE(journal::DecodePayload("\x05\x10\x01k\x04"s, &record)) << "no stop";
  EXPECT_FALSE(journal::DecodePayload("\x05\x80\x01k"s, &record)) << "an unknown bit";
}

TEST(JournalTest, AMetaRecordHasTheDocumentedBytesAndReadsBack) {
  std::string record;
  const Store::Revisions revisions{300, {3, 0, 300}};
  journal::EncodeMeta(SnapshotId{2, 0x01020304}, revisions, &record);
  EXPECT_EQ(record, Framed("\x06"
                           "\x02\0\0\0\0\0\0\0\x04\x03\x02\x01"  // the snapshot: size, CRC
                           "\xac\x02"                            // 300
                           "\x03"                                // 3 keys
                           "\x03\x00\xac\x02"s));
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(record, "j", &contents).ok());
  ASSERT_EQ(contents.entries.size(), 1u);
  const journal::Record& meta = contents.entries[0].record;
  EXPECT_EQ(meta.type, journal::RecordType::kMeta);
  EXPECT_EQ(meta.snapshot, (SnapshotId{2, 0x01020304}));
  EXPECT_EQ(meta.revisions.store, 300u);
  EXPECT_EQ(meta.revisions.keys, revisions.keys);
}

TEST(JournalTest, ExpiriesHaveTheDocumentedBytesAndReadBack) {
  WriteBatch batch;
  batch.Expire("k", 300);
  batch.Expire("k", 0);  // persist
  batch.DeleteExpired("k", 2);
  batch.Append("k", "v", {}, 300);
  batch.Append("k", "w", {Condition::On::kLength, 2}, 1);
  std::string records;
  journal::EncodeBatch(batch, &records);
  EXPECT_EQ(records, Framed(std::string("\x05"
                                        "\x20\x01k\xac\x02"   // bit 5: expire at 300
                                        "\x22\x00"            // bits 5 and 1: at 0
                                        "\x42\x02"            // bit 6: expired delete by 2
                                        "\x23\x01v\xac\x02"   // bits 0 and 5: TTL at 300
                                        "\x2b\x01w\x02\x01",  // and if length 2; at 1
                                        20)));
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(records, "j", &contents).ok());
  EXPECT_THAT(Mutations(contents),
              ElementsAre("expire k 300", "expire k 0", "delete k if expired by 2",
                          "append k=v expire 300", "append k=w if length 2 expire 1"));
  journal::Record record;
  EXPECT_FALSE(journal::DecodePayload("\x05\x20\x01k"s, &record)) << "no time";
  EXPECT_FALSE(journal::DecodePayload("\x05\x60\x01k\x01"s, &record)) << "both kinds";
  EXPECT_FALSE(journal::DecodePayload("\x05\x41\x01k\x01v\x01"s, &record))
      << "an append and an expired delete";
  EXPECT_FALSE(journal::DecodePayload("\x05\x30\x01k\x04\x01\x01"s, &record))
      << "a trim that expires";
  EXPECT_FALSE(journal::DecodePayload("\x05\x21\x01k\x01v\x00"s, &record))
      << "an append that expires at 0";
}

TEST(JournalTest, AMetaRecordWithExpiriesIsANewTypeAndReadsBackAsMeta) {
  Store::Revisions revisions{300, {3, 0, 300}, {{0, 5}, {2, 300}}};
  std::string record;
  journal::EncodeMeta(SnapshotId{2, 0x01020304}, revisions, &record);
  EXPECT_EQ(record, Framed("\x07"
                           "\x02\0\0\0\0\0\0\0\x04\x03\x02\x01"  // the snapshot: size, CRC
                           "\xac\x02\x03\x03\x00\xac\x02"        // revisions, as kMeta's
                           "\x02"                                // 2 expiries
                           "\x00\x05"                            // key 0 at 5
                           "\x01\xac\x02"s));                    // key 0 + 1 + 1 at 300
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(record, "j", &contents).ok());
  ASSERT_EQ(contents.entries.size(), 1u);
  const journal::Record& meta = contents.entries[0].record;
  EXPECT_EQ(meta.type, journal::RecordType::kMeta);
  EXPECT_EQ(meta.revisions.keys, revisions.keys);
  EXPECT_EQ(meta.revisions.expiries, revisions.expiries);
  // Without expiries, the record an older kvd reads.
  std::string plain;
  revisions.expiries.clear();
  journal::EncodeMeta(SnapshotId{2, 0x01020304}, revisions, &plain);
  EXPECT_EQ(plain[journal::kHeaderSize], '\x06');

  journal::Record bad;
  const std::string head = "\x07" + std::string(12, '\0') + "\x01\x02\x01\x01";  // 2 keys
  EXPECT_TRUE(journal::DecodePayload(head + "\x01\x01\x07", &bad));
  EXPECT_EQ(bad.revisions.expiries, (std::vector<Store::Expiry>{{1, 7}}));
  EXPECT_FALSE(journal::DecodePayload(head + "\x01\x02\x07", &bad)) << "past the keys";
  EXPECT_FALSE(journal::DecodePayload(head + "\x01\x00\x00", &bad)) << "at 0";
  EXPECT_FALSE(journal::DecodePayload(head + "\x00", &bad)) << "none: that is a kMeta";
  EXPECT_FALSE(journal::DecodePayload(head + "\x02\x01\x07", &bad)) << "cut short";
  EXPECT_FALSE(journal::DecodePayload(head + "\x01\x00\x07\x00", &bad)) << "bytes after";
}

TEST(JournalTest, ConditionsOnlyOnAppendsAndOneAtATime) {
  journal::Record record;
  EXPECT_TRUE(journal::DecodePayload("\x05\x05\x01k\x01v\x07"s, &record));
  EXPECT_FALSE(journal::DecodePayload("\x05\x04\x01k\x07"s, &record)) << "a delete";
  EXPECT_FALSE(journal::DecodePayload("\x05\x0d\x01k\x01v\x07"s, &record)) << "both";
  EXPECT_FALSE(journal::DecodePayload("\x05\x05\x01k\x01v"s, &record)) << "no value";
}

TEST(JournalTest, AMetaRecordWithAKeyAfterTheStoreOrCutShortIsMalformed) {
  journal::Record record;
  const std::string snapshot(12, '\0');
  // A key's revision above the store's.
  EXPECT_FALSE(journal::DecodePayload("\x06" + snapshot + "\x01\x01\x02", &record));
  // Two keys announced, one given.
  EXPECT_FALSE(journal::DecodePayload("\x06" + snapshot + "\x01\x02\x01", &record));
  // Bytes after the last key.
  EXPECT_FALSE(journal::DecodePayload("\x06" + snapshot + "\x01\x01\x01\x01", &record));
  // No snapshot.
  EXPECT_FALSE(journal::DecodePayload("\x06\x01\x01\x01"s, &record));
  EXPECT_TRUE(journal::DecodePayload("\x06" + snapshot + "\x01\x01\x01", &record));
}

TEST(JournalTest, ALongLengthTakesSeveralVarintBytes) {
  const std::string val(300, 'v');  // 300 = 0b10'0101100: 0xac 0x02
  EXPECT_EQ(AppendRecord("k", val), Framed(std::string("\x05\x01\x01k\xac\x02", 6) + val));
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(AppendRecord("k", val), "j", &contents).ok());
  EXPECT_EQ(AppendedValues(contents), (std::vector<std::string>{val}));
}

TEST(JournalTest, ABatchOverTheRecordLimitTakesSeveralRecordsAndReadsBackInOrder) {
  const std::string big(journal::kMaxBatchPayload / 2, 'b');
  WriteBatch batch;
  batch.Append("k", big);
  batch.Append("k", big);  // the record's payload now exceeds the limit: a new one
  batch.Append("k", "small");
  batch.Delete("k");
  std::string records;
  journal::EncodeBatch(batch, &records);
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(records, "j", &contents).ok());
  ASSERT_EQ(contents.entries.size(), 2u);
  EXPECT_EQ(contents.entries[0].record.batch.size(), 2u);
  EXPECT_EQ(contents.entries[1].record.batch.size(), 2u);
  EXPECT_EQ(Mutations(contents), (std::vector<std::string>{"append k=" + big, "append k=" + big,
                                                           "append k=small", "delete k"}))
      << "the second record names its key again";
  EXPECT_EQ(contents.valid_end, records.size());
}

// Journals left by kvd before kBatch (a crash, then an upgrade) still replay.
TEST(JournalTest, RecordsOfOneMutationEachAreStillRead) {
  std::string records;
  journal::EncodeBase(SnapshotId{}, &records);
  records += Framed(std::string("\x02\x01\0\0\0k\x02\0\0\0vw", 12));  // append k=vw
  records += Framed(std::string("\x03\x01\0\0\0k", 6));               // delete k
  records += AppendRecord("k", "after");
  JournalContents contents;
  ASSERT_TRUE(ParseJournal(records, "j", &contents).ok());
  EXPECT_EQ(Mutations(contents),
            (std::vector<std::string>{"append k=vw", "delete k", "append k=after"}));
}

TEST(JournalTest, AMalformedBatchRecordIsCorruption) {
  const std::pair<const char*, std::string> cases[] = {
      {"no mutation", std::string("\x05", 1)},
      {"the previous key, with none before", std::string("\x05\x03\x01v", 4)},
      {"unknown flags", std::string("\x05\x05\x01k\x01v", 6)},
      {"value cut short", std::string("\x05\x01\x01k\x05vw", 6)},
      {"length without its last byte", std::string("\x05\x01\x81", 3)},
      {"key without a length", std::string("\x05\x00", 2)},
  };
  for (const auto& [what, payload] : cases) {
    std::string records;
    journal::EncodeBase(SnapshotId{}, &records);
    const std::size_t at = records.size();
    records += Framed(payload) + AppendRecord("k", "later");
    JournalContents contents;
    const Status s = ParseJournal(records, "j", &contents);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << what;
    EXPECT_THAT(s.message(), HasSubstr("malformed record")) << what;
    EXPECT_EQ(contents.damaged_at, std::optional<std::uint64_t>(at)) << what;
  }
}

class ReservationTest : public ::testing::TestWithParam<Reservation> {};

INSTANTIATE_TEST_SUITE_P(Journal, ReservationTest,
                         ::testing::Values(Reservation::kAllocated, Reservation::kZeroFilled),
                         [](const auto& info) {
                           return info.param == Reservation::kAllocated ? "Allocated"
                                                                        : "ZeroFilled";
                         });

TEST_P(ReservationTest, ReservedSpaceAfterTheRecordsReadsAsTheirEnd) {
  TestDir dir;
  const auto path = dir / "storage.data.journal";
  const std::string records = WriteJournal(path, 3, GetParam());
  const std::string file = ReadFile(path);
#ifdef __linux__  // elsewhere appends extend the file as they go
  EXPECT_GT(file.size(), records.size()) << "no space reserved after the records";
  EXPECT_LE(file.size(), records.size() + 2 * JournalWriter::kPreallocateStep);
#endif
  EXPECT_EQ(file.substr(records.size()).find_first_not_of('\0'), std::string::npos);

  JournalContents contents;
  ASSERT_TRUE(ReadJournal(path, &contents).ok());
  EXPECT_EQ(contents.valid_end, records.size());
  EXPECT_EQ(contents.torn_reason, "") << "reserved space is not a torn record";
  EXPECT_EQ(AppendedValues(contents), (std::vector<std::string>{"v0", "v1", "v2"}));
}

TEST_P(ReservationTest, ReopeningAppendsAfterTheRecordsNotAfterTheReservedSpace) {
  TestDir dir;
  const auto path = dir / "storage.data.journal";
  const std::string records = WriteJournal(path, 2, GetParam());
  {
    std::unique_ptr<JournalWriter> writer;
    ASSERT_TRUE(JournalWriter::Open(path, records.size(), GetParam(), &writer).ok());
    ASSERT_TRUE(writer->Append(AppendRecord("k", "after")).ok());
    ASSERT_TRUE(writer->Sync().ok());
  }
  JournalContents contents;
  ASSERT_TRUE(ReadJournal(path, &contents).ok());
  EXPECT_EQ(AppendedValues(contents), (std::vector<std::string>{"v0", "v1", "after"}));
}

#ifdef __linux__
// Whether the file system has blocks of `path` in [from, to) allocated but
// marked unwritten (FIEMAP); nullopt where it cannot tell.
std::optional<bool> HasUnwrittenBlocks(const std::filesystem::path& path, std::uint64_t from,
                                       std::uint64_t to) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  constexpr std::size_t kMaxExtents = 64;
  std::vector<char> buffer(sizeof(fiemap) + kMaxExtents * sizeof(fiemap_extent));
  auto* map = reinterpret_cast<fiemap*>(buffer.data());
  map->fm_start = from;
  map->fm_length = to - from;
  map->fm_flags = FIEMAP_FLAG_SYNC;
  map->fm_extent_count = kMaxExtents;
  const int r = ::ioctl(fd, FS_IOC_FIEMAP, map);
  ::close(fd);
  if (r != 0 || map->fm_mapped_extents == 0) return std::nullopt;
  for (std::uint32_t i = 0; i < map->fm_mapped_extents; ++i) {
    if (map->fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN) return true;
  }
  return false;
}

// The point of kZeroFilled: an fsynced append into reserved space then
// changes no file system metadata. kAllocated is the control: its blocks
// are unwritten, which shows the check can see it.
TEST_P(ReservationTest, ZeroFilledSpaceHasNoUnwrittenBlocks) {
  TestDir dir;
  const auto path = dir / "storage.data.journal";
  const std::string records = WriteJournal(path, 3, GetParam());
  const std::uint64_t file_size = std::filesystem::file_size(path);
  ASSERT_GT(file_size, records.size()) << "no space reserved after the records";
  const std::optional<bool> unwritten = HasUnwrittenBlocks(path, records.size(), file_size);
  if (!unwritten) GTEST_SKIP() << "the file system here does not map extents (FIEMAP)";
  EXPECT_EQ(*unwritten, GetParam() == Reservation::kAllocated);
}
#endif

TEST(JournalTest, ARecordTornInsideReservedSpaceIsDroppedAtEveryCut) {
  TestDir dir;
  const std::string records = WriteJournal(dir / "source", 3);
  const std::size_t last = records.size() - AppendRecord("k", "v2").size();
  const std::string reserved(4096, '\0');
  // A crash mid-append leaves a prefix of the record, then zeros.
  for (std::size_t cut = last + 1; cut < records.size(); ++cut) {
    const std::string torn =
        records.substr(0, cut) + std::string(records.size() - cut, '\0') + reserved;
    JournalContents contents;
    ASSERT_TRUE(ParseJournal(torn, "j", &contents).ok()) << "cut at " << cut;
    EXPECT_EQ(contents.valid_end, last) << "cut at " << cut;
    EXPECT_NE(contents.torn_reason, "") << "cut at " << cut;
    EXPECT_EQ(AppendedValues(contents), (std::vector<std::string>{"v0", "v1"}));
  }
}

TEST(JournalTest, DamageBeforeTheLastRecordIsRefusedDespiteReservedSpace) {
  TestDir dir;
  const std::string records = WriteJournal(dir / "source", 3);
  const std::size_t last = records.size() - AppendRecord("k", "v2").size();
  const std::size_t middle = last - AppendRecord("k", "v1").size();
  for (std::size_t at : {middle, middle + 5, middle + 14}) {
    std::string damaged = records + std::string(4096, '\0');
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    JournalContents contents;
    const Status s = ParseJournal(damaged, "j", &contents);
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << "flipped byte " << at;
    EXPECT_THAT(s.message(), HasSubstr("offset " + std::to_string(middle)));
  }
}

}  // namespace
}  // namespace kvd
