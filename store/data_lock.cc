#include "store/data_lock.h"

#include <fstream>
#include <optional>
#include <utility>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/sync/file_lock.hpp>

#include "store/data_files.h"

namespace kvd {
namespace {

using boost::interprocess::file_lock;

// file_lock needs an existing file. Appending creates it without touching
// the contents, and closing before locking keeps the lock: POSIX drops a
// process's record locks when it closes any descriptor of the file.
Status OpenLockFile(const std::filesystem::path& path, std::optional<file_lock>* lock) {
  {
    std::ofstream create(path, std::ios::app);
    if (!create) return Status::IOError("cannot create lock file " + path.string());
  }
  try {
    lock->emplace(path.string().c_str());
  } catch (const boost::interprocess::interprocess_exception& e) {
    return Status::IOError("cannot open lock file " + path.string() + ": " + e.what());
  }
  return Status::OK();
}

}  // namespace

struct DataLock::Impl {
  std::optional<file_lock> owner;
  std::optional<file_lock> daemon;
};

DataLock::DataLock(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DataLock::~DataLock() {
  impl_->owner->unlock();
  if (impl_->daemon) impl_->daemon->unlock();
}

Status DataLock::Acquire(const std::filesystem::path& data_path, Mode mode,
                         std::chrono::milliseconds wait, std::unique_ptr<DataLock>* lock) {
  auto impl = std::make_unique<Impl>();
  const auto daemon_path = DaemonLockPath(data_path);
  const auto owner_path = OwnerLockPath(data_path);
  if (Status s = OpenLockFile(daemon_path, &impl->daemon); !s.ok()) return s;
  if (Status s = OpenLockFile(owner_path, &impl->owner); !s.ok()) return s;
  try {
    // Probing with a shared lock lets embedded users probe concurrently.
    if (!impl->daemon->try_lock_sharable()) {
      return Status::Busy(data_path.string() + " is owned by a running kvd (lock " +
                          daemon_path.string() + " is held)");
    }
    impl->daemon->unlock_sharable();
    if (mode == Mode::kEmbedded) {
      impl->daemon.reset();
      const auto deadline = boost::posix_time::microsec_clock::universal_time() +
                            boost::posix_time::milliseconds(wait.count());
      if (!impl->owner->timed_lock(deadline)) {
        return Status::Busy(data_path.string() + " stayed in use by another process (lock " +
                            owner_path.string() + ")");
      }
    } else {
      if (!impl->owner->try_lock()) {
        return Status::Busy(data_path.string() + " is in use by another process (lock " +
                            owner_path.string() + " is held)");
      }
      // Only embedded users' momentary probes can be in the way now.
      const auto deadline =
          boost::posix_time::microsec_clock::universal_time() + boost::posix_time::seconds(5);
      if (!impl->daemon->timed_lock(deadline)) {
        return Status::Busy("cannot take " + daemon_path.string());
      }
    }
  } catch (const boost::interprocess::interprocess_exception& e) {
    return Status::IOError("cannot lock " + owner_path.string() + ": " + e.what());
  }
  lock->reset(new DataLock(std::move(impl)));
  return Status::OK();
}

}  // namespace kvd
