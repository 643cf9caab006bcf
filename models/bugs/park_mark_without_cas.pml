/*
 * Seeded bug in proc_park.pml: the consumer marks the mailbox empty with a
 * load of head followed by a separate store of stub|EMPTY instead of one
 * CAS. A producer's XCHG between the two is overwritten: its message is cut
 * off the queue and it sees no mark, so P sleeps with undelivered mail.
 * Spin must report: assertion violated (lost wake-up / P never ends)  [A1/A2]
 */
#define BUG_MARK_WITHOUT_CAS 1
#include "../proc_park.pml"
