#include "daemon/config_file.h"

#include <gtest/gtest.h>

namespace kvd::daemon {
namespace {

const char kFile[] =
    "# kvd.conf\n"               // 1
    "\n"                         // 2
    "fsync = \"sometimes\"\n"    // 3
    "  max-line=64   \n"         // 4
    "; an INI comment\n"         // 5
    "max-connections = 5 # x\n"  // 6
    "\"quoted-key\" = 1\n"       // 7
    "[default]\n"                // 8
    "bogus\n"                    // 9
    "[extra]\n"                  // 10
    "key = 1\n";                 // 11

TEST(ConfigErrorLineTest, FindsTheKeyAFlagErrorNames) {
  EXPECT_EQ(ConfigErrorLine(kFile, "--fsync: sometimes not in {always,everysec,no}", {}), 3u);
  EXPECT_EQ(ConfigErrorLine(kFile, "--max-line: Value 64 not in range", {}), 4u);
  EXPECT_EQ(ConfigErrorLine(kFile, "--max-connections: must be positive", {}), 6u);
  EXPECT_EQ(ConfigErrorLine(kFile, "--quoted-key: bad", {}), 7u);
}

TEST(ConfigErrorLineTest, FindsKeysCli11CouldNotPlace) {
  EXPECT_EQ(ConfigErrorLine(kFile, "INI was not able to parse bogus", {}), 9u);
  EXPECT_EQ(ConfigErrorLine(kFile, "INI was not able to parse extra.key", {}), 11u);
  EXPECT_EQ(ConfigErrorLine(kFile, "INI was not able to parse fsync.", {}), 3u);
}

TEST(ConfigErrorLineTest, AKeyInsideALongerNameIsNoMention) {
  EXPECT_EQ(ConfigErrorLine("line = 1\nmax = 2\n", "--max-line: too long", {}), std::nullopt);
  EXPECT_EQ(ConfigErrorLine("fsync = no\n", "--fsync-x: bad", {}), std::nullopt);
}

TEST(ConfigErrorLineTest, TheFirstNamedKeyCounts) {
  EXPECT_EQ(ConfigErrorLine("node = 1\npeers = x\n", "--peers requires --node", {}), 2u);
}

TEST(ConfigErrorLineTest, FlagsOnTheCommandLineAreNotTheFilesFault) {
  EXPECT_EQ(ConfigErrorLine(kFile, "--fsync: sometimes not in {always,everysec,no}", {"fsync"}),
            std::nullopt);
}

TEST(ConfigErrorLineTest, CommentsAndUnknownKeysAreNoMatch) {
  EXPECT_EQ(ConfigErrorLine("# fsync = no\n", "--fsync: bad", {}), std::nullopt);
  EXPECT_EQ(ConfigErrorLine(kFile, "--http: bad", {}), std::nullopt);
  EXPECT_EQ(ConfigErrorLine("", "--fsync: bad", {}), std::nullopt);
}

}  // namespace
}  // namespace kvd::daemon
