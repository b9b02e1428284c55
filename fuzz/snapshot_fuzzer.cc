// libFuzzer target: the storage.data loader, on any bytes. Whatever it
// accepts must hold only valid UTF-8 and count its contents correctly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "store/snapshot.h"
#include "util/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  kvd::Store store;
  kvd::SnapshotId id;
  if (!kvd::ParseSnapshot(text, "fuzz", &store, &id).ok()) return 0;
  std::size_t values = 0;
  kvd::Store::FrozenCursor cursor;
  store.VisitFrozen(&cursor, SIZE_MAX,
                    [&](std::string_view key, auto vals, bool, bool, std::uint64_t, std::uint64_t) {
                      if (!kvd::IsValidUtf8(key)) std::abort();
                      for (const auto& v : vals) {
                        if (!kvd::IsValidUtf8(v)) std::abort();
                      }
                      values += vals.count();
                    });
  if (values != store.value_count() || id.size != size) std::abort();
  return 0;
}
