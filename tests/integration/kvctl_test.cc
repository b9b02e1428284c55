// kvctl against a real kvd: the contract's table of commands and outputs.
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class KvctlTest : public ::testing::Test {
 protected:
  TestDir dir_;
  Daemon kvd_{dir_};
};

TEST_F(KvctlTest, AppendThenReadJoinsWithCommaSpace) {
  EXPECT_EQ(kvd_.Kvctl({"--key", "a", "--val", "x"}).exit_code, 0);
  RunResult append = kvd_.Kvctl({"--key", "a", "--val", "y, z"});
  EXPECT_EQ(append.exit_code, 0);
  EXPECT_THAT(append.out, IsEmpty());
  RunResult read = kvd_.Kvctl({"--key", "a"});
  EXPECT_EQ(read.exit_code, 0);
  EXPECT_EQ(read.out, "x, y, z\n");
  EXPECT_EQ(kvd_.Kvctl({"--key", "a", "--json"}).out, "[\"x\",\"y, z\"]\n");
  // A clean shutdown folds the journal into the original tool's shape.
  ASSERT_EQ(kvd_.Stop(), 0);
  EXPECT_EQ(ReadFile(kvd_.data()), R"({"a":["x","y, z"]})");
  EXPECT_FALSE(std::filesystem::exists(kvd_.data() + ".journal"));
}

TEST_F(KvctlTest, AnOutputThatCannotBeWrittenIsAnError) {
  ASSERT_EQ(kvd_.Kvctl({"--key", "a", "--val", "x"}).exit_code, 0);
  RunResult full = RunCommand({"/bin/sh", "-c", R"(exec "$0" --socket "$1" --key a >/dev/full)",
                               KvctlBin(), kvd_.socket()});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_THAT(full.err, HasSubstr("kvctl: cannot write to standard output: No space left"));
}

TEST_F(KvctlTest, MissingKeyPrintsAnEmptyLine) {
  RunResult r = kvd_.Kvctl({"--key", "nothing-here"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "\n");
  EXPECT_EQ(kvd_.Kvctl({"--key", "nothing-here", "--json"}).out, "[]\n");
}

TEST_F(KvctlTest, ArbitraryTextSurvives) {
  const std::vector<std::string> values = {"", "comma, inside", "\"quotes\"", "two\nlines",
                                           "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"};
  for (const auto& v : values)
    ASSERT_EQ(kvd_.Kvctl({"--key", "k\xc3\xa9", "--val", v}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"--key", "k\xc3\xa9", "--json"}).out,
            "[\"\",\"comma, inside\",\"\\\"quotes\\\"\",\"two\\nlines\","
            "\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]\n");
  ASSERT_EQ(kvd_.Kvctl({"--key", "", "--val", "empty key"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"--key", ""}).out, "empty key\n");
}

