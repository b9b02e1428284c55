// A program using kvd's installed C++ library as any other would
// (tests/install/client-library-test.sh builds it with pkg-config alone):
//   client_example socket PATH KEY VALUE   through the kvd listening at PATH
//   client_example data PATH KEY VALUE     on the data file PATH, embedded
// appends VALUE to KEY, then prints KEY's values, one per line, read with
// KEY's revision: that of the append just made, the store's revision
// (nobody else writes meanwhile), else it fails; an append conditional on
// another revision must then throw kvd::client::Conflict carrying KEY's;
// KEY's length must be the number of values read, and its last value (a
// range of it) VALUE. A failure prints "error CODE: MESSAGE" and exits 1.
#include <kvd/client.h>
#include <kvd/embedded.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

namespace {

void AppendAndPrint(kvd::client::Backend& kv, const std::string& key, const std::string& val) {
  kv.Append(key, val);
  std::uint64_t revision = 0;
  const std::vector<std::string> values = kv.Get(key, &revision);
  std::uint64_t store_revision = 0;
  for (const auto& [name, value] : kv.Stats()) {
    if (name == "revision") store_revision = value;
  }
  if (revision == 0 || revision != store_revision) {
    throw kvd::client::Error("revision", "KEY's revision " + std::to_string(revision) +
                                             " is not the store's, " +
                                             std::to_string(store_revision));
  }
  try {
    kv.Append(key, val, kvd::client::Condition::Revision(revision + 1));
    throw kvd::client::Error("conflict", "appended with a revision KEY does not have");
  } catch (const kvd::client::Conflict& e) {  // the library's type information
    if (e.revision() != revision) {
      throw kvd::client::Error("conflict", "Conflict::revision() " + std::to_string(e.revision()) +
                                               " is not KEY's, " + std::to_string(revision));
    }
  }
  if (kv.Length(key) != values.size()) {
    throw kvd::client::Error("length", "KEY's length " + std::to_string(kv.Length(key)) +
                                           " is not its number of values, " +
                                           std::to_string(values.size()));
  }
  if (kv.GetRange(key, -1, -1) != std::vector<std::string>{val}) {
    throw kvd::client::Error("range", "KEY's last value is not VALUE");
  }
  for (const std::string& v : values) std::cout << v << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 5 ? argv[1] : "";
  if (mode != "socket" && mode != "data") {
    std::cerr << "usage: client_example socket|data PATH KEY VALUE\n";
    return 2;
  }
  try {
    if (mode == "socket") {
      kvd::client::Client kv(argv[2]);
      AppendAndPrint(kv, argv[3], argv[4]);
    } else {
      kvd::client::Embedded kv(argv[2], std::chrono::seconds(5));
      AppendAndPrint(kv, argv[3], argv[4]);
      kv.Close();
    }
  } catch (const kvd::client::Error& e) {
    std::cout << "error " << e.code() << ": " << e.what() << '\n';
    return 1;
  }
  return 0;
}
