/*
 * Seeded bug in sched_idle.pml: the idle scheduler re-checks the run queues
 * BEFORE it announces itself on the idle list (the textbook lost wake-up:
 * a submission between the check and the announcement sees nobody idle).
 * Spin must report: assertion violated (work queued while a scheduler sleeps)
 */
#define BUG_CHECK_BEFORE_ANNOUNCE 1
#include "../sched_idle.pml"
