#include "kvd/backend.h"

namespace kvd::client {

// Out of line: the library holds Backend's type information.
Backend::~Backend() = default;

}  // namespace kvd::client
