// Commands of cluster mode's replicated state machine (state_machine.h): the
// payload of one Raft log entry. The format is specified in doc/cluster.md,
// "Log entries"; every node must decode an entry the same way for ever, so a
// change of format is a new Type, never a change of an old one.
#ifndef KVD_STORE_COMMAND_H_
#define KVD_STORE_COMMAND_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/write_batch.h"

namespace kvd::command {

enum class Type : std::uint8_t {
  kWrites = 1,       // a write batch with the origins of its mutations
  kNodeAddress = 2,  // where a node serves its peers' forwarded requests
};

struct Command {
  Type type = Type::kWrites;
  WriteBatch batch;        // kWrites
  std::uint64_t node = 0;  // kNodeAddress
  std::string address;     // kNodeAddress: HOST:PORT
};

// Appends the encoded command to *out.
void EncodeWrites(const WriteBatch& batch, std::string* out);
void EncodeNodeAddress(std::uint64_t node, std::string_view address, std::string* out);

// Decodes an entry into *command; false if it is not one of the above. Up
// to 7 zero bytes may follow a command (padding to a multiple of 8).
bool Decode(std::string_view entry, Command* command);

}  // namespace kvd::command

#endif  // KVD_STORE_COMMAND_H_
