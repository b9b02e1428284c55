// A node's connection to another node's peer listener (cluster mode), over
// which a follower sends what only the leader can do: writes, the read
// index of a linearizable read, membership changes. Requests are pipelined
// and answered in order. The link never resends: a request whose
// connection is lost, or that goes unanswered for the timeout, is answered
// `unavailable` (it may or may not have been applied; a client that gave it
// an origin may send it again, see proto/PROTOCOL.md).
#ifndef KVD_DAEMON_LEADER_LINK_H_
#define KVD_DAEMON_LEADER_LINK_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "daemon/inline_callback.h"
#include "proto/request.h"
#include "proto/response.h"

namespace kvd::daemon {

class LeaderLink {
 public:
  using Done = InlineCallback<const proto::Response&>;

  LeaderLink(boost::asio::any_io_executor executor, std::chrono::milliseconds timeout);
  ~LeaderLink();  // Close()
  LeaderLink(const LeaderLink&) = delete;
  LeaderLink& operator=(const LeaderLink&) = delete;

  // Sends `request` to the node whose peer listener is at `address` (IPv4
  // HOST:PORT), on the connection to it (made if there is none; one to
  // another node is closed, see Follow). `done` runs on the executor with
  // the response, a failure response included.
  void Send(const std::string& address, const proto::Request& request, Done done);
  // The leader is now at `address`: a connection to another node is closed,
  // its requests answered `unavailable` (the leader they went to lost its
  // leadership, or is cut off: they may or may not be applied).
  void Follow(const std::string& address);
  // Fails whatever waits and closes the connections. Sends after it fail.
  void Close();

 private:
  class Connection;
  const boost::asio::any_io_executor executor_;
  const std::chrono::milliseconds timeout_;
  std::shared_ptr<Connection> current_;
  bool closed_ = false;
};

// One request to the peer listener at `address` on a connection of its own,
// answered within `timeout` or not at all (nullopt): for queries such as a
// node's own status, which may go to a node that is down.
boost::asio::awaitable<std::optional<proto::Response>> CallPeer(std::string address,
                                                                proto::Request request,
                                                                std::chrono::milliseconds timeout);

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_LEADER_LINK_H_
