/*
 * Seeded bug in proc_park.pml: the producer decides whether to wake P from
 * a plain load of head taken BEFORE its XCHG, not from the value the XCHG
 * returned. P can mark the mailbox empty and park between the load and the
 * XCHG: nobody wakes it.
 * Spin must report: assertion violated (lost wake-up, monitor)  [A1]
 */
#define BUG_PRODUCER_PEEKS_MARK 1
#include "../proc_park.pml"
