// The "/" page: the route table (http_routes.h) rendered for its reader.
// HTML when the Accept header asks for text/html (browsers), JSON for
// application/json, plain text otherwise (curl).
#ifndef KVD_DAEMON_HTTP_DOCS_H_
#define KVD_DAEMON_HTTP_DOCS_H_

#include <string_view>

#include "daemon/http_routes.h"

namespace kvd::daemon::http {

// `host` (the request's Host header) goes into the example curl commands.
Reply RenderDocs(std::string_view accept, std::string_view server_name, std::string_view host);

}  // namespace kvd::daemon::http

#endif  // KVD_DAEMON_HTTP_DOCS_H_
