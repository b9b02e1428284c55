#include "daemon/cluster.h"

#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/log.h"

namespace kvd::daemon {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Json = rapidjson::Writer<rapidjson::StringBuffer>;

// How long `kvctl cluster status` waits for each other node's own status.
constexpr std::chrono::milliseconds kStatusTimeout{500};
// How often a node checks that the directory has its peer address right.
constexpr std::chrono::milliseconds kMaintainEvery{250};

std::string_view RoleName(RaftNode::Role role) {
  switch (role) {
    case RaftNode::Role::kLeader:
      return "leader";
    case RaftNode::Role::kFollower:
      return "follower";
    case RaftNode::Role::kCandidate:
      return "candidate";
    case RaftNode::Role::kUnavailable:
      break;
  }
  return "unavailable";
}

proto::Response Failure(const ::kvd::Status& status) {
  return proto::Response::Failure(proto::Error{status.code() == ::kvd::Status::Code::kUnavailable
                                                   ? proto::ErrorCode::kUnavailable
                                                   : proto::ErrorCode::kStorageError,
                                               status.message()});
}

::kvd::Status FromResponse(const proto::Response& response) {
  if (!response.error) return ::kvd::Status::OK();
  if (response.error->code == proto::ErrorCode::kUnavailable) {
    return ::kvd::Status::Unavailable(response.error->message);
  }
  return ::kvd::Status::IOError("the leader answered " +
                                std::string(proto::ErrorCodeName(response.error->code)) + ": " +
                                response.error->message);
}

// Awaits a callback API completing with a Status on the network thread:
// start(done) must call done once.
template <typename Start>
asio::awaitable<::kvd::Status> AwaitStatus(Start start) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(::kvd::Status)>(
      [start](auto handler) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([shared](const ::kvd::Status& s) { std::move (*shared)(s); });
      },
      asio::use_awaitable);
}

}  // namespace

Cluster::Cluster(asio::io_context& io, Engine& engine, ClusterOptions options)
    : io_(io),
      options_(std::move(options)),
      machine_(engine),
      raft_(options_.raft, machine_, io.get_executor()),
      link_(io.get_executor(), options_.forward_timeout),
      acceptor_(io),
      maintain_(io) {}

Cluster::~Cluster() { Stop(); }

::kvd::Status Cluster::Start(std::function<void(Stream)> serve) {
  const auto colon = options_.peer_listen.rfind(':');
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(options_.peer_listen.substr(0, colon), ec);
  if (colon == std::string::npos || ec) {
    return ::kvd::Status::InvalidArgument("--peer-listen " + options_.peer_listen +
                                          ": expected HOST:PORT");
  }
  const tcp::endpoint endpoint(
      ip, static_cast<unsigned short>(std::stoul(options_.peer_listen.substr(colon + 1))));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return ::kvd::Status::IOError("cannot listen for peers on " + options_.peer_listen + ": " +
                                  ec.message());
  }
  const tcp::endpoint bound = acceptor_.local_endpoint();
  peer_address_ = bound.address().to_string() + ":" + std::to_string(bound.port());
  if (::kvd::Status s = raft_.Start(); !s.ok()) return s;
  log::Info("cluster node " + std::to_string(options_.raft.id) + ": Raft in " +
            options_.raft.dir.string() + ", peer requests on " + peer_address_);
  asio::co_spawn(io_, Accept(std::move(serve)), asio::detached);
  Maintain();
  return ::kvd::Status::OK();
}

asio::awaitable<void> Cluster::Accept(std::function<void(Stream)> serve) {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor_.is_open()) co_return;
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    // A Session reads and writes with recv/send, the same on any connected
    // stream socket: the TCP descriptor is served as a Stream.
    Stream stream(io_);
    const int fd = socket.release(ec);
    if (!ec) stream.assign(asio::local::stream_protocol(), fd, ec);
    if (!ec) stream.non_blocking(true, ec);
    if (ec) continue;
    serve(std::move(stream));
  }
}

