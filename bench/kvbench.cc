// kvbench: a load generator for kvd (see bench/README.md).
//
//   kvbench --socket PATH [--connections N] [--pipeline P]
//           [--mix append|get|PCT|pop|blocking-pop] [--producers N] [--delete-percent D]
//           [--keys K | --hot-key] [--value-size B] [--duration S | --requests N]
//           [--preload-values V] [--range START STOP] [--stale]
//           [--format text|csv|json] [--timeout S] [--protocol kvd|resp]
//
// One thread runs a Boost.Asio io_context with one coroutine per connection,
// so the generator itself needs little CPU. One connection without pipelining
// is a blocking client instead (see Connection). In each round a connection writes
// P encoded requests in one write and reads their P response lines, decoding
// each and checking that it says "ok":true. With --protocol resp the same
// load goes to Redis instead: RPUSH for an append, LRANGE key 0 -1 for a get
// (LRANGE key START STOP with --range), LPOP for a pop and BLPOP for a
// waiting one, each reply read and checked the same way. A request's latency
// is the time from the start of its round's write until its response line has
// arrived. The run ends after --duration seconds (no round starts after that)
// or once --requests requests have been sent, and prints one line of figures:
//
//   mix=append connections=50 pipeline=1 ... ops_per_s=41152 p50_us=... p99_us=...
//
// (or a CSV header and row, or a JSON object). --mix pop pops one value per
// request from a list preloaded with --preload-values. --mix blocking-pop is
// a queue: --connections consumers each pop one value at a time, waiting for
// one, while --producers connections append values, each numbered, so that
// every value is checked to be popped exactly once (see Produce, Consume).
// Exit status: 0 done; 1 the daemon is unreachable, a connection failed or
// any response was an error (the run stops at the first); 2 bad usage.
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/asio_prelude.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "bench/resp.h"
#include "proto/request.h"
#include "proto/response.h"
#include "store/list_range.h"

namespace {

namespace asio = boost::asio;
namespace proto = kvd::proto;
using kvd::bench::ParseRespHeader;
using kvd::bench::RespCommand;
using RespKind = kvd::bench::RespHeader::Kind;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using Socket = asio::local::stream_protocol::socket;

constexpr int kUsage = 2;
constexpr int kFailed = 1;

// One preload request stays well below the server's default 1 MiB line limit.
constexpr std::size_t kPreloadBatchBytes = 256 * 1024;
// Initial size of a connection's receive buffer; it grows for longer lines.
constexpr std::size_t kReadChunk = 64 * 1024;

enum class Format { kText, kCsv, kJson };
enum class Protocol { kKvd, kResp };
enum class Kind : std::uint8_t { kAppend, kGet, kDelete, kPop };
// The pop mixes: none, pops of a preloaded list, or a queue of waiting pops fed by producers.
enum class PopMix : std::uint8_t { kNone, kPop, kBlocking };

// blocking-pop's values end in their id, this many digits (enough for
// --requests' 2^40), after 'v's: each value appended is told apart when it
// is popped. Id 0 is the stop value, which ends a consumer.
constexpr std::size_t kIdDigits = 13;

struct Config {
  std::string socket;
  unsigned connections = 1;
  unsigned pipeline = 1;
  std::string mix = "append";  // as given: append, get, a percentage of gets, pop, blocking-pop
  unsigned get_percent = 0;
  PopMix pop_mix = PopMix::kNone;
  unsigned producers = 1;  // blocking-pop: connections that append, beside `connections` popping
  unsigned delete_percent = 0;  // of all requests; the rest of the mix's appends
  std::size_t keys = 1000;
  bool hot_key = false;
  std::size_t value_size = 16;
  double duration = 3;         // seconds; used unless requests > 0
  std::uint64_t requests = 0;  // total over all connections; 0: run for `duration`
  // Connection i draws its keys and kinds from seed + i: runs with the same
  // seed send the same requests (a series of runs that deletes needs new ones).
  std::uint64_t seed = 1;
  std::size_t preload_values = 1;  // gets and pops: values appended to each key first
  // Gets read only the values from index range.first to range.second, both
  // included, as LRANGE names them (ranged); else every value.
  bool ranged = false;
  std::pair<std::int64_t, std::int64_t> range{0, -1};
  bool stale = false;  // gets carry "stale":true: a cluster node answers from its own state
  Format format = Format::kText;
  double timeout = 30;  // seconds without any response before giving up
  Protocol protocol = Protocol::kKvd;
};

// Latencies in nanoseconds, counted in log-linear buckets: exact below 256 ns,
// then 128 buckets per power of two, so a percentile (the middle of its
// bucket) is within 0.4 % of the exact figure. Memory stays constant however
// long the run.
class Histogram {
 public:
  void Add(std::uint64_t ns) {
    ++counts_[Index(ns)];
    ++count_;
    sum_ += static_cast<double>(ns);
    max_ = std::max(max_, ns);
  }
  std::uint64_t count() const { return count_; }
  double max_us() const { return static_cast<double>(max_) / 1000.0; }
  double mean_us() const { return count_ == 0 ? 0 : sum_ / static_cast<double>(count_) / 1000.0; }

  // The nearest-rank percentile `p` (0 < p <= 1), in microseconds.
  double PercentileUs(double p) const {
    if (count_ == 0) return 0;
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(Middle(i), static_cast<double>(max_)) / 1000.0;
    }
    return max_us();
  }

 private:
  static constexpr int kExactBits = 8;
  static constexpr std::uint64_t kExact = 1u << kExactBits;  // 0..255 ns: one bucket each
  static constexpr std::uint64_t kHalf = kExact / 2;         // buckets per power of two above
  static constexpr std::size_t kBuckets = kExact + (64 - kExactBits) * kHalf;

