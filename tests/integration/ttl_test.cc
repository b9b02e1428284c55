// Keys that expire (proto/PROTOCOL.md, "expire"): expire, persist, ttl and
// an append with a TTL through the socket, kvctl (with the daemon and
// embedded), HTTP and the client library; an expired key is gone for every
// reader at once, its expired delete committed as a change; a write to it
// starts afresh; expiry times survive a clean stop, kill -9 and a
// compaction.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvd/client.h"
#include "kvd/embedded.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_client.h"

namespace kvd::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::uint64_t NowMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// The "ttl_ms" of a ttl answer.
std::int64_t TtlOf(const std::string& answer) {
  const auto at = answer.find("\"ttl_ms\":");
  if (at == std::string::npos) return -100;
  return std::stoll(answer.substr(at + 9));
}

// Whether `printed`, kvctl's ttl in whole seconds, fits a TTL of `set`
// seconds given at `since`: at most `set`, and short of it by no more than
// the seconds passed since (however slow a sanitizer build makes them).
::testing::AssertionResult SecondsLeftFit(const std::string& printed, std::int64_t set,
                                          std::chrono::steady_clock::time_point since) {
  const std::int64_t passed =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - since)
          .count();
  const std::int64_t left = std::stoll(printed);
  if (left <= set && left >= set - passed - 1) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "ttl " << left << " of " << set << ", " << passed << " s after it was set";
}

// The value of stat `name` in a stats answer.
std::uint64_t StatOf(const std::string& answer, const std::string& name) {
  const auto at = answer.find("\"" + name + "\":");
  if (at == std::string::npos) return ~std::uint64_t{0};
  return std::stoull(answer.substr(at + name.size() + 3));
}

TEST(TtlTest, SocketExpirePersistAndTtl) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"k","val":"v"})"), R"({"ok":true})");  // 1
  EXPECT_EQ(Ask(c, R"({"op":"ttl","key":"k"})"), R"({"ok":true,"ttl_ms":-1})");
  EXPECT_EQ(Ask(c, R"({"op":"ttl","key":"absent","id":3})"), R"({"ok":true,"id":3,"ttl_ms":-2})");
  EXPECT_EQ(Ask(c, R"({"op":"expire","key":"k","seconds":60,"id":"e"})"),
            R"({"ok":true,"id":"e","existed":true})");  // 2
  const std::int64_t left = TtlOf(Ask(c, R"({"op":"ttl","key":"k"})"));
  EXPECT_GT(left, 58'000);
  EXPECT_LE(left, 60'000);
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"k"})"), R"({"ok":true,"values":["v"],"revision":2})")
      << "an expire is a change of the key";
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"k","val":"w"})"), R"({"ok":true})");  // 3
  EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"k"})")), 58'000)
      << "an append keeps the expiry, as RPUSH does";
  EXPECT_EQ(Ask(c, R"({"op":"persist","key":"k"})"), R"({"ok":true,"persisted":true})");  // 4
  EXPECT_EQ(Ask(c, R"({"op":"ttl","key":"k"})"), R"({"ok":true,"ttl_ms":-1})");
  EXPECT_EQ(Ask(c, R"({"op":"persist","key":"k"})"), R"({"ok":true,"persisted":false})");
  EXPECT_EQ(Ask(c, R"({"op":"expire","key":"absent","seconds":60})"),
            R"({"ok":true,"existed":false})");
  EXPECT_EQ(Ask(c, R"({"op":"ttl","key":"absent"})"), R"({"ok":true,"ttl_ms":-2})")
      << "an expire makes no key";
  EXPECT_EQ(Ask(c, R"({"op":"append","key":"t","val":"x","ttl":30})"), R"({"ok":true})");  // 5
  const std::int64_t t = TtlOf(Ask(c, R"({"op":"ttl","key":"t"})"));
  EXPECT_GT(t, 28'000);
  EXPECT_LE(t, 30'000);
  const std::string at = std::to_string(NowMs() + 90'000);
  EXPECT_EQ(Ask(c, R"({"op":"expire","key":"t","at_ms":)" + at + "}"),
            R"({"ok":true,"existed":true})");  // 6
  EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"t"})")), 88'000);
  // As Redis's EXPIRE: no time left deletes the key now.
  EXPECT_EQ(Ask(c, R"({"op":"expire","key":"t","seconds":0})"),
            R"({"ok":true,"existed":true})");  // 7
  EXPECT_EQ(Ask(c, R"({"op":"get","key":"t"})"), R"({"ok":true,"values":[],"revision":0})");
  EXPECT_EQ(StatOf(Ask(c, R"({"op":"stats"})"), "revision"), 7u);
  for (const std::string bad : {
           R"({"op":"expire","key":"k"})",
           R"({"op":"expire","key":"k","seconds":1.5})",
           R"({"op":"append","key":"k","val":"v","ttl":0})",
       }) {
    EXPECT_EQ(ErrorCodeOf(Ask(c, bad)), "invalid_request") << bad;
  }
}