void Cluster::Maintain() {
  if (draining_) return;
  if (const auto leader = LeaderAddress()) link_.Follow(*leader);
  if (!registering_) {
    const auto directory = machine_.Directory();
    const auto mine = directory.find(options_.raft.id);
    if (mine == directory.end() || mine->second != peer_address_) {
      if (raft_.role() == RaftNode::Role::kLeader) {
        registering_ = true;
        raft_.ProposeNodeAddress(options_.raft.id, peer_address_,
                                 [this](const ::kvd::Status&) { registering_ = false; });
      } else if (const auto leader = LeaderAddress()) {
        registering_ = true;
        proto::Request request;
        request.op = proto::Op::kClusterRegister;
        request.node = options_.raft.id;
        request.address = peer_address_;
        link_.Send(*leader, request, [this](const proto::Response&) { registering_ = false; });
      }
    }
  }
  maintain_.expires_after(kMaintainEvery);
  maintain_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Maintain();
  });
}

std::optional<std::string> Cluster::LeaderAddress() const {
  const RaftNode::View view = raft_.view();
  if (view.leader == 0 || view.role == RaftNode::Role::kCandidate) return std::nullopt;
  const auto directory = machine_.Directory();
  const auto found = directory.find(view.leader);
  if (found == directory.end()) return std::nullopt;
  return found->second;
}

void Cluster::Fail(Committer::Callback done, ::kvd::Status status) {
  ++failed_commits_;
  last_status_ = status;
  asio::post(io_, [done = std::move(done), status = std::move(status)]() mutable {
    done(CommitResult(status, nullptr, 0));
  });
}

void Cluster::Route::Submit(const WriteBatch& batch, Callback done) {
  Cluster& c = cluster_;
  if (c.stopped_)
    return c.Fail(std::move(done), ::kvd::Status::Unavailable("the node is stopping"));
  if (c.raft_.role() == RaftNode::Role::kLeader) {
    c.raft_.Propose(batch, [&c, done = std::move(done)](const CommitResult& result) mutable {
      ++c.commits_;
      if (!result.status().ok()) ++c.failed_commits_;
      c.last_status_ = result.status();
      done(result);
    });
    return;
  }
  if (!forward_) {
    return c.Fail(std::move(done),
                  ::kvd::Status::Unavailable("node " + std::to_string(c.options_.raft.id) +
                                             " is not the leader"));
  }
  const auto leader = c.LeaderAddress();
  if (!leader) {
    return c.Fail(std::move(done),
                  ::kvd::Status::Unavailable("the cluster has no leader this node knows of "
                                             "(an election, or this node is cut off); retry"));
  }
  c.Forward(*leader, batch, std::move(done));
}

namespace {

// The request that has the leader commit `m`, a mutation other than an
// unconditional append without a TTL. A trim that is a pop (ListRange::AfterPop) goes as
// one, so that the leader answers the values it takes; any other trim's
// are not needed (a trim answers none).
proto::Request ForwardedRequest(const Mutation& m) {
  std::string key(m.key);
  switch (m.kind) {
    case Mutation::Kind::kAppend: {
      proto::Request append = proto::Request::Append(std::move(key), std::string(m.val));
      if (m.condition.on == Condition::On::kRevision) {
        append.if_revision = m.condition.value;
      } else if (m.condition.on == Condition::On::kLength) {
        append.if_length = m.condition.value;
      }
      append.at_ms = m.at;
      return append;
    }
    case Mutation::Kind::kDelete:
    case Mutation::Kind::kDeleteExpired:  // not forwarded (see Forward)
      return proto::Request::Delete(std::move(key));
    case Mutation::Kind::kExpire: {
      if (m.at == 0) return proto::Request::Persist(std::move(key));
      proto::Request expire = proto::Request::Expire(std::move(key), 0);
      expire.at_ms = m.at;
      return expire;
    }
    case Mutation::Kind::kTrim:
      if (m.range.start > 0 && m.range.stop == -1) {
        return proto::Request::Pop(std::move(key), static_cast<std::uint64_t>(m.range.start));
      }
      if (m.range.start == 0 && m.range.stop < -1) {
        return proto::Request::Pop(std::move(key), static_cast<std::uint64_t>(-(m.range.stop + 1)),
                                   true);
      }
      return proto::Request::Trim(std::move(key), m.range.start, m.range.stop);
  }
  return proto::Request::Delete(std::move(key));
}

}  // namespace

