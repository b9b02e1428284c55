// The first include of every file that uses Boost.Asio, before any Asio
// header: Boost 1.74's boost/asio/awaitable.hpp uses std::exchange without
// including <utility>, which GCC 12's other headers no longer bring in.
#ifndef KVD_UTIL_ASIO_PRELUDE_H_
#define KVD_UTIL_ASIO_PRELUDE_H_

#include <utility>

#endif  // KVD_UTIL_ASIO_PRELUDE_H_
