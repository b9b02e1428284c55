#include "tests/integration/harness.h"

#include "proto/response.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace kvd::testing {
namespace {

std::string RequiredEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) + " is not set; run the tests with meson test");
  }
  return v;
}

std::filesystem::path MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kvd-proc-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

}  // namespace

std::string FindProgram(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::filesystem::path candidate =
        std::filesystem::path(dirs.substr(start, end - start)) / program;
    if (!dirs.substr(start, end - start).empty() && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    start = end + 1;
  }
  return {};
}

std::string KvdBin() { return RequiredEnv("KVD_BIN"); }
std::string KvctlBin() { return RequiredEnv("KVCTL_BIN"); }
std::string KvbenchBin() { return RequiredEnv("KVBENCH_BIN"); }

Process::Process(const std::vector<std::string>& argv, const ProcessOptions& options)
    : dir_(MakeTempDir()) {
  WriteFile(dir_ / "stdin", options.stdin_data);
  const std::string err =
      options.stderr_file.empty() ? (dir_ / "stderr").string() : options.stderr_file.string();
  const std::string in = (dir_ / "stdin").string(), out = (dir_ / "stdout").string();

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    if (!options.env.contains(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
  c_argv.push_back(nullptr);
  c_env.push_back(nullptr);

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test process that dies without running destructors (an ASan abort,
    // a crash) takes its children with it; also if it died before this.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(125);
    const int fd_in = ::open(in.c_str(), O_RDONLY);
    const int fd_out = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int fd_err = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd_in < 0 || fd_out < 0 || fd_err < 0) ::_exit(126);
    ::dup2(fd_in, 0);
    ::dup2(fd_out, 1);
    ::dup2(fd_err, 2);
    ::execve(c_argv[0], c_argv.data(), c_env.data());
    ::_exit(127);
  }
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_), dir_(std::move(other.dir_)) {
  other.dir_.clear();
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool Process::Running() {
  if (status_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

void Process::Signal(int signo) {
  if (Running()) ::kill(pid_, signo);
}

int Process::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      status_ = 128 + SIGKILL;
      throw std::runtime_error("process " + std::to_string(pid_) + " did not exit in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return *status_;
}

std::string Process::Stdout() const { return ReadFile(dir_ / "stdout"); }
std::string Process::Stderr() const { return ReadFile(dir_ / "stderr"); }

RunResult RunCommand(const std::vector<std::string>& argv, const ProcessOptions& options) {
  Process p(argv, options);
  const int code = p.Wait();
  return RunResult{code, p.Stdout(), p.Stderr()};
}

Daemon::Daemon(const TestDir& dir, std::vector<std::string> args)
    : Daemon(dir / "kvd.sock", dir / "storage.data", std::move(args)) {}

Daemon::Daemon(const std::filesystem::path& socket, const std::filesystem::path& data,
               std::vector<std::string> args, std::vector<std::string> prefix)
    : socket_(socket.string()), data_(data.string()) {
  log_ = data_ + ".test-log";
  std::vector<std::string> argv = std::move(prefix);
  for (const std::string& a :
       {KvdBin(), std::string("--socket"), socket_, std::string("--data"), data_}) {
    argv.push_back(a);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  process_.emplace(argv, ProcessOptions{.env = {}, .stdin_data = {}, .stderr_file = log_});
  // Ready once it answers; bounded, and fails fast if kvd exits.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // Ready once it answers, even if only to refuse (--allow-uid).
  for (RunResult ping = Kvctl({"ping"});
       ping.exit_code != 0 && ping.err.find("may not use") == std::string::npos;
       ping = Kvctl({"ping"})) {
    if (!process_->Running()) throw std::runtime_error("kvd exited at start:\n" + Log());
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("kvd did not answer in time:\n" + Log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

int Daemon::Stop() {
  process_->Signal(SIGTERM);
  return process_->Wait();
}

void Daemon::Kill() {
  process_->Signal(SIGKILL);
  process_->Wait();
}

std::string Daemon::Log() const { return ReadFile(log_); }

RunResult Daemon::Kvctl(std::vector<std::string> args, const std::string& stdin_data) const {
  args.insert(args.begin(), {KvctlBin(), "--socket", socket_});
  return RunCommand(args, ProcessOptions{.env = {}, .stdin_data = stdin_data, .stderr_file = {}});
}

RunResult RunKvd(std::vector<std::string> args) {
  args.insert(args.begin(), KvdBin());
  return RunCommand(args);
}

Connection::Connection(const std::string& socket) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("cannot connect to " + socket + ": " + std::strerror(errno));
  }
}

Connection::Connection(std::uint16_t loopback_port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(loopback_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(loopback_port) + ": " +
                             std::strerror(errno));
  }
}

Connection::~Connection() { Close(); }

void Connection::ShutdownSending() { ::shutdown(fd_, SHUT_WR); }

void Connection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Connection::Send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
}

bool Connection::Receive(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd p{fd_, POLLIN, 0};
  if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> Connection::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (!Receive(deadline)) return std::nullopt;
  }
}

std::optional<std::string> Connection::Read(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer_.size() < n) {
    if (!Receive(deadline)) return std::nullopt;
  }
  std::string bytes = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return bytes;
}

std::size_t Connection::SendFor(const std::string& bytes, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLOUT, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n =
        ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  return sent;
}

std::string ErrorCodeOf(const std::optional<std::string>& line) {
  if (!line) return "<no response>";
  proto::Response r;
  if (proto::DecodeResponse(*line, &r) || !r.error) return "<not an error: " + *line + ">";
  return std::string(proto::ErrorCodeName(r.error->code));
}

std::size_t RssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

bool Connection::ClosedByPeer(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

TmpfsMount::TmpfsMount(const std::filesystem::path& at) : at_(at) {
  std::filesystem::create_directories(at);
  mounted_ = ::mount("tmpfs", at.c_str(), "tmpfs", 0, "size=256k") == 0;
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
}

std::string Ask(Connection& c, const std::string& line) {
  c.Send(line + "\n");
  return c.ReadLine().value_or("<no answer>");
}

}  // namespace kvd::testing
