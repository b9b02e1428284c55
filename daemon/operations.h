// What each protocol operation does to the engine: the bridge between
// proto::Request / proto::Response and the storage engine.
#ifndef KVD_DAEMON_OPERATIONS_H_
#define KVD_DAEMON_OPERATIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/commit_queue.h"
#include "proto/request.h"
#include "proto/response.h"
#include "store/engine.h"
#include "store/write_batch.h"

namespace kvd::daemon {

// key_too_large / value_too_large if a key or value of `request` is over
// the limit.
std::optional<proto::Error> CheckSizes(const proto::Request& request, std::size_t max_key,
                                       std::size_t max_value);

// The mutations a write request made (AppendMutations): `count` in all, of
// which the first `guards` are expired deletes put before its own first
// mutation (whose result its response reads).
struct RequestMutations {
  std::size_t count = 0;
  std::size_t guards = 0;
};
// Appends the mutations a write request (proto::IsWrite) makes to *batch,
// in order, with `now` (unix milliseconds, this node's clock) as their time:
// an expire's or a TTL's expiry counts from it, and a mutation of a key that
// `engine` holds as expired by then goes after the key's expired delete
// (Mutation::kDeleteExpired, with `now`), so that an append to it starts a
// fresh list and a pop takes none of its values, alike on every replay.
RequestMutations AppendMutations(const proto::Request& request, const Engine& engine,
                                 std::uint64_t now, WriteBatch* batch);

// The condition of an append request (proto::Request::if_revision or
// if_length; none: Condition::On::kNothing).
Condition ConditionOf(const proto::Request& request);

// The response to a write request once its mutations were committed, they
// being those from `first` on in the batch that `result` is about: a
// failure is `unavailable` (cluster mode, see CommitResult::status) or
// `storage_error`; a conditional append whose condition did not hold is
// `conflict` with the key's revision right after the commit (the result's,
// else read from `engine`, which applied the commit).
proto::Response WriteResponse(const proto::Request& request, const CommitResult& result,
                              const Engine& engine, std::size_t first = 0);

using ServerStats = std::vector<std::pair<std::string, std::uint64_t>>;

// The values a get request reads, all of its key's (Engine::Get) or those of
// its range (Engine::GetRange), and in *revision the key's, read with them.
ValueList GetValues(const proto::Request& get, const Engine& engine, std::uint64_t* revision);

// The response to a read request other than get (len, keys, ttl, ping, stats): a
// get's values are encoded straight from GetValues's packed copy, without
// a std::string per value (AppendReadResponse; the HTTP routes likewise).
// `server_stats` gives the server's own figures, which "stats" reports
// after the engine's (keys, values, bytes, journal_bytes, compactions,
// revision: the store's revision, Engine::Stats::revision).
proto::Response ReadResponse(const proto::Request& request, const Engine& engine,
                             const std::function<ServerStats()>& server_stats);
// The response line to any read request, get included, appended to *out:
// a get answers the key's values (or its range's) and its revision, read
// together (GetValues).
void AppendReadResponse(const proto::Request& request, const Engine& engine,
                        const std::function<ServerStats()>& server_stats, std::string* out);

// The response that starts a watch: {"ok":true,"revision":N}, N being
// where its stream starts (after its "from", else after the store's
// revision now), also set in *position; or, when the changes after "from"
// are no longer held, `compacted` with the oldest revision a watch may
// start from.
proto::Response WatchStart(const proto::Request& watch, const Engine& engine,
                           std::uint64_t* position);
// Appends to *out the lines (proto::AppendChangeLine) of the changes after
// *position whose key starts with `prefix`, until *out holds `budget` bytes
// (at least one line) or they run out, and moves *position past those
// looked at. False, appending none, if the changes after *position are no
// longer held.
bool AppendChanges(const Engine& engine, std::string_view prefix, std::size_t budget,
                   std::uint64_t* position, std::string* out);
// The same as Server-Sent Events (doc/http.md, GET /api/v1/watch): per
// change "id: R\ndata: " then its line, then a blank line.
bool AppendChangeEvents(const Engine& engine, std::string_view prefix, std::size_t budget,
                        std::uint64_t* position, std::string* out);
// Whether a watch stream at `position`, just after a write, has fallen so
// far behind that it is ended (slow_watcher): the changes it has yet to be
// sent take more than half the history, and more than at the last check
// (*behind, updated; kNotBehindYet before the first), so that it is not
// catching up. Ended then, it can still resume before the history outruns
// it; a stream that started far behind and reads fast goes on.
inline constexpr std::size_t kNotBehindYet = static_cast<std::size_t>(-1);
bool WatcherTooSlow(const Engine& engine, std::uint64_t position, std::size_t* behind);
// The response that ends such a stream: slow_watcher, with the revision of
// the last change the stream looked at, from which a watch resumes.
proto::Response SlowWatcher(std::uint64_t position);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_OPERATIONS_H_
