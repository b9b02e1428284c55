// The harness itself: nothing a test starts outlives a test process that
// dies without running its destructors.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "tests/integration/harness.h"
#include "tests/test_dir.h"

namespace kvd::testing {
namespace {

// The command name and state of process `pid` ("" when it is gone).
std::pair<std::string, std::string> NameAndState(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, name, state;
  if (!(stat >> pid_field >> name >> state)) return {};
  return {name, state};
}

// Whether `pid` has exited: gone, or a zombie left for its new parent.
bool Exited(pid_t pid) {
  const auto [name, state] = NameAndState(pid);
  return name.empty() || state == "Z";
}

TEST(ProcessTest, ChildrenDieWithATestProcessThatAborts) {
  TestDir dir;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t test = ::fork();
  ASSERT_GE(test, 0);
  if (test == 0) {
    // Stands for a test that aborts: no destructor runs, and the
    // process's files (in TMPDIR) stay for the parent to remove.
    ::close(pipe_fds[0]);
    ::setenv("TMPDIR", dir.path().c_str(), 1);
    Process sleeper({"/bin/sleep", "60"}, {});
    const pid_t pid = sleeper.pid();
    // Once it runs sleep: a child that finds its parent gone before then
    // exits by itself.
    if (!Eventually([&] { return NameAndState(pid).first == "(sleep)"; }, std::chrono::seconds(10),
                    std::chrono::milliseconds(1))) {
      ::_exit(1);
    }
    if (::write(pipe_fds[1], &pid, sizeof pid) != sizeof pid) ::_exit(1);
    std::abort();
  }
  ::close(pipe_fds[1]);
  pid_t sleeper = -1;
  const bool got_pid = ::read(pipe_fds[0], &sleeper, sizeof sleeper) == sizeof sleeper;
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(test, &status, 0), test);
  ASSERT_TRUE(got_pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
  const bool exited = Eventually([&] { return Exited(sleeper); }, std::chrono::seconds(10));
  if (!exited) ::kill(sleeper, SIGKILL);  // the test started it: do not leave it behind
  EXPECT_TRUE(exited) << "sleep " << sleeper << " outlived the test process that started it";
}

}  // namespace
}  // namespace kvd::testing
