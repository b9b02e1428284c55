// The journal file: space reserved ahead of the records, and how the reader
// tells the end of the records, a torn last record and damage apart.
#include "store/journal_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/crc32c.h"
#include "store/journal_format.h"
#include "store/journal_reader.h"
#include "tests/test_dir.h"

namespace kvd {
namespace {

using ::testing::HasSubstr;

std::string AppendRecord(const std::string& key, const std::string& val) {
  WriteBatch batch;
  batch.Append(key, val);
  std::string record;
  journal::EncodeBatch(batch, &record);
  return record;
}

// A journal of a base record and `n` appends k=v0..v<n-1>, written through
// JournalWriter; returns its records (without reserved space).
std::string WriteJournal(const std::filesystem::path& path, int n) {
  std::unique_ptr<JournalWriter> writer;
  EXPECT_TRUE(JournalWriter::Create(path, SnapshotId{}, {}, &writer).ok());
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(writer->Append(AppendRecord("k", "v" + std::to_string(i))).ok());
    EXPECT_TRUE(writer->Sync().ok());
  }
  return ReadFile(path).substr(0, writer->size());
}

std::vector<std::string> AppendedValues(const JournalContents& contents) {
  std::vector<std::string> values;
  for (const auto& e : contents.entries) {
    if (e.record.type == journal::RecordType::kAppend) values.push_back(e.record.val);
  }
  return values;
}

// The record layout of journal_format.h, byte by byte.
TEST(JournalTest, AnAppendRecordHasTheDocumentedBytes) {
  const std::string payload("\x02\x01\0\0\0k\x02\0\0\0vw", 12);
  const std::string length("\x0c\0\0\0", 4);
  auto fixed32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  const std::string expected = length + fixed32(internal::Crc32cPortable(length)) +
                               fixed32(internal::Crc32cPortable(payload)) + payload;
  EXPECT_EQ(AppendRecord("k", "vw"), expected);
  WriteBatch two;
  two.Append("k", "vw");
  two.Delete("k");
  std::string records = "kept";
  journal::EncodeBatch(two, &records);
  const std::string del("\x03\x01\0\0\0k", 6);
  EXPECT_EQ(records, "kept" + expected + std::string("\x06\0\0\0", 4) +
                         fixed32(internal::Crc32cPortable(std::string("\x06\0\0\0", 4))) +
                         fixed32(internal::Crc32cPortable(del)) + del);
}

TEST(JournalTest, ReservedSpaceAfterTheRecordsReadsAsTheirEnd) {
  TestDir dir;
  const auto path = dir / "storage.data.journal";
  const std::string records = WriteJournal(path, 3);
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

TEST(JournalTest, ReopeningAppendsAfterTheRecordsNotAfterTheReservedSpace) {
  TestDir dir;
  const auto path = dir / "storage.data.journal";
  const std::string records = WriteJournal(path, 2);
  {
    std::unique_ptr<JournalWriter> writer;
    ASSERT_TRUE(JournalWriter::Open(path, records.size(), &writer).ok());
    ASSERT_TRUE(writer->Append(AppendRecord("k", "after")).ok());
    ASSERT_TRUE(writer->Sync().ok());
  }
  JournalContents contents;
  ASSERT_TRUE(ReadJournal(path, &contents).ok());
  EXPECT_EQ(AppendedValues(contents), (std::vector<std::string>{"v0", "v1", "after"}));
}

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
