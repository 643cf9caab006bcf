/*
 * Seeded bug in sched_idle.pml: the last spinning scheduler that finds work
 * does not wake another one. Submissions that arrived while it was
 * spinning (and so woke nobody) wait behind it while another scheduler
 * sleeps; with a process that does not yield they wait forever.
 * Spin must report: assertion violated (work queued while a scheduler sleeps)
 */
#define BUG_LAST_SPINNER_NO_WAKE 1
#include "../sched_idle.pml"
