// kvwatchbench: watch fan-out (see bench/README.md). One writer appends to
// one key, one value at a time, for --duration seconds, while --watchers
// connections each receive every change: kvd's watch streams, or with
// --protocol resp Redis's keyspace notifications of the key (SUBSCRIBE
// __keyspace@0__:KEY, notify-keyspace-events Kl), the feed Redis offers.
// Prints one line:
//
//   mix=watch watchers=50 writes=... seconds=... writes_per_s=...
//   ops_per_s=<changes delivered per second, over all watchers> p50_us=...
//   p99_us=... max_us=...   (the delay from a change's append being sent to
//   a watcher receiving it)
//
// Each watcher's n-th change is the writer's n-th append (one writer, in
// order); every change is checked to be that key's append. Threads and
// blocking sockets: each watcher reads on a thread of its own, as a process
// watching a store would. Exit status: 0 done; 1 a connection failed, a
// change was missing or not the key's append; 2 bad usage.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/resp.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kUsage = 2;
constexpr int kFailed = 1;
// The most appends a run makes: their send times are kept for the watchers.
constexpr std::size_t kMaxWrites = 4'000'000;

struct Config {
  std::string socket;
  bool resp = false;
  unsigned watchers = 50;
  double duration = 3;
  std::size_t value_size = 16;
  double timeout = 30;  // seconds a watcher waits for its missing changes
};

// A connected Unix socket, closed on destruction; throws on failure.
class Socket {
 public:
  explicit Socket(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (fd_ < 0 || path.size() >= sizeof(address.sun_path)) Fail("socket " + path);
    std::memcpy(address.sun_path, path.data(), path.size());
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      Fail("connect to " + path);
    }
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { ::close(fd_); }

  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) Fail("send");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // Appends what has arrived (waiting up to `timeout` for some) to *in;
  // false on a timeout.
  bool Receive(std::string* in, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buffer[64 * 1024];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n <= 0) Fail("receive (the server closed the connection?)");
    in->append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  // Reads until *in holds `n` bytes or more.
  void ReceiveAtLeast(std::string* in, std::size_t n) {
    while (in->size() < n) {
      if (!Receive(in)) Fail("no answer");
    }
  }
  // Reads up to and including the next "\n", which it removes from *in.
  std::string ReadLine(std::string* in) {
    std::size_t end;
    while ((end = in->find('\n')) == std::string::npos) {
      if (!Receive(in)) Fail("no answer");
    }
    std::string line = in->substr(0, end + 1);
    in->erase(0, end + 1);
    return line;
  }

 private:
  [[noreturn]] static void Fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
  }
  int fd_;
};

// What the writer shares with the watchers.
struct Run {
  const Config& config;
  std::string key;
  std::vector<std::atomic<std::int64_t>> sent_at;  // by append: Clock ticks when sent
  std::atomic<std::uint64_t> writes{0};            // appends answered so far
  std::atomic<bool> writing{true};
  std::atomic<unsigned> ready{0};  // watchers subscribed
  std::atomic<bool> failed{false};
};

// The bytes of one change as the watcher receives it, and of the start of
// the stream (the watch's answer, Redis's subscribe confirmation).
struct Feed {
  std::string subscribe;
  std::string change;  // Redis: exactly these bytes; kvd: a line holding them
};

Feed FeedOf(const Config& config, const std::string& key) {
  using kvd::bench::RespCommand;
  if (config.resp) {
    const std::string channel = "__keyspace@0__:" + key;
    return {RespCommand({"SUBSCRIBE", channel}),
            RespCommand({"message", channel, "rpush"})};  // a push is an array as a command is
  }
  return {"{\"op\":\"watch\",\"prefix\":\"" + key + "\"}\n",
          "\"key\":\"" + key + "\",\"kind\":\"append\""};
}

// One watcher: subscribes, then receives changes until it has as many as
// the writer made once it stopped; records each change's delay in *delays.
void Watch(Run& run, std::vector<std::uint32_t>* delays) {
  const Feed feed = FeedOf(run.config, run.key);
  Socket socket(run.config.socket);
  socket.Send(feed.subscribe);
  std::string in;
  if (run.config.resp) {
    // The confirmation: *3, $9, subscribe, $N, the channel, :1.
    for (int line = 0; line < 6; ++line) socket.ReadLine(&in);
  } else if (socket.ReadLine(&in).find("\"ok\":true") == std::string::npos) {
    throw std::runtime_error("the watch was refused");
  }
  ++run.ready;
  std::uint64_t received = 0;
  std::size_t at = 0;
  const auto deadline_after_writes = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(run.config.timeout));
  std::optional<Clock::time_point> deadline;
  for (;;) {
    // Every complete change in `in` from `at` on.
    for (;;) {
      std::size_t end;
      if (run.config.resp) {
        if (in.size() - at < feed.change.size()) break;
        if (in.compare(at, feed.change.size(), feed.change) != 0) {
          throw std::runtime_error("a notification other than the key's rpush");
        }
        end = at + feed.change.size();
      } else {
        end = in.find('\n', at);
        if (end == std::string::npos) break;
        if (std::string_view(in).substr(at, end - at).find(feed.change) == std::string_view::npos) {
          throw std::runtime_error("a change other than the key's append: " +
                                   in.substr(at, end - at));
        }
        ++end;
      }
      const Clock::time_point now = Clock::now();
      if (received >= run.sent_at.size()) throw std::runtime_error("more changes than appends");
      const std::int64_t sent = run.sent_at[received].load(std::memory_order_relaxed);
      if (sent != 0) {
        delays->push_back(
            static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           now - Clock::time_point(Clock::duration(sent)))
                                           .count()));
      }
      ++received;
      at = end;
    }
    in.erase(0, at);
    at = 0;
    if (!run.writing) {
      if (received == run.writes) return;
      if (!deadline) deadline = Clock::now() + deadline_after_writes;
      if (Clock::now() > *deadline) throw std::runtime_error("changes missing");
    }
    socket.Receive(&in, std::chrono::milliseconds(100));
  }
}

