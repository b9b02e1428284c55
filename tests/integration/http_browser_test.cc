// A real browser on the HTTP API's home page: headless Chromium renders "/"
// and the rendered page lists every route of the route table; a screenshot
// is saved in the build folder (http-home.png) for people to look at.
#include <cstdlib>

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

// Runs headless Chromium with a profile of its own on `url`, plus `args`.
RunResult RunChromium(const std::string& chromium, const std::string& url,
                      const std::vector<std::string>& args) {
  TestDir profile;
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
  // Chromium starts slowly, the more so next to sanitized builds: be generous.
  Process browser(argv, ProcessOptions{});
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

}  // namespace
}  // namespace kvd::testing
