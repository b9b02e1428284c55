// The first include of every file that uses Boost.Asio, before any Asio
// header, for what Asio needs of the compilers kvd targets:
// - Boost 1.74's boost/asio/awaitable.hpp uses std::exchange without
//   including <utility>, which GCC 12's other headers no longer bring in.
// - GCC 11 and 12 at -O2 report Asio's coroutine frames as freed by a
//   mismatched operator delete (GCC bug 109224: a class's operator delete
//   for memory its operator new took from ::operator new, a matching pair),
//   in whichever file inlining happens to expose it: the warning is off for
//   every file that uses Asio.
#ifndef KVD_UTIL_ASIO_PRELUDE_H_
#define KVD_UTIL_ASIO_PRELUDE_H_

#include <utility>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#endif  // KVD_UTIL_ASIO_PRELUDE_H_
