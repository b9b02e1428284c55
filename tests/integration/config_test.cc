// kvd --config FILE (doc/operations.md, "The config file"): settings from the
// file apply, flags win over them, and a bad file is refused naming its line;
// and the sample daemon/kvd.conf, installed as /etc/kvd/kvd.conf, parses and
// shows the real defaults.
#include <csignal>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;

// The sample config as the source tree holds it (meson passes its path).
std::string SampleConfig() {
  const char* path = std::getenv("KVD_SAMPLE_CONFIG");
  if (path == nullptr || *path == '\0') {
    throw std::runtime_error("KVD_SAMPLE_CONFIG is not set; run the tests with meson test");
  }
  return path;
}

TEST(ConfigTest, SettingsFromTheFileApplyAndBeatTheEnvironment) {
  TestDir dir;
  const auto socket = (dir / "from-file.sock").string();
  const auto data = (dir / "from-file.data").string();
  WriteFile(dir / "kvd.conf", "# a comment\nsocket = \"" + socket + "\"\ndata = \"" + data +
                                  "\"\nfsync = \"everysec\"\nmax-key-size = 4\n");
  Process kvd({KvdBin(), "--config", (dir / "kvd.conf").string()},
              ProcessOptions{.env = {{"KVD_SOCKET", (dir / "env.sock").string()},
                                     {"KVD_DATA", (dir / "env.data").string()}},
                             .stdin_data = {},
                             .stderr_file = dir / "log"});
  RunResult ping{1, {}, {}};
  for (int i = 0; i < 2000 && ping.exit_code != 0 && kvd.Running(); ++i) {
    ping = RunCommand({KvctlBin(), "--socket", socket, "ping"});
  }
  ASSERT_EQ(ping.exit_code, 0) << ReadFile(dir / "log");
  EXPECT_THAT(ReadFile(dir / "log"), HasSubstr("(fsync everysec,"));
  RunResult long_key = RunCommand({KvctlBin(), "--socket", socket, "append", "abcde", "x"});
  EXPECT_EQ(long_key.exit_code, 1);
  EXPECT_THAT(long_key.err, HasSubstr("key"));
  EXPECT_EQ(RunCommand({KvctlBin(), "--socket", socket, "append", "abcd", "x"}).exit_code, 0);
  kvd.Signal(SIGTERM);
  EXPECT_EQ(kvd.Wait(), 0);
  EXPECT_EQ(ReadFile(data), R"({"abcd":["x"]})");
  EXPECT_FALSE(std::filesystem::exists(dir / "env.data"));
}

TEST(ConfigTest, FlagsWinOverTheFile) {
  TestDir dir;
  WriteFile(dir / "kvd.conf", "fsync = \"everysec\"\nmax-key-size = 4\n");
  Daemon kvd(dir, {"--config", (dir / "kvd.conf").string(), "--fsync", "no", "--max-key-size=8"});
  EXPECT_THAT(kvd.Log(), HasSubstr("(fsync no,"));
  EXPECT_EQ(kvd.Kvctl({"append", "abcdefgh", "x"}).exit_code, 0);
  EXPECT_EQ(kvd.Kvctl({"append", "abcdefghi", "x"}).exit_code, 1);
  EXPECT_EQ(kvd.Stop(), 0);
}

