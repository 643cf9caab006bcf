/*
 * Seeded bug in sched_idle.pml: wakep() took the spinning token (CAS
 * nspinning 0 -> 1) but found the idle list empty, and does not give the
 * token back: nspinning stays 1 and every later submission wakes nobody.
 * Spin must report: assertion violated (nspinning==0 at rest, or work
 * queued while a scheduler sleeps)
 */
#define BUG_WAKEP_KEEPS_TOKEN 1
#include "../sched_idle.pml"
