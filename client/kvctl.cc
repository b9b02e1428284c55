// kvctl: the command-line client of kvd (CONTRACT.md, "kvctl").
//
//   kvctl --key K --val V      append V to K (V "-": stdin, see ReadValueFromStdin)
//   kvctl --key K --val V --if-revision N | --if-length N   only if K is still so
//   kvctl --key K --val V --ttl S   append, then K expires in S seconds
//   kvctl --key K [--json]     print K's values
//   kvctl get|range|len|append|del|trim|pop|expire|persist|ttl|keys|stats|revision|ping|import|
//         watch ...
//                              redis-cli style commands
//
//   kvctl cluster status|add|remove ...   a cluster's members (doc/cluster.md)
//   kvctl --embedded ...       the same on the data file directly, without a daemon
//
// Exit status: 0 done, 1 daemon unreachable or server error, 2 bad usage,
// 3 a conditional append's condition did not hold (nothing appended).
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <CLI/CLI.hpp>

#include "client/call.h"
#include "kvd/client.h"
#include "kvd/embedded.h"
#include "proto/limits.h"
#include "proto/request.h"

namespace {

using kvd::client::Backend;

constexpr int kUsage = 2;
constexpr int kFailed = 1;
constexpr int kConflict = 3;

// One import request stays below the server's default 1 MiB line limit even
// if every byte needs a 6-byte \u escape.
constexpr std::size_t kImportBatchBytes = kvd::proto::kDefaultMaxLine - 64;  // less the envelope
constexpr std::size_t kWorstCaseEscape = 6;
constexpr std::size_t kItemOverhead = 20;  // {"key":"","val":""},

void PrintJsonArray(const std::vector<std::string>& items) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& s : items) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndArray();
  std::cout << buffer.GetString() << '\n';
}

// The values as get prints them: comma-separated.
std::string JoinValues(const std::vector<std::string>& values) {
  std::string line;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) line += ", ";
    line += values[i];
  }
  return line;
}

void PrintValues(const std::vector<std::string>& values, bool json) {
  if (json) return PrintJsonArray(values);
  std::cout << JoinValues(values) << '\n';
}

// One line of kvctl watch, flushed: whoever reads it may act on it at once.
void PrintChange(const kvd::client::Change& change, bool json) {
  if (json) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("revision");
    w.Uint64(change.revision);
    w.Key("key");
    w.String(change.key.data(), static_cast<rapidjson::SizeType>(change.key.size()));
    w.Key("kind");
    w.String(change.kind.data(), static_cast<rapidjson::SizeType>(change.kind.size()));
    w.Key("values");
    w.StartArray();
    for (const auto& v : change.values)
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    w.EndArray();
    if (change.at_ms != 0) {
      w.Key("at_ms");
      w.Uint64(change.at_ms);
    }
    w.EndObject();
    std::cout << buffer.GetString() << std::endl;
    return;
  }
  std::cout << change.revision << ' ' << change.kind << ' ' << change.key;
  if (!change.values.empty()) std::cout << ' ' << JoinValues(change.values);
  if (change.kind == "expire") std::cout << ' ' << change.at_ms;
  std::cout << std::endl;
}

