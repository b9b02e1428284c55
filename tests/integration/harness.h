// Real processes for integration tests: kvd daemons on temporary sockets
// and data files, kvctl runs, and raw socket connections. Every process is
// started here and ended here by its PID, also when a test fails.
#ifndef KVD_TESTS_INTEGRATION_HARNESS_H_
#define KVD_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/test_dir.h"

namespace kvd::testing {

// Paths of the binaries under test, from the environment meson sets.
std::string KvdBin();
std::string KvctlBin();
std::string KvbenchBin();

// The path of `program` found in $PATH; empty if it is not installed.
std::string FindProgram(const std::string& program);

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to / overriding the environment
  std::string stdin_data;
  std::filesystem::path stderr_file;  // default: a fresh temporary file
};

// A child process; killed with SIGKILL if still running on destruction, or
// when the test process dies without destroying it.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const ProcessOptions& options);
  ~Process();
  Process(Process&& other) noexcept;
  Process(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  void Signal(int signo);
  // Waits for exit; returns the exit status, or 128 + signal number.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path dir_;  // holds stdin/stdout/stderr files
};

struct RunResult {
  int exit_code;
  std::string out;
  std::string err;
};

// Runs a command to completion.
RunResult RunCommand(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// A kvd on `dir`/kvd.sock with data `dir`/storage.data (unless overridden
// in `args`), started and ready to serve on construction.
class Daemon {
 public:
  explicit Daemon(const TestDir& dir, std::vector<std::string> args = {});
  // `prefix` goes before kvd's command line (e.g. "ip netns exec NS"; the
  // prefix must exec kvd, so that the process is kvd's).
  Daemon(const std::filesystem::path& socket, const std::filesystem::path& data,
         std::vector<std::string> args = {}, std::vector<std::string> prefix = {});

  const std::string& socket() const { return socket_; }
  const std::string& data() const { return data_; }
  Process& process() { return *process_; }
  // SIGTERM, then the exit status.
  int Stop();
  // SIGKILL, like a crash.
  void Kill();
  std::string Log() const;

  // `kvctl --socket <this socket> args...`
  RunResult Kvctl(std::vector<std::string> args, const std::string& stdin_data = {}) const;

 private:
  std::string socket_;
  std::string data_;
  std::string log_;
  std::optional<Process> process_;
};

// Starts kvd expecting it to fail at start-up: returns its exit status and log.
RunResult RunKvd(std::vector<std::string> args);

// The error code of a response line, or a description of why it is none.
std::string ErrorCodeOf(const std::optional<std::string>& response_line);

// Resident memory of a process, from /proc.
std::size_t RssBytes(pid_t pid);

// Calls `done` every `every` until it returns true or `timeout` has passed;
// returns its last answer. For what a test can only poll for.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(10));

// A plain connection to a socket, for sending arbitrary bytes.
class Connection {
 public:
  explicit Connection(const std::string& socket);
  // A TCP connection to 127.0.0.1:port.
  explicit Connection(std::uint16_t loopback_port);
  ~Connection();
  void Send(const std::string& bytes);
  // The next line, without "\n"; nothing at end of stream or after `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next `n` bytes; nothing at end of stream or after `timeout`.
  std::optional<std::string> Read(std::size_t n,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True once the peer closed the connection (reads end of stream).
  bool ClosedByPeer(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends as much of `bytes` as the peer takes within `timeout`; returns how
  // much that was (less than all when the peer stops reading).
  std::size_t SendFor(const std::string& bytes, std::chrono::milliseconds timeout);
  void Close();
  // Shuts down the sending half only (shutdown(2) SHUT_WR): kvd reads the
  // end of the requests and still answers them.
  void ShutdownSending();

 private:
  // Receives more into buffer_; false at end of stream or at `deadline`.
  bool Receive(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

// Sends the request `line` (without its "\n") on `c` and returns the answer
// line, or "<no answer>".
std::string Ask(Connection& c, const std::string& line);

// A small tmpfs of the test's own (a disk that fills up), unmounted
// whatever happens. Mounting needs root: check mounted().
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::filesystem::path& at);
  ~TmpfsMount();
  bool mounted() const { return mounted_; }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
};

}  // namespace kvd::testing

#endif  // KVD_TESTS_INTEGRATION_HARNESS_H_
