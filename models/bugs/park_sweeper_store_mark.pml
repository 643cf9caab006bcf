/*
 * Seeded bug in proc_park.pml (SWEEPER): the compaction sweeper parks P
 * again with a plain store of the EMPTY mark instead of a CAS. A message
 * pushed while the sweeper held P's token found no mark and woke nobody;
 * the store then hides it under a fresh mark, and P sleeps on a
 * non-empty mailbox.
 * Spin must report: a lost wake-up (A1).
 */
#define MARK_ONLY 1
#define SWEEPER 1
#define BUG_SWEEPER_STORE_MARK 1
#include "../proc_park.pml"
