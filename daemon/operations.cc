#include "daemon/operations.h"

#include "proto/change.h"

namespace kvd::daemon {

std::optional<proto::Error> CheckSizes(const proto::Request& request, std::size_t max_key,
                                       std::size_t max_value) {
  auto check = [&](const std::string& key, const std::string* val) -> std::optional<proto::Error> {
    if (key.size() > max_key) {
      return proto::Error{proto::ErrorCode::kKeyTooLarge, "key of " + std::to_string(key.size()) +
                                                              " bytes; the limit is " +
                                                              std::to_string(max_key)};
    }
    if (val != nullptr && val->size() > max_value) {
      return proto::Error{proto::ErrorCode::kValueTooLarge,
                          "value of " + std::to_string(val->size()) + " bytes; the limit is " +
                              std::to_string(max_value)};
    }
    return std::nullopt;
  };
  switch (request.op) {
    case proto::Op::kAppend:
      return check(request.key, &request.val);
    case proto::Op::kAppendMany:
      for (const auto& kv : request.items) {
        if (auto e = check(kv.key, &kv.val)) return e;
      }
      return std::nullopt;
    case proto::Op::kGet:
    case proto::Op::kLen:
    case proto::Op::kDelete:
    case proto::Op::kTrim:
    case proto::Op::kPop:
    case proto::Op::kExpire:
    case proto::Op::kPersist:
    case proto::Op::kTtl:
      return check(request.key, nullptr);
    case proto::Op::kKeys:
    case proto::Op::kWatch:
      return check(request.prefix, nullptr);
    case proto::Op::kPing:
    case proto::Op::kStats:
    case proto::Op::kCluster:
    case proto::Op::kClusterAdd:
    case proto::Op::kClusterRemove:
    case proto::Op::kClusterRegister:
    case proto::Op::kReadIndex:
      return std::nullopt;
  }
  return std::nullopt;
}

RequestMutations AppendMutations(const proto::Request& request, const Engine& engine,
                                 std::uint64_t now, WriteBatch* batch) {
  // A request with an origin is a run of its own; one without joins the
  // run of nobody's before it, if any.
  if (request.client != 0 || batch->current_origin().client != 0) {
    batch->SetOrigin(Origin{request.client, request.seq});
  }
  const std::size_t before = batch->size();
  auto guard = [&](const std::string& key) {
    if (engine.Expired(key, now)) batch->DeleteExpired(key, now);
  };
  // The expiry time of an expire or an append with a TTL (0: none).
  auto expiry = [&](std::int64_t seconds) -> std::uint64_t {
    if (request.at_ms != 0) return request.at_ms;
    return seconds <= 0 ? 0 : now + static_cast<std::uint64_t>(seconds) * 1000;
  };
  if (request.op == proto::Op::kAppendMany) {
    for (const auto& kv : request.items) {
      guard(kv.key);
      batch->Append(kv.key, kv.val);
    }
    return {batch->size() - before, 0};
  }
  guard(request.key);
  const std::size_t guards = batch->size() - before;
  switch (request.op) {
    case proto::Op::kAppend:
      batch->Append(request.key, request.val, ConditionOf(request),
                    expiry(static_cast<std::int64_t>(request.ttl)));
      break;
    case proto::Op::kDelete:
      batch->Delete(request.key);
      break;
    case proto::Op::kTrim:
      batch->Trim(request.key, ListRange{*request.start, *request.stop});
      break;
    case proto::Op::kPop:
      batch->Trim(request.key, ListRange::AfterPop(request.count, request.from_tail));
      break;
    case proto::Op::kExpire:
      // As Redis's EXPIRE: a time not in the future deletes the key now.
      if (const std::uint64_t at = expiry(request.seconds); at > now) {
        batch->Expire(request.key, at);
      } else {
        batch->Delete(request.key);
      }
      break;
    case proto::Op::kPersist:
      batch->Expire(request.key, 0);
      break;
    default:
      break;
  }
  return {batch->size() - before, guards};
}

Condition ConditionOf(const proto::Request& request) {
  if (request.if_revision) return Condition{Condition::On::kRevision, *request.if_revision};
  if (request.if_length) return Condition{Condition::On::kLength, *request.if_length};
  return Condition{};
}

proto::Response WriteResponse(const proto::Request& request, const CommitResult& result,
                              const Engine& engine, std::size_t first) {
  if (result.status().code() == Status::Code::kUnavailable) {
    return proto::Response::Failure({proto::ErrorCode::kUnavailable, result.status().message()},
                                    request.id);
  }
  if (!result.status().ok()) {
    return proto::Response::Failure(
        {proto::ErrorCode::kStorageError, "not written: " + result.status().ToString()},
        request.id);
  }
  proto::Response response;
  response.id = request.id;
  if (request.op == proto::Op::kDelete) response.deleted = result.applied(first);
  if (request.op == proto::Op::kExpire) response.existed = result.applied(first);
  if (request.op == proto::Op::kPersist) response.persisted = result.applied(first);
  if (request.op == proto::Op::kPop)
    response.values = PoppedInOrder(result.removed(first), request.from_tail);
  if (request.op == proto::Op::kAppend && !result.applied(first)) {
    const bool on_revision = request.if_revision.has_value();
    const std::uint64_t wanted = on_revision ? *request.if_revision : request.if_length.value_or(0);
    response.error = proto::Error{proto::ErrorCode::kConflict,
                                  std::string("not appended: the key's ") +
                                      (on_revision ? "revision" : "length") + " is not " +
                                      std::to_string(wanted) + "; read it again and retry"};
    const std::optional<std::uint64_t> carried = result.conflict_revision(first);
    response.revision = carried ? *carried : engine.KeyRevision(request.key);
  }
  return response;
}

ValueList GetValues(const proto::Request& get, const Engine& engine, std::uint64_t* revision) {
  if (!get.start && !get.stop) return engine.Get(get.key, revision);
  ListRange range;
  if (get.start) range.start = *get.start;
  if (get.stop) range.stop = *get.stop;
  return engine.GetRange(get.key, range, revision);
}

proto::Response ReadResponse(const proto::Request& request, const Engine& engine,
                             const std::function<ServerStats()>& server_stats) {
  proto::Response response;
  response.id = request.id;
  switch (request.op) {
    case proto::Op::kLen:
      response.length = engine.Length(request.key);
      break;
    case proto::Op::kKeys:
      response.keys = engine.Keys(request.prefix);
      break;
    case proto::Op::kTtl:
      response.ttl_ms = engine.TimeToLive(request.key);
      break;
    case proto::Op::kStats: {
      const Engine::Stats s = engine.GetStats();
      response.stats = {{"keys", s.keys},
                        {"values", s.values},
                        {"bytes", s.bytes},
                        {"journal_bytes", s.journal_bytes},
                        {"compactions", s.compactions},
                        {"revision", s.revision}};
      for (auto& stat : server_stats()) response.stats.push_back(std::move(stat));
      break;
    }
    default:
      break;
  }
  return response;
}

void AppendReadResponse(const proto::Request& request, const Engine& engine,
                        const std::function<ServerStats()>& server_stats, std::string* out) {
  if (request.op == proto::Op::kGet) {
    std::uint64_t revision = 0;
    const ValueList values = GetValues(request, engine, &revision);
    proto::AppendValuesResponse(request.id, values.view(), revision, out);
  } else {
    proto::AppendResponse(ReadResponse(request, engine, server_stats), out);
  }
}

namespace {

proto::ChangeKind ChangeKindOf(const ChangeHistory::Change& c) {
  switch (c.kind) {
    case Mutation::Kind::kAppend:
      return proto::ChangeKind::kAppend;
    case Mutation::Kind::kDelete:
    case Mutation::Kind::kDeleteExpired:
      return proto::ChangeKind::kDelete;
    case Mutation::Kind::kTrim:
      return proto::ChangeKind::kTrim;
    case Mutation::Kind::kExpire:
      return c.at == 0 ? proto::ChangeKind::kPersist : proto::ChangeKind::kExpire;
  }
  return proto::ChangeKind::kDelete;
}

}  // namespace

proto::Response WatchStart(const proto::Request& watch, const Engine& engine,
                           std::uint64_t* position) {
  proto::Response response;
  response.id = watch.id;
  *position = watch.from_revision ? *watch.from_revision : engine.GetStats().revision;
  std::uint64_t oldest = 0;
  if (!engine.ReadChanges(
          *position, watch.prefix, [](const ChangeHistory::Change&) { return false; }, &oldest)) {
    response.error = proto::Error{proto::ErrorCode::kCompacted,
                                  "the changes after revision " + std::to_string(*position) +
                                      " are no longer kept: the history starts after revision " +
                                      std::to_string(oldest)};
    response.revision = oldest;
    return response;
  }
  response.revision = *position;
  return response;
}

namespace {

// AppendChanges and AppendChangeEvents: each change as a line, or as an
// SSE event around that line.
bool AppendChangesAs(const Engine& engine, std::string_view prefix, std::size_t budget, bool events,
                     std::uint64_t* position, std::string* out) {
  std::uint64_t next = 0;
  const bool held = engine.ReadChanges(
      *position, prefix,
      [&](const ChangeHistory::Change& c) {
        if (!out->empty() && out->size() >= budget) return false;
        if (events) {
          *out += "id: ";
          *out += std::to_string(c.revision);
          *out += "\ndata: ";
        }
        // A delete's time is when it found the key expired: not the key's.
        const std::uint64_t at = c.kind == Mutation::Kind::kDeleteExpired ? 0 : c.at;
        proto::AppendChangeLine(c.revision, c.key, ChangeKindOf(c), c.values, at, out);
        if (events) out->push_back('\n');
        return true;
      },
      &next);
  if (held) *position = next;
  return held;
}

}  // namespace

bool AppendChanges(const Engine& engine, std::string_view prefix, std::size_t budget,
                   std::uint64_t* position, std::string* out) {
  return AppendChangesAs(engine, prefix, budget, false, position, out);
}

bool AppendChangeEvents(const Engine& engine, std::string_view prefix, std::size_t budget,
                        std::uint64_t* position, std::string* out) {
  return AppendChangesAs(engine, prefix, budget, true, position, out);
}

bool WatcherTooSlow(const Engine& engine, std::uint64_t position, std::size_t* behind) {
  const std::size_t now = engine.ChangeBytesAfter(position);
  const bool falling_behind = now > engine.history_bytes() / 2 && now >= *behind;
  *behind = now;
  return falling_behind;
}

proto::Response SlowWatcher(std::uint64_t position) {
  proto::Response response =
      proto::Response::Failure({proto::ErrorCode::kSlowWatcher,
                                "this watch fell too far behind the changes and was ended; "
                                "watch again from revision " +
                                    std::to_string(position)});
  response.revision = position;
  return response;
}

}  // namespace kvd::daemon
