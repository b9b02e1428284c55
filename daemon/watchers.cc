#include "daemon/watchers.h"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kvd::daemon {

namespace asio = boost::asio;

asio::awaitable<bool> Watchers::WaitForChanges(asio::steady_timer& timer) {
  const std::uint64_t polls = polls_;
  timer.expires_at(asio::steady_timer::time_point::max());
  waiting_.push_back(&timer);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &timer));
  co_return polls != polls_;
}

void Watchers::Notify() {
  for (asio::steady_timer* timer : waiting_) timer->cancel();
}

void Watchers::Started() {
  ++streams_;
  if (polling_) return;
  polling_ = true;
  asio::co_spawn(poll_.get_executor(), Poll(), asio::detached);
}

asio::awaitable<void> Watchers::Poll() {
  while (streams_ > 0) {
    poll_.expires_after(kPollInterval);
    boost::system::error_code ignored;
    co_await poll_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    ++polls_;
    Notify();
  }
  polling_ = false;
}

}  // namespace kvd::daemon