// From the moment its time comes, no read sees the key; then its expired
// delete is committed, a change like a delete.
TEST(TtlTest, AnExpiredKeyIsGoneForEveryReaderAtOnce) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  Connection other(kvd.socket());
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"keep","val":"x"})"), R"({"ok":true})");  // 1
  const std::uint64_t at = NowMs() + 400;
  ASSERT_EQ(Ask(c, R"({"op":"append","key":"k","val":"v","at_ms":)" + std::to_string(at) + "}"),
            R"({"ok":true})");  // 2
  bool seen_before = false;
  int reads_after = 0;
  while (NowMs() < at + 300) {
    const std::uint64_t sent = NowMs();
    const std::string got = Ask(other, R"({"op":"get","key":"k"})");
    if (sent >= at) {
      ++reads_after;
      ASSERT_EQ(got, R"({"ok":true,"values":[],"revision":0})")
          << "read at " << sent - at << " ms after its time";
      ASSERT_EQ(Ask(other, R"({"op":"len","key":"k"})"), R"({"ok":true,"length":0})");
      ASSERT_EQ(Ask(other, R"({"op":"keys"})"), R"({"ok":true,"keys":["keep"]})");
      ASSERT_EQ(Ask(other, R"({"op":"ttl","key":"k"})"), R"({"ok":true,"ttl_ms":-2})");
    } else if (NowMs() < at) {
      seen_before = seen_before || got == R"({"ok":true,"values":["v"],"revision":2})";
    }
  }
  EXPECT_TRUE(seen_before);
  EXPECT_GT(reads_after, 0);
  EXPECT_TRUE(Eventually([&] { return StatOf(Ask(c, R"({"op":"stats"})"), "expired_keys") == 1; },
                         std::chrono::seconds(10)));
  const std::string stats = Ask(c, R"({"op":"stats"})");
  EXPECT_EQ(StatOf(stats, "keys"), 1u);
  EXPECT_EQ(StatOf(stats, "revision"), 3u) << "the expired delete is a change";
}

// A write to a key whose time has come treats it as gone: an append starts
// a fresh list without an expiry, a pop takes none of its values.
TEST(TtlTest, AWriteToAnExpiredKeyStartsAfresh) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  const std::uint64_t at = NowMs() + 300;
  for (const std::string key : {"a", "p", "d"}) {
    ASSERT_EQ(Ask(c, R"({"op":"append_many","items":[{"key":")" + key +
                         R"(","val":"old1"},{"key":")" + key + R"(","val":"old2"}]})"),
              R"({"ok":true})");
    ASSERT_EQ(
        Ask(c, R"({"op":"expire","key":")" + key + R"(","at_ms":)" + std::to_string(at) + "}"),
        R"({"ok":true,"existed":true})");
  }
  while (NowMs() <= at) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Pipelined together, before the expired deletes come (or after: alike).
  c.Send(R"({"op":"append","key":"a","val":"new"})"
         "\n"
         R"({"op":"pop","key":"p"})"
         "\n"
         R"({"op":"delete","key":"d"})"
         "\n"
         R"({"op":"get","key":"a"})"
         "\n"
         R"({"op":"ttl","key":"a"})"
         "\n");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"values":[]})");
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"deleted":false})");
  const std::string got = c.ReadLine().value_or("");
  EXPECT_THAT(got, HasSubstr(R"("values":["new"])"));
  EXPECT_EQ(c.ReadLine(), R"({"ok":true,"ttl_ms":-1})");
}

