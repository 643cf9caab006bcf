/*
 * Seeded bug in sched_idle.pml: a spinning scheduler that goes idle drops
 * nspinning AFTER its re-check of the queues instead of before it. A
 * submission in between sees nspinning > 0 and wakes nobody; the re-check
 * already missed it (Go's "delicate dance" ordering broken).
 * Spin must report: assertion violated (work queued while a scheduler sleeps)
 */
#define BUG_DROP_SPINNING_AFTER_RECHECK 1
#include "../sched_idle.pml"
