// The HTTP API's route table: per route its method and path, parameters, an
// example request with its response, the errors it answers with, and the
// handler. The router dispatches by it and the "/" page documents it, so the
// documentation cannot drift from what the server does. Handlers run the
// protocol's operations (operations.h): writes go through the same commit
// queue, and so the same fsync policy, as the socket's.
#ifndef KVD_DAEMON_HTTP_ROUTES_H_
#define KVD_DAEMON_HTTP_ROUTES_H_

#include "util/asio_prelude.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "daemon/committer.h"
#include "daemon/http_target.h"
#include "daemon/operations.h"
#include "daemon/options.h"
#include "daemon/pop_waiters.h"
#include "daemon/request_counters.h"
#include "daemon/watchers.h"
#include "store/engine.h"

namespace kvd::daemon::http {

using Verb = boost::beast::http::verb;

// Cluster mode: what /health tells of this node.
struct NodeRole {
  bool has_leader = false;  // it knows a leader (it is one, or follows one)
  bool leader = false;
};

// What handlers work with; owned by the HTTP server.
struct Services {
  Engine& engine;
  Committer& commits;
  const Limits& limits;
  const HttpOptions& options;
  std::function<ServerStats()> stats;  // the socket server's and the HTTP server's figures
  std::function<bool()> stopping;      // SIGTERM came: /health answers 503
  std::function<std::optional<NodeRole>()> role;  // cluster mode; empty on a single node
  RequestCounters& requests;                      // the operations HTTP requests run
  std::function<std::string()> metrics;           // GET /metrics's body
  PopWaiters* pop_waiters;  // where a pop that waits parks, as the socket's do; null: none waits
  // Where a watch stream waits for commits, as the socket's do, and is
  // counted; null: streams only poll (Watchers::kPollInterval), uncounted.
  Watchers* watchers;
};

// A request as handlers see it.
struct Request {
  Verb method = Verb::get;
  Target target;
  std::string body;
  bool form_body = false;     // Content-Type: application/x-www-form-urlencoded
  Params form;                // the body's parameters, for routes with query parameters
  std::string accept;         // the Accept header
  std::string host;           // the Host header
  std::string last_event_id;  // the Last-Event-ID header (an EventSource reconnecting)
  std::string key;            // the {key} path segment, decoded
  std::string_view route;     // set by Dispatch: the path of the route that ran (Route::path)

  // A query (then form) parameter; null when absent.
  const std::string* Param(std::string_view name) const;
};

// A stream of changes the HTTP session writes as Server-Sent Events after
// the reply's headers (GET /api/v1/watch), until the client leaves, the
// stream falls behind or kvd stops.
struct WatchStream {
  std::string prefix;
  std::uint64_t position = 0;  // the revision after which its changes start
};

struct Reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;                 // for 405
  std::optional<WatchStream> watch;  // set: a 200 that streams, body unused
};

// {"error": message} with `status`.
Reply ErrorReply(unsigned status, std::string_view message);

struct Route {
  struct Param {
    std::string_view name;
    std::string_view in;  // "query", "path", "body" or "header"
    std::string_view description;
  };
  // Run in table order on an empty store by a kvd named "Server 1", each
  // example gives its response (tests/integration/http_test.cc checks).
  struct Example {
    std::string_view target;
    std::string_view body;
    std::string_view response;  // empty: varies (e.g. counters)
  };
  struct Error {
    unsigned status;
    std::string_view when;
  };

  Verb method;
  std::string_view path;  // "/api/v1/keys/{key}": {key} matches one segment
  std::string_view summary;
  std::vector<Param> params;
  Example example;
  std::vector<Error> errors;
  boost::asio::awaitable<Reply> (*handle)(const Services&, const Request&);
};

const std::vector<Route>& Routes();
// Errors any request may get, whatever its route.
const std::vector<Route::Error>& CommonErrors();

// Runs the route matching `request` (HEAD as GET); 404 when no path
// matches, 405 with Allow when the path matches but not the method.
boost::asio::awaitable<Reply> Dispatch(const Services& services, Request& request);

}  // namespace kvd::daemon::http

#endif  // KVD_DAEMON_HTTP_ROUTES_H_
