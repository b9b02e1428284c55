// One client connection: reads request lines, executes them in order and
// writes one response line per request, in request order (PROTOCOL.md).
// Memory per connection is bounded: it reads more only once everything read
// is answered, executes at most --max-pipeline requests and buffers about
// --max-output response bytes before writing them, keeps at most kKeepBytes
// of each of its buffers between requests (reused, so that a request costs
// no allocation), and a client that completes no request, or takes no
// response, for --idle-timeout is cut off.
#ifndef KVD_DAEMON_SESSION_H_
#define KVD_DAEMON_SESSION_H_

#include "util/asio_prelude.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/committer.h"
#include "daemon/operations.h"
#include "daemon/options.h"
#include "daemon/stream.h"
#include "proto/line_framer.h"
#include "proto/request.h"
#include "proto/response.h"
#include "store/write_batch.h"

namespace kvd::daemon {

class Server;

class Session {
 public:
  // Writes go to `commits`; `peer`: a connection of another node of the
  // cluster (its forwarded requests go no further).
  Session(Server& server, Stream socket, Committer& commits, bool peer);

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
  // The slots are reused from one batch of lines to the next, so decoding
  // reuses their strings' memory.
  struct Decoded {
    proto::Request request;
    std::optional<proto::Error> error;
    bool understood = false;     // decoded: request.op is the request's operation
    RequestMutations mutations;  // in the commit it is part of (a write)
  };

  // Decodes complete lines received into the slots of pending_, at most
  // max_pipeline; true if complete lines are left over. A line over the
  // limit ends the framing: its error is the last entry and framing_lost_ is
  // set. Only once every decoded request is answered.
  bool TakeLines();
  // Puts the mutations of the consecutive writes from next_ on into batch_,
  // up to and including a pop that may wait; returns how many requests they
  // are (0: next_ is no write).
  std::size_t GatherWrites();
  // Answers the `n` writes from next_ on, committed with `result`, but for
  // a last one that is a pop to wait for (it took nothing): returns that one
  // unanswered, or null.
  const Decoded* AnswerWrites(std::size_t n, const CommitResult& result);
  // The request at next_ if it is a pop to wait for whose key is empty now
  // (it may wait at once, without a commit that would take nothing).
  const Decoded* PopToParkNow() const;
  // Waits for the pop `pop` to take values (PopWaiters), then answers it.
  boost::asio::awaitable<void> WaitForPop(const Decoded& pop);
  // Answers the pop `d` that waited (PopWaiters) with its outcome.
  void AnswerWaitedPop(const Decoded& d, const Status& status, std::vector<std::string> values);
  // The request at next_ if it is a watch (it ends the requests the
  // connection serves).
  const Decoded* WatchAtNext() const;
  // Streams the changes the watch `d` asks for until the client leaves, the
  // stream falls too far behind or kvd stops (PROTOCOL.md "watch").
  boost::asio::awaitable<void> Watch(const Decoded& d);
  // Writes out_ in full, then empties it; false if the connection failed.
  boost::asio::awaitable<bool> Flush();
  // Answers the request at next_, a read or an error.
  void AnswerOther();
  // Whether the request at next_ is a read that must wait (Committer::ReadsWait).
  bool ReadMustWait() const;
  // Answers the reads that must wait from next_ on, which may read now if
  // `ready` is OK (else they fail with it).
  void AnswerWaitedReads(const Status& ready);
  // Counts the answer to `d` (kvd_requests_total), with `error` if it failed.
  void Count(const Decoded& d, const proto::Error* error);
  // Frees what is kept for the next requests if it has grown over kKeepBytes.
  void TrimBuffers();

  // Memory a connection keeps between requests, to reuse.
  static constexpr std::size_t kKeepBytes = 32 * 1024;

  Server& server_;
  Committer& commits_;
  const bool peer_;
  const Limits& limits_;
  Stream socket_;
  StreamReader reader_;
  proto::LineFramer framer_;      // received bytes not yet decoded
  std::vector<Decoded> pending_;  // slots; [next_, decoded_) are not answered yet
  std::size_t decoded_ = 0;
  std::size_t next_ = 0;
  WriteBatch batch_;  // the writes being committed
  std::string out_;   // responses not yet written
  bool framing_lost_ = false;
  bool reading_ = false;
  bool stopping_ = false;
  bool waiting_ = false;  // for a pop to take a value: not idle
  // The last time the client completed a request or took responses.
  std::chrono::steady_clock::time_point last_progress_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer watch_timer_;  // a watch's wait for changes (Watchers)
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_SESSION_H_
