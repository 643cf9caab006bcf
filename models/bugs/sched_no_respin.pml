/*
 * Seeded bug in sched_idle.pml - this is the idle protocol exactly as first
 * specified: a scheduler that gave up spinning, announced itself idle and
 * then found work in its re-check just takes itself off the idle list and
 * runs, without becoming a spinner again. Submissions made while it was
 * spinning woke nobody because of it; it takes one item and nobody wakes a
 * scheduler for the others (needs 3 submissions and a process that does
 * not yield). src/sched/idle.c (commit 009fd0e, then sched.c) does this when the work
 * is in the injector (idle_park returns, find_local takes it without
 * spinning). Fix: spin again (nspinning++) so the last-spinner rule runs.
 * Spin must report: assertion violated (work queued while a scheduler sleeps)
 */
#define BUG_NO_RESPIN 1
#include "../sched_idle.pml"
