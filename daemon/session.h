// One client connection: reads request lines, executes them in order and
// writes one response line per request, in request order (PROTOCOL.md).
#ifndef KVD_DAEMON_SESSION_H_
#define KVD_DAEMON_SESSION_H_

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "proto/line_framer.h"
#include "proto/request.h"
#include "proto/response.h"

namespace kvd::daemon {

class Server;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, boost::asio::local::stream_protocol::socket socket);

  // Serves the connection until the client leaves or Stop() takes effect.
  boost::asio::awaitable<void> Run();

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

  // Decodes every complete line received; false if one is over the limit
  // (then the last entry is its line_too_long error).
  bool TakeLines(std::vector<Decoded>* lines);
  // Executes `lines` in order and appends their responses to out_.
  boost::asio::awaitable<void> Execute(std::vector<Decoded>& lines);
  // Commits the writes lines[begin, end) as one group and answers them.
  boost::asio::awaitable<void> ExecuteWrites(std::vector<Decoded>& lines, std::size_t begin,
                                             std::size_t end);
  void Answer(const proto::Response& response);

  Server& server_;
  boost::asio::local::stream_protocol::socket socket_;
  proto::LineFramer framer_;  // received bytes not yet executed
  std::string out_;           // responses not yet written
  bool reading_ = false;
  bool stopping_ = false;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_SESSION_H_
