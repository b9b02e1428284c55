#include "store/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_dir.h"

namespace kvd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::string_literals;

// Writes the store as a snapshot, visiting `chunk` bytes at a time.
Status Save(const std::filesystem::path& path, const Store& store, SnapshotId* id = nullptr,
            std::size_t chunk = SIZE_MAX) {
  SnapshotId ignored;
  return WriteSnapshotFile(
      path,
      [&](SnapshotSink& sink) {
        Store::FrozenCursor cursor;
        while (store.VisitFrozen(
            &cursor, chunk,
            [&](std::string_view k, ValueView v, bool first, bool last, std::uint64_t,
                std::uint64_t) { sink.Entry(k, v, first, last); })) {
        }
      },
      id != nullptr ? id : &ignored);
}

Status Load(const std::filesystem::path& path, Store* store) {
  SnapshotId id;
  return LoadSnapshot(path, store, &id);
}

std::vector<std::string> ValuesOf(const Store& store, const std::string& key) {
  const ValueList* v = store.Find(key);
  return v == nullptr ? std::vector<std::string>{} : v->view().ToStrings();
}

TEST(SnapshotTest, MissingFileIsAnEmptyStore) {
  TestDir dir;
  Store store;
  ASSERT_TRUE(Load(dir / "storage.data", &store).ok());
  EXPECT_EQ(store.key_count(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir / "storage.data")) << "loading creates nothing";
}

TEST(SnapshotTest, WritesTheOriginalToolsShape) {
  TestDir dir;
  Store store;
  store.Append("a", "x");
  store.Append("a", "y, z");
  ASSERT_TRUE(Save(dir / "storage.data", store).ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"a":["x","y, z"]})");
}

// Keys whose values are visited in several parts are written as one entry
// each, the same bytes as when visited whole.
TEST(SnapshotTest, KeysVisitedInPartsAreWrittenWhole) {
  TestDir dir;
  Store store;
  store.Replace("empty", ValueList());
  for (int i = 0; i < 50; ++i) store.Append("many", "v" + std::to_string(i));
  store.Append("one", "x");
  ASSERT_TRUE(Save(dir / "whole.data", store).ok());
  ASSERT_TRUE(Save(dir / "parts.data", store, nullptr, 5).ok());
  EXPECT_EQ(ReadFile(dir / "parts.data"), ReadFile(dir / "whole.data"));
  Store loaded;
  ASSERT_TRUE(Load(dir / "parts.data", &loaded).ok());
  EXPECT_EQ(ValuesOf(loaded, "many"), ValuesOf(store, "many"));
  EXPECT_THAT(ValuesOf(loaded, "one"), ElementsAre("x"));
  ASSERT_NE(loaded.Find("empty"), nullptr);
}

TEST(SnapshotTest, LoadsAFileWrittenByPythonJsonDump) {
  TestDir dir;
  // json.dump's default output: ", " and ": " separators, \u escapes for non-ASCII.
  WriteFile(dir / "storage.data",
            R"({"k": ["v1", "v2, v3"], "caf\u00e9": ["\ud83d\ude00", "say \"hi\"\n"], "": [""]})");
  Store store;
  ASSERT_TRUE(Load(dir / "storage.data", &store).ok());
  EXPECT_THAT(ValuesOf(store, "k"), ElementsAre("v1", "v2, v3"));
  EXPECT_THAT(ValuesOf(store, "caf\xc3\xa9"), ElementsAre("\xf0\x9f\x98\x80", "say \"hi\"\n"));
  EXPECT_THAT(ValuesOf(store, ""), ElementsAre(""));
}

