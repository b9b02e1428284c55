#include "store/data_lock.h"

#include <fstream>
#include <utility>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/sync/file_lock.hpp>

namespace kvd {

struct DataLock::Impl {
  boost::interprocess::file_lock lock;
};

DataLock::DataLock(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DataLock::~DataLock() { impl_->lock.unlock(); }

Status DataLock::Acquire(const std::filesystem::path& data_path, std::unique_ptr<DataLock>* lock) {
  std::filesystem::path lock_path = data_path;
  lock_path += ".lock";
  {
    // file_lock needs an existing file. Appending creates it without
    // touching the contents, and closing before locking keeps the lock:
    // POSIX drops a process's record locks when it closes any descriptor
    // of the file.
    std::ofstream create(lock_path, std::ios::app);
    if (!create) return Status::IOError("cannot create lock file " + lock_path.string());
  }
  try {
    auto impl = std::make_unique<Impl>(Impl{boost::interprocess::file_lock(lock_path.c_str())});
    if (!impl->lock.try_lock()) {
      return Status::Busy(data_path.string() + " is in use by another process (lock " +
                          lock_path.string() + " is held)");
    }
    lock->reset(new DataLock(std::move(impl)));
    return Status::OK();
  } catch (const boost::interprocess::interprocess_exception& e) {
    return Status::IOError("cannot lock " + lock_path.string() + ": " + e.what());
  }
}

}  // namespace kvd
