/*
 * Seeded bug in proc_park.pml: the park commit stores WAITING blindly
 * instead of looping on load / CAS(RUNNING -> WAITING): a WAKE_PENDING set
 * by a producer between P's mark_empty and the commit is overwritten.
 * Spin must report: assertion violated (lost wake-up, monitor)  [A1]
 */
#define BUG_COMMIT_IGNORES_WAKE_PENDING 1
#include "../proc_park.pml"
