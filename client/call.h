// Raw protocol requests through a Client, for in-tree code only (kvctl's
// cluster commands, the cluster tests); not installed: the installed
// interface (<kvd/client.h>) keeps the wire format to itself.
#ifndef KVD_CLIENT_CALL_H_
#define KVD_CLIENT_CALL_H_

#include "kvd/client.h"
#include "proto/request.h"
#include "proto/response.h"

namespace kvd::client {

// Sends `request` and returns its successful response; a server-side error
// is thrown as Error with the server's code. Retried as Client's methods
// are; a write should carry an origin (Write does that).
proto::Response Call(Client& client, const proto::Request& request);
// The same on a connection of its own: Call(Client(socket), request).
inline proto::Response Call(Client&& client, const proto::Request& request) {
  return Call(client, request);
}
// Call for a write, with the client's id and its next sequence number.
proto::Response Write(Client& client, proto::Request request);

}  // namespace kvd::client

#endif  // KVD_CLIENT_CALL_H_
