/*
 * Seeded bug in proc_park.pml, MARK_ONLY protocol (the one src/sched/run.c
 * implements: no WAKE_PENDING, the push that finds the EMPTY mark wakes P
 * with a plain store). That store is only safe because that push is P's
 * single wake source. Here a second source (a timer that wakes P directly
 * instead of pushing a timeout signal) also wakes P: it finds P RUNNING
 * and would overwrite the state and enqueue P a second time.
 * Spin must report: assertion violated (s==3)  [A6: waker found P not WAITING]
 */
#define MARK_ONLY 1
#define STRAY 1
#include "../proc_park.pml"