TEST(SnapshotTest, RoundTripKeepsEveryKindOfText) {
  TestDir dir;
  const std::vector<std::string> values = {"",
                                           ",",
                                           ", ",
                                           "\"quoted\"",
                                           "line\nbreak",
                                           "tab\there",
                                           "back\\slash",
                                           "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
                                           "nul\0byte"s,
                                           "\x01\x1f"};
  Store store;
  for (const auto& v : values) store.Append("k, \"\n\xe2\x82\xac", v);
  store.Append("", "empty key");
  ASSERT_TRUE(Save(dir / "storage.data", store).ok());
  // ASCII-only on disk, like json.dump, whatever the reader's locale.
  for (unsigned char c : ReadFile(dir / "storage.data")) ASSERT_LT(c, 0x80);

  Store loaded;
  ASSERT_TRUE(Load(dir / "storage.data", &loaded).ok());
  EXPECT_EQ(ValuesOf(loaded, "k, \"\n\xe2\x82\xac"), values);
  EXPECT_THAT(ValuesOf(loaded, ""), ElementsAre("empty key"));
  EXPECT_EQ(loaded.key_count(), 2u);
}

// The bytes of each kind of string: printable ASCII (and DEL) as it is,
// quotes, backslashes and control characters escaped, non-ASCII as \u
// escapes (a surrogate pair beyond the BMP). Python's json.dump differs
// only in lower-case hex digits and in escaping DEL; it reads both forms.
TEST(SnapshotTest, WritesPlainAndEscapedStringsExactly) {
  TestDir dir;
  Store store;
  for (const char* v : {"plain, 1/2 ~", "\"q\"", "back\\slash", "\x01\n\t", "\x7f",
                        "\xc3\xa9\xf0\x9f\x98\x80", "mixed \xc3\xa9 end"}) {
    store.Append("k", v);
  }
  store.Append("\"key\"", "v");
  ASSERT_TRUE(Save(dir / "storage.data", store).ok());
  EXPECT_EQ(ReadFile(dir / "storage.data"),
            R"({"\"key\"":["v"],"k":["plain, 1/2 ~","\"q\"","back\\slash","\u0001\n\t",")"
            "\x7f"
            R"(",)"
            R"("\u00E9\uD83D\uDE00","mixed \u00E9 end"]})");
}

TEST(SnapshotTest, EmptyListsSurviveARoundTrip) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"empty": []})");
  Store store;
  ASSERT_TRUE(Load(dir / "storage.data", &store).ok());
  ASSERT_TRUE(Save(dir / "out.data", store).ok());
  EXPECT_EQ(ReadFile(dir / "out.data"), R"({"empty":[]})");
}

TEST(SnapshotTest, RepeatedKeyKeepsTheLastListLikePython) {
  TestDir dir;
  WriteFile(dir / "storage.data", R"({"k": ["old"], "k": ["new1", "new2"]})");
  Store store;
  ASSERT_TRUE(Load(dir / "storage.data", &store).ok());
  EXPECT_THAT(ValuesOf(store, "k"), ElementsAre("new1", "new2"));
}

TEST(SnapshotTest, IdIsTheSameWhenWrittenAndWhenLoaded) {
  TestDir dir;
  Store store;
  store.Append("k", "v");
  SnapshotId written, loaded;
  ASSERT_TRUE(Save(dir / "storage.data", store, &written).ok());
  Store again;
  ASSERT_TRUE(LoadSnapshot(dir / "storage.data", &again, &loaded).ok());
  EXPECT_EQ(written, loaded);
  EXPECT_EQ(written.size, ReadFile(dir / "storage.data").size());
  store.Append("k", "w");
  ASSERT_TRUE(Save(dir / "other.data", store, &written).ok());
  EXPECT_FALSE(written == loaded);
}

struct Damage {
  std::string contents;
  std::string position;  // expected "line L, column C (byte B)"
  std::string why;
};

class DamagedSnapshotTest : public ::testing::TestWithParam<Damage> {};