// A lease: a conditional append with a TTL takes an empty key; others are
// refused until its time comes, then one takes it again.
TEST(TtlTest, ALeaseIsTakenAgainOnceItExpires) {
  TestDir dir;
  Daemon kvd(dir);
  Connection c(kvd.socket());
  const std::string take = R"({"op":"append","key":"lock","val":"me","if_length":0,"at_ms":)";
  const std::uint64_t at = NowMs() + 300;
  ASSERT_EQ(Ask(c, take + std::to_string(at) + "}"), R"({"ok":true})");
  EXPECT_EQ(ErrorCodeOf(Ask(c, take + std::to_string(at + 60'000) + "}")), "conflict");
  while (NowMs() <= at) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(Ask(c, take + std::to_string(NowMs() + 60'000) + "}"), R"({"ok":true})");
  EXPECT_THAT(Ask(c, R"({"op":"get","key":"lock"})"), HasSubstr(R"("values":["me"])"));
  EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"lock"})")), 58'000);
}

TEST(TtlTest, KvctlExpireTtlPersistAndAppendWithATtl) {
  TestDir dir;
  Daemon kvd(dir);
  const auto appended = std::chrono::steady_clock::now();
  EXPECT_EQ(kvd.Kvctl({"--key", "k", "--val", "v", "--ttl", "100"}).exit_code, 0);
  RunResult ttl = kvd.Kvctl({"ttl", "k"});
  EXPECT_EQ(ttl.exit_code, 0);
  EXPECT_TRUE(SecondsLeftFit(ttl.out, 100, appended));
  EXPECT_EQ(kvd.Kvctl({"expire", "k", "50"}).out, "1\n");
  const std::int64_t ms = std::stoll(kvd.Kvctl({"ttl", "k", "--ms"}).out);
  EXPECT_GT(ms, 48'000);
  EXPECT_LE(ms, 50'000);
  EXPECT_EQ(kvd.Kvctl({"persist", "k"}).out, "1\n");
  EXPECT_EQ(kvd.Kvctl({"persist", "k"}).out, "0\n");
  EXPECT_EQ(kvd.Kvctl({"ttl", "k"}).out, "-1\n");
  EXPECT_EQ(kvd.Kvctl({"ttl", "absent"}).out, "-2\n");
  EXPECT_EQ(kvd.Kvctl({"expire", "absent", "5"}).out, "0\n");
  EXPECT_EQ(kvd.Kvctl({"append", "j", "x", "--ttl", "20"}).exit_code, 0);
  EXPECT_GT(std::stoll(kvd.Kvctl({"ttl", "j", "--ms"}).out), 18'000);
  EXPECT_EQ(kvd.Kvctl({"expire", "j", "-1"}).out, "1\n");
  EXPECT_EQ(kvd.Kvctl({"get", "j"}).out, "\n");
  EXPECT_EQ(kvd.Kvctl({"--key", "k", "--ttl", "5"}).exit_code, 2) << "--ttl needs --val";
  EXPECT_EQ(kvd.Kvctl({"--key", "k", "--val", "v", "--ttl", "5", "--if-length", "1"}).exit_code, 2);
  const RunResult zero = kvd.Kvctl({"--key", "k", "--val", "v", "--ttl", "0"});
  EXPECT_EQ(zero.exit_code, 1);
  EXPECT_THAT(zero.err, HasSubstr("TTL"));
  ASSERT_EQ(kvd.Stop(), 0);

  // The same on the data file, embedded.
  auto embedded = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--embedded", "--data", kvd.data()});
    return RunCommand([&] {
      std::vector<std::string> argv{KvctlBin()};
      argv.insert(argv.end(), args.begin(), args.end());
      return argv;
    }());
  };
  EXPECT_EQ(embedded({"ttl", "k"}).out, "-1\n");
  const auto expired = std::chrono::steady_clock::now();
  EXPECT_EQ(embedded({"expire", "k", "30"}).out, "1\n");
  EXPECT_TRUE(SecondsLeftFit(embedded({"ttl", "k"}).out, 30, expired));
  EXPECT_EQ(embedded({"append", "e", "v", "--ttl", "1"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(embedded({"get", "e"}).out, "\n");
  EXPECT_EQ(embedded({"keys"}).out, "k\n");
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"k":["v"]})")
      << "an embedded use commits the expired deletes due before it closes";
}

TEST(TtlTest, HttpExpireTtlPersistAndAppendWithATtl) {
  TestDir dir;
  Daemon kvd(dir, {"--http", "0"});
  HttpClient http(kvd, "");
  auto post = [&](const std::string& target) {
    return http.Curl({"-X", "POST", http.Url(target)});
  };
  ASSERT_EQ(http.Curl({"--data-binary", "v", http.Url("/api/v1/keys/k?ttl=40")}).status, 200);
  HttpResult ttl = http.Curl({http.Url("/api/v1/keys/k/ttl")});
  EXPECT_EQ(ttl.status, 200);
  EXPECT_GT(TtlOf(ttl.body), 38'000);
  EXPECT_THAT(ttl.body, HasSubstr(R"({"key":"k","ttl_ms":)"));
  HttpResult expire = post("/api/v1/keys/k/expire?seconds=70");
  EXPECT_EQ(expire.status, 200);
  EXPECT_EQ(expire.body, "{\"existed\":true}\n");
  EXPECT_GT(TtlOf(http.Curl({http.Url("/api/v1/keys/k/ttl")}).body), 68'000);
  EXPECT_EQ(post("/api/v1/keys/k/persist").body, "{\"persisted\":true}\n");
  EXPECT_EQ(http.Curl({http.Url("/api/v1/keys/k/ttl")}).body, "{\"key\":\"k\",\"ttl_ms\":-1}\n");
  EXPECT_EQ(post("/api/v1/keys/absent/expire?seconds=5").status, 404);
  EXPECT_EQ(http.Curl({http.Url("/api/v1/keys/absent/ttl")}).body,
            "{\"key\":\"absent\",\"ttl_ms\":-2}\n");
  EXPECT_EQ(post("/api/v1/keys/k/expire").status, 400) << "no seconds";
  EXPECT_EQ(post("/api/v1/keys/k/expire?seconds=x").status, 400);
  EXPECT_EQ(http.Curl({"--data-binary", "v", http.Url("/api/v1/keys/k?ttl=0")}).status, 400);
  EXPECT_EQ(post("/api/v1/storage?key=s&val=1&ttl=25").status, 200);
  EXPECT_GT(TtlOf(http.Curl({http.Url("/api/v1/keys/s/ttl")}).body), 23'000);
  EXPECT_EQ(post("/api/v1/keys/s/expire?seconds=0").body, "{\"existed\":true}\n");
  EXPECT_EQ(http.Curl({http.Url("/api/v1/keys/s")}).status, 404) << "deleted now";
  EXPECT_EQ(kvd.Stop(), 0);
}

TEST(TtlTest, ClientLibraryAndEmbeddedAlike) {
  TestDir dir;
  for (const bool daemon : {true, false}) {
    SCOPED_TRACE(daemon ? "daemon" : "embedded");
    std::optional<Daemon> kvd;
    std::unique_ptr<client::Backend> backend;
    if (daemon) {
      kvd.emplace(dir);
      backend = std::make_unique<client::Client>(kvd->socket());
    } else {
      backend = std::make_unique<client::Embedded>(dir / "embedded.data", std::chrono::seconds(5));
    }
    client::Backend& b = *backend;
    b.AppendWithTtl("k", "v", std::chrono::seconds(60));
    EXPECT_GT(b.TimeToLive("k"), 58'000);
    EXPECT_TRUE(b.Expire("k", 100));
    EXPECT_GT(b.TimeToLive("k"), 98'000);
    EXPECT_FALSE(b.Expire("absent", 100));
    EXPECT_TRUE(b.Persist("k"));
    EXPECT_FALSE(b.Persist("k"));
    EXPECT_EQ(b.TimeToLive("k"), -1);
    EXPECT_EQ(b.TimeToLive("absent"), -2);
    EXPECT_TRUE(b.Expire("k", 0));
    EXPECT_TRUE(b.Get("k").empty());
    EXPECT_THROW(b.AppendWithTtl("k", "v", std::chrono::seconds(0)), client::Error);
    EXPECT_THROW(b.Expire("k", std::int64_t{1} << 40), client::Error);
  }
}

// Expiry times persist beside storage.data as revisions do: across a clean
// stop (the meta file), kill -9 (the journal) and compactions.
TEST(TtlTest, ExpiryTimesSurviveARestartAKillAndCompactions) {
  TestDir dir;
  const std::vector<std::string> small_journal = {"--compact-min-size", "1", "--compact-percentage",
                                                  "0"};
  {
    Daemon kvd(dir);
    Connection c(kvd.socket());
    ASSERT_EQ(Ask(c, R"({"op":"append","key":"long","val":"v","ttl":3600})"), R"({"ok":true})");
    ASSERT_EQ(Ask(c, R"({"op":"append","key":"short","val":"v","ttl":2})"), R"({"ok":true})");
    ASSERT_EQ(Ask(c, R"({"op":"append","key":"plain","val":"v"})"), R"({"ok":true})");
    ASSERT_EQ(kvd.Stop(), 0);
  }
  EXPECT_EQ(ReadFile(dir / "storage.data"), R"({"long":["v"],"plain":["v"],"short":["v"]})");
  {
    Daemon kvd(dir);
    Connection c(kvd.socket());
    EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"long"})")), 3'590'000) << "after a clean stop";
    EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"short"})")), 0);
    EXPECT_EQ(Ask(c, R"({"op":"ttl","key":"plain"})"), R"({"ok":true,"ttl_ms":-1})");
    ASSERT_EQ(Ask(c, R"({"op":"expire","key":"plain","seconds":7200})"),
              R"({"ok":true,"existed":true})");
    kvd.Kill();
  }
  {
    Daemon kvd(dir, small_journal);
    Connection c(kvd.socket());
    EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"plain"})")), 7'190'000) << "after kill -9";
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(Ask(c, R"({"op":"append","key":"more","val":"v"})"), R"({"ok":true})");
    }
    EXPECT_TRUE(Eventually([&] { return StatOf(Ask(c, R"({"op":"stats"})"), "compactions") > 0; },
                           std::chrono::seconds(10)));
    EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"long"})")), 3'590'000) << "after a compaction";
    // The short one expires meanwhile: its expired delete goes through the
    // compacted journal too.
    EXPECT_TRUE(Eventually([&] { return StatOf(Ask(c, R"({"op":"stats"})"), "keys") == 3; },
                           std::chrono::seconds(10)));
    kvd.Kill();
  }
  Daemon kvd(dir);
  Connection c(kvd.socket());
  EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"long"})")), 3'590'000);
  EXPECT_GT(TtlOf(Ask(c, R"({"op":"ttl","key":"plain"})")), 7'190'000);
  EXPECT_EQ(Ask(c, R"({"op":"keys"})"), R"({"ok":true,"keys":["long","more","plain"]})");
  EXPECT_EQ(StatOf(Ask(c, R"({"op":"stats"})"), "keys"), 3u);
}

// Each acknowledged expire and persist, and each append with a TTL, is
// there after kill -9, cycle after cycle; one cut off by the kill may be
// there or not.
TEST(TtlCrashTest, KillNineCyclesKeepEveryAcknowledgedExpiry) {
  TestDir dir;
  constexpr int kCycles = 15, kClients = 4, kKeysPerClient = 8;
  std::mt19937 rng(20261207);
  // Per key, the state the last acknowledged write left, and that of a
  // write the kill cut off (-1: none): 0 no expiry, else the TTL's hour
  // (1..3), read back to within the test's run time.
  std::map<std::string, int> acked, pending;
  std::mutex mu;
  for (int cycle = 0; cycle <= kCycles; ++cycle) {
    Daemon kvd(dir);
    {
      client::Client check(kvd.socket());
      for (const auto& [key, state] : acked) {
        const std::int64_t left = check.TimeToLive(key);
        const int hours = left < 0 ? 0 : static_cast<int>((left + 1'800'000) / 3'600'000);
        const auto cut = pending.find(key);
        ASSERT_TRUE(hours == state || (cut != pending.end() && hours == cut->second))
            << key << ": " << left << " ms left, acknowledged " << state << " h";
        acked[key] = hours;
      }
    }
    pending.clear();
    if (cycle == kCycles) break;
    std::vector<std::thread> clients;
    for (int w = 0; w < kClients; ++w) {
      clients.emplace_back([&, w] {
        std::mt19937 mine(static_cast<std::uint32_t>(cycle * kClients + w));
        try {
          client::Client conn(kvd.socket());
          for (int n = 0;; ++n) {
            const std::string key =
                "c" + std::to_string(w) + "-" + std::to_string(n % kKeysPerClient);
            const int state = static_cast<int>(mine() % 4);
            {
              std::lock_guard lock(mu);
              pending[key] = state;
            }
            bool fresh;
            {
              std::lock_guard lock(mu);
              fresh = !acked.contains(key);
            }
            if (fresh) {
              conn.AppendWithTtl(key, "v", std::chrono::hours(state == 0 ? 1 : state));
              if (state == 0) conn.Persist(key);
            } else if (state == 0) {
              conn.Persist(key);
            } else {
              conn.Expire(key, state * 3600);
            }
            std::lock_guard lock(mu);
            acked[key] = state;
            pending.erase(key);
          }
        } catch (const client::Error&) {
          // The daemon died under us: that is the test.
        }
      });
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution(20, 150)(rng)));
    kvd.Kill();
    for (auto& t : clients) t.join();
  }
  EXPECT_GT(acked.size(), std::size_t{kClients});
}

}  // namespace
}  // namespace kvd::testing