  static std::size_t Index(std::uint64_t ns) {
    if (ns < kExact) return ns;
    const int shift = std::bit_width(ns) - kExactBits;  // >= 1; ns >> shift is in [128, 256)
    return kExact + static_cast<std::size_t>(shift - 1) * kHalf + ((ns >> shift) - kHalf);
  }
  static double Middle(std::size_t index) {
    if (index < kExact) return static_cast<double>(index);
    const std::size_t shift = (index - kExact) / kHalf + 1;
    const std::uint64_t low = ((index - kExact) % kHalf + kHalf) << shift;
    return static_cast<double>(low) + static_cast<double>((std::uint64_t{1} << shift) - 1) / 2;
  }

  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

// splitmix64: a small, fast generator, one per connection.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  // Uniform enough in [0, n) for n far below 2^64.
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }

 private:
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

// A connection to kvd. A round's requests go out in one write that runs
// beside the reads of their answers: a daemon that stops reading once its
// unsent answers pass --max-output would otherwise wait for us while we wait
// for it. Response lines come out of a receive buffer that one read fills with
// as many lines as have arrived.
//
// A blocking connection (the only one, one request per round) writes its
// request whole and then waits for the answer in recv(2), as a one-connection
// client such as kvctl or redis-cli does. Waiting in epoll instead costs a
// wake-up path more per round trip: measured 18.9k against 21.2k appends/s
// on the same kvd. With one request outstanding the daemon reads it whole
// before answering, so the write cannot wait for our reads.
class Connection {
 public:
  explicit Connection(asio::io_context& io) : socket_(io), write_done_(io), in_(kReadChunk) {}

  // Connects synchronously (before the clock starts); throws naming the socket.
  // A blocking connection's writes and reads give up after `timeout` seconds.
  void Connect(const std::string& path, bool blocking, double timeout) {
    error_code ec;
    socket_.connect(asio::local::stream_protocol::endpoint(path), ec);
    if (ec) throw std::runtime_error("cannot connect to kvd at " + path + ": " + ec.message());
    blocking_ = blocking;
    if (!blocking_) {
      socket_.non_blocking(true);  // StartWrite writes at once what the socket takes
      return;
    }
    const auto usec = static_cast<long long>(timeout * 1e6);
    const timeval limit{static_cast<time_t>(usec / 1'000'000),
                        static_cast<suseconds_t>(usec % 1'000'000)};
    for (const int option : {SO_RCVTIMEO, SO_SNDTIMEO}) {
      if (::setsockopt(socket_.native_handle(), SOL_SOCKET, option, &limit, sizeof limit) != 0) {
        throw std::runtime_error("cannot set the socket's timeout: " + LastError().message());
      }
    }
  }
  void Close() {
    error_code ignored;
    socket_.close(ignored);
  }

  // The requests of the next round: fill it, then StartWrite.
  std::string& out() { return out_; }

  // Writes out() whole: what the socket takes at once right here (a round
  // usually fits), the rest in a coroutine of its own.
  void StartWrite() {
    write_error_ = {};
    if (blocking_) {
      write_error_ = Send();
      return;
    }
    const std::size_t sent = socket_.write_some(asio::buffer(out_), write_error_);
    if (write_error_ == asio::error::would_block || write_error_ == asio::error::try_again) {
      write_error_ = {};
    } else if (write_error_ || sent == out_.size()) {
      return;
    }
    written_ = sent;
    writing_ = true;
    asio::co_spawn(socket_.get_executor(), WriteOut(), asio::detached);
  }

  // Waits until the write that StartWrite started has ended; returns its error.
  awaitable<error_code> FinishWrite() {
    if (writing_) {
      write_done_.expires_at(Clock::time_point::max());
      error_code ignored;  // WriteOut cancels the wait
      co_await write_done_.async_wait(asio::redirect_error(use_awaitable, ignored));
    }
    co_return write_error_;
  }

