#include "tests/integration/cluster_harness.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <iostream>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "proto/request.h"
#include "proto/response.h"

namespace kvd::testing {
namespace {

// Sends one request line to `socket` and decodes the answer; nothing if the
// node did not answer.
std::optional<proto::Response> Ask(const std::string& socket, const proto::Request& request) {
  try {
    Connection connection(socket);
    connection.Send(proto::EncodeRequest(request));
    const auto line = connection.ReadLine(std::chrono::seconds(10));
    proto::Response response;
    if (!line || proto::DecodeResponse(*line, &response)) return std::nullopt;
    return response;
  } catch (const std::exception&) {
    return std::nullopt;  // no daemon on the socket
  }
}

}  // namespace

std::uint16_t FreeLoopbackPort() {
  static std::mt19937 random(std::random_device{}());
  static std::set<std::uint16_t> handed_out;
  std::uniform_int_distribution<int> below_ephemeral(20000, 32767);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<std::uint16_t>(below_ephemeral(random));
    if (handed_out.contains(port)) continue;  // free, but a node of this process may yet bind it
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (bound) {
      handed_out.insert(port);
      return port;
    }
  }
  throw std::runtime_error("cannot find a free loopback port");
}

ClusterNodes::ClusterNodes(const TestDir& dir, Options options)
    : dir_(dir), options_(std::move(options)) {
  for (int id = 1; id <= options_.nodes; ++id) {
    addresses_[id] =
        options_.address ? options_.address(id) : "127.0.0.1:" + std::to_string(FreeLoopbackPort());
    peers_ += (peers_.empty() ? "" : ",") + std::to_string(id) + "=" + addresses_[id];
  }
  for (int id = 1; id <= options_.nodes; ++id) Start(id);
}

ClusterNodes::~ClusterNodes() {
  // An exception leaving the test body is recorded only after this runs.
  if (!::testing::Test::HasFailure() && std::uncaught_exceptions() == 0) return;
  constexpr std::size_t kTail = 6000;
  for (const auto& [id, node] : nodes_) {
    if (!node) continue;
    const std::string log = node->Log();
    std::cerr << "--- node " << id << " log" << (log.size() > kTail ? " (its end)" : "") << ":\n"
              << log.substr(log.size() > kTail ? log.size() - kTail : 0) << "---\n";
  }
}

std::string ClusterNodes::socket(int id) const {
  return (dir_ / ("node" + std::to_string(id) + ".sock")).string();
}

std::filesystem::path ClusterNodes::data(int id) const {
  return dir_ / ("node" + std::to_string(id) + ".data");
}

std::filesystem::path ClusterNodes::raft_dir(int id) const {
  return dir_ / ("node" + std::to_string(id) + ".data.raft");
}

bool ClusterNodes::running(int id) const {
  const auto found = nodes_.find(id);
  return found != nodes_.end() && found->second && found->second->process().Running();
}

void ClusterNodes::Start(int id, std::vector<std::string> extra) {
  std::vector<std::string> args = {"--node", std::to_string(id), "--peers", peers_};
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  args.insert(args.end(), extra.begin(), extra.end());
  nodes_[id].reset();  // its process, if any, is reaped first
  nodes_[id] =
      std::make_unique<Daemon>(socket(id), data(id), std::move(args),
                               options_.prefix ? options_.prefix(id) : std::vector<std::string>{});
}

void ClusterNodes::Kill(int id) { nodes_.at(id)->Kill(); }

int ClusterNodes::Stop(int id) { return nodes_.at(id)->Stop(); }

void ClusterNodes::Wipe(int id) {
  std::filesystem::remove_all(raft_dir(id));
  std::filesystem::remove(data(id));
}

int ClusterNodes::LeaderSeenBy(int id) {
  if (!running(id)) return 0;
  proto::Request stats = proto::Request::Stats();
  stats.stale = true;
  const auto response = Ask(socket(id), stats);
  if (!response || response->error) return 0;
  for (const auto& [name, value] : response->stats) {
    if (name == "raft_leader") return static_cast<int>(value);
  }
  return 0;
}

int ClusterNodes::WaitForLeader(std::chrono::milliseconds timeout) {
  int leader = 0;
  Eventually(
      [&] {
        leader = 0;
        for (int id = 1; id <= size(); ++id) {
          if (!running(id)) continue;
          const int seen = LeaderSeenBy(id);
          if (seen == 0 || (leader != 0 && seen != leader)) return false;
          leader = seen;
        }
        return leader != 0 && running(leader);
      },
      timeout, std::chrono::milliseconds(20));
  return leader != 0 && running(leader) ? leader : 0;
}

bool ClusterNodes::WaitUntilAllReachable(int id, std::chrono::milliseconds timeout) {
  return Eventually(
      [&] {
        const RunResult status = Kvctl(id, {"cluster", "status", "--json"});
        return status.exit_code == 0 && status.out.find("unavailable") == std::string::npos;
      },
      timeout, std::chrono::milliseconds(50));
}

RunResult ClusterNodes::Kvctl(int id, std::vector<std::string> args) {
  return nodes_.at(id)->Kvctl(std::move(args));
}

std::optional<std::vector<std::string>> ClusterNodes::Get(int id, const std::string& key,
                                                          bool stale) {
  proto::Request get = proto::Request::Get(key);
  get.stale = stale;
  const auto response = Ask(socket(id), get);
  if (!response || response->error || !response->values) return std::nullopt;
  return *response->values;
}

}  // namespace kvd::testing
