// Inspecting and deliberately repairing a data file and its journal, for
// operators (kvd --check, kvd --repair), in the spirit of redis-check-aof.
#ifndef KVD_STORE_CHECK_H_
#define KVD_STORE_CHECK_H_

#include <filesystem>
#include <string>
#include <vector>

#include "util/status.h"

namespace kvd {

// Reads storage.data and its journal without changing either and describes
// them, one finding per line. OK if kvd would start on them.
Status CheckDataFiles(const std::filesystem::path& data_path, std::vector<std::string>* report);

// Makes the files startable again where only the journal is at fault, after
// saving the journal as it was to "<journal>.damaged-<unix time>": cuts a
// damaged journal at the first bad record, or sets aside a journal that does
// not belong to storage.data. A damaged storage.data is never touched (the
// report says where the damage is, to fix by hand). Takes the data file's
// lock, so it refuses while kvd runs.
Status RepairDataFiles(const std::filesystem::path& data_path, std::vector<std::string>* report);

}  // namespace kvd

#endif  // KVD_STORE_CHECK_H_