  // Sets *line to the next response line, without its "\n"; it stays valid
  // until the next call. End of stream is reported as asio::error::eof.
  awaitable<error_code> ReadLine(std::string_view* line) {
    for (;;) {
      const auto* first = in_.data() + begin_;
      const auto* nl =
          static_cast<const char*>(std::memchr(first + scanned_, '\n', end_ - begin_ - scanned_));
      if (nl != nullptr) {
        *line = std::string_view(first, static_cast<std::size_t>(nl - first));
        begin_ += line->size() + 1;
        scanned_ = 0;
        co_return error_code{};
      }
      scanned_ = end_ - begin_;
      if (begin_ > 0) {  // move the partial line to the front
        std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (end_ == in_.size()) in_.resize(in_.size() * 2);
      error_code ec;
      const std::size_t n = blocking_ ? Receive(ec)
                                      : co_await socket_.async_read_some(
                                            asio::buffer(in_.data() + end_, in_.size() - end_),
                                            asio::redirect_error(use_awaitable, ec));
      end_ += n;
      if (ec) co_return ec;
    }
  }

 private:
  awaitable<void> WriteOut() {
    co_await asio::async_write(socket_,
                               asio::buffer(out_.data() + written_, out_.size() - written_),
                               asio::redirect_error(use_awaitable, write_error_));
    writing_ = false;
    write_done_.cancel();
  }

  // A blocking connection's I/O: send(2) and recv(2) themselves, not Asio's
  // synchronous calls, which on a timeout would poll again, without end.

  // Writes out() whole.
  error_code Send() {
    for (std::size_t sent = 0; sent < out_.size();) {
      const ssize_t n =
          ::send(socket_.native_handle(), out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
      if (n >= 0) {
        sent += static_cast<std::size_t>(n);
      } else if (errno != EINTR) {
        return LastError();
      }
    }
    return {};
  }

  // One read into the free part of the buffer.
  std::size_t Receive(error_code& ec) {
    for (;;) {
      const ssize_t n = ::recv(socket_.native_handle(), in_.data() + end_, in_.size() - end_, 0);
      if (n > 0) return static_cast<std::size_t>(n);
      if (n < 0 && errno == EINTR) continue;
      ec = n == 0 ? asio::error::eof : LastError();
      return 0;
    }
  }

  // errno as an error code; a socket timeout's EAGAIN as timed_out.
  static error_code LastError() {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return asio::error::timed_out;
    return error_code(errno, boost::system::system_category());
  }

  bool blocking_ = false;
  Socket socket_;
  std::string out_;
  std::size_t written_ = 0;  // of out_ by StartWrite; WriteOut writes the rest
  bool writing_ = false;
  error_code write_error_;
  asio::steady_timer write_done_;  // never expires; cancelled when the write ends
  std::vector<char> in_;
  std::size_t begin_ = 0;  // in_[begin_, end_) is received and not yet returned
  std::size_t end_ = 0;
  std::size_t scanned_ = 0;  // bytes after begin_ known to hold no '\n'
};

// The state all connections share. Everything runs on one thread, so plain
// members suffice.
struct Shared {
  Shared(const Config& c, asio::io_context& io) : config(c), delivered(io) {
    delivered.expires_at(Clock::time_point::max());
  }

  const Config& config;
  std::vector<std::string> keys;
  std::string value;  // blocking-pop: with id 0 (kIdDigits zeros), the stop value
  // Each key's request lines, encoded once (as redis-benchmark builds its
  // commands once): only the mix's kinds are filled in. blocking-pop's
  // producers copy the append line and write each value's id at id_at.
  std::vector<std::string> append_lines;
  std::vector<std::string> get_lines;
  std::vector<std::string> delete_lines;
  std::vector<std::string> pop_lines;
  std::size_t id_at = 0;
  Clock::time_point deadline;       // duration mode: no round starts after it
  std::uint64_t unsent = 0;         // requests mode: requests not yet sent
  unsigned running = 0;             // coroutines (preload or connections) still running
  unsigned producing = 0;           // blocking-pop: producers still running
  Clock::time_point last_response;  // for the stall watchdog
  Clock::time_point finished;       // when the last connection stopped
  Histogram latency;
  std::uint64_t appends = 0;
  std::uint64_t gets = 0;
  std::uint64_t deletes = 0;
  std::uint64_t pops = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  bool stop = false;
  // blocking-pop: the id of the next value appended, and by id whether a
  // pop took it.
  std::uint64_t next_id = 1;
  std::vector<bool> taken = std::vector<bool>(1);
  // Never expires: cancelled at each value popped, and when the run fails,
  // to wake producers waiting for a value to be taken.
  asio::steady_timer delivered;

  void Fail(std::string message) {
    if (errors++ == 0) first_error = std::move(message);
    stop = true;
    delivered.cancel();
  }
  // Fails the run with `who`'s connection error: a blocking connection's
  // timed-out read is the stall the watchdog reports for the others.
  void Lost(const std::string& who, error_code ec) {
    Fail(who + ": " +
         (ec == asio::error::timed_out ? NoResponse()
                                       : "lost the connection to kvd: " + ec.message()));
  }
  std::string NoResponse() const {
    std::ostringstream text;
    text << "no response from kvd for " << config.timeout << " s";
    return text.str();
  }

  // How many of `n` requests the next round may send: fewer, or 0 once the
  // run is over (its deadline passed, or all --requests were sent).
  std::uint64_t Budget(std::uint64_t n) {
    if (config.requests == 0) return Clock::now() < deadline ? n : 0;
    n = std::min(n, unsent);
    unsent -= n;
    return n;
  }

  // The request line of `kind` for key number `key`.
  const std::string& Line(Kind kind, std::size_t key) const {
    switch (kind) {
      case Kind::kGet:
        return get_lines[key];
      case Kind::kDelete:
        return delete_lines[key];
      case Kind::kPop:
        return pop_lines[key];
      case Kind::kAppend:
        break;
    }
    return append_lines[key];
  }

  // Counts an answered request of `kind`, answered `took` after its round's
  // write began; blocking-pop times only its pops, the consumers' requests.
  void Count(Kind kind, Clock::duration took) {
    if (config.pop_mix != PopMix::kBlocking || kind == Kind::kPop) {
      latency.Add(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
    }
    ++(kind == Kind::kGet      ? gets
       : kind == Kind::kDelete ? deletes
       : kind == Kind::kPop    ? pops
                               : appends);
  }

  // blocking-pop: values appended and not yet popped.
  std::uint64_t Undelivered() const { return next_id - 1 - pops; }

  // Takes the value a pop answered; returns what is wrong with it, or
  // nothing. *stop_value is set when it is blocking-pop's stop value.
  std::string Popped(std::string_view v, bool* stop_value) {
    *stop_value = false;
    const std::string never =
        "a pop answered a value kvbench never appended: \"" + std::string(v.substr(0, 64)) + "\"";
    if (config.pop_mix == PopMix::kPop) return v == value ? "" : never;
    const std::size_t ones = value.size() - kIdDigits;  // the 'v's before the id
    std::uint64_t id = 0;
    const char* end = v.data() + v.size();
    if (v.size() != value.size() || v.substr(0, ones) != std::string_view(value).substr(0, ones) ||
        std::from_chars(v.data() + ones, end, id).ptr != end || id >= next_id) {
      return never;
    }
    if (id == 0) {
      *stop_value = true;
      return {};
    }
    if (taken[id]) return "value " + std::to_string(id) + " was popped twice";
    taken[id] = true;
    delivered.cancel();
    return {};
  }

  // One of the coroutines started for the run has ended.
  void Done() {
    if (--running == 0) finished = Clock::now();
  }
};

// `v` with `decimals` digits after the point.
std::string Decimal(double v, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  return buffer;
}

// How many values a get must answer. Deletes in the mix: any number. Else
// at least those preloaded, as appends only add; but a ranged get exactly
// those of the preload its range names, and only when the mix is gets
// alone: as appends lengthen the list, a range counted from its end moves.
struct ValueCount {
  std::size_t min = 0;
  std::size_t max = std::numeric_limits<std::size_t>::max();
};
ValueCount ExpectedValues(const Config& config) {
  if (config.delete_percent > 0) return {};
  if (!config.ranged) return {config.preload_values};
  if (config.get_percent < 100) return {};
  const kvd::ListRange range{config.range.first, config.range.second};
  const std::size_t n = range.Resolve(config.preload_values).count;
  return {n, n};
}

// What is wrong with a get that answered `n` values, or nothing.
std::string WrongCount(std::string_view get, std::size_t n, ValueCount expected) {
  if (n >= expected.min && n <= expected.max) return {};
  return std::string(get) + " returned " + std::to_string(n) + " values; expected " +
         (expected.min == expected.max ? "exactly " : "at least ") + std::to_string(expected.min);
}

// Checks one response line; returns an empty string when it is a success of
// the expected kind, else what is wrong with it. Unless `full`, a line that
// starts as a success of that kind passes without being decoded: like
// redis-benchmark, the load generator must not spend these 2 cores on
// materializing values (callers check a sample in full). A pop's line must
// hold exactly one value, which *popped is set to (a view into `line` or
// *response).
std::string CheckResponse(std::string_view line, Kind kind, ValueCount expected, bool full,
                          proto::Response* response, std::string_view* popped) {
  if (kind == Kind::kPop) {
    // The one value, as kvd writes it: read without decoding.
    constexpr std::string_view kHead = R"({"ok":true,"values":[")";
    constexpr std::string_view kTail = R"("]})";
    if (line.size() >= kHead.size() + kTail.size() && line.starts_with(kHead) &&
        line.ends_with(kTail)) {
      const std::string_view value =
          line.substr(kHead.size(), line.size() - kHead.size() - kTail.size());
      if (value.find_first_of("\"\\") == std::string_view::npos) {
        *popped = value;
        return {};
      }
    }
  } else {
    const std::string_view success = kind == Kind::kGet      ? R"({"ok":true,"values":[)"
                                     : kind == Kind::kDelete ? R"({"ok":true,"deleted":)"
                                                             : R"({"ok":true})";
    if (!full && line.starts_with(success)) return {};
  }
  *response = proto::Response{};
  if (auto bad = proto::DecodeResponse(line, response)) return "bad response: " + bad->message;
  if (response->error) {
    return std::string(proto::ErrorCodeName(response->error->code)) + ": " +
           response->error->message;
  }
  if (kind == Kind::kDelete && !response->deleted) return "delete response without deleted";
  if (kind == Kind::kGet || kind == Kind::kPop) {
    const char* op = kind == Kind::kGet ? "get" : "pop";
    if (!response->values) return std::string(op) + " response without values";
    if (kind == Kind::kPop && response->values->size() == 1) *popped = response->values->front();
    return WrongCount(op, response->values->size(), expected);
  }
  return {};
}