// A bad value given in the file and as a flag: the flag's value is the one used.
TEST(ConfigTest, AFlagAlsoOverridesABadValueInTheFile) {
  TestDir dir;
  WriteFile(dir / "kvd.conf", "fsync = \"sometimes\"\n");
  RunResult r = RunKvd({"--config", (dir / "kvd.conf").string(), "--fsync", "no", "--data",
                        (dir / "storage.data").string(), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(ConfigTest, AnUnknownKeyIsRefusedWithTheFileAndLine) {
  TestDir dir;
  const auto conf = (dir / "kvd.conf").string();
  WriteFile(conf, "# kvd\nfsync = \"no\"\n\nno-such-setting = 1\n");
  RunResult r = RunKvd({"--config", conf, "--socket", (dir / "kvd.sock").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(conf + ":4: "));
  EXPECT_THAT(r.err, HasSubstr("unknown setting no-such-setting"));
  EXPECT_FALSE(std::filesystem::exists(dir / "kvd.sock"));
}

TEST(ConfigTest, ABadValueIsRefusedWithTheFileAndLine) {
  struct Case {
    std::string file;  // the bad setting on line 3
    std::string says;
  };
  const Case cases[] = {
      {"fsync = \"sometimes\"\n", "sometimes"},
      {"max-line = \"ten\"\n", "ten"},
      {"max-connections = 0\n", "max-connections"},
      {"socket-mode = \"999\"\n", "not an octal mode"},  // checked after CLI11's parse
      {"http = \"no-port\"\n", "no-port"},
      {"check = true\n", "not allowed in a configuration file"},  // an action, not a setting
      {"config = \"/etc/other.conf\"\n", "not allowed in a configuration file"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    TestDir dir;
    const auto conf = (dir / "kvd.conf").string();
    WriteFile(conf, "# kvd\nidle-timeout = 60\n" + c.file + "shutdown-timeout = 1\n");
    RunResult r = RunKvd({"--config", conf, "--socket", (dir / "kvd.sock").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr(conf + ":3: "));
    EXPECT_THAT(r.err, HasSubstr(c.says));
  }
}

TEST(ConfigTest, AMissingFileIsRefused) {
  TestDir dir;
  const auto conf = (dir / "missing.conf").string();
  RunResult r = RunKvd({"--config", conf, "--socket", (dir / "kvd.sock").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--config: cannot read " + conf + ": No such file or directory"));
  RunResult directory = RunKvd({"--config", dir.path().string()});
  EXPECT_EQ(directory.exit_code, 2);
  EXPECT_THAT(directory.err, HasSubstr("it is a directory"));
}

// The commented-out settings of the sample: lines "# key = value".
std::vector<std::pair<std::string, std::string>> SampleSettings(const std::string& text) {
  static const std::regex setting(R"(^# ([a-z][a-z0-9-]*) = (.*)$)");
  std::vector<std::pair<std::string, std::string>> settings;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, setting)) settings.emplace_back(m[1], m[2]);
  }
  return settings;
}

TEST(SampleConfigTest, ParsesAsInstalled) {
  TestDir dir;
  RunResult r =
      RunKvd({"--config", SampleConfig(), "--data", (dir / "storage.data").string(), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// Every setting the sample shows, uncommented at once, is accepted.
TEST(SampleConfigTest, EverySettingUncommentedIsAccepted) {
  TestDir dir;
  std::string text = ReadFile(SampleConfig());
  const auto settings = SampleSettings(text);
  ASSERT_GE(settings.size(), 30u);
  text = std::regex_replace(text, std::regex(R"((^|\n)# ([a-z][a-z0-9-]* = ))"), "$1$2");
  WriteFile(dir / "kvd.conf", text);
  RunResult r = RunKvd({"--config", (dir / "kvd.conf").string(), "--data",
                        (dir / "storage.data").string(), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// `kvd --help` in an environment with no KVD_*, XDG_RUNTIME_DIR or TMPDIR,
// where the sample's defaults hold.
std::string PlainHelp() {
  return RunCommand({"/usr/bin/env", "-u", "KVD_DATA", "-u", "KVD_SOCKET", "-u", "XDG_RUNTIME_DIR",
                     "-u", "TMPDIR", "-u", "TMP", "-u", "TEMP", "-u", "TEMPDIR", KvdBin(),
                     "--help"})
      .out;
}

// The default `kvd --help` shows for a flag: "=DEFAULT" after its type
// (which may itself hold "[LOW - HIGH]"); nothing if it shows none.
std::optional<std::string> HelpDefault(const std::string& help, const std::string& flag) {
  const std::regex entry("(^|\\n) +(-[a-z],)?--" + flag +
                         "(?=[ =\\n])( [A-Z]+(:(\\{[^}]*\\}|[A-Z]+ in \\[[^\\]]*\\]|[A-Z]+))?)?"
                         "(=(\\S+))?");
  std::smatch m;
  if (!std::regex_search(help, m, entry) || !m[6].matched) return std::nullopt;
  return m[7].str();
}

TEST(SampleConfigTest, ShowsEveryFlagWithItsDefault) {
  const std::string help = PlainHelp();
  ASSERT_THAT(help, HasSubstr("--fsync"));
  const auto settings = SampleSettings(ReadFile(SampleConfig()));
  std::map<std::string, std::string> in_sample(settings.begin(), settings.end());
  // Every flag of `kvd --help` but the actions is in the sample.
  const std::set<std::string> actions = {"help", "version", "config", "check", "repair"};
  std::smatch m;
  std::string rest = help;
  for (const std::regex flag(R"((^|\n) +(-[a-z],)?--([a-z][a-z0-9-]*))");
       std::regex_search(rest, m, flag); rest = m.suffix()) {
    if (actions.count(m[3]) == 0) {
      EXPECT_EQ(in_sample.count(m[3]), 1u) << "--" << m[3];
    }
  }
  // Shown as its default wherever --help shows one.
  for (const auto& [key, value] : settings) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(help.find("--" + key) != std::string::npos) << "no such flag";
    const auto help_default = HelpDefault(help, key);
    if (!help_default || key == "name") continue;  // name: this host's, an example in the sample
    std::string unquoted = value;
    if (unquoted.size() >= 2 && unquoted.front() == '"')
      unquoted = value.substr(1, value.size() - 2);
    EXPECT_EQ(unquoted, *help_default);
  }
  EXPECT_EQ(HelpDefault(help, "fsync"), "always") << help;  // the parse of --help itself
  EXPECT_EQ(HelpDefault(help, "max-line"), "1048576") << help;
  EXPECT_EQ(HelpDefault(help, "data"), "/tmp/storage.data") << help;
  EXPECT_EQ(HelpDefault(help, "http"), std::nullopt) << help;
}

}  // namespace
}  // namespace kvd::testing
