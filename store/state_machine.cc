#include "store/state_machine.h"

#include <unordered_set>
#include <utility>

#include "store/command.h"
#include "store/journal_format.h"
#include "util/varint.h"

namespace kvd {
namespace {

// The snapshot's first byte: 4 since the keys' expiry times follow the
// revisions; 3 without them, 2 without the values a trim removed in a
// session's results too, 1 without the store's revisions before its text
// either, all still read.
constexpr char kSnapshotFormat = 4;
constexpr char kSnapshotFormatWithoutExpiries = 3;
constexpr char kSnapshotFormatWithoutRemoved = 2;
constexpr char kSnapshotFormatWithoutRevisions = 1;

// A session's result in a snapshot: a byte, then if it says so the values
// removed, packed, as a string.
constexpr char kResultApplied = 1;
constexpr char kResultRemoved = 2;

// Whether `packed` is values packed as a ValueList packs them: each a
// varint length and that many bytes, to its end.
bool IsPackedValues(std::string_view packed) {
  std::string_view value;
  while (!packed.empty()) {
    if (!GetVarString(&packed, &value)) return false;
  }
  return true;
}

}  // namespace

bool StateMachine::Apply(std::string_view entry, WriteResults* results) {
  results->Clear();
  command::Command command;
  if (!command::Decode(entry, &command)) return false;
  if (command.type == command::Type::kNodeAddress) {
    std::lock_guard lock(directory_mu_);
    directory_[command.node] = command.address;
    return true;
  }
  // The mutations of requests not seen before, applied as one batch.
  fresh_.Clear();
  struct Run {
    Origin origin;
    std::size_t count;
    bool retry;
    const WriteResults* earlier;  // a retry of the last request: its results
    bool of_this_entry;           // a retry of a request earlier in this entry
    std::size_t fresh_first;      // not a retry: where its results start in fresh_results_
  };
  std::vector<Run> runs;
  std::unordered_set<std::uint64_t> recorded;  // clients with a request applied by this entry
  auto mutation = command.batch.mutations().begin();
  command.batch.ForEachOrigin([&](Origin origin, std::size_t, std::size_t count) {
    Run run{origin, count, false, nullptr, false, fresh_.size()};
    if (origin.client != 0) {
      const Session* session = Find(origin.client);
      run.retry = session != nullptr && origin.seq <= session->seq;
      if (run.retry && origin.seq == session->seq) {
        run.of_this_entry = recorded.contains(origin.client);
        if (!run.of_this_entry) run.earlier = &session->results;
      }
      // Recorded at once: the same request again in this entry is a retry.
      if (!run.retry) {
        Record(origin.client, origin.seq, {});
        recorded.insert(origin.client);
      }
    }
    for (std::size_t i = 0; i < count; ++i, ++mutation) {
      if (run.retry) continue;
      fresh_.Add(*mutation);
    }
    runs.push_back(std::move(run));
  });
  if (Status s = engine_.Write(fresh_, &fresh_results_); !s.ok()) {
    return false;  // the engine is closed: kvd is stopping
  }
  for (Run& run : runs) {
    if (run.of_this_entry) {
      // The original's results are in its session by now: it came first.
      if (const Session* session = Find(run.origin.client)) run.earlier = &session->results;
    }
    if (run.retry) {
      for (std::size_t i = 0; i < run.count; ++i) {
        if (run.earlier != nullptr && i < run.earlier->size()) {
          results->Add(run.earlier->applied(i), run.earlier->removed(i));
        } else {
          results->Add(true);
        }
      }
      continue;
    }
    results->AddFrom(fresh_results_, run.fresh_first, run.count);
    if (run.origin.client == 0) continue;
    if (Session* session = Find(run.origin.client); session && session->seq == run.origin.seq) {
      session->results.Clear();
      session->results.AddFrom(fresh_results_, run.fresh_first, run.count);
    }
  }
  return true;
}

StateMachine::Session* StateMachine::Find(std::uint64_t client) {
  const auto found = by_client_.find(client);
  if (found == by_client_.end()) return nullptr;
  sessions_.splice(sessions_.end(), sessions_, found->second);
  return &*found->second;
}

void StateMachine::Record(std::uint64_t client, std::uint64_t seq, WriteResults results) {
  if (Session* session = Find(client)) {
    session->seq = seq;
    session->results = std::move(results);
    return;
  }
  if (sessions_.size() == kMaxSessions) {
    by_client_.erase(sessions_.front().client);
    sessions_.pop_front();
  }
  sessions_.push_back(Session{client, seq, std::move(results)});
  by_client_[client] = std::prev(sessions_.end());
}

std::map<std::uint64_t, std::string> StateMachine::Directory() const {
  std::lock_guard lock(directory_mu_);
  return directory_;
}

std::string StateMachine::Snapshot() {
  BeginSnapshot();
  std::string snapshot = FinishSnapshot();
  EndSnapshot();
  return snapshot;
}

void StateMachine::BeginSnapshot() {
  std::string& out = snapshot_head_;
  out.clear();
  out.push_back(kSnapshotFormat);
  PutVarint(&out, sessions_.size());
  for (const Session& s : sessions_) {
    PutVarint(&out, s.client);
    PutVarint(&out, s.seq);
    PutVarint(&out, s.results.size());
    for (std::size_t i = 0; i < s.results.size(); ++i) {
      const ValueView removed = s.results.removed(i);
      out.push_back(static_cast<char>((s.results.applied(i) ? kResultApplied : 0) |
                                      (removed.empty() ? 0 : kResultRemoved)));
      if (!removed.empty()) {
        PutVarString(&out, std::string_view(removed.packed_data(), removed.packed_bytes()));
      }
    }
  }
  {
    std::lock_guard lock(directory_mu_);
    PutVarint(&out, directory_.size());
    for (const auto& [node, address] : directory_) {
      PutVarint(&out, node);
      PutVarString(&out, address);
    }
  }
  engine_.FreezeStore();
}

std::string StateMachine::FinishSnapshot() const {
  Store::Revisions revisions;
  const std::string text = engine_.FrozenText(&revisions);
  std::string snapshot = snapshot_head_;
  journal::PutRevisions(revisions, &snapshot);
  journal::PutExpiries(revisions, &snapshot);
  return snapshot + text;
}

void StateMachine::EndSnapshot() {
  engine_.ThawStore();
  std::string().swap(snapshot_head_);
}

Status StateMachine::Restore(std::string_view snapshot) {
  auto bad = [] { return Status::Corruption("Raft snapshot: not a kvd state machine snapshot"); };
  if (snapshot.empty()) return bad();
  const char format = snapshot.front();
  if (format != kSnapshotFormat && format != kSnapshotFormatWithoutExpiries &&
      format != kSnapshotFormatWithoutRemoved && format != kSnapshotFormatWithoutRevisions) {
    return bad();
  }
  const bool with_revisions = format != kSnapshotFormatWithoutRevisions;
  const bool with_expiries = format == kSnapshotFormat;
  snapshot.remove_prefix(1);
  std::list<Session> sessions;
  std::unordered_map<std::uint64_t, std::list<Session>::iterator> by_client;
  std::uint64_t n = 0;
  if (!GetVarint(&snapshot, &n)) return bad();
  for (std::uint64_t i = 0; i < n; ++i) {
    Session s{};
    std::uint64_t results = 0;
    if (!GetVarint(&snapshot, &s.client) || !GetVarint(&snapshot, &s.seq) ||
        !GetVarint(&snapshot, &results)) {
      return bad();
    }
    for (std::uint64_t r = 0; r < results; ++r) {
      if (snapshot.empty() || (snapshot.front() & ~(kResultApplied | kResultRemoved)) != 0) {
        return bad();
      }
      const char result = snapshot.front();
      snapshot.remove_prefix(1);
      std::string_view removed;
      if ((result & kResultRemoved) &&
          (!GetVarString(&snapshot, &removed) || !IsPackedValues(removed))) {
        return bad();
      }
      s.results.Add(result & kResultApplied, ValueView(removed.data(), removed.size()));
    }
    sessions.push_back(std::move(s));
    by_client[sessions.back().client] = std::prev(sessions.end());
  }
  std::map<std::uint64_t, std::string> directory;
  if (!GetVarint(&snapshot, &n)) return bad();
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t node = 0;
    std::string_view address;
    if (!GetVarint(&snapshot, &node) || !GetVarString(&snapshot, &address)) return bad();
    directory[node] = std::string(address);
  }
  Store::Revisions revisions;
  if (with_revisions && !journal::GetRevisions(&snapshot, &revisions)) return bad();
  if (with_expiries && !journal::GetExpiries(&snapshot, &revisions)) return bad();
  if (Status s = engine_.Restore(std::string(snapshot), with_revisions ? &revisions : nullptr,
                                 "Raft snapshot");
      !s.ok()) {
    return s;
  }
  sessions_ = std::move(sessions);
  by_client_ = std::move(by_client);
  std::lock_guard lock(directory_mu_);
  directory_ = std::move(directory);
  return Status::OK();
}

}  // namespace kvd
