// A real browser on the HTTP API's home page: headless Chromium renders "/"
// and the rendered page lists every route of the route table; a screenshot
// is saved in the build folder (http-home.png) for people to look at.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/integration/http_client.h"

namespace kvd::testing {
namespace {

using ::testing::HasSubstr;

std::string Chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    if (std::string path = FindProgram(name); !path.empty()) return path;
  }
  return {};
}

// Headless Chromium's command line with the profile `profile` on `url`,
// plus `args`.
std::vector<std::string> ChromiumArgv(const std::string& chromium, const TestDir& profile,
                                      const std::string& url,
                                      const std::vector<std::string>& args) {
  std::vector<std::string> argv = {chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--user-data-dir=" + profile.path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  return argv;
}

// Runs headless Chromium with a profile of its own on `url`, plus `args`.
RunResult RunChromium(const std::string& chromium, const std::string& url,
                      const std::vector<std::string>& args) {
  TestDir profile;
  // Chromium starts slowly, the more so next to sanitized builds: be generous.
  Process browser(ChromiumArgv(chromium, profile, url, args), ProcessOptions{});
  const int code = browser.Wait(std::chrono::seconds(180));
  return RunResult{code, browser.Stdout(), browser.Stderr()};
}

TEST(HttpBrowserTest, ChromiumShowsEveryRouteOnTheHomePage) {
  const std::string chromium = Chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh)";
  TestDir dir;
  Daemon kvd(dir, {"--http", "0", "--name", "Browser Test"});
  HttpClient http(kvd, "Browser Test");
  rapidjson::Document docs;
  const std::string json = http.Curl({"-H", "Accept: application/json", http.Url("/")}).body;
  docs.Parse(json.data(), json.size());
  ASSERT_TRUE(docs.IsObject() && docs.HasMember("routes"));

  RunResult dom = RunChromium(chromium, http.Url("/"), {"--dump-dom"});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_THAT(dom.out, HasSubstr("<h1>kvd HTTP API</h1>"));
  EXPECT_THAT(dom.out, HasSubstr("Browser Test"));
  for (const auto& route : docs["routes"].GetArray()) {
    const std::string method = route["method"].GetString(), path = route["path"].GetString();
    EXPECT_THAT(dom.out, HasSubstr(method + "</span> " + path + "</code>"));
  }

  const char* build_dir = std::getenv("KVD_BUILD_DIR");
  const std::filesystem::path shot =
      std::filesystem::path(build_dir != nullptr ? build_dir : dir.path().string()) /
      "http-home.png";
  std::filesystem::remove(shot);
  RunResult screenshot = RunChromium(chromium, http.Url("/"),
                                     {"--screenshot=" + shot.string(), "--window-size=1280,3000"});
  ASSERT_EQ(screenshot.exit_code, 0) << screenshot.err;
  ASSERT_TRUE(std::filesystem::exists(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 10000u);
}

// A TCP port on loopback that takes connections and never answers: a page
// with an image from it is still loading, so that Chromium's --dump-dom
// waits for the page's script (which gives the image another source once
// done).
class StalledServer {
 public:
  StalledServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
    }
    port_ = ntohs(address.sin_port);
  }
  ~StalledServer() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A browser's EventSource on GET /api/v1/watch gets the changes as they
// come; when kvd restarts, it reconnects with Last-Event-ID and goes on
// after the last change it got, each change once. (The URL's from=0 would
// give the changes from revision 1 again, or a 410 were they no longer
// kept: Last-Event-ID takes its place.)
TEST(HttpBrowserTest, EventSourceGetsEachChangeOnceAcrossARestart) {
  const std::string chromium = Chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh)";
  TestDir dir;
  std::optional<Daemon> kvd(std::in_place, dir,
                            std::vector<std::string>{"--http", "0", "--name", "B"});
  std::optional<HttpClient> http(std::in_place, *kvd, "B");
  const std::string port = std::to_string(http->port());
  auto post = [&](const std::string& value) {
    return http->Curl({"--data-binary", value, http->Url("/api/v1/keys/k")}).status;
  };
  auto watching = [&] {
    return Eventually(
        [&] {
          return http->Curl({http->Url("/api/v1/stats")}).body.find("\"watchers\":1,") !=
                 std::string::npos;
        },
        std::chrono::seconds(90), std::chrono::milliseconds(100));
  };
  ASSERT_EQ(post("a"), 200);  // 1
  StalledServer stalled;
  const std::filesystem::path page = dir / "watch.html";
  std::ofstream(page) << "<!doctype html><html><body><pre id=\"out\"></pre>"
                      << "<img src=\"http://127.0.0.1:" << stalled.port() << "/\"><script>\n"
                      << "const out = document.getElementById('out');\n"
                      << "const es = new EventSource('http://127.0.0.1:" << port
                      << "/api/v1/watch?prefix=k&from=0');\n"
                      << "es.onmessage = e => {\n"
                      << "  out.textContent += e.lastEventId + ' ' + e.data + '\\n';\n"
                      << "  if (e.lastEventId === '3') {\n"
                      << "    es.close();\n"
                      << "    // The image loads at once: the page has loaded.\n"
                      << "    document.querySelector('img').src = "
                      << "'data:image/gif;base64,R0lGODlhAQABAAAAACw=';\n"
                      << "  }\n"
                      << "};\n"
                      << "</script></body></html>\n";
  TestDir profile;
  // A page from file:// reads another origin: --disable-web-security.
  Process browser(ChromiumArgv(chromium, profile, "file://" + page.string(),
                               {"--disable-web-security", "--timeout=120000", "--dump-dom"}),
                  ProcessOptions{});
  ASSERT_TRUE(watching()) << "the EventSource did not connect";
  ASSERT_EQ(post("b"), 200);                                    // 2
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // sent before the stop
  ASSERT_EQ(kvd->Stop(), 0);
  http.reset();
  kvd.reset();
  kvd.emplace(dir, std::vector<std::string>{"--http", "127.0.0.1:" + port, "--name", "B"});
  http.emplace(*kvd, "B");
  ASSERT_TRUE(watching()) << "the EventSource did not reconnect";
  ASSERT_EQ(post("c"), 200);  // 3
  ASSERT_EQ(browser.Wait(std::chrono::seconds(150)), 0) << browser.Stderr();
  const std::string dom = browser.Stdout();
  const std::string pre = "<pre id=\"out\">";
  const auto start = dom.find(pre);
  ASSERT_NE(start, std::string::npos) << dom;
  const std::string shown = dom.substr(start + pre.size(), dom.find("</pre>") - start - pre.size());
  EXPECT_EQ(shown,
            "1 {\"revision\":1,\"key\":\"k\",\"kind\":\"append\",\"values\":[\"a\"]}\n"
            "2 {\"revision\":2,\"key\":\"k\",\"kind\":\"append\",\"values\":[\"b\"]}\n"
            "3 {\"revision\":3,\"key\":\"k\",\"kind\":\"append\",\"values\":[\"c\"]}\n");
}

}  // namespace
}  // namespace kvd::testing
