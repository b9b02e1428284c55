// The original storage.py and kvd read each other's storage.data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

std::string StoragePy() {
  const char* shared = std::getenv("KVD_SHARED_DIR");
  return shared == nullptr ? "" : std::string(shared) + "/reference/storage.py";
}

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(StoragePy())) GTEST_SKIP() << "no reference storage.py";
  }
  // storage.py keeps its data in $TMPDIR/storage.data.
  RunResult Python(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/env", "python3", StoragePy()});
    return RunCommand(args, ProcessOptions{.env = {{"TMPDIR", dir_.path().string()},
                                                   {"PYTHONIOENCODING", "utf-8"}},
                                           .stdin_data = {},
                                           .stderr_file = {}});
  }

  TestDir dir_;
};

TEST_F(InteropTest, KvdServesWhatStoragePyWrote) {
  for (const char* v : {"x", "y, z", "caf\xc3\xa9"}) {
    ASSERT_EQ(Python({"--key", "a", "--val", v}).exit_code, 0);
  }
  ASSERT_EQ(Python({"--key", "b", "--val", "1"}).exit_code, 0);
  const std::string python_view = Python({"--key", "a"}).out;
  ASSERT_EQ(python_view, "x, y, z, caf\xc3\xa9\n");

  Daemon kvd(dir_);
  EXPECT_EQ(kvd.Kvctl({"--key", "a"}).out, python_view);
  EXPECT_EQ(kvd.Kvctl({"--key", "b"}).out, "1\n");
}

TEST_F(InteropTest, StoragePyReadsWhatKvdWrote) {
  {
    Daemon kvd(dir_);
    for (const char* v : {"x", "y, z", "\"q\"", "\xe2\x82\xac"}) {
      ASSERT_EQ(kvd.Kvctl({"--key", "a", "--val", v}).exit_code, 0);
    }
    ASSERT_EQ(kvd.Kvctl({"--key", "solo", "--val", "only"}).exit_code, 0);
    ASSERT_EQ(kvd.Stop(), 0);
  }
  EXPECT_EQ(Python({"--key", "a"}).out, "x, y, z, \"q\", \xe2\x82\xac\n");
  EXPECT_EQ(Python({"--key", "solo"}).out, "only\n");
  // And storage.py can go on appending to it.
  ASSERT_EQ(Python({"--key", "solo", "--val", "more"}).exit_code, 0);
  Daemon kvd(dir_);
  EXPECT_EQ(kvd.Kvctl({"--key", "solo"}).out, "only, more\n");
}

// storage.data from storage.py holds no revisions: kvd gives its keys the
// next one, so that revisions never go back, and says so in its log.
TEST_F(InteropTest, KeysStoragePyChangedGetANewerRevision) {
  ASSERT_EQ(Python({"--key", "a", "--val", "x"}).exit_code, 0);
  std::string before;
  {
    Daemon kvd(dir_);
    EXPECT_EQ(kvd.Kvctl({"revision", "a"}).out, "1\n") << "the first start from its file";
    EXPECT_THAT(kvd.Log(), ::testing::HasSubstr("has no revisions of its own"));
    ASSERT_EQ(kvd.Kvctl({"--key", "a", "--val", "y"}).exit_code, 0);
    before = kvd.Kvctl({"revision", "a"}).out;
    EXPECT_EQ(before, "2\n");
    ASSERT_EQ(kvd.Stop(), 0);
  }
  {
    Daemon kvd(dir_);
    EXPECT_EQ(kvd.Kvctl({"revision", "a"}).out, before) << "kvd's own file keeps them";
    const std::string log = kvd.Log();  // both starts'
    EXPECT_EQ(log.find("has no revisions"), log.rfind("has no revisions")) << "only the first";
    ASSERT_EQ(kvd.Stop(), 0);
  }
  ASSERT_EQ(Python({"--key", "a", "--val", "z"}).exit_code, 0);
  Daemon kvd(dir_);
  EXPECT_EQ(kvd.Kvctl({"--key", "a"}).out, "x, y, z\n");
  EXPECT_EQ(kvd.Kvctl({"revision", "a"}).out, "3\n") << "after the last kvd knew";
}

}  // namespace
}  // namespace kvd::testing