TEST_F(KvctlTest, InvalidUtf8IsRefusedAndNothingStored) {
  RunResult r = kvd_.Kvctl({"--key", "k", "--val", "bad \xff byte"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UTF-8"));
  EXPECT_EQ(kvd_.Kvctl({"--key", "k"}).out, "\n");
}

TEST_F(KvctlTest, UsageErrorsExitTwoWithUsageOnStderr) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"--val", "v"},
           {"--key"},
           {"--bogus"},
           {"get"},
           {"append", "k"},
           {"revision"},
           {"revision", "k", "extra"},
           {"range", "k"},
           {"range", "k", "0"},
           {"range", "k", "x", "1"},
           {"range", "k", "0", "1.5"},
           {"range", "k", "0", "1", "extra"},
           {"--key", "k", "range", "k", "0", "1"},
           {"len"},
           {"len", "k", "extra"},
           {"trim", "k"},
           {"trim", "k", "0"},
           {"trim", "k", "x", "1"},
           {"trim", "k", "0", "1", "extra"},
           {"--key", "k", "trim", "k", "0", "1"},
           {"pop"},
           {"pop", "k", "extra"},
           {"pop", "k", "--count", "0"},
           {"pop", "k", "--count", "-1"},
           {"pop", "k", "--count", "x"},
           {"pop", "k", "--wait", "-1"},
           {"pop", "k", "--wait", "86401"},
           {"pop", "k", "--wait", "x"},
           {"--key", "k", "pop", "k"},
           {"--key", "k", "revision", "k"},
           {"--key", "k", "get", "k"},
           {"--key", "k", "--if-revision", "0"},
           {"--key", "k", "--val", "v", "--if-revision", "x"},
           {"--key", "k", "--val", "v", "--if-revision", "0", "--if-length", "0"}}) {
    RunResult r = kvd_.Kvctl(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_THAT(r.out, IsEmpty());
    EXPECT_THAT(r.err, Not(IsEmpty()));
  }
  RunResult help = RunCommand({KvctlBin(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"get", "range", "len", "append", "del", "trim", "pop", "keys",
                              "stats", "revision", "ping", "import"}) {
    EXPECT_THAT(help.out, HasSubstr(command));
  }
  EXPECT_THAT(help.out, HasSubstr("--if-revision"));
  EXPECT_THAT(help.out, HasSubstr("3 conflict"));
}

// A conditional append: done (0) while the key is as given, else one line
// on stderr with the key's revision and exit status 3, nothing appended.
TEST_F(KvctlTest, ConditionalAppendExitsThreeOnConflict) {
  RunResult r = kvd_.Kvctl({"--key", "k", "--val", "a", "--if-revision", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = kvd_.Kvctl({"--key", "k", "--val", "x", "--if-revision", "0"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(r.err, ::testing::StartsWith("kvctl: conflict: "));
  EXPECT_THAT(r.err, ::testing::EndsWith("(revision 1)\n"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(kvd_.Kvctl({"--key", "k", "--val", "b", "--if-revision", "1"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"--key", "k", "--val", "c", "--if-length", "2"}).exit_code, 0);
  r = kvd_.Kvctl({"--key", "k", "--val", "x", "--if-length", "2"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("(revision 3)"));
  EXPECT_EQ(kvd_.Kvctl({"append", "k", "d", "--if-revision", "3"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"append", "k", "x", "--if-revision", "3"}).exit_code, 3);
  EXPECT_EQ(kvd_.Kvctl({"--key", "k"}).out, "a, b, c, d\n");
  EXPECT_EQ(kvd_.Kvctl({"revision", "k"}).out, "4\n");
}

TEST(KvctlUnreachableTest, NamesTheEndpointAndExitsOne) {
  TestDir dir;
  const std::string socket = (dir / "nobody.sock").string();
  RunResult r = RunCommand({KvctlBin(), "--socket", socket, "--key", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(r.err, HasSubstr(socket));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

// A temp dir that does not exist is where the default socket would be, not
// a crash: kvctl says it cannot connect there; kvd reads its defaults fine.
TEST(KvctlEnvTest, AMissingTempDirIsNamedInTheErrorNotACrash) {
  TestDir dir;
  const auto missing = dir / "missing";
  const ProcessOptions env{.env = {{"KVD_SOCKET", ""},
                                   {"XDG_RUNTIME_DIR", ""},
                                   {"KVD_DATA", ""},
                                   {"TMPDIR", missing.string()}},
                           .stdin_data = {},
                           .stderr_file = {}};
  RunResult ping = RunCommand({KvctlBin(), "ping"}, env);
  EXPECT_EQ(ping.exit_code, 1);
  EXPECT_THAT(ping.err, HasSubstr((missing / "kvd.sock").string()));
  EXPECT_EQ(std::count(ping.err.begin(), ping.err.end(), '\n'), 1) << "one line: " << ping.err;
  EXPECT_EQ(RunCommand({KvdBin(), "--version"}, env).exit_code, 0);
  EXPECT_EQ(RunCommand({KvdBin(), "--check"}, env).exit_code, 0) << "no data file: empty";
}

TEST(KvctlEnvTest, SocketComesFromTheEnvironmentUnlessAFlagSaysOtherwise) {
  TestDir dir;
  const auto socket = (dir / "env.sock").string();
  // kvd takes KVD_SOCKET and KVD_DATA too.
  Process kvd({KvdBin()}, ProcessOptions{.env = {{"KVD_SOCKET", socket},
                                                 {"KVD_DATA", (dir / "env.data").string()}},
                                         .stdin_data = {},
                                         .stderr_file = {}});
  const ProcessOptions env{.env = {{"KVD_SOCKET", socket}}, .stdin_data = {}, .stderr_file = {}};
  RunResult ping{1, {}, {}};
  for (int i = 0; i < 2000 && ping.exit_code != 0; ++i)
    ping = RunCommand({KvctlBin(), "ping"}, env);
  ASSERT_EQ(ping.exit_code, 0) << ping.err;
  EXPECT_EQ(RunCommand({KvctlBin(), "--key", "e", "--val", "1"}, env).exit_code, 0);
  EXPECT_EQ(RunCommand({KvctlBin(), "--key", "e"}, env).out, "1\n");
  EXPECT_EQ(RunCommand({KvctlBin(), "--socket", (dir / "other.sock").string(), "--key", "e"}, env)
                .exit_code,
            1);
  kvd.Signal(SIGTERM);
  EXPECT_EQ(kvd.Wait(), 0);
  EXPECT_EQ(ReadFile(dir / "env.data"), R"({"e":["1"]})");
}

TEST_F(KvctlTest, ImportKeepsRequestsUnderTheLineLimitWhateverTheEscaping) {
  // Control characters take 6 bytes each on the wire (\u0001).
  const std::string value(300, '\x01');
  std::string input;
  for (int i = 0; i < 3000; ++i) input += "esc\t" + value + "\n";
  RunResult r = kvd_.Kvctl({"import"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("values:3000\n"));
}

TEST_F(KvctlTest, RedisStyleCommands) {
  EXPECT_EQ(kvd_.Kvctl({"ping"}).out, "PONG\n");
  EXPECT_EQ(kvd_.Kvctl({"append", "user:1", "ann"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"append", "user:2", "bob"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"append", "job:1", "x"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"get", "user:1"}).out, "ann\n");
  EXPECT_EQ(kvd_.Kvctl({"get", "user:1", "--json"}).out, "[\"ann\"]\n");
  EXPECT_EQ(kvd_.Kvctl({"keys"}).out, "job:1\nuser:1\nuser:2\n");
  EXPECT_EQ(kvd_.Kvctl({"keys", "user:"}).out, "user:1\nuser:2\n");
  EXPECT_EQ(kvd_.Kvctl({"keys", "user:", "--json"}).out, "[\"user:1\",\"user:2\"]\n");
  EXPECT_EQ(kvd_.Kvctl({"del", "user:1"}).out, "1\n");
  EXPECT_EQ(kvd_.Kvctl({"delete", "user:1"}).out, "0\n");
  EXPECT_EQ(kvd_.Kvctl({"keys"}).out, "job:1\nuser:2\n");
  const std::string stats = kvd_.Kvctl({"stats"}).out;
  EXPECT_THAT(stats, HasSubstr("keys:2\n"));
  EXPECT_THAT(stats, HasSubstr("values:2\n"));
  EXPECT_THAT(stats, HasSubstr("connections:1\n"));
}

// The key's revision (a bare number) and the store's among the stats
// (proto/PROTOCOL.md, "Revisions").
TEST_F(KvctlTest, RevisionPrintsTheKeysAndStatsTheStores) {
  EXPECT_EQ(kvd_.Kvctl({"revision", "k1"}).out, "0\n") << "an empty store";
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("\nrevision:0\n"));
  ASSERT_EQ(kvd_.Kvctl({"append", "k1", "a"}).exit_code, 0);          // 1
  ASSERT_EQ(kvd_.Kvctl({"--key", "k1", "--val", "b"}).exit_code, 0);  // 2
  ASSERT_EQ(kvd_.Kvctl({"append", "k2", "c"}).exit_code, 0);          // 3
  EXPECT_EQ(kvd_.Kvctl({"revision", "k1"}).out, "2\n");
  EXPECT_EQ(kvd_.Kvctl({"del", "k1"}).out, "1\n");  // 4
  const RunResult k2 = kvd_.Kvctl({"revision", "k2"});
  EXPECT_EQ(k2.exit_code, 0);
  EXPECT_EQ(k2.out, "3\n");
  EXPECT_THAT(k2.err, IsEmpty());
  EXPECT_EQ(kvd_.Kvctl({"revision", "k1"}).out, "0\n") << "a deleted key";
  EXPECT_EQ(kvd_.Kvctl({"revision", "never"}).out, "0\n");
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("\nrevision:4\n"));
  EXPECT_EQ(kvd_.Kvctl({"del", "k1"}).out, "0\n");
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("\nrevision:4\n"))
      << "deleting nothing changes nothing";
  RunResult imported = kvd_.Kvctl({"import"}, "k2\td\nk3\te\n");  // 5, 6
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(kvd_.Kvctl({"revision", "k2"}).out, "5\n");
  EXPECT_EQ(kvd_.Kvctl({"revision", "k3"}).out, "6\n");
  // The key's revision with odd characters, as any key.
  ASSERT_EQ(kvd_.Kvctl({"append", "a, \"b\"\n\xc3\xa9", "x"}).exit_code, 0);  // 7
  EXPECT_EQ(kvd_.Kvctl({"revision", "a, \"b\"\n\xc3\xa9"}).out, "7\n");
}

// A part of a key's values, printed as get prints them, and its length
// (proto/PROTOCOL.md, "get" and "len").
TEST_F(KvctlTest, RangePrintsPartOfTheValuesAndLenTheirNumber) {
  for (const char* v : {"a", "b, c", "d", "e"})
    ASSERT_EQ(kvd_.Kvctl({"append", "k", v}).exit_code, 0);
  const RunResult part = kvd_.Kvctl({"range", "k", "1", "2"});
  EXPECT_EQ(part.exit_code, 0) << part.err;
  EXPECT_EQ(part.out, "b, c, d\n");
  EXPECT_THAT(part.err, IsEmpty());
  EXPECT_EQ(kvd_.Kvctl({"range", "k", "1", "2", "--json"}).out, "[\"b, c\",\"d\"]\n");
  EXPECT_EQ(kvd_.Kvctl({"range", "k", "-2", "-1"}).out, "d, e\n") << "negative: from the end";
  EXPECT_EQ(kvd_.Kvctl({"range", "k", "-100", "0"}).out, "a\n") << "clamped at the head";
  EXPECT_EQ(kvd_.Kvctl({"range", "k", "2", "100"}).out, "d, e\n") << "clamped at the tail";
  EXPECT_EQ(kvd_.Kvctl({"range", "k", "0", "-1"}).out, kvd_.Kvctl({"get", "k"}).out);
  EXPECT_EQ(kvd_.Kvctl({"range", "k", "3", "1"}).out, "\n") << "none: an empty line, as get";
  EXPECT_EQ(kvd_.Kvctl({"range", "k", "9", "10", "--json"}).out, "[]\n");
  EXPECT_EQ(kvd_.Kvctl({"range", "absent", "0", "-1"}).out, "\n");
  const RunResult len = kvd_.Kvctl({"len", "k"});
  EXPECT_EQ(len.exit_code, 0) << len.err;
  EXPECT_EQ(len.out, "4\n");
  EXPECT_EQ(kvd_.Kvctl({"len", "absent"}).out, "0\n");
  EXPECT_EQ(kvd_.Kvctl({"del", "k"}).out, "1\n");
  EXPECT_EQ(kvd_.Kvctl({"len", "k"}).out, "0\n");
}

// Values taken from either end, printed as get prints them, in the order
// taken; a trim prints nothing (proto/PROTOCOL.md, "pop" and "trim").
TEST_F(KvctlTest, PopPrintsTheValuesTakenAndTrimKeepsARange) {
  for (const char* v : {"a", "b, c", "d", "e", "f", "g", "h"})
    ASSERT_EQ(kvd_.Kvctl({"append", "k", v}).exit_code, 0);
  const RunResult one = kvd_.Kvctl({"pop", "k"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "a\n");
  EXPECT_THAT(one.err, IsEmpty());
  EXPECT_EQ(kvd_.Kvctl({"pop", "k", "--count", "2"}).out, "b, c, d\n");
  EXPECT_EQ(kvd_.Kvctl({"pop", "--tail", "k", "--json"}).out, "[\"h\"]\n");
  EXPECT_EQ(kvd_.Kvctl({"pop", "k", "--count", "2", "--tail"}).out, "g, f\n")
      << "from the tail, the last first";
  EXPECT_EQ(kvd_.Kvctl({"revision", "k"}).out, "11\n");
  EXPECT_EQ(kvd_.Kvctl({"pop", "k", "--wait", "30"}).out, "e\n") << "at once: a value is there";
  EXPECT_EQ(kvd_.Kvctl({"pop", "k"}).out, "\n")
      << "none left: an empty line, as get of a missing key";
  EXPECT_EQ(kvd_.Kvctl({"keys"}).out, "") << "the key left without values is gone";
  const RunResult none = kvd_.Kvctl({"pop", "absent", "--count", "3", "--json", "--wait", "0.1"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "[]\n");

  for (const char* v : {"a", "b", "c", "d"}) ASSERT_EQ(kvd_.Kvctl({"append", "t", v}).exit_code, 0);
  const RunResult trim = kvd_.Kvctl({"trim", "t", "1", "-2"});
  EXPECT_EQ(trim.exit_code, 0) << trim.err;
  EXPECT_THAT(trim.out, IsEmpty());
  EXPECT_EQ(kvd_.Kvctl({"get", "t"}).out, "b, c\n");
  EXPECT_EQ(kvd_.Kvctl({"trim", "t", "-100", "100"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"get", "t"}).out, "b, c\n");
  EXPECT_EQ(kvd_.Kvctl({"trim", "t", "1", "0"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"len", "t"}).out, "0\n");
  EXPECT_EQ(kvd_.Kvctl({"trim", "absent", "0", "0"}).exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"keys"}).out, "");
}

// kvctl pop --wait holds on until another client appends.
TEST_F(KvctlTest, PopWaitsForAValueAppendedMeanwhile) {
  Process pop({KvctlBin(), "--socket", kvd_.socket(), "pop", "jobs", "--wait", "30"},
              ProcessOptions{});
  ASSERT_TRUE(Eventually(
      [&] { return kvd_.Kvctl({"stats"}).out.find("\npops_waiting:1\n") != std::string::npos; },
      std::chrono::seconds(10)));
  ASSERT_EQ(kvd_.Kvctl({"append", "jobs", "job 1"}).exit_code, 0);
  EXPECT_EQ(pop.Wait(), 0) << pop.Stderr();
  EXPECT_EQ(pop.Stdout(), "job 1\n");
  EXPECT_EQ(kvd_.Kvctl({"len", "jobs"}).out, "0\n");
}

TEST_F(KvctlTest, ImportAppendsTabSeparatedLinesInOrder) {
  std::string input;
  for (int i = 0; i < 5000; ++i)
    input += "k" + std::to_string(i % 3) + "\tv" + std::to_string(i) + "\twith tab\n";
  RunResult r = kvd_.Kvctl({"import"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported 5000 values\n");
  RunResult k0 = kvd_.Kvctl({"get", "k0", "--json"});
  EXPECT_THAT(k0.out, ::testing::StartsWith("[\"v0\\twith tab\",\"v3\\twith tab\","));
  EXPECT_THAT(kvd_.Kvctl({"stats"}).out, HasSubstr("values:5000\n"));

  RunResult bad = kvd_.Kvctl({"import"}, "a\t1\nno tab here\nb\t2\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("line 2"));
  EXPECT_EQ(kvd_.Kvctl({"get", "a"}).out, "1\n") << "lines before the bad one are kept";
  EXPECT_EQ(kvd_.Kvctl({"get", "b"}).out, "\n") << "lines after it are not imported";
}

// "-" as the value reads all of stdin, less one trailing newline
// (client/kvctl.cc, ReadValueFromStdin).
TEST_F(KvctlTest, DashAsTheValueReadsStdin) {
  EXPECT_EQ(kvd_.Kvctl({"append", "k", "-"}, "from echo\n").exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"--key", "k", "--val", "-"}, "two\nlines\n\n").exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"append", "k", "-"}, "no newline").exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"append", "k", "-"}, "").exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"append", "k", "-"}, "-").exit_code, 0);
  std::string big(200000, 'b');
  big[1000] = '\0';  // bytes as they are, a NUL too
  EXPECT_EQ(kvd_.Kvctl({"append", "big", "-"}, big + "\n").exit_code, 0);
  EXPECT_EQ(kvd_.Kvctl({"get", "k", "--json"}).out,
            "[\"from echo\",\"two\\nlines\\n\",\"no newline\",\"\",\"-\"]\n");
  RunResult got = kvd_.Kvctl({"get", "big"});
  EXPECT_EQ(got.out, big + "\n");
  // Through a real pipe, as a shell runs it.
  RunResult piped =
      RunCommand({"/bin/sh", "-c", R"(printf 'piped\n' | "$0" --socket "$1" append p -)",
                  KvctlBin(), kvd_.socket()});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(kvd_.Kvctl({"get", "p"}).out, "piped\n");
  RunResult bad = kvd_.Kvctl({"append", "k", "-"}, "bad \xff byte\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("UTF-8"));
}

}  // namespace
}  // namespace kvd::testing
