/*
 * Seeded bug in sched_idle.pml - this is what wakep() in src/sched/idle.c (swarm__sched_wakep)
 * does (commit 009fd0e): it took the spinning token (CAS nspinning 0 -> 1),
 * found the idle list empty (idle_pop), and gives the token back only after
 * idle_pop has released the idle-list lock. In that window a scheduler
 * announces itself idle, re-checks (nothing yet) and sleeps, and a second
 * submitting thread enqueues, sees nspinning == 1 and wakes nobody. Once
 * the token comes back every scheduler sleeps with work queued: a hang,
 * not only a delay (FOREVER 0: every process yields), with 2 submissions
 * from 2 threads.
 * Fix: give the token back while still holding the lock (in idle_pop's
 * critical section), as sched_idle.pml does.
 * Spin must report: assertion violated (work queued while a scheduler sleeps)
 */
#define FOREVER 0
#define BUG_UNDO_AFTER_UNLOCK 1
#include "../sched_idle.pml"
