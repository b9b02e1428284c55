#include "store/shared_mutex.h"

#include <windows.h>

namespace kvd {
namespace {

static_assert(sizeof(SRWLOCK) == sizeof(void*));

PSRWLOCK Srw(void*& lock) { return reinterpret_cast<PSRWLOCK>(&lock); }

}  // namespace

void SharedMutex::lock() { ::AcquireSRWLockExclusive(Srw(lock_)); }
bool SharedMutex::try_lock() { return ::TryAcquireSRWLockExclusive(Srw(lock_)) != 0; }
void SharedMutex::unlock() { ::ReleaseSRWLockExclusive(Srw(lock_)); }
void SharedMutex::lock_shared() { ::AcquireSRWLockShared(Srw(lock_)); }
bool SharedMutex::try_lock_shared() { return ::TryAcquireSRWLockShared(Srw(lock_)) != 0; }
void SharedMutex::unlock_shared() { ::ReleaseSRWLockShared(Srw(lock_)); }

}  // namespace kvd
