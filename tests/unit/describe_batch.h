// Test helper: a batch's mutations as readable strings, "append k=v" (with
// " if revision N" or " if length N" for a condition, " expire AT" for a
// TTL), "delete k", "trim k START STOP", "expire k AT" and "delete k if
// expired by AT", and its runs of one origin,
// for comparing with the expected lists (write_batch_test.cc, journal_test.cc, command_test.cc).
#ifndef KVD_TESTS_UNIT_DESCRIBE_BATCH_H_
#define KVD_TESTS_UNIT_DESCRIBE_BATCH_H_

#include <string>
#include <vector>

#include "store/write_batch.h"

namespace kvd {

// Appends the description of each mutation of `batch` to *out.
inline void Describe(const WriteBatch& batch, std::vector<std::string>* out) {
  for (const Mutation& m : batch.mutations()) {
    std::string condition;
    if (m.condition.on == Condition::On::kRevision) condition = " if revision ";
    if (m.condition.on == Condition::On::kLength) condition = " if length ";
    if (!condition.empty()) condition += std::to_string(m.condition.value);
    if (m.kind == Mutation::Kind::kAppend && m.at != 0) {
      condition += " expire " + std::to_string(m.at);
    }
    switch (m.kind) {
      case Mutation::Kind::kAppend:
        out->push_back("append " + std::string(m.key) + "=" + std::string(m.val) + condition);
        break;
      case Mutation::Kind::kExpire:
        out->push_back("expire " + std::string(m.key) + " " + std::to_string(m.at));
        break;
      case Mutation::Kind::kDeleteExpired:
        out->push_back("delete " + std::string(m.key) + " if expired by " + std::to_string(m.at));
        break;
      case Mutation::Kind::kDelete:
        out->push_back("delete " + std::string(m.key));
        break;
      case Mutation::Kind::kTrim:
        out->push_back("trim " + std::string(m.key) + " " + std::to_string(m.range.start) + " " +
                       std::to_string(m.range.stop));
        break;
    }
  }
}

inline std::vector<std::string> Describe(const WriteBatch& batch) {
  std::vector<std::string> out;
  Describe(batch, &out);
  return out;
}

// Each run of one origin ForEachOrigin reports, as "client/seq @first+count".
inline std::vector<std::string> Runs(const WriteBatch& batch) {
  std::vector<std::string> runs;
  batch.ForEachOrigin([&](Origin origin, std::size_t first, std::size_t count) {
    runs.push_back(std::to_string(origin.client) + "/" + std::to_string(origin.seq) + " @" +
                   std::to_string(first) + "+" + std::to_string(count));
  });
  return runs;
}

}  // namespace kvd

#endif  // KVD_TESTS_UNIT_DESCRIBE_BATCH_H_