void Cluster::Forward(const std::string& leader, const WriteBatch& batch,
                      Committer::Callback done) {
  struct Forwarded {
    explicit Forwarded(Committer::Callback d) : done(std::move(d)) {}
    Committer::Callback done;
    WriteResults results;
    std::vector<std::uint64_t> revisions;  // the leader's, for refused conditional appends
    ::kvd::Status status;
    std::size_t outstanding = 0;
  };
  auto state = std::make_shared<Forwarded>(std::move(done));
  state->results.Assign(batch.size(), true);
  state->revisions.assign(batch.size(), 0);
  // Built first, sent after: a reply may come back at once (a failure).
  std::vector<std::pair<proto::Request, std::size_t>> requests;  // and the mutation it starts at
  auto mutation = batch.mutations().begin();
  batch.ForEachOrigin([&](Origin origin, std::size_t first, std::size_t count) {
    proto::Request* open = nullptr;  // an append_many taking this run's appends
    for (std::size_t i = 0; i < count; ++i, ++mutation) {
      const Mutation m = *mutation;
      // An expired delete is the leader's to decide, by its own clock and
      // state: the leader puts one before the request that follows if it
      // finds the key expired (AppendMutations).
      if (m.kind == Mutation::Kind::kDeleteExpired) continue;
      if (m.kind == Mutation::Kind::kAppend && m.condition.on == Condition::On::kNothing &&
          m.at == 0) {
        if (open == nullptr) {
          requests.emplace_back(proto::Request::AppendMany({}), first + i);
          open = &requests.back().first;
          open->client = origin.client;
          open->seq = origin.seq;
        }
        open->items.push_back({std::string(m.key), std::string(m.val)});
        continue;
      }
      // A delete, a trim, or a conditional append (which append_many cannot
      // carry): a request of its own, whose result the leader's state
      // machine decides.
      requests.emplace_back(ForwardedRequest(m), first + i);
      requests.back().first.client = origin.client;
      requests.back().first.seq = origin.seq;
      open = nullptr;
    }
  });
  state->outstanding = requests.size();
  for (auto& [request, first] : requests) {
    link_.Send(leader, request,
               [this, state, first = first, op = request.op,
                from_tail = request.from_tail](const proto::Response& response) {
                 if (response.error && response.error->code == proto::ErrorCode::kConflict) {
                   // Decided by the leader: not applied, and nothing failed.
                   state->results.Set(first, false);
                   state->revisions[first] = response.revision.value_or(0);
                 } else if (response.error) {
                   state->status = FromResponse(response);
                 } else if (op == proto::Op::kDelete) {
                   state->results.Set(first, response.deleted.value_or(false));
                 } else if (op == proto::Op::kExpire) {
                   state->results.Set(first, response.existed.value_or(false));
                 } else if (op == proto::Op::kPersist) {
                   state->results.Set(first, response.persisted.value_or(false));
                 } else if (op == proto::Op::kPop) {
                   // Back in list order, as the state machine reports a trim's.
                   std::vector<std::string> taken =
                       response.values.value_or(std::vector<std::string>{});
                   if (from_tail) std::reverse(taken.begin(), taken.end());
                   ValueList removed;
                   for (const std::string& v : taken) removed.Append(v);
                   state->results.Set(first, !taken.empty(), removed.view());
                 }
                 if (--state->outstanding > 0) return;
                 ++commits_;
                 if (!state->status.ok()) ++failed_commits_;
                 last_status_ = state->status;
                 state->done(CommitResult(state->status, &state->results, 0, &state->revisions));
               });
  }
}

void Cluster::Route::AwaitReadable(Callback done) {
  Cluster& c = cluster_;
  if (!forward_) {
    return asio::post(c.io_, [done = std::move(done)]() mutable {
      done(CommitResult(::kvd::Status::OK(), nullptr, 0));
    });
  }
  // The reads of one turn of the event loop share one barrier or read index.
  c.readers_.push_back(std::move(done));
  if (c.readers_.size() == 1) asio::post(c.io_, [&c] { c.AwaitReadableTogether(); });
}