// The value "-" (`--val -`, `append KEY -`): all of stdin, as redis-cli -x
// takes it, less one trailing newline, which `echo` and here-strings add and
// shell users do not mean as part of the value. A value that ends in a
// newline needs two; the value "-" itself comes from stdin too.
std::string ReadValueFromStdin() {
#ifdef _WIN32
  _setmode(_fileno(stdin), _O_BINARY);  // bytes as they are: no CRLF translation
#endif
  std::string value{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  if (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

// Reads "KEY<TAB>VALUE" lines from stdin (the value is everything after the
// first tab) and appends them in order, a batch per request. Returns how
// many values were appended.
std::size_t Import(Backend& client) {
  std::size_t total = 0, line_no = 0, batch_bytes = 0;
  std::vector<kvd::client::KeyValue> batch;
  auto flush = [&] {
    if (batch.empty()) return;
    const std::size_t n = batch.size();
    client.AppendMany(std::move(batch));
    total += n;
    batch.clear();
    batch_bytes = 0;
  };
  for (std::string line; std::getline(std::cin, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto tab = line.find('\t');
    if (tab == std::string::npos) {
      flush();
      throw kvd::client::Error("bad_input", "stdin line " + std::to_string(line_no) +
                                                " has no tab between key and value (" +
                                                std::to_string(total) + " values imported)");
    }
    const std::size_t cost = line.size() * kWorstCaseEscape + kItemOverhead;
    if (batch_bytes + cost > kImportBatchBytes) flush();
    batch_bytes += cost;
    batch.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  flush();
  return total;
}

// Prints a cluster's status (the "cluster" object of PROTOCOL.md) as lines:
// the leader and term, then a line per node.
void PrintClusterStatus(const std::string& json_text) {
  rapidjson::Document doc;
  doc.Parse(json_text.data(), json_text.size());
  if (!doc.IsObject() || !doc.HasMember("nodes") || !doc["nodes"].IsArray()) {
    throw kvd::client::Error("bad_response", "kvd sent a cluster status of another shape");
  }
  auto number = [](const rapidjson::Value& v) {
    return v.IsUint64() ? std::to_string(v.GetUint64()) : std::string("-");
  };
  std::cout << "leader: " << (doc["leader"].IsUint64() ? number(doc["leader"]) : "none")
            << "\nterm: " << number(doc["term"]) << '\n';
  for (const auto& node : doc["nodes"].GetArray()) {
    std::cout << "node " << number(node["id"]) << ' ' << node["address"].GetString() << ' '
              << node["role"].GetString() << (node["voter"].GetBool() ? "" : " (not voting)")
              << " applied " << number(node["applied"]) << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kvctl: talk to kvd.\n"
      "  kvctl --key K --val V   append V to the values of K\n"
      "  kvctl --key K --val V --if-revision N\n"
      "                          append only if K's revision is still N (--if-length N: if K\n"
      "                          still holds N values)\n"
      "  kvctl --key K           print the values of K, joined by \", \"\n"
      "Exit status: 0 done; 1 daemon unreachable or server error; 2 bad usage; 3 conflict: the\n"
      "condition of --if-revision/--if-length did not hold, nothing was appended.\n"};
  app.set_version_flag("--version", KVD_VERSION);
  std::string socket = kvd::client::DefaultSocketPath();
  std::optional<std::string> key, val;
  bool json = false;
  std::string data = kvd::client::DefaultDataPath().string();
  bool embedded = false;
  auto* socket_opt =
      app.add_option("--socket", socket, "kvd's socket, or named pipe on Windows (env KVD_SOCKET)")
          ->capture_default_str();
  auto* embedded_flag = app.add_flag(
      "--embedded", embedded,
      "use the data file directly, without a daemon (refused while a kvd owns the file; waits "
      "up to 30 s for other --embedded users)");
  embedded_flag->excludes(socket_opt);
  app.add_option("--data", data, "with --embedded: the data file (env KVD_DATA)")
      ->capture_default_str()
      ->needs(embedded_flag);
  auto* key_opt = app.add_option("--key", key, "the key to read, or to append to with --val");
  app.add_option("--val", val,
                 "append this value to --key (-: read it from stdin, less one trailing newline)")
      ->needs(key_opt);
  app.add_flag("--json", json, "print values as a JSON array");
  // A conditional append (a compare-and-set): exit 3 if the condition fails.
  std::optional<std::uint64_t> if_revision, if_length;
  auto* if_revision_opt = app.add_option(
      "--if-revision", if_revision,
      "with --val: append only if the key's revision (kvctl revision K) is still N, 0 if "
      "absent; else print the current one and exit 3");
  auto* if_length_opt =
      app.add_option("--if-length", if_length,
                     "with --val: append only if the key still holds N values; else exit 3");
  if_revision_opt->excludes(if_length_opt);
  std::optional<std::int64_t> ttl;
  auto* ttl_opt = app.add_option(
      "--ttl", ttl, "with --val: the key then expires in SECONDS (1 to 100 years' worth)");
  ttl_opt->excludes(if_revision_opt)->excludes(if_length_opt);

  std::string sub_key, sub_val, prefix;
  auto* get = app.add_subcommand("get", "print the values of KEY");
  get->add_option("KEY", sub_key)->required();
  get->add_flag("--json", json, "print a JSON array");
  std::int64_t start = 0, stop = -1;
  auto* range = app.add_subcommand(
      "range",
      "print the values of KEY from index START to STOP, both included, as LRANGE: 0 is the "
      "first, -1 the last (negative: from the end); past either end is clamped");
  range->add_option("KEY", sub_key)->required();
  range->add_option("START", start)->required();
  range->add_option("STOP", stop)->required();
  range->add_flag("--json", json, "print a JSON array");
  auto* len = app.add_subcommand("len", "print how many values KEY holds (0 if absent)");
  len->add_option("KEY", sub_key)->required();
  auto* append = app.add_subcommand("append", "append VAL to KEY");
  append->add_option("KEY", sub_key)->required();
  append->add_option("VAL", sub_val, "the value (-: read it from stdin, less one trailing newline)")
      ->required();
  auto* append_if_revision = append->add_option(
      "--if-revision", if_revision, "append only if KEY's revision is still N (else exit 3)");
  auto* append_if_length = append
                               ->add_option("--if-length", if_length,
                                            "append only if KEY still holds N values (else exit 3)")
                               ->excludes(append_if_revision);
  append->add_option("--ttl", ttl, "KEY then expires in SECONDS")
      ->excludes(append_if_revision)
      ->excludes(append_if_length);
  auto* del = app.add_subcommand("del", "delete KEY and all its values; prints 1, or 0 if absent");
  del->alias("delete");
  del->add_option("KEY", sub_key)->required();
  auto* trim = app.add_subcommand(
      "trim",
      "keep only the values of KEY from index START to STOP, both included, as LTRIM (indices as "
      "range's); a key left without values is deleted");
  trim->add_option("KEY", sub_key)->required();
  trim->add_option("START", start)->required();
  trim->add_option("STOP", stop)->required();
  std::uint64_t pop_count = 1;
  bool pop_tail = false;
  double pop_wait = 0;
  auto* pop = app.add_subcommand(
      "pop",
      "take values from the head of KEY (--tail: from its tail) and print them as get does, in "
      "the order taken; an empty line if it has none");
  pop->add_option("KEY", sub_key)->required();
  pop->add_option("--count", pop_count, "take up to N values (default 1)")
      ->check(CLI::PositiveNumber);
  pop->add_flag("--tail", pop_tail, "take them from the tail, the last first");
  pop->add_option("--wait", pop_wait,
                  "while KEY has no values, wait up to SECONDS (at most 86400) for one; "
                  "--embedded: by polling");
  pop->add_flag("--json", json, "print a JSON array");
  std::int64_t expire_seconds = 0;
  auto* expire = app.add_subcommand(
      "expire",
      "make KEY expire in SECONDS, as EXPIRE (0 or less: delete it now); prints 1, or 0 if absent");
  expire->add_option("KEY", sub_key)->required();
  expire->add_option("SECONDS", expire_seconds)->required();
  auto* persist = app.add_subcommand(
      "persist", "make KEY expire never; prints 1, or 0 if absent or without an expiry");
  persist->add_option("KEY", sub_key)->required();
  bool ttl_ms = false;
  auto* ttl_cmd = app.add_subcommand(
      "ttl", "print the seconds before KEY expires, as TTL: -1 if never, -2 if absent");
  ttl_cmd->add_option("KEY", sub_key)->required();
  ttl_cmd->add_flag("--ms", ttl_ms, "in milliseconds, as PTTL");
  auto* keys = app.add_subcommand("keys", "list keys (starting with PREFIX), one per line");
  keys->add_option("PREFIX", prefix);
  keys->add_flag("--json", json, "print a JSON array");
  auto* stats = app.add_subcommand(
      "stats", "print server statistics as name:value lines (revision: the store's revision)");
  auto* revision = app.add_subcommand(
      "revision", "print KEY's revision: the store revision of its last change (0 if absent)");
  revision->add_option("KEY", sub_key)->required();
  auto* ping = app.add_subcommand("ping", "check the daemon answers; prints PONG");
  std::optional<std::uint64_t> watch_from;
  auto* watch = app.add_subcommand(
      "watch",
      "print each change to keys starting with PREFIX, as it is made, one line each: REVISION "
      "KIND KEY and the values appended or removed, comma-separated (--json: the change as a "
      "JSON object); runs until interrupted");
  watch->add_option("PREFIX", prefix);
  watch->add_option("--from", watch_from,
                    "start after revision REV, with the changes made since (default: now)");
  watch->add_flag("--json", json, "print each change as a JSON object");
  watch->excludes(embedded_flag);
  auto* import =
      app.add_subcommand("import", "append KEY<TAB>VALUE lines from stdin, in order, in batches");
  double timeout = std::chrono::duration<double>(kvd::client::Client::kDefaultRetryTimeout).count();
  app.add_option("--timeout", timeout,
                 "seconds to go on retrying a request a cluster answers unavailable (no leader: "
                 "an election, a partition) before giving up with exit status 1")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  auto* cluster = app.add_subcommand("cluster", "a cluster's members (kvd --node/--peers)");
  cluster->require_subcommand(1);
  cluster->excludes(embedded_flag);
  auto* cluster_status =
      cluster->add_subcommand("status",
                              "the leader, the term and each node's role and applied "
                              "index, as this node sees them");
  cluster_status->add_flag("--json", json, "print the status as JSON");
  std::uint64_t node_id = 0;
  std::string node_address;
  auto* cluster_add = cluster->add_subcommand(
      "add", "add node ID, whose Raft address is HOST:PORT, as a voter (start it with --join)");
  cluster_add->add_option("ID", node_id)->required()->check(CLI::PositiveNumber);
  cluster_add->add_option("ADDRESS", node_address, "its Raft address, HOST:PORT")->required();
  auto* cluster_remove = cluster->add_subcommand("remove", "remove node ID from the cluster");
  cluster_remove->add_option("ID", node_id)->required()->check(CLI::PositiveNumber);
  app.require_subcommand(0, 1);
  for (auto* sub : {get, range, len, append, del, trim, pop, expire, persist, ttl_cmd, keys, stats,
                    revision, ping, import, watch, cluster}) {
    sub->excludes(key_opt);
  }
  std::optional<std::chrono::milliseconds> wait;

  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty() && !key) throw CLI::RequiredError("--key or a command");
    if ((if_revision || if_length) && !val && !*append) {
      throw CLI::ValidationError("--if-revision/--if-length", "only with --key K --val V");
    }
    if (ttl && !val && !*append) throw CLI::ValidationError("--ttl", "only with --key K --val V");
    wait = kvd::proto::PopWait(pop_wait);
    if (!wait) throw CLI::ValidationError("--wait", "a number of seconds from 0 to 86400");
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }

  if (val && *val == "-") val = ReadValueFromStdin();
  if (*append && sub_val == "-") sub_val = ReadValueFromStdin();

  try {
    // Either the data file (--embedded) or the daemon.
    std::unique_ptr<kvd::client::Embedded> file;
    std::unique_ptr<kvd::client::Client> daemon;
    if (embedded) {
      file = std::make_unique<kvd::client::Embedded>(data, std::chrono::seconds(30));
    } else {
      daemon = std::make_unique<kvd::client::Client>(
          socket, std::chrono::milliseconds(static_cast<long long>(timeout * 1000)));
    }
    Backend& client = file ? static_cast<Backend&>(*file) : *daemon;
    // The condition of a conditional append, if one was asked for.
    std::optional<kvd::client::Condition> condition;
    if (if_revision) condition = kvd::client::Condition::Revision(*if_revision);
    if (if_length) condition = kvd::client::Condition::Length(*if_length);
    if (key && val && condition) {
      client.Append(*key, *val, *condition);
    } else if (key && val && ttl) {
      client.AppendWithTtl(*key, *val, std::chrono::seconds(*ttl));
    } else if (key && val) {
      client.Append(*key, *val);
    } else if (key) {
      PrintValues(client.Get(*key), json);
    } else if (*get) {
      PrintValues(client.Get(sub_key), json);
    } else if (*range) {
      PrintValues(client.GetRange(sub_key, start, stop), json);
    } else if (*len) {
      std::cout << client.Length(sub_key) << '\n';
    } else if (*append && condition) {
      client.Append(sub_key, sub_val, *condition);
    } else if (*append && ttl) {
      client.AppendWithTtl(sub_key, sub_val, std::chrono::seconds(*ttl));
    } else if (*append) {
      client.Append(sub_key, sub_val);
    } else if (*del) {
      std::cout << (client.Delete(sub_key) ? 1 : 0) << '\n';
    } else if (*trim) {
      client.Trim(sub_key, start, stop);
    } else if (*pop) {
      PrintValues(client.Pop(sub_key, pop_count, pop_tail, *wait), json);
    } else if (*expire) {
      std::cout << (client.Expire(sub_key, expire_seconds) ? 1 : 0) << '\n';
    } else if (*persist) {
      std::cout << (client.Persist(sub_key) ? 1 : 0) << '\n';
    } else if (*ttl_cmd) {
      const std::int64_t left = client.TimeToLive(sub_key);
      // As Redis's TTL: the seconds left, rounded; -1 and -2 as they are.
      std::cout << (ttl_ms || left < 0 ? left : (left + 500) / 1000) << '\n';
    } else if (*keys) {
      const auto found = client.Keys(prefix);
      if (json) {
        PrintJsonArray(found);
      } else {
        for (const auto& k : found) std::cout << k << '\n';
      }
    } else if (*stats) {
      for (const auto& [name, value] : client.Stats()) std::cout << name << ':' << value << '\n';
    } else if (*revision) {
      std::uint64_t key_revision = 0;
      client.Get(sub_key, &key_revision);
      std::cout << key_revision << '\n';
    } else if (*ping) {
      client.Ping();
      std::cout << "PONG\n";
    } else if (*watch) {  // never with --embedded (see its flags)
      daemon->Watch(prefix, watch_from, [json](const kvd::client::Change& change) {
        PrintChange(change, json);
        return static_cast<bool>(std::cout);
      });
    } else if (*import) {
      std::cout << "imported " << Import(client) << " values\n";
    } else if (*cluster) {  // never with --embedded (see its flags)
      kvd::proto::Request request;
      request.node = node_id;
      request.address = node_address;
      request.op = *cluster_add      ? kvd::proto::Op::kClusterAdd
                   : *cluster_remove ? kvd::proto::Op::kClusterRemove
                                     : kvd::proto::Op::kCluster;
      const kvd::proto::Response response = kvd::client::Call(*daemon, request);
      if (*cluster_status && json) {
        std::cout << response.cluster << '\n';
      } else if (*cluster_status) {
        PrintClusterStatus(response.cluster);
      }
    }
    if (file) file->Close();
  } catch (const kvd::client::WatchEnded& e) {
    std::cerr << "kvctl: " << e.code() << ": " << e.what() << " (watch again with --from "
              << e.revision() << ")\n";
    return kFailed;
  } catch (const kvd::client::Conflict& e) {
    std::cerr << "kvctl: conflict: " << e.what() << " (revision " << e.revision() << ")\n";
    return kConflict;
  } catch (const kvd::client::Error& e) {
    std::cerr << "kvctl: " << e.what() << '\n';
    return kFailed;
  }
  std::cout.flush();
  if (!std::cout) {  // a full disk, a closed pipe: the output did not arrive
    std::cerr << "kvctl: cannot write to standard output: " << std::strerror(errno) << '\n';
    return kFailed;
  }
  return 0;
}
