/*
 * Seeded bug in proc_park.pml - this is the mailbox protocol exactly as first
 * specified: mark_empty is only CAS(head, stub -> stub|EMPTY), and a failed
 * CAS means "a producer pushed: pop again". After a wake-up that did not
 * come from a producer (timer, stale timer: spurious wake-ups are allowed),
 * the mark is still set, the CAS fails forever and P busy-waits on its
 * scheduler with nothing in flight until some unrelated message arrives.
 * Fix (in proc_park.pml): an already-marked head counts as success.
 * Spin must report: assertion violated (moved||(inwin>0))  [A5]
 */
#define BUG_REMARK_FAILS 1
#include "../proc_park.pml"