// Reads the next bulk string of a RESP array, its header line and its data
// line: *data is a view of it, valid until the next read, or nullopt if the
// two lines are no bulk string.
awaitable<error_code> ReadArrayBulk(Connection& connection, std::optional<std::string_view>* data) {
  std::string_view line;
  if (error_code ec = co_await connection.ReadLine(&line)) co_return ec;
  const auto bulk = ParseRespHeader(line);
  if (error_code ec = co_await connection.ReadLine(&line)) co_return ec;
  data->reset();
  if (bulk && bulk->kind == RespKind::kBulk &&
      line.size() == static_cast<std::size_t>(bulk->number) + 1) {
    *data = line.substr(0, line.size() - 1);
  }
  co_return error_code{};
}

// Reads one RESP reply to an RPUSH, an LRANGE, an LPOP or (`waiting`) a
// BLPOP; sets *wrong to what is wrong with it, or empties it, and for a pop
// *popped to its value (a view valid until the next read). The values are
// kvbench's own ('v' repeated, then digits), so each bulk string is one line.
awaitable<error_code> ReadRespReply(Connection& connection, Kind kind, bool waiting,
                                    ValueCount expected, std::string* wrong,
                                    std::string_view* popped) {
  const bool is_get = kind == Kind::kGet;
  const bool is_pop = kind == Kind::kPop;
  const RespKind reply = is_get || (is_pop && waiting) ? RespKind::kArray
                         : is_pop                      ? RespKind::kBulk
                                                       : RespKind::kInteger;
  wrong->clear();
  std::string_view line;
  if (error_code ec = co_await connection.ReadLine(&line)) co_return ec;
  const auto header = ParseRespHeader(line);
  if (!header) {
    *wrong = "bad RESP reply: " + std::string(line);
  } else if (header->kind == RespKind::kError) {
    *wrong = std::string(header->text);
  } else if (header->kind != reply) {
    *wrong = "unexpected RESP reply: " + std::string(line);
  } else if (is_pop) {
    // LPOP: the value, or nil; BLPOP: the key and the value, or nil.
    const char* op = waiting ? "BLPOP" : "LPOP";
    std::optional<std::string_view> value;
    if (header->number < 0) {
      *wrong = std::string(op) + " returned no value";
    } else if (!waiting) {
      if (error_code ec = co_await connection.ReadLine(&line)) co_return ec;
      if (line.size() == static_cast<std::size_t>(header->number) + 1) {
        value = line.substr(0, line.size() - 1);
      }
    } else if (header->number == 2) {
      std::optional<std::string_view> key;
      if (error_code ec = co_await ReadArrayBulk(connection, &key)) co_return ec;
      if (error_code ec = co_await ReadArrayBulk(connection, &value)) co_return ec;
      if (!key) value.reset();
    }
    if (value) {
      *popped = *value;
    } else if (wrong->empty()) {
      *wrong = std::string("bad RESP reply to ") + op;
    }
  } else if (is_get) {
    for (long long i = 0; i < header->number; ++i) {
      std::optional<std::string_view> value;
      if (error_code ec = co_await ReadArrayBulk(connection, &value)) co_return ec;
      if (!value) *wrong = "bad RESP bulk string in an LRANGE reply";
    }
    if (wrong->empty()) {
      *wrong = WrongCount("LRANGE", static_cast<std::size_t>(header->number), expected);
    }
  }
  co_return error_code{};
}

