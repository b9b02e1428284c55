#include "daemon/inline_callback.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kvd::daemon {
namespace {

TEST(InlineCallbackTest, HoldsMoveOnlyTargetsInlineAndOnTheHeap) {
  std::vector<std::string> calls;
  auto token = std::make_unique<std::string>("small");
  InlineCallback<int> small = [&calls, token = std::move(token)](int n) {
    calls.push_back(*token + std::to_string(n));
  };
  std::array<char, 2 * InlineCallback<int>::kInlineBytes> big_state{};
  big_state[0] = 'b';
  InlineCallback<int> big = [&calls, big_state, owned = std::make_unique<int>(7)](int n) {
    calls.push_back(std::string(1, big_state[0]) + std::to_string(n + *owned));
  };
  // Moved around as in a growing vector, then called.
  std::vector<InlineCallback<int>> callbacks;
  callbacks.push_back(std::move(small));
  callbacks.push_back(std::move(big));
  for (int i = 0; i < 40; ++i) callbacks.emplace_back([](int) {});
  callbacks[0](1);
  callbacks[1](2);
  EXPECT_EQ(calls, (std::vector<std::string>{"small1", "b9"}));
}

TEST(InlineCallbackTest, DestroysItsTargetOnce) {
  auto counted = std::make_shared<int>(0);
  {
    InlineCallback<> a = [counted] {};
    EXPECT_EQ(counted.use_count(), 2);
    InlineCallback<> b = std::move(a);
    EXPECT_EQ(counted.use_count(), 2);
    a = std::move(b);
    EXPECT_EQ(counted.use_count(), 2);
  }
  EXPECT_EQ(counted.use_count(), 1);
}

}  // namespace
}  // namespace kvd::daemon