// The writer: appends one value at a time, each after the last was answered.
void Write(Run& run) {
  Socket socket(run.config.socket);
  const std::string value(run.config.value_size, 'v');
  const std::string request = run.config.resp ? kvd::bench::RespCommand({"RPUSH", run.key, value})
                                              : "{\"op\":\"append\",\"key\":\"" + run.key +
                                                    "\",\"val\":\"" + value + "\"}\n";
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(run.config.duration));
  std::string in;
  std::uint64_t n = 0;
  while (Clock::now() < end && n < run.sent_at.size() && !run.failed) {
    run.sent_at[n].store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    socket.Send(request);
    const std::string answer = socket.ReadLine(&in);
    if (!answer.starts_with(run.config.resp ? ":" : "{\"ok\":true")) {
      throw std::runtime_error("an append failed: " + answer);
    }
    run.writes = ++n;
  }
}

double PercentileUs(std::vector<std::uint32_t>& delays, double p) {
  if (delays.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(delays.size() - 1));
  std::nth_element(delays.begin(), delays.begin() + static_cast<std::ptrdiff_t>(at), delays.end());
  return delays[at];
}

int Main(const Config& config) {
  if (config.resp) {
    Socket control(config.socket);
    control.Send(kvd::bench::RespCommand({"CONFIG", "SET", "notify-keyspace-events", "Kl"}));
    std::string in;
    if (control.ReadLine(&in) != "+OK\r\n") throw std::runtime_error("CONFIG SET failed");
  }
  Run run{config,
          "watch." + std::to_string(::getpid()) + "." +
              std::to_string(Clock::now().time_since_epoch().count()),
          std::vector<std::atomic<std::int64_t>>(kMaxWrites)};
  std::vector<std::vector<std::uint32_t>> delays(config.watchers);
  std::vector<std::thread> watchers;
  std::vector<std::string> errors(config.watchers);
  for (unsigned i = 0; i < config.watchers; ++i) {
    watchers.emplace_back([&run, &delays, &errors, i] {
      try {
        Watch(run, &delays[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
        run.failed = true;
        ++run.ready;
      }
    });
  }
  while (run.ready < config.watchers) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const Clock::time_point start = Clock::now();
  std::string write_error;
  try {
    Write(run);
  } catch (const std::exception& e) {
    write_error = e.what();
    run.failed = true;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  run.writing = false;
  for (auto& t : watchers) t.join();
  if (!write_error.empty()) {
    std::cerr << "kvwatchbench: writer: " << write_error << '\n';
    return kFailed;
  }
  for (const auto& e : errors) {
    if (!e.empty()) {
      std::cerr << "kvwatchbench: watcher: " << e << '\n';
      return kFailed;
    }
  }
  std::vector<std::uint32_t> all;
  for (auto& d : delays) all.insert(all.end(), d.begin(), d.end());
  const std::uint64_t deliveries = run.writes * config.watchers;
  const auto rate = [seconds](double n) { return std::to_string(std::llround(n / seconds)); };
  const double max = all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  std::cout << "mix=watch watchers=" << config.watchers << " writes=" << run.writes
            << " seconds=" << seconds << " writes_per_s=" << rate(static_cast<double>(run.writes))
            << " ops_per_s=" << rate(static_cast<double>(deliveries))
            << " p50_us=" << PercentileUs(all, 0.50) << " p99_us=" << PercentileUs(all, 0.99)
            << " max_us=" << max << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"watch fan-out: one writer, many watchers of its key (bench/README.md)"};
  Config config;
  app.add_option("--socket", config.socket, "the server's Unix socket")->required();
  std::string protocol = "kvd";
  app.add_option("--protocol", protocol, "kvd, or resp: Redis's keyspace notifications")
      ->check(CLI::IsMember({"kvd", "resp"}))
      ->capture_default_str();
  app.add_option("--watchers", config.watchers, "connections receiving every change")
      ->check(CLI::Range(1u, 10000u))
      ->capture_default_str();
  app.add_option("--duration", config.duration, "seconds the writer appends")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--value-size", config.value_size, "bytes of each value")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--timeout", config.timeout,
                 "seconds a watcher waits for changes still missing once the writer stopped")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsage;
  }
  config.resp = protocol == "resp";
  try {
    return Main(config);
  } catch (const std::exception& e) {
    std::cerr << "kvwatchbench: " << e.what() << '\n';
    return kFailed;
  }
}