TEST_P(DamagedSnapshotTest, IsRefusedWithPathAndPositionAndLeftUntouched) {
  TestDir dir;
  const auto path = dir / "storage.data";
  WriteFile(path, GetParam().contents);
  const auto before = std::filesystem::last_write_time(path);
  Store store;
  Status s = Load(path, &store);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr(path.string()));
  EXPECT_THAT(s.message(), HasSubstr(GetParam().position));
  EXPECT_THAT(s.message(), HasSubstr(GetParam().why));
  EXPECT_EQ(ReadFile(path), GetParam().contents);
  EXPECT_EQ(std::filesystem::last_write_time(path), before);
}

INSTANTIATE_TEST_SUITE_P(
    Damages, DamagedSnapshotTest,
    ::testing::Values(Damage{"", "line 1, column 1 (byte 0)", "empty"},
                      Damage{R"({"a": ["x", "y")", "line 1, column 16 (byte 15)", "comma or ']'"},
                      Damage{"{\"a\": [\"x\"],\n \"b\": [\"y\"]\n}\ngarbage",
                             "line 4, column 1 (byte 27)", "root"},
                      Damage{"{\"a\": [\"\xff\"]}", "line 1, column 9 (byte 8)", "encoding"},
                      Damage{R"(["x"])", "byte 1", "must be a JSON object"},
                      Damage{R"({"a": "x"})", "byte 9", "array of strings"},
                      Damage{R"({"a": [1]})", "byte 7", "values must be strings"},
                      Damage{R"({"a": [["x"]]})", "byte 8", "values must be strings"},
                      Damage{R"({"a": ["\udc00"]})", "byte 15", "lone UTF-16 surrogate"},
                      Damage{R"({"\ud800": []})", "byte 2", "surrogate"},
                      // Found by fuzzing: a multi-byte character cut off by the end of the file.
                      Damage{"{\"a\": [\"x\xe0", "byte 9", "encoding"},
                      Damage{"{\"a\": [\"x\"]}\0"s, "byte 12", "NUL"}));

// The loading parse reads strings and whitespace in aligned 16-byte blocks:
// a text that ends inside either is not read past (ASan checks, in CI).
TEST(SnapshotTest, TextCutAnywhereIsRefusedWithoutReadingPastItsEnd) {
  const std::string whole =
      R"({"a key": ["a value long enough for several 16-byte blocks", "x"]})"s +
      "\n \t\n                                \n";
  const std::size_t object_end = whole.find('}') + 1;
  for (std::size_t n = 0; n <= whole.size(); ++n) {
    Store store;
    SnapshotId id;
    // A string of its own, allocated for exactly these bytes.
    const Status s = ParseSnapshot(whole.substr(0, n), "cut", &store, &id);
    if (n >= object_end) {
      ASSERT_TRUE(s.ok()) << n << ": " << s.ToString();
      EXPECT_THAT(ValuesOf(store, "a key"),
                  ElementsAre("a value long enough for several 16-byte blocks", "x"));
      EXPECT_EQ(id.size, n);
    } else {
      ASSERT_EQ(s.code(), Status::Code::kCorruption) << n;
    }
  }
}

TEST(SnapshotTest, FailedWriteLeavesNoFile) {
  TestDir dir;
  // A non-empty directory where the file must go makes the write fail.
  std::filesystem::create_directories(dir / "storage.data.tmp" / "blocker");
  Store store;
  store.Append("a", "new");
  Status s = Save(dir / "storage.data.tmp", store);
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_THAT(s.message(), HasSubstr("storage.data.tmp"));
  EXPECT_TRUE(std::filesystem::is_directory(dir / "storage.data.tmp"));
}

TEST(SnapshotTest, WriteReplacesALeftoverFile) {
  TestDir dir;
  WriteFile(dir / "storage.data.tmp", "half-written by a crash");
  Store store;
  store.Append("a", "x");
  ASSERT_TRUE(Save(dir / "storage.data.tmp", store).ok());
  EXPECT_EQ(ReadFile(dir / "storage.data.tmp"), R"({"a":["x"]})");
}

}  // namespace
}  // namespace kvd
