/*
 * Seeded bug in park_hook.pml: the commit hook (releasing the wait queue's
 * lock) runs on the process's own stack before the switch, instead of on
 * the scheduler's stack after it. A waker can then dequeue P and make it
 * runnable while it still runs.
 * Spin must report: assertion violated (oncpu==0)  [H2]
 */
#define BUG_HOOK_COMMIT_BEFORE_SWITCH 1
#include "../park_hook.pml"
