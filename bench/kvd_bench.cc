// kvd_bench: closed-loop load generator for kvd (see bench/README.md).
//
//   kvd_bench --socket PATH [--op append|get] [--connections N] [--seconds S]
//             [--value-size B] [--keys K]
//
// Each connection is one thread with its own kvd::client::Client sending one
// request at a time and waiting for its response, until the duration ends.
// Prints one line of figures:
//
//   op=append connections=50 seconds=3.00 ops=123456 ops_per_s=41152 p50_us=... p99_us=...
//
// Exit status: 0 done, 1 daemon unreachable or a request failed, 2 bad usage.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "client/client.h"

namespace {

using kvd::client::Client;
using Clock = std::chrono::steady_clock;

constexpr int kUsage = 2;
constexpr int kFailed = 1;

// One preload request stays well below the server's default 1 MiB line limit.
constexpr std::size_t kPreloadBatchBytes = 256 * 1024;

enum class Op { kAppend, kGet };

struct Config {
  std::string socket;
  Op op = Op::kAppend;
  unsigned connections = 1;
  double seconds = 3;
  std::size_t value_size = 16;
  std::size_t keys = 1000;
};

// What one connection measured: the latency of every request, in nanoseconds.
struct ThreadResult {
  std::vector<std::int64_t> latencies_ns;
};

// The first failure of any connection; the others stop when one is recorded.
class FirstError {
 public:
  void Record(const std::string& message) {
    std::lock_guard lock(mu_);
    if (!message_) message_ = message;
    failed_.store(true, std::memory_order_relaxed);
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  std::optional<std::string> message() const {
    std::lock_guard lock(mu_);
    return message_;
  }

 private:
  mutable std::mutex mu_;
  std::optional<std::string> message_;
  std::atomic<bool> failed_{false};
};

// Keys are unique to this run, so runs against the same daemon do not read
// each other's values (a get run finds exactly the one value it preloaded).
std::string KeyPrefix(Op op) {
  const auto stamp = Clock::now().time_since_epoch().count();
  return std::string("bench.") + (op == Op::kAppend ? "append" : "get") + "." +
         std::to_string(::getpid()) + "." + std::to_string(stamp) + ".";
}

std::vector<std::string> MakeKeys(const std::string& prefix, std::size_t count) {
  std::vector<std::string> keys;
  keys.reserve(count);
  for (std::size_t i = 0; i < count; ++i) keys.push_back(prefix + std::to_string(i));
  return keys;
}

// Gives every key one value, in batches of one request each.
void Preload(Client& client, const std::vector<std::string>& keys, const std::string& value) {
  std::vector<kvd::proto::KeyValue> batch;
  std::size_t batch_bytes = 0;
  for (const auto& key : keys) {
    batch.push_back({key, value});
    batch_bytes += key.size() + value.size() + 16;  // 16: JSON quoting and punctuation
    if (batch_bytes >= kPreloadBatchBytes) {
      client.AppendMany(std::move(batch));
      batch.clear();
      batch_bytes = 0;
    }
  }
  if (!batch.empty()) client.AppendMany(std::move(batch));
}

// Sends requests back to back on `client` until `deadline` or until another
// connection failed. Connection `index` starts at its own key and steps
// through all keys, so the connections spread over the key space.
void RunConnection(const Config& config, Client& client, const std::vector<std::string>& keys,
                   const std::string& value, unsigned index, Clock::time_point deadline,
                   FirstError& error, ThreadResult& result) {
  std::size_t next = index % keys.size();
  try {
    for (Clock::time_point now = Clock::now(); now < deadline && !error.failed();) {
      const std::string& key = keys[next];
      if (++next == keys.size()) next = 0;
      const Clock::time_point start = now;
      if (config.op == Op::kAppend) {
        client.Append(key, value);
      } else if (client.Get(key).empty()) {
        throw kvd::client::Error("bad_response", "preloaded key " + key + " came back empty");
      }
      now = Clock::now();
      result.latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count());
    }
  } catch (const std::exception& e) {
    error.Record("connection " + std::to_string(index) + ": " + e.what());
  }
}

// The nearest-rank percentile `p` (0 < p <= 1) of `values`, in microseconds;
// reorders `values`.
double PercentileUs(std::vector<std::int64_t>& values, double p) {
  if (values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(rank, 1) - 1);
  std::nth_element(values.begin(), nth, values.end());
  return static_cast<double>(*nth) / 1000.0;
}

int Run(const Config& config) {
  const std::vector<std::string> keys = MakeKeys(KeyPrefix(config.op), config.keys);
  const std::string value(config.value_size, 'v');

  // Connect (and preload) before the clock starts: only requests are timed.
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(config.connections);
  for (unsigned i = 0; i < config.connections; ++i) {
    clients.push_back(std::make_unique<Client>(config.socket));
  }
  if (config.op == Op::kGet) Preload(*clients.front(), keys, value);

  FirstError error;
  std::vector<ThreadResult> results(config.connections);
  const auto duration =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.seconds));
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + duration;
  {
    std::vector<std::jthread> threads;
    threads.reserve(config.connections);
    for (unsigned i = 0; i < config.connections; ++i) {
      threads.emplace_back(RunConnection, std::cref(config), std::ref(*clients[i]), std::cref(keys),
                           std::cref(value), i, deadline, std::ref(error), std::ref(results[i]));
    }
  }  // joins every thread
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  if (auto message = error.message()) {
    std::cerr << "kvd_bench: " << *message << '\n';
    return kFailed;
  }

  std::vector<std::int64_t> all;
  for (auto& r : results) all.insert(all.end(), r.latencies_ns.begin(), r.latencies_ns.end());
  const std::size_t ops = all.size();
  const double p50 = PercentileUs(all, 0.50);
  const double p99 = PercentileUs(all, 0.99);
  const std::int64_t max_ns = all.empty() ? 0 : *std::max_element(all.begin(), all.end());

  std::printf(
      "op=%s connections=%u seconds=%.2f ops=%zu ops_per_s=%.0f p50_us=%.1f p99_us=%.1f "
      "max_us=%.1f\n",
      config.op == Op::kAppend ? "append" : "get", config.connections, elapsed, ops,
      static_cast<double>(ops) / elapsed, p50, p99, static_cast<double>(max_ns) / 1000.0);
  return std::fflush(stdout) == 0 ? 0 : kFailed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kvd_bench: measure kvd's request rate and latency (closed loop, timed)"};
  Config config;
  std::string op = "append";
  app.add_option("--socket", config.socket, "kvd's socket")->required();
  app.add_option("--op", op, "request to send")
      ->capture_default_str()
      ->check(CLI::IsMember({"append", "get"}));
  app.add_option("--connections", config.connections, "connections, one thread each")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10000u));
  app.add_option("--seconds", config.seconds, "how long to send requests")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("--value-size", config.value_size, "bytes per appended or preloaded value")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{256} * 1024));
  app.add_option("--keys", config.keys, "requests spread over this many keys")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  config.op = op == "get" ? Op::kGet : Op::kAppend;

  try {
    return Run(config);
  } catch (const std::exception& e) {  // connecting or preloading failed
    std::cerr << "kvd_bench: " << e.what() << '\n';
    return kFailed;
  }
}
