// bare_server: the least any server must do for kvbench's appends under
// --fsync always, and nothing else, to show how far kvd is from the ceiling
// that the client, the disk and the CPUs set (bench/ceiling.sh; see
// bench/README.md).
//
//   bare_server --socket PATH --journal PATH
//
// One thread, Redis's model: a level-triggered epoll_wait, then one read(2)
// from each connection it reported, every byte read appended to the journal
// with one pwrite(2) and one fdatasync(2) for the whole turn, then each
// complete line read is answered {"ok":true} with one write(2) per
// connection. Nothing is parsed, stored or kept: the journal, filled with
// zeros before the socket listens (so that an fdatasync persists data only,
// as kvd's reserved space does), is overwritten from its start once full.
// Linux only. Exit status: 0 after SIGTERM or SIGINT; 1 when a system call
// fails; 2 bad usage.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>

namespace {

constexpr int kFailed = 1;
constexpr int kUsage = 2;
constexpr std::int64_t kJournalBytes = 64 << 20;
constexpr std::string_view kAnswer = "{\"ok\":true}\n";

volatile sig_atomic_t stopping = 0;

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "bare_server: " << what << ": " << std::strerror(errno) << '\n';
  std::exit(kFailed);
}

// Writes all of `bytes` to the journal at `offset`.
void WriteAt(int fd, std::string_view bytes, std::int64_t offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fail("cannot write to the journal");
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += n;
  }
}

// Writes all of `bytes` to a client; false if it is gone.
bool Send(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Its socket buffer is full: wait until it reads (a benchmark client does).
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int CreateJournal(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) Fail("cannot create " + path);
  const std::string zeros(1 << 20, '\0');
  for (std::int64_t at = 0; at < kJournalBytes; at += static_cast<std::int64_t>(zeros.size())) {
    WriteAt(fd, zeros, at);
  }
  if (::fdatasync(fd) != 0) Fail("cannot fdatasync the journal");
  return fd;
}

int Listen(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) {
    errno = ENAMETOOLONG;
    Fail("cannot listen on " + path);
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    Fail("cannot listen on " + path);
  }
  return fd;
}

void Watch(int epoll, int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) Fail("epoll_ctl");
}

int Serve(const std::string& socket_path, const std::string& journal_path) {
  const int journal = CreateJournal(journal_path);
  const int listener = Listen(socket_path);
  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) Fail("epoll_create1");
  Watch(epoll, listener);

  std::unordered_map<int, std::size_t> unanswered;  // complete lines per connection, this turn
  std::string turn;                                 // the bytes this turn read
  std::string answers;
  std::int64_t journal_end = 0;
  std::array<char, 64 * 1024> buffer;
  std::array<epoll_event, 256> events;
  while (stopping == 0) {
    const int ready = ::epoll_wait(epoll, events.data(), static_cast<int>(events.size()), -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) Fail("epoll_wait");
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        for (int client;
             (client = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          Watch(epoll, client);
        }
        continue;
      }
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {   // end of stream or a reset: the client left
        ::close(fd);  // also takes it out of the epoll set
        unanswered.erase(fd);
        continue;
      }
      turn.append(buffer.data(), static_cast<std::size_t>(n));
      unanswered[fd] +=
          static_cast<std::size_t>(std::count(buffer.data(), buffer.data() + n, '\n'));
    }
    if (turn.empty()) continue;
    if (journal_end + static_cast<std::int64_t>(turn.size()) > kJournalBytes) journal_end = 0;
    WriteAt(journal, turn, journal_end);
    if (::fdatasync(journal) != 0) Fail("cannot fdatasync the journal");
    journal_end += static_cast<std::int64_t>(turn.size());
    turn.clear();
    for (auto& [fd, lines] : unanswered) {
      answers.clear();
      for (std::size_t k = 0; k < lines; ++k) answers += kAnswer;
      if (!Send(fd, answers)) ::close(fd);  // reset: it left
    }
    unanswered.clear();
  }
  ::unlink(socket_path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bare_server: appends made durable and answered, nothing else (bench/ceiling.sh)"};
  std::string socket_path;
  std::string journal_path;
  app.add_option("--socket", socket_path, "Unix socket to listen on (must not exist)")->required();
  app.add_option("--journal", journal_path, "file to create for the appends (must not exist)")
      ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  struct sigaction stop {};
  stop.sa_handler = [](int) { stopping = 1; };
  ::sigaction(SIGTERM, &stop, nullptr);
  ::sigaction(SIGINT, &stop, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return Serve(socket_path, journal_path);
}
