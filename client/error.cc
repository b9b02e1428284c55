#include "kvd/error.h"

#include <utility>

namespace kvd::client {

Error::Error(std::string code, const std::string& message)
    : std::runtime_error(message), code_(std::move(code)) {}

// Out of line: the library holds Error's type information, which a program
// catching it compares with.
Error::~Error() = default;

Conflict::Conflict(const std::string& message, std::uint64_t revision)
    : Error("conflict", message), revision_(revision) {}

Conflict::~Conflict() = default;

WatchEnded::WatchEnded(std::string code, const std::string& message, std::uint64_t revision)
    : Error(std::move(code), message), revision_(revision) {}

WatchEnded::~WatchEnded() = default;

}  // namespace kvd::client
