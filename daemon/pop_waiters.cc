#include "daemon/pop_waiters.h"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "daemon/operations.h"
#include "store/list_range.h"

namespace kvd::daemon {

namespace asio = boost::asio;

namespace {

// How often keys with waiters are looked at for values that came without a
// commit of this node's; this node's own commits wake them at once.
constexpr std::chrono::milliseconds kPollInterval{50};

}  // namespace

PopWaiters::PopWaiters(asio::io_context& io, const Engine& engine, Committer& commits)
    : io_(io), engine_(engine), commits_(commits), poll_(io) {}

void PopWaiters::Wait(const proto::Request& pop, Done done, Alive alive) {
  if (stopped_) {
    asio::post(io_, [done = std::move(done)]() mutable { done(Status::OK(), {}); });
    return;
  }
  Key& k = keys_[pop.key];
  const std::uint64_t id = ++next_id_;
  Waiter& w = k.waiters.emplace_back(id, pop, std::move(done), std::move(alive), io_);
  ++waiting_;
  w.deadline.expires_after(pop.wait);
  w.deadline.async_wait([this, key = pop.key, id](const boost::system::error_code& ec) {
    if (!ec) Expire(key, id);
  });
  SchedulePoll();
  // Values may have come since its pop was committed.
  Serve(pop.key);
}

void PopWaiters::ServeAll() {
  if (keys_.empty()) return;
  // Serve may drop a key: walk a copy of their names.
  std::vector<std::string> keys;
  keys.reserve(keys_.size());
  for (const auto& [key, k] : keys_) keys.push_back(key);
  for (const std::string& key : keys) Serve(key);
}

void PopWaiters::ServeAhead(const WriteBatch& batch) {
  if (keys_.empty()) return;
  std::unordered_map<std::string_view, std::size_t> appended;
  for (const Mutation& m : batch.mutations()) {
    if (m.kind == Mutation::Kind::kAppend && keys_.contains(std::string(m.key))) ++appended[m.key];
  }
  for (const auto& [key, count] : appended) Serve(std::string(key), count);
}

void PopWaiters::Serve(const std::string& key, std::size_t arriving) {
  const auto found = keys_.find(key);
  if (found == keys_.end()) return;
  Key& k = found->second;
  if (k.serving) {
    k.again = true;
    return;
  }
  if (k.waiters.empty()) {
    keys_.erase(found);
    return;
  }
  const std::size_t values = engine_.Length(key) + arriving;
  if (values == 0) return;
  // As many of the first waiters as there are values: most take one.
  WriteBatch batch;
  std::vector<std::uint64_t> ids;
  for (auto it = k.waiters.begin(); it != k.waiters.end() && ids.size() < values;) {
    const auto next = std::next(it);
    if (it->alive && !it->alive()) {
      Finish(k, it, Status::OK(), {});  // its client is gone
    } else {
      batch.Trim(key, ListRange::AfterPop(it->pop.count, it->pop.from_tail));
      it->in_flight = true;
      ids.push_back(it->id);
    }
    it = next;
  }
  if (ids.empty()) {
    if (k.waiters.empty()) keys_.erase(found);
    return;
  }
  k.serving = true;
  k.again = false;
  const bool ahead = arriving > 0;
  commits_.Submit(batch, [this, key, ids = std::move(ids), ahead](const CommitResult& result) {
    Key& k = keys_[key];
    k.serving = false;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto it = Find(k, ids[i]);
      if (it == k.waiters.end()) continue;
      it->in_flight = false;
      if (!result.status().ok()) {
        // Committed ahead, it failed with the append it was to take from:
        // it waits on, as if that append had never come.
        if (!ahead || it->expired || stopped_) Finish(k, it, result.status(), {});
        continue;
      }
      std::vector<std::string> taken = PoppedInOrder(result.removed(i), it->pop.from_tail);
      // One that took nothing keeps its place, unless its wait ran out.
      if (!taken.empty() || it->expired || stopped_) Finish(k, it, Status::OK(), std::move(taken));
    }
    Serve(key);  // more values, or some that came meanwhile (`again`)
  });
}

std::list<PopWaiters::Waiter>::iterator PopWaiters::Find(Key& k, std::uint64_t id) {
  return std::find_if(k.waiters.begin(), k.waiters.end(),
                      [id](const Waiter& w) { return w.id == id; });
}

void PopWaiters::Finish(Key& k, std::list<Waiter>::iterator it, const Status& s,
                        std::vector<std::string> values) {
  Done done = std::move(it->done);
  k.waiters.erase(it);  // cancels its deadline
  --waiting_;
  asio::post(io_, [done = std::move(done), s, values = std::move(values)]() mutable {
    done(s, std::move(values));
  });
}

void PopWaiters::Expire(const std::string& key, std::uint64_t id) {
  const auto found = keys_.find(key);
  if (found == keys_.end()) return;
  Key& k = found->second;
  const auto it = Find(k, id);
  if (it == k.waiters.end()) return;
  if (it->in_flight) {
    it->expired = true;  // decided once its pop's commit is
    return;
  }
  Finish(k, it, Status::OK(), {});
  if (k.waiters.empty() && !k.serving) keys_.erase(found);
}

void PopWaiters::Stop() {
  stopped_ = true;
  poll_.cancel();
  for (auto& [key, k] : keys_) {
    for (auto it = k.waiters.begin(); it != k.waiters.end();) {
      const auto next = std::next(it);
      if (it->in_flight) {
        it->expired = true;
      } else {
        Finish(k, it, Status::OK(), {});
      }
      it = next;
    }
  }
}

void PopWaiters::SchedulePoll() {
  if (polling_ || stopped_) return;
  polling_ = true;
  poll_.expires_after(kPollInterval);
  poll_.async_wait([this](const boost::system::error_code& ec) {
    polling_ = false;
    if (ec || stopped_) return;
    ServeAll();
    if (waiting_ > 0) SchedulePoll();
  });
}

}  // namespace kvd::daemon