void Cluster::AwaitReadableTogether() {
  auto readers = std::make_shared<std::vector<Committer::Callback>>(std::move(readers_));
  readers_.clear();
  auto finish = [readers](const ::kvd::Status& s) {
    for (Committer::Callback& done : *readers) done(CommitResult(s, nullptr, 0));
  };
  if (stopped_) return finish(::kvd::Status::Unavailable("the node is stopping"));
  if (raft_.role() == RaftNode::Role::kLeader) {
    if (raft_.LeaseHeld()) return finish(::kvd::Status::OK());
    raft_.Barrier([finish](const ::kvd::Status& s, std::uint64_t) { finish(s); });
    return;
  }
  const auto leader = LeaderAddress();
  if (!leader) {
    return finish(::kvd::Status::Unavailable(
        "the cluster has no leader this node knows of (an election, or this node is cut off); "
        "retry, or read with \"stale\":true"));
  }
  proto::Request request;
  request.op = proto::Op::kReadIndex;
  link_.Send(*leader, request, [this, finish](const proto::Response& response) {
    if (response.error || !response.index) return finish(FromResponse(response));
    // Caught up to the leader's read index, this node holds every write
    // acknowledged before the read began; a node cut off waits in vain.
    struct Wait {
      explicit Wait(asio::io_context& io) : timer(io) {}
      asio::steady_timer timer;
      bool finished = false;
    };
    auto wait = std::make_shared<Wait>(io_);
    wait->timer.expires_after(options_.forward_timeout);
    wait->timer.async_wait([wait, finish](const boost::system::error_code& ec) {
      if (ec || wait->finished) return;
      wait->finished = true;
      finish(::kvd::Status::Unavailable("this node did not catch up with the leader in time"));
    });
    raft_.WaitApplied(*response.index, [wait, finish](const ::kvd::Status& s) {
      if (wait->finished) return;
      wait->finished = true;
      wait->timer.cancel();
      finish(s);
    });
  });
}

::kvd::Status Cluster::Route::LastCommitStatus() const { return cluster_.last_status_; }
std::uint64_t Cluster::Route::commits() const { return cluster_.commits_; }
std::uint64_t Cluster::Route::failed_commits() const { return cluster_.failed_commits_; }

asio::awaitable<proto::Response> Cluster::Execute(const proto::Request& request, bool from_peer) {
  proto::Response response = co_await Dispatch(request, from_peer);
  response.id = request.id;
  co_return response;
}

// Not a coroutine: one co_await per coroutine, as GCC 12 reports a false
// mismatched new/delete for Execute's frame with a co_await in each branch.
asio::awaitable<proto::Response> Cluster::Dispatch(const proto::Request& request, bool from_peer) {
  if (request.op == proto::Op::kCluster) return StatusResponse(request.local);
  if (raft_.role() == RaftNode::Role::kLeader) return ExecuteOnLeader(request);
  // Membership changes from a client are taken to the leader.
  const auto address = LeaderAddress();
  if (!from_peer && address &&
      (request.op == proto::Op::kClusterAdd || request.op == proto::Op::kClusterRemove)) {
    return ForwardRequest(*address, request);
  }
  return Ready(Failure(::kvd::Status::Unavailable("node " + std::to_string(options_.raft.id) +
                                                  " is not the leader")));
}

asio::awaitable<proto::Response> Cluster::Ready(proto::Response response) { co_return response; }

asio::awaitable<proto::Response> Cluster::StatusResponse(bool local) {
  proto::Response response;
  response.cluster = co_await StatusJson(local);
  co_return response;
}

asio::awaitable<proto::Response> Cluster::ExecuteOnLeader(const proto::Request& request) {
  proto::Response response;
  std::uint64_t index = 0;
  const ::kvd::Status s = co_await AwaitStatus([&](auto done) {
    switch (request.op) {
      case proto::Op::kReadIndex:
        return raft_.Barrier([done, &index](const ::kvd::Status& s, std::uint64_t i) {
          index = i;
          done(s);
        });
      case proto::Op::kClusterRegister:
        return raft_.ProposeNodeAddress(request.node, request.address, done);
      case proto::Op::kClusterAdd:
        return raft_.AddVoter(request.node, request.address, done);
      case proto::Op::kClusterRemove:
        return raft_.Remove(request.node, done);
      default:
        return done(::kvd::Status::InvalidArgument("not a cluster operation"));
    }
  });
  if (!s.ok()) co_return Failure(s);
  if (request.op == proto::Op::kReadIndex) response.index = index;
  co_return response;
}

