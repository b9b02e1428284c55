// kvd: serves the store over a Unix socket until SIGINT/SIGTERM.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp misses it

#include <csignal>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "daemon/commit_queue.h"
#include "daemon/log.h"
#include "daemon/options.h"
#include "daemon/server.h"
#include "store/engine.h"

int main(int argc, char** argv) {
  using namespace kvd;
  int exit_code = 0;
  const auto options = daemon::ParseOptions(argc, argv, &exit_code);
  if (!options) return exit_code;
  // A client that hangs up must not kill the daemon mid-write.
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<Engine> engine;
  if (Status s = Engine::Open(options->data_path, &engine); !s.ok()) {
    log::Error("cannot open data file: " + s.ToString());
    return 1;
  }
  const auto stats = engine->GetStats();
  log::Info("loaded " + options->data_path.string() + ": " + std::to_string(stats.keys) +
            " keys, " + std::to_string(stats.values) + " values");

  boost::asio::io_context io(1);
  daemon::CommitQueue commits(*engine);
  daemon::Server server(io, *engine, commits, *options);
  if (Status s = server.Listen(); !s.ok()) {
    log::Error("cannot serve: " + s.ToString());
    return 1;
  }
  server.Start();
  log::Notice("kvd " KVD_VERSION " serving " + options->socket_path + " with data " +
              options->data_path.string());
  io.run();
  commits.Stop();
  log::Notice("stopped");
  return 0;
}
