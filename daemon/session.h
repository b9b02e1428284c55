// One client connection: reads request lines, executes them in order and
// writes one response line per request, in request order (PROTOCOL.md).
// Memory per connection is bounded: it reads more only once everything read
// is answered, executes at most --max-pipeline requests and buffers about
// --max-output response bytes before writing them, and a client that
// completes no request, or takes no response, for --idle-timeout is cut off.
#ifndef KVD_DAEMON_SESSION_H_
#define KVD_DAEMON_SESSION_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/options.h"
#include "daemon/stream.h"
#include "proto/line_framer.h"
#include "proto/request.h"
#include "proto/response.h"

namespace kvd::daemon {

class Server;

class Session {
 public:
  Session(Server& server, Stream socket);

  // Serves the connection until the client leaves or Stop() takes effect.
  boost::asio::awaitable<void> Run();
  // Closes the connection once it has been idle for the limit (see above).
  boost::asio::awaitable<void> WatchIdle();

  // Graceful stop: requests already received are answered, then the
  // connection is closed. A session idle in a read stops at once.
  void Stop();
  // Immediate stop: closes the socket, whatever is pending.
  void Close();

 private:
  // A request line as decoded: the request, or the error to answer it with.
  struct Decoded {
    proto::Request request;
    std::optional<proto::Error> error;
  };

  // Decodes complete lines received into pending_, at most max_pipeline;
  // true if complete lines are left over. A line over the limit ends the
  // framing: its error is the last entry and framing_lost_ is set.
  bool TakeLines();
  // Executes pending requests in order, appending their responses to out_,
  // until none is left or out_ holds max_output bytes.
  boost::asio::awaitable<void> ExecutePending();
  // Commits the consecutive writes at the front of pending_ as one group.
  boost::asio::awaitable<void> ExecuteWrites();
  void Answer(const proto::Response& response);

  Server& server_;
  const Limits& limits_;
  Stream socket_;
  StreamReader reader_;
  proto::LineFramer framer_;  // received bytes not yet decoded
  std::deque<Decoded> pending_;
  std::string out_;  // responses not yet written
  bool framing_lost_ = false;
  bool reading_ = false;
  bool stopping_ = false;
  // The last time the client completed a request or took responses.
  std::chrono::steady_clock::time_point last_progress_;
  boost::asio::steady_timer idle_timer_;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_SESSION_H_
