#include "store/command.h"

#include "util/varint.h"

namespace kvd::command {
namespace {

// A mutation's kind byte.
constexpr std::uint8_t kDelete = 0;
constexpr std::uint8_t kAppend = 1;
constexpr std::uint8_t kAppendIfRevision = 2;  // then the condition's value, a varint
constexpr std::uint8_t kAppendIfLength = 3;
constexpr std::uint8_t kTrim = 4;  // no value: the range (PutListRange)
// No value: the time (unix milliseconds) as a varint.
constexpr std::uint8_t kExpire = 5;
constexpr std::uint8_t kDeleteExpired = 6;
// An append with a TTL: the value, the condition's kind (Condition::On) as
// a byte and unless kNothing its value, then the expiry time, varints.
constexpr std::uint8_t kAppendExpiring = 7;

std::uint8_t KindByte(const Mutation& m) {
  switch (m.kind) {
    case Mutation::Kind::kDelete:
      return kDelete;
    case Mutation::Kind::kTrim:
      return kTrim;
    case Mutation::Kind::kExpire:
      return kExpire;
    case Mutation::Kind::kDeleteExpired:
      return kDeleteExpired;
    case Mutation::Kind::kAppend:
      break;
  }
  if (m.at != 0) return kAppendExpiring;
  switch (m.condition.on) {
    case Condition::On::kNothing:
      return kAppend;
    case Condition::On::kRevision:
      return kAppendIfRevision;
    case Condition::On::kLength:
      return kAppendIfLength;
  }
  return kAppend;
}

// Whether `rest` is what may follow a command: nothing, or the zeros that
// pad it to a multiple of 8 bytes (the Raft log's entries are).
bool OnlyPadding(std::string_view rest) {
  return rest.size() < 8 && rest.find_first_not_of('\0') == std::string_view::npos;
}

}  // namespace

void EncodeWrites(const WriteBatch& batch, std::string* out) {
  out->push_back(static_cast<char>(Type::kWrites));
  std::size_t runs = 0;
  batch.ForEachOrigin([&](Origin, std::size_t, std::size_t) { ++runs; });
  PutVarint(out, runs);
  auto mutation = batch.mutations().begin();
  batch.ForEachOrigin([&](Origin origin, std::size_t, std::size_t count) {
    PutVarint(out, origin.client);
    PutVarint(out, origin.seq);
    PutVarint(out, count);
    for (std::size_t i = 0; i < count; ++i, ++mutation) {
      const Mutation m = *mutation;
      const std::uint8_t kind = KindByte(m);
      out->push_back(static_cast<char>(kind));
      PutVarString(out, m.key);
      switch (kind) {
        case kDelete:
          break;
        case kTrim:
          PutListRange(out, m.range);
          break;
        case kExpire:
        case kDeleteExpired:
          PutVarint(out, m.at);
          break;
        case kAppendExpiring:
          PutVarString(out, m.val);
          out->push_back(static_cast<char>(m.condition.on));
          if (m.condition.on != Condition::On::kNothing) PutVarint(out, m.condition.value);
          PutVarint(out, m.at);
          break;
        default:
          PutVarString(out, m.val);
          if (kind != kAppend) PutVarint(out, m.condition.value);
          break;
      }
    }
  });
}

void EncodeNodeAddress(std::uint64_t node, std::string_view address, std::string* out) {
  out->push_back(static_cast<char>(Type::kNodeAddress));
  PutVarint(out, node);
  PutVarString(out, address);
}

bool Decode(std::string_view entry, Command* command) {
  if (entry.empty()) return false;
  command->type = static_cast<Type>(entry.front());
  entry.remove_prefix(1);
  switch (command->type) {
    case Type::kWrites: {
      command->batch.Clear();
      std::uint64_t runs = 0;
      if (!GetVarint(&entry, &runs)) return false;
      for (std::uint64_t run = 0; run < runs; ++run) {
        Origin origin;
        std::uint64_t count = 0;
        if (!GetVarint(&entry, &origin.client) || !GetVarint(&entry, &origin.seq) ||
            !GetVarint(&entry, &count)) {
          return false;
        }
        command->batch.SetOrigin(origin);
        for (std::uint64_t i = 0; i < count; ++i) {
          if (entry.empty()) return false;
          const auto kind = static_cast<std::uint8_t>(entry.front());
          entry.remove_prefix(1);
          std::string_view key, val;
          if (!GetVarString(&entry, &key)) return false;
          if (kind == kDelete) {
            command->batch.Delete(key);
            continue;
          }
          if (kind == kTrim) {
            ListRange range;
            if (!GetListRange(&entry, &range)) return false;
            command->batch.Trim(key, range);
            continue;
          }
          if (kind == kExpire || kind == kDeleteExpired) {
            std::uint64_t at = 0;
            if (!GetVarint(&entry, &at)) return false;
            if (kind == kExpire) {
              command->batch.Expire(key, at);
            } else {
              command->batch.DeleteExpired(key, at);
            }
            continue;
          }
          if (kind == kAppendExpiring) {
            Condition condition;
            std::uint64_t at = 0;
            if (!GetVarString(&entry, &val) || entry.empty() ||
                static_cast<std::uint8_t>(entry.front()) >
                    static_cast<std::uint8_t>(Condition::On::kLength)) {
              return false;
            }
            condition.on = static_cast<Condition::On>(entry.front());
            entry.remove_prefix(1);
            if ((condition.on != Condition::On::kNothing && !GetVarint(&entry, &condition.value)) ||
                !GetVarint(&entry, &at) || at == 0) {
              return false;
            }
            command->batch.Append(key, val, condition, at);
            continue;
          }
          Condition condition;
          if (kind == kAppendIfRevision) condition.on = Condition::On::kRevision;
          if (kind == kAppendIfLength) condition.on = Condition::On::kLength;
          if ((kind != kAppend && condition.on == Condition::On::kNothing) ||
              !GetVarString(&entry, &val) ||
              (condition.on != Condition::On::kNothing && !GetVarint(&entry, &condition.value))) {
            return false;
          }
          command->batch.Append(key, val, condition);
        }
      }
      return OnlyPadding(entry);
    }
    case Type::kNodeAddress: {
      std::string_view address;
      if (!GetVarint(&entry, &command->node) || !GetVarString(&entry, &address) ||
          !OnlyPadding(entry)) {
        return false;
      }
      command->address.assign(address);
      return true;
    }
  }
  return false;
}

}  // namespace kvd::command