// Reads the reply to one request of the run's protocol into *wrong and, for
// a pop, *popped, as ReadRespReply; a kvd response is decoded in full only
// if `full` (see CheckResponse).
awaitable<error_code> ReadReply(const Config& config, Connection& connection, Kind kind, bool full,
                                proto::Response* response, std::string* wrong,
                                std::string_view* popped) {
  const ValueCount expected = kind == Kind::kPop ? ValueCount{1, 1} : ExpectedValues(config);
  if (config.protocol == Protocol::kResp) {
    co_return co_await ReadRespReply(connection, kind, config.pop_mix == PopMix::kBlocking,
                                     expected, wrong, popped);
  }
  std::string_view line;
  if (error_code ec = co_await connection.ReadLine(&line)) co_return ec;
  *wrong = CheckResponse(line, kind, expected, full, response, popped);
  co_return error_code{};
}

// Sends what connection.out() holds, `replies` preload requests, and checks
// their replies; false (and the run failed) if that did not work.
awaitable<bool> SendPreload(Shared& shared, Connection& connection, std::size_t replies) {
  connection.StartWrite();
  proto::Response response;
  std::string wrong;
  error_code ec;
  for (std::size_t i = 0; i < replies && !ec && wrong.empty(); ++i) {
    std::string_view unused;  // a pop's value: appends have none
    ec = co_await ReadReply(shared.config, connection, Kind::kAppend, true, &response, &wrong,
                            &unused);
  }
  if (ec) connection.Close();  // ends the write, if it still waits
  const error_code write_error = co_await connection.FinishWrite();
  if (ec) {
    shared.Lost("preload", write_error ? write_error : ec);
    co_return false;
  }
  shared.last_response = Clock::now();
  if (!wrong.empty()) {
    shared.Fail("preload: " + wrong);
    co_return false;
  }
  co_return true;
}

// A preload batch gathered for one send: for kvd the values of one
// append_many request, for Redis the RPUSH commands in connection.out().
struct PreloadBatch {
  std::vector<proto::KeyValue> values;  // kvd
  std::size_t commands = 0;             // Redis
  std::size_t bytes = 0;
};

// Sends `batch` and empties it; false if the run failed.
awaitable<bool> SendPreloadBatch(Shared& shared, Connection& connection, PreloadBatch& batch) {
  std::size_t replies = batch.commands;
  if (shared.config.protocol == Protocol::kKvd) {
    connection.out() = proto::EncodeRequest(proto::Request::AppendMany(std::move(batch.values)));
    replies = 1;
  }
  const bool ok = co_await SendPreload(shared, connection, replies);
  batch = PreloadBatch{};
  connection.out().clear();
  co_return ok;
}

// Gives every key `preload_values` values over `connection` before the clock
// starts: for kvd one append_many request per batch, for Redis RPUSH
// commands of up to a batch's values each, as many as make a batch sent
// together.
awaitable<void> Preload(Shared& shared, Connection& connection) {
  const Config& config = shared.config;
  const std::size_t per_rpush =
      std::max<std::size_t>(1, kPreloadBatchBytes / (shared.value.size() + 16));
  try {
    PreloadBatch batch;
    connection.out().clear();
    bool ok = true;
    for (std::size_t k = 0; ok && k < shared.keys.size(); ++k) {
      const std::string& key = shared.keys[k];
      for (std::size_t left = config.preload_values; ok && left > 0;) {
        if (config.protocol == Protocol::kResp) {
          const std::size_t n = std::min(left, per_rpush);
          std::vector<std::string_view> args = {"RPUSH", key};
          args.resize(2 + n, shared.value);
          connection.out() += RespCommand(args);
          ++batch.commands;
          batch.bytes = connection.out().size();
          left -= n;
        } else {
          batch.values.push_back({key, shared.value});
          batch.bytes += key.size() + shared.value.size() + 24;  // 24: JSON quoting, punctuation
          --left;
        }
        if (batch.bytes >= kPreloadBatchBytes) {
          ok = co_await SendPreloadBatch(shared, connection, batch);
        }
      }
    }
    if (ok && batch.bytes > 0) co_await SendPreloadBatch(shared, connection, batch);
  } catch (const std::exception& e) {
    shared.Fail(std::string("preload: ") + e.what());
  }
  --shared.running;
}

// The next request's kind, drawn by the mix's percentages.
Kind PickKind(const Config& config, Random& random) {
  if (config.pop_mix != PopMix::kNone) return Kind::kPop;
  if (config.get_percent == 100) return Kind::kGet;
  if (config.get_percent == 0 && config.delete_percent == 0) return Kind::kAppend;
  const std::uint64_t draw = random.Below(100);
  if (draw < config.get_percent) return Kind::kGet;
  if (draw < config.get_percent + config.delete_percent) return Kind::kDelete;
  return Kind::kAppend;
}

// The rounds of connection `index`: Add a round's requests, then Send them
// and read and check their replies.
class Rounds {
 public:
  Rounds(Shared& shared, Connection& connection, unsigned index)
      : shared_(shared), connection_(connection), name_("connection " + std::to_string(index)) {}

  // Adds a request of `kind` to the next round; returns where its line
  // starts in connection.out().
  std::size_t Add(Kind kind, std::string_view line) {
    kinds_.push_back(kind);
    const std::size_t at = connection_.out().size();
    connection_.out() += line;
    return at;
  }

  // Writes the requests added and reads their replies, each checked and, if
  // `counted`, counted in the run's figures (a stop value taken is not).
  // False when the connection failed: the run has failed with it.
  awaitable<bool> Send(bool counted) {
    const Clock::time_point sent = Clock::now();
    connection_.StartWrite();
    error_code ec;
    for (const Kind kind : kinds_) {
      // One kvd response in 64 is decoded in full, values counted.
      const bool full = (checked_++ % 64) == 0;
      std::string_view popped;
      ec =
          co_await ReadReply(shared_.config, connection_, kind, full, &response_, &wrong_, &popped);
      if (ec) break;
      const Clock::time_point now = Clock::now();
      shared_.last_response = now;
      bool stop_value = false;
      if (kind == Kind::kPop && wrong_.empty()) wrong_ = shared_.Popped(popped, &stop_value);
      took_stop_value_ = took_stop_value_ || stop_value;
      if (counted && !stop_value) shared_.Count(kind, now - sent);
      if (!wrong_.empty()) shared_.Fail(name_ + ": " + wrong_);
    }
    if (ec) connection_.Close();  // ends the write, if it still waits
    const error_code write_error = co_await connection_.FinishWrite();
    kinds_.clear();
    connection_.out().clear();
    if (ec || write_error) {
      // After a failure elsewhere, the watchdog may have closed the socket.
      if (!shared_.stop || (ec ? ec : write_error) != asio::error::operation_aborted) {
        shared_.Lost(name_, write_error ? write_error : ec);
      }
      co_return false;
    }
    co_return true;
  }

