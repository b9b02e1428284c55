// SCHED_BATCH for kvd's commit thread.
//
// Why: under --fsync always the commit thread sleeps in fdatasync, and the
// disk's completion wakes it, often on a CPU that is busy. Woken as a
// normal thread, it preempts what runs there, often the network thread in
// the middle of a turn: the network thread then stops reading requests and
// sending answers until the commit thread sleeps again, and the submissions
// it had yet to make miss the next commit. A woken SCHED_BATCH thread does
// not preempt: it runs on an idle CPU at once, else once the running thread
// blocks or its time slice ends (doc/design.md, "SCHED_BATCH for the commit
// thread"). It gets its fair share of CPU time as before: Linux's
// SCHED_BATCH changes only wake-up preemption (sched(7)), and needs no
// privilege.
#ifndef KVD_DAEMON_BATCH_SCHEDULING_H_
#define KVD_DAEMON_BATCH_SCHEDULING_H_

#include "util/status.h"

namespace kvd::daemon {

// Makes the calling thread SCHED_BATCH (Linux). Elsewhere does nothing and
// returns OK. On failure (a seccomp filter, say) the thread runs on as it
// was: slower commits under load, nothing else.
Status ScheduleThisThreadAsBatch();

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_BATCH_SCHEDULING_H_
