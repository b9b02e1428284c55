// The engine's reader-writer lock: std::shared_mutex, except on Windows.
// There mingw-w64's std::shared_mutex is a winpthreads rwlock, which is known
// to let threads race as they first lock one (msys2 MINGW-packages#25193):
// under Wine, EngineTest.ReadersRunWhileWritersCommit now and then read a
// list while a writer grew it, and never with this lock. Windows' own
// SRWLOCK needs no set-up beyond its zero initializer (shared_mutex_win.cc;
// <windows.h> stays out of this header).
#ifndef KVD_STORE_SHARED_MUTEX_H_
#define KVD_STORE_SHARED_MUTEX_H_

#ifndef _WIN32
#include <shared_mutex>
#endif

namespace kvd {

#ifdef _WIN32
// A SharedMutex (as std::shared_lock and std::unique_lock use it) over SRWLOCK.
class SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock();
  bool try_lock();
  void unlock();
  void lock_shared();
  bool try_lock_shared();
  void unlock_shared();

 private:
  void* lock_ = nullptr;  // an SRWLOCK: one pointer, SRWLOCK_INIT all zero
};
#else
using SharedMutex = std::shared_mutex;
#endif

}  // namespace kvd

#endif  // KVD_STORE_SHARED_MUTEX_H_