  // Whether a pop of this connection's took blocking-pop's stop value.
  bool took_stop_value() const { return took_stop_value_; }

 private:
  Shared& shared_;
  Connection& connection_;
  const std::string name_;
  std::vector<Kind> kinds_;
  std::uint64_t checked_ = 0;
  proto::Response response_;
  std::string wrong_;
  bool took_stop_value_ = false;
};

// Runs `part`, connection `index`'s part of the run (Drive, Produce or
// Consume, not yet started), failing the run with anything it throws, and
// counts it done.
awaitable<void> RunConnection(Shared& shared, unsigned index, awaitable<void> part) {
  try {
    co_await std::move(part);
  } catch (const std::exception& e) {
    shared.Fail("connection " + std::to_string(index) + ": " + e.what());
  }
  shared.Done();
}

// Sends rounds of the mix's requests on connection `index` until the run
// ends or fails.
awaitable<void> Drive(Shared& shared, Connection& connection, unsigned index) {
  Random random(shared.config.seed + index);
  Rounds rounds(shared, connection, index);
  while (!shared.stop) {
    const std::uint64_t n = shared.Budget(shared.config.pipeline);
    if (n == 0) break;
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::size_t key = shared.keys.size() == 1 ? 0 : random.Below(shared.keys.size());
      const Kind kind = PickKind(shared.config, random);
      rounds.Add(kind, shared.Line(kind, key));
    }
    if (!co_await rounds.Send(true)) break;
  }
}

// blocking-pop's producer on connection `index`: appends values to the hot
// key, each with the next id, in rounds of up to --pipeline, until the run
// ends; it waits whenever as many values are appended and not yet popped as
// there are consumers, so that the consumers wait for values rather than
// fall behind a growing list. The last producer to end then appends one stop
// value per consumer.
awaitable<void> Produce(Shared& shared, Connection& connection, unsigned index) {
  const Config& config = shared.config;
  Rounds rounds(shared, connection, index);
  while (!shared.stop) {
    const std::uint64_t room = config.connections - shared.Undelivered();
    if (room == 0) {
      error_code ignored;  // a value popped cancels the wait
      co_await shared.delivered.async_wait(asio::redirect_error(use_awaitable, ignored));
      continue;
    }
    const std::uint64_t n = shared.Budget(std::min<std::uint64_t>(config.pipeline, room));
    if (n == 0) break;
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::size_t at = rounds.Add(Kind::kAppend, shared.append_lines[0]);
      char* digits = connection.out().data() + at + shared.id_at;
      shared.taken.push_back(false);
      for (std::uint64_t id = shared.next_id++, d = kIdDigits; d-- > 0; id /= 10) {
        digits[d] = static_cast<char>('0' + id % 10);
      }
    }
    if (!co_await rounds.Send(true)) break;
  }
  if (--shared.producing == 0 && !shared.stop) {
    for (unsigned i = 0; i < config.connections; ++i) {
      rounds.Add(Kind::kAppend, shared.append_lines[0]);  // id 0: the stop value
    }
    co_await rounds.Send(false);
  }
}

// blocking-pop's consumer on connection `index`: pops one value at a time,
// waiting for one (up to --timeout), until it takes a stop value.
awaitable<void> Consume(Shared& shared, Connection& connection, unsigned index) {
  Rounds rounds(shared, connection, index);
  while (!shared.stop && !rounds.took_stop_value()) {
    rounds.Add(Kind::kPop, shared.pop_lines[0]);
    if (!co_await rounds.Send(true)) break;
  }
}

// Closes every connection when no response has arrived for --timeout seconds
// while connections are still waiting, so a stalled daemon cannot hang the run;
// and once the run has failed, so that no connection waits on (for a waiting
// pop's answer, say).
awaitable<void> Watchdog(Shared& shared, asio::steady_timer& timer,
                         std::vector<std::unique_ptr<Connection>>& connections) {
  const auto limit = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(shared.config.timeout));
  while (shared.running > 0) {
    timer.expires_after(std::chrono::milliseconds(100));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (shared.running > 0 && (shared.stop || Clock::now() - shared.last_response > limit)) {
      if (!shared.stop) shared.Fail(shared.NoResponse());
      for (auto& c : connections) c->Close();
      co_return;
    }
  }
}

// Whether the run appends --preload-values values to each key first: for
// gets, and for pops that do not wait.
bool Preloads(const Config& config) {
  return config.get_percent > 0 || config.pop_mix == PopMix::kPop;
}

