/*
 * Seeded bug in proc_park.pml: the producer skips the wake when P's state is
 * RUNNING ("it is running, it will find the message") instead of setting
 * WAKE_PENDING. P has already marked the mailbox empty and is between the
 * switch and the park commit: the commit then sets WAITING and the wake is lost.
 * Spin must report: assertion violated (lost wake-up, monitor)  [A1]
 */
#define BUG_WAKE_IGNORES_RUNNING 1
#include "../proc_park.pml"
