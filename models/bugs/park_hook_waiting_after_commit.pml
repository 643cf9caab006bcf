/*
 * Seeded bug in park_hook.pml: the scheduler runs the commit hook before it
 * stores WAITING. A waker that takes the lock in between finds P still
 * RUNNING, and its plain RUNNABLE store is overwritten by WAITING: the
 * wake-up is lost.
 * Spin must report: assertion violated (s==3)  [H3]
 */
#define BUG_HOOK_WAITING_AFTER_COMMIT 1
#include "../park_hook.pml"
