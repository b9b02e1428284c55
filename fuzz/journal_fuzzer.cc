// libFuzzer target: the journal reader, on any bytes. It either reports
// damage at an offset inside the data, or returns records that end at
// valid_end, within the data, followed by a torn record or by nothing but
// zeros (reserved space).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "store/journal_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  kvd::JournalContents contents;
  const kvd::Status s = kvd::ParseJournal(bytes, "fuzz", &contents);
  if (!s.ok()) {
    if (!contents.damaged_at || *contents.damaged_at >= size) std::abort();
    return 0;
  }
  if (contents.valid_end > size) std::abort();
  const bool zeros_after =
      std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(contents.valid_end), bytes.end(),
                  [](char c) { return c == '\0'; });
  if (contents.torn_reason.empty() ? !zeros_after : contents.valid_end == size) std::abort();
  std::uint64_t previous = 0;
  for (const auto& e : contents.entries) {
    if (e.offset < previous || e.offset >= contents.valid_end) std::abort();
    previous = e.offset;
  }
  return 0;
}