asio::awaitable<proto::Response> Cluster::ForwardRequest(std::string leader,
                                                         const proto::Request& request) {
  proto::Response answer;
  co_await AwaitStatus([&](auto done) {
    link_.Send(leader, request, [&answer, done](const proto::Response& r) {
      answer = r;
      done(::kvd::Status::OK());
    });
  });
  co_return answer;
}

asio::awaitable<std::string> Cluster::StatusJson(bool local) {
  const RaftNode::View view = raft_.view();
  rapidjson::StringBuffer buffer;
  Json json(buffer);
  json.StartObject();
  if (local) {
    json.Key("id");
    json.Uint64(options_.raft.id);
    json.Key("role");
    json.String(RoleName(view.role).data());
    json.Key("term");
    json.Uint64(view.term);
    json.Key("applied");
    json.Uint64(view.applied);
    json.EndObject();
    co_return std::string(buffer.GetString(), buffer.GetSize());
  }
  json.Key("leader");
  if (view.leader != 0 && view.role != RaftNode::Role::kCandidate) {
    json.Uint64(view.leader);
  } else {
    json.Null();
  }
  json.Key("term");
  json.Uint64(view.term);
  json.Key("nodes");
  json.StartArray();
  const auto directory = machine_.Directory();
  for (const RaftNode::Member& member : view.members) {
    std::string role = "unavailable";
    std::optional<std::uint64_t> applied;
    if (member.id == options_.raft.id) {
      role = RoleName(view.role);
      applied = view.applied;
    } else if (const auto found = directory.find(member.id); found != directory.end()) {
      proto::Request query;
      query.op = proto::Op::kCluster;
      query.local = true;
      if (auto answer = co_await CallPeer(found->second, query, kStatusTimeout);
          answer && !answer->error) {
        rapidjson::Document doc;
        doc.Parse(answer->cluster.data(), answer->cluster.size());
        if (doc.IsObject() && doc.HasMember("role") && doc["role"].IsString() &&
            doc.HasMember("applied") && doc["applied"].IsUint64()) {
          role = doc["role"].GetString();
          applied = doc["applied"].GetUint64();
        }
      }
    }
    json.StartObject();
    json.Key("id");
    json.Uint64(member.id);
    json.Key("address");
    json.String(member.address.c_str());
    json.Key("voter");
    json.Bool(member.voter);
    json.Key("role");
    json.String(role.c_str());
    json.Key("applied");
    if (applied) {
      json.Uint64(*applied);
    } else {
      json.Null();
    }
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  co_return std::string(buffer.GetString(), buffer.GetSize());
}

Cluster::Health Cluster::health() const {
  const RaftNode::View view = raft_.view();
  Health health;
  health.leader = view.role == RaftNode::Role::kLeader;
  health.has_leader = health.leader || (view.role == RaftNode::Role::kFollower && view.leader != 0);
  return health;
}

std::vector<std::pair<std::string, std::uint64_t>> Cluster::Stats() const {
  const RaftNode::View view = raft_.view();
  return {{"raft_node", options_.raft.id},
          {"raft_leader", view.role == RaftNode::Role::kCandidate ? 0 : view.leader},
          {"raft_term", view.term},
          {"raft_applied", view.applied},
          {"raft_last_index", view.last_index}};
}

void Cluster::BeginShutdown() {
  if (draining_) return;
  draining_ = true;
  maintain_.cancel();
  raft_.StepDown([](const ::kvd::Status&) {});
}

void Cluster::Stop() {
  if (stopped_) return;
  stopped_ = true;
  draining_ = true;
  maintain_.cancel();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  link_.Close();
  raft_.Stop();
}

}  // namespace kvd::daemon
