#include "daemon/log.h"

#include <cstdio>
#include <string>

namespace kvd::log {

void Write(Priority priority, std::string_view message) {
  std::string line = "<" + std::to_string(static_cast<int>(priority)) + ">";
  line += message;
  line += '\n';
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace kvd::log
