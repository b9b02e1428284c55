// /health over a real loopback connection, for what only an injected fault
// reaches: a background fsync that failed while no client was writing.
#include "util/asio_prelude.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "daemon/commit_queue.h"
#include "daemon/http_server.h"
#include "store/engine.h"
#include "tests/test_dir.h"
#include "tests/unit/engine_helpers.h"
#include "tests/unit/faulty_file_system.h"

namespace kvd::daemon::http {
namespace {

namespace beast = boost::beast;
using boost::asio::ip::tcp;
using Op = FaultyFileSystem::Op;

struct Answer {
  unsigned status = 0;
  std::string body;
};

Answer Get(std::uint16_t port, const std::string& target) {
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  beast::http::request<beast::http::empty_body> request(beast::http::verb::get, target, 11);
  request.set(beast::http::field::host, "127.0.0.1");
  beast::http::write(socket, request);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> response;
  beast::http::read(socket, buffer, response);
  return {response.result_int(), response.body()};
}

TEST(HttpHealthTest, AFailedBackgroundFsyncMakesHealthFailWithNoWriterAround) {
  TestDir dir;
  FaultyFileSystem fs;
  EngineOptions engine_options;
  engine_options.fs = &fs;
  engine_options.sync = SyncPolicy::kEverySec;
  auto engine = MustOpen(dir / "storage.data", engine_options);

  boost::asio::io_context io(1);
  CommitQueue commits(*engine, CommitQueue::Mode::kInline, io.get_executor());
  Options options;
  options.http.host = "127.0.0.1";
  HttpServer server(
      io, *engine, commits, options, [] { return ServerStats{}; }, [](MetricsSnapshot*) {});
  ASSERT_TRUE(server.Listen().ok());
  server.Start();
  std::thread network([&io] { io.run(); });

  const Answer healthy = Get(server.port(), "/health");
  EXPECT_EQ(healthy.status, 200u) << healthy.body;

  fs.FailNth(Op::kSyncData, fs.calls(Op::kSyncData) + 1, FaultyFileSystem::Fault::kEIO);
  ASSERT_TRUE(Append(*engine, "k", "1").ok());  // acknowledged before the syncer's fsync
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (engine->WriteRefusal().ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs.fired()) << "no background fsync in 10 s";

  const Answer refused = Get(server.port(), "/health");
  EXPECT_EQ(refused.status, 503u);
  EXPECT_THAT(refused.body, testing::HasSubstr("writes are refused"));
  EXPECT_THAT(refused.body, testing::HasSubstr("restart"));

  // The server belongs to the network thread: it is stopped there.
  boost::asio::post(io, [&] {
    server.Shutdown();
    io.stop();
  });
  network.join();
}

}  // namespace
}  // namespace kvd::daemon::http
