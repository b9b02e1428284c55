#include "daemon/batch_scheduling.h"

#ifdef __linux__
#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <string>
#endif

namespace kvd::daemon {

Status ScheduleThisThreadAsBatch() {
#ifdef __linux__
  const sched_param param{};  // SCHED_BATCH takes priority 0
  if (const int err = ::pthread_setschedparam(::pthread_self(), SCHED_BATCH, &param); err != 0) {
    return Status::IOError(std::string("cannot schedule a thread as SCHED_BATCH: ") +
                           std::strerror(err));
  }
#endif
  return Status::OK();
}

}  // namespace kvd::daemon
