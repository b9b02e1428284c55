#include "daemon/http_docs.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <boost/beast/http/status.hpp>

namespace kvd::daemon::http {
namespace {

std::string MethodName(Verb method) { return std::string(boost::beast::http::to_string(method)); }

std::string StatusLine(unsigned status) {
  return std::to_string(status) + " " +
         std::string(
             boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status)));
}

// The example as a curl command line against `host`.
std::string Curl(const Route& route, std::string_view host) {
  std::string command = "curl";
  // A stream (GET /api/v1/watch): shown as it comes.
  if (route.path.ends_with("/watch")) command += " -N";
  if (!route.example.body.empty()) {
    command += " --data-binary '" + std::string(route.example.body) + "'";
  } else if (route.method != Verb::get) {
    command += " -X " + MethodName(route.method);
  }
  return command + " 'http://" + std::string(host) + std::string(route.example.target) + "'";
}

// Without the final newline, for display.
std::string ExampleResponse(const Route& route) {
  if (route.path == "/") return "(this page)";
  if (route.example.response.empty()) return "(varies)";
  std::string_view response = route.example.response;
  if (response.ends_with('\n')) response.remove_suffix(1);
  return std::string(response);
}

// `text` with `indent` after each newline.
std::string Indent(std::string_view text, std::string_view indent) {
  std::string out;
  for (const char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

constexpr std::string_view kExamplesNote =
    "The examples, run in this order on an empty store of a server named \"Server 1\", give "
    "the responses shown.";

std::string Html(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ErrorRows(const std::vector<Route::Error>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += "<tr><td>" + StatusLine(e.status) + "</td><td>" + Html(e.when) + "</td></tr>\n";
  }
  return out;
}

std::string RenderHtml(std::string_view name, std::string_view host) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<title>kvd HTTP API</title>\n<style>\n"
      "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}\n"
      "section{border-top:1px solid #ccc;padding:.5em 0}\n"
      "h2 code{font-size:1.1em}.method{color:#fff;background:#2a6;padding:0 .3em}\n"
      "pre{background:#f4f4f4;padding:.5em;overflow-x:auto}\n"
      "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;"
      "text-align:left}\n</style></head><body>\n"
      "<h1>kvd HTTP API</h1>\n<p>Served by <strong>" +
      Html(name) +
      "</strong>. kvd stores, under each key, an ordered list of values; writing appends. "
      "Keys and values are UTF-8 text, percent-encoded in paths and queries. Responses are "
      "JSON; errors are <code>{\"error\": \"...\"}</code>. Every response carries "
      "<code>X-Served-By</code>. " +
      std::string(kExamplesNote) + "</p>\n";
  for (const Route& route : Routes()) {
    out += "<section class=\"route\">\n<h2><code><span class=\"method\">" +
           MethodName(route.method) + "</span> " + Html(route.path) + "</code></h2>\n<p>" +
           Html(route.summary) + "</p>\n";
    if (!route.params.empty()) {
      out += "<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>\n";
      for (const auto& p : route.params) {
        out += "<tr><td><code>" + Html(p.name) + "</code></td><td>" + Html(p.in) + "</td><td>" +
               Html(p.description) + "</td></tr>\n";
      }
      out += "</table>\n";
    }
    out += "<p>Example:</p>\n<pre>$ " + Html(Curl(route, host)) + "\n" +
           Html(ExampleResponse(route)) + "</pre>\n";
    if (!route.errors.empty()) {
      out +=
          "<table><tr><th>status</th><th>when</th></tr>\n" + ErrorRows(route.errors) + "</table>\n";
    }
    out += "</section>\n";
  }
  out += "<section><h2>Errors of any route</h2>\n<table><tr><th>status</th><th>when</th></tr>\n" +
         ErrorRows(CommonErrors()) + "</table></section>\n</body></html>\n";
  return out;
}

std::string RenderText(std::string_view name, std::string_view host) {
  std::string out = "kvd HTTP API, served by " + std::string(name) +
                    ".\nUnder each key an ordered list of UTF-8 values; writing appends. "
                    "Errors are JSON {\"error\": \"...\"}.\n" +
                    std::string(kExamplesNote) + "\n";
  for (const Route& route : Routes()) {
    out += "\n" + MethodName(route.method) + " " + std::string(route.path) + "\n  " +
           std::string(route.summary) + "\n";
    for (const auto& p : route.params) {
      out += "  parameter " + std::string(p.name) + " (" + std::string(p.in) +
             "): " + std::string(p.description) + "\n";
    }
    out += "  example:\n    $ " + Curl(route, host) + "\n    " +
           Indent(ExampleResponse(route), "    ") + "\n";
    for (const auto& e : route.errors) {
      out += "  " + StatusLine(e.status) + ": " + std::string(e.when) + "\n";
    }
  }
  out += "\nErrors of any route:\n";
  for (const auto& e : CommonErrors()) {
    out += "  " + StatusLine(e.status) + ": " + std::string(e.when) + "\n";
  }
  return out;
}

std::string RenderJson(std::string_view name, std::string_view host) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
  auto string = [&](std::string_view s) {
    json.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  auto errors = [&](const std::vector<Route::Error>& list) {
    json.StartArray();
    for (const auto& e : list) {
      json.StartObject();
      json.Key("status");
      json.Uint(e.status);
      json.Key("when");
      string(e.when);
      json.EndObject();
    }
    json.EndArray();
  };
  json.StartObject();
  json.Key("server");
  string(name);
  json.Key("routes");
  json.StartArray();
  for (const Route& route : Routes()) {
    json.StartObject();
    json.Key("method");
    string(MethodName(route.method));
    json.Key("path");
    string(route.path);
    json.Key("summary");
    string(route.summary);
    json.Key("params");
    json.StartArray();
    for (const auto& p : route.params) {
      json.StartObject();
      json.Key("name");
      string(p.name);
      json.Key("in");
      string(p.in);
      json.Key("description");
      string(p.description);
      json.EndObject();
    }
    json.EndArray();
    json.Key("example");
    json.StartObject();
    json.Key("curl");
    string(Curl(route, host));
    json.Key("target");
    string(route.example.target);
    json.Key("body");
    string(route.example.body);
    json.Key("response");
    if (route.example.response.empty()) {
      json.Null();
    } else {
      string(route.example.response);
    }
    json.EndObject();
    json.Key("errors");
    errors(route.errors);
    json.EndObject();
  }
  json.EndArray();
  json.Key("errors");
  errors(CommonErrors());
  json.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace

Reply RenderDocs(std::string_view accept, std::string_view server_name, std::string_view host) {
  if (host.empty()) host = "HOST:PORT";
  if (accept.find("text/html") != std::string_view::npos) {
    return Reply{200, "text/html; charset=utf-8", RenderHtml(server_name, host), {}, {}};
  }
  if (accept.find("application/json") != std::string_view::npos) {
    return Reply{200, "application/json", RenderJson(server_name, host), {}, {}};
  }
  return Reply{200, "text/plain; charset=utf-8", RenderText(server_name, host), {}, {}};
}

}  // namespace kvd::daemon::http
