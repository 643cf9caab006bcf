/*
 * Seeded bug in proc_park.pml: the park commit (CAS RUNNING -> WAITING,
 * or RUNNING|WAKE_PENDING -> RUNNABLE + enqueue) runs BEFORE P is switched
 * out, instead of on the scheduler's stack after the switch (design
 * invariant 3). A waker can then enqueue P and a second scheduler resume it
 * while it still runs on the first.
 * Spin must report: assertion violated (oncpu==0)  [A4]
 */
#define BUG_PUBLISH_BEFORE_SWITCH 1
#include "../proc_park.pml"