void PrintResult(const Config& config, const Shared& shared, double seconds) {
  const Histogram& h = shared.latency;
  const double ops_per_s = seconds > 0 ? static_cast<double>(h.count()) / seconds : 0;
  const std::string keys = config.hot_key ? "hot" : std::to_string(config.keys);
  struct Field {
    const char* name;
    std::string text;
    bool quoted;  // a string in JSON
  };
  const std::vector<Field> fields = {
      {"mix", config.mix, true},
      {"get_percent", std::to_string(config.get_percent), false},
      {"delete_percent", std::to_string(config.delete_percent), false},
      {"connections", std::to_string(config.connections), false},
      {"producers", std::to_string(config.pop_mix == PopMix::kBlocking ? config.producers : 0),
       false},
      {"pipeline", std::to_string(config.pipeline), false},
      {"keys", keys, config.hot_key},
      {"value_size", std::to_string(config.value_size), false},
      {"preload_values", std::to_string(Preloads(config) ? config.preload_values : 0), false},
      {"range",
       config.ranged
           ? std::to_string(config.range.first) + ".." + std::to_string(config.range.second)
           : "all",
       true},
      {"seconds", Decimal(seconds, 2), false},
      {"ops", std::to_string(h.count()), false},
      {"appends", std::to_string(shared.appends), false},
      {"gets", std::to_string(shared.gets), false},
      {"deletes", std::to_string(shared.deletes), false},
      {"pops", std::to_string(shared.pops), false},
      {"errors", std::to_string(shared.errors), false},
      {"ops_per_s", Decimal(ops_per_s, 0), false},
      {"mean_us", Decimal(h.mean_us(), 1), false},
      {"p50_us", Decimal(h.PercentileUs(0.50), 1), false},
      {"p99_us", Decimal(h.PercentileUs(0.99), 1), false},
      {"p999_us", Decimal(h.PercentileUs(0.999), 1), false},
      {"max_us", Decimal(h.max_us(), 1), false},
  };
  std::string out;
  switch (config.format) {
    case Format::kText:
      for (const auto& f : fields) out += (out.empty() ? "" : " ") + (f.name + ("=" + f.text));
      break;
    case Format::kCsv: {
      std::string row;
      for (const auto& f : fields) {
        out += (out.empty() ? "" : ",") + std::string(f.name);
        row += (row.empty() ? "" : ",") + f.text;
      }
      out += "\n" + row;
      break;
    }
    case Format::kJson:
      // The names and values are plain ASCII without quotes or backslashes
      // (mix is checked by the option parser).
      out = "{";
      for (const auto& f : fields) {
        out += (out.size() > 1 ? ",\"" : "\"") + std::string(f.name) + "\":";
        out += f.quoted ? "\"" + f.text + "\"" : f.text;
      }
      out += "}";
      break;
  }
  std::cout << out << '\n';
}

// Appends go to keys of redis-benchmark's shape for `RPUSH key:__rand_int__`
// (16 bytes: "key:" and 12 digits) or to one hot list, the same from run to
// run as Redis's are. A mix with gets or pops uses keys unique to this run,
// so that runs against the same daemon do not read (or pop) each other's
// values; unless it also deletes: then gets expect nothing, and the same keys
// run after run keep a long series of runs from growing the store.
std::vector<std::string> MakeKeys(const Config& config) {
  std::string prefix = "key:";
  if ((config.get_percent > 0 && config.delete_percent == 0) || config.pop_mix != PopMix::kNone) {
    const auto stamp = Clock::now().time_since_epoch().count();
    prefix = "bench." + config.mix + "." + std::to_string(::getpid()) + "." +
             std::to_string(stamp) + ".";
  }
  if (config.hot_key) return {prefix + "hotlist"};
  std::vector<std::string> keys;
  keys.reserve(config.keys);
  for (std::size_t i = 0; i < config.keys; ++i) {
    const std::string n = std::to_string(i);
    keys.push_back(prefix + std::string(n.size() < 12 ? 12 - n.size() : 0, '0') + n);
  }
  return keys;
}

int Run(const Config& config) {
  asio::io_context io(1);
  Shared shared(config, io);
  shared.keys = MakeKeys(config);
  shared.value.assign(config.value_size, 'v');
  const bool blocking_pop = config.pop_mix == PopMix::kBlocking;
  if (blocking_pop) shared.value.replace(config.value_size - kIdDigits, kIdDigits, kIdDigits, '0');
  const bool resp = config.protocol == Protocol::kResp;
  for (const auto& key : shared.keys) {
    if (config.get_percent > 0) {
      proto::Request get = proto::Request::Get(key);
      get.stale = config.stale;
      if (config.ranged) {
        get.start = config.range.first;
        get.stop = config.range.second;
      }
      shared.get_lines.push_back(
          resp ? RespCommand({"LRANGE", key, std::to_string(get.start.value_or(0)),
                              std::to_string(get.stop.value_or(-1))})
               : proto::EncodeRequest(get));
    }
    if (config.delete_percent > 0) {
      shared.delete_lines.push_back(proto::EncodeRequest(proto::Request::Delete(key)));
    }
    if (config.pop_mix != PopMix::kNone) {
      // A waiting pop waits up to --timeout: one that comes back empty is a stall.
      proto::Request pop = proto::Request::Pop(key);
      if (blocking_pop) {
        pop.wait = std::chrono::milliseconds(static_cast<std::int64_t>(config.timeout * 1000));
      }
      shared.pop_lines.push_back(!resp ? proto::EncodeRequest(pop)
                                 : blocking_pop
                                     ? RespCommand({"BLPOP", key, Decimal(config.timeout, 3)})
                                     : RespCommand({"LPOP", key}));
    }
    if (config.get_percent < 100 && config.pop_mix != PopMix::kPop) {
      shared.append_lines.push_back(
          resp ? RespCommand({"RPUSH", key, shared.value})
               : proto::EncodeRequest(proto::Request::Append(key, shared.value)));
    }
  }
  if (blocking_pop) {
    shared.id_at = shared.append_lines[0].rfind(shared.value) + config.value_size - kIdDigits;
  }

  // blocking-pop: the consumers first, then the producers.
  const unsigned producers = blocking_pop ? config.producers : 0;
  const unsigned total = config.connections + producers;
  std::vector<std::unique_ptr<Connection>> connections;
  connections.reserve(total);
  // Blocking only where nothing else on this thread needs to run meanwhile.
  const bool blocking = total == 1 && config.pipeline == 1;
  for (unsigned i = 0; i < total; ++i) {
    connections.push_back(std::make_unique<Connection>(io));
    connections.back()->Connect(config.socket, blocking, config.timeout);
  }

  // Preload (untimed) for gets and pops, over the first connection.
  asio::steady_timer timer(io);
  if (Preloads(config) && config.preload_values > 0) {
    shared.last_response = Clock::now();
    shared.running = 1;
    asio::co_spawn(io, Preload(shared, *connections.front()), asio::detached);
    asio::co_spawn(io, Watchdog(shared, timer, connections), asio::detached);
    io.run();
    io.restart();
  }

  if (!shared.stop) {
    const Clock::time_point start = Clock::now();
    shared.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(config.duration));
    shared.unsent = config.requests;
    shared.last_response = start;
    shared.running = total;
    shared.producing = producers;
    for (unsigned i = 0; i < total; ++i) {
      Connection& c = *connections[i];
      asio::co_spawn(io,
                     RunConnection(shared, i,
                                   !blocking_pop            ? Drive(shared, c, i)
                                   : i < config.connections ? Consume(shared, c, i)
                                                            : Produce(shared, c, i)),
                     asio::detached);
    }
    asio::co_spawn(io, Watchdog(shared, timer, connections), asio::detached);
    io.run();
    // Every value appended was popped: none twice (Shared::Popped), so
    // each exactly once if as many were popped.
    if (shared.errors == 0 && shared.pops != shared.appends && blocking_pop) {
      shared.Fail(std::to_string(shared.appends) + " values appended, but " +
                  std::to_string(shared.pops) + " popped");
    }
    if (shared.errors == 0) {
      PrintResult(config, shared, std::chrono::duration<double>(shared.finished - start).count());
      std::cout.flush();
      return std::cout ? 0 : kFailed;
    }
  }
  std::cerr << "kvbench: " << shared.first_error << '\n';
  if (shared.errors > 1) std::cerr << "kvbench: " << shared.errors << " errors in all\n";
  return kFailed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kvbench: load generator for kvd (one thread, one coroutine per connection, pipelined)"};
  Config config;
  std::string format = "text";
  app.add_option("--socket", config.socket, "kvd's socket (Redis's with --protocol resp)")
      ->required();
  app.add_option("--connections", config.connections, "connections")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10000u));
  app.add_option("--pipeline", config.pipeline, "requests written together per round")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--mix", config.mix,
                 "append, get, the percentage of gets (0-100), pop, or blocking-pop")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            if (s == "append" || s == "get" || s == "pop" || s == "blocking-pop") return {};
            const bool digits =
                !s.empty() && s.size() <= 3 &&
                std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
            if (digits && std::stoi(s) <= 100) return {};
            return "must be append, get, a percentage of gets from 0 to 100, pop or blocking-pop";
          },
          "append|get|PCT|pop|blocking-pop"));
  auto* producers =
      app.add_option("--producers", config.producers,
                     "with --mix blocking-pop: connections that append the values that the "
                     "--connections pop")
          ->capture_default_str()
          ->check(CLI::Range(1u, 10000u));
  auto* delete_percent =
      app.add_option("--delete-percent", config.delete_percent,
                     "the percentage of requests that delete their key (with --mix's gets: at most "
                     "100 together)")
          ->capture_default_str()
          ->check(CLI::Range(0u, 100u));
  app.add_option("--seed", config.seed,
                 "connection i draws its keys and request kinds from seed S + i")
      ->capture_default_str();
  auto* keys = app.add_option("--keys", config.keys, "requests pick keys uniformly from K keys")
                   ->capture_default_str()
                   ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  app.add_flag("--hot-key", config.hot_key, "send every request to one key")->excludes(keys);
  app.add_option("--value-size", config.value_size, "bytes per appended or preloaded value")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{256} * 1024));
  auto* duration = app.add_option("--duration", config.duration, "seconds to send requests for")
                       ->capture_default_str()
                       ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--requests", config.requests, "send this many requests in all instead")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->excludes(duration);
  app.add_option("--preload-values", config.preload_values,
                 "with gets or --mix pop: append V values to each key before the clock starts")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{100'000'000}));
  auto* range = app.add_option("--range", config.range,
                               "gets read only the values from index START to STOP, both "
                               "included, as LRANGE (negative: from the end)");
  auto* stale =
      app.add_flag("--stale", config.stale,
                   "gets read the node's own state, which may lag the leader's (cluster mode)");
  std::string protocol = "kvd";
  app.add_option("--protocol", protocol,
                 "kvd, or resp: drive a Redis server on --socket with RPUSH, LRANGE, LPOP and "
                 "BLPOP")
      ->capture_default_str()
      ->check(CLI::IsMember({"kvd", "resp"}))
      ->excludes(stale)
      ->excludes(delete_percent);
  app.add_option("--format", format, "output")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "csv", "json"}));
  app.add_option("--timeout", config.timeout, "give up after S seconds without a response")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  config.pop_mix = config.mix == "pop"            ? PopMix::kPop
                   : config.mix == "blocking-pop" ? PopMix::kBlocking
                                                  : PopMix::kNone;
  config.get_percent = config.mix == "get" ? 100
                       : config.mix == "append" || config.pop_mix != PopMix::kNone
                           ? 0
                           : static_cast<unsigned>(std::stoi(config.mix));
  if (config.pop_mix != PopMix::kNone && (!config.hot_key || config.delete_percent > 0)) {
    std::cerr << "kvbench: --mix " << config.mix
              << " pops one key: it needs --hot-key, and no --delete-percent\n";
    return kUsage;
  }
  if (producers->count() > 0 && config.pop_mix != PopMix::kBlocking) {
    std::cerr << "kvbench: --producers is for --mix blocking-pop\n";
    return kUsage;
  }
  if (config.pop_mix == PopMix::kBlocking && config.value_size < kIdDigits) {
    std::cerr << "kvbench: --mix blocking-pop numbers its values: --value-size must be at least "
              << kIdDigits << '\n';
    return kUsage;
  }
  config.ranged = range->count() > 0;
  if (config.ranged && config.get_percent == 0) {
    std::cerr << "kvbench: --range is for gets; --mix has none\n";
    return kUsage;
  }
  if (config.get_percent + config.delete_percent > 100) {
    std::cerr << "kvbench: --mix's gets and --delete-percent add up to more than 100 %\n";
    return kUsage;
  }
  config.format = format == "csv" ? Format::kCsv : format == "json" ? Format::kJson : Format::kText;
  config.protocol = protocol == "resp" ? Protocol::kResp : Protocol::kKvd;

  try {
    return Run(config);
  } catch (const std::exception& e) {  // connecting failed
    std::cerr << "kvbench: " << e.what() << '\n';
    return kFailed;
  }
}
