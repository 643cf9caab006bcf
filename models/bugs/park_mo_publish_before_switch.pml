/*
 * Seeded bug in proc_park.pml, MARK_ONLY protocol: park_commit (store
 * WAITING, mark the mailbox EMPTY) runs on P's stack before P is switched
 * out. The producer that finds the mark enqueues P and a second scheduler
 * can resume it while it still runs on the first (invariant 3).
 * Spin must report: assertion violated (oncpu==0)  [A4]
 */
#define MARK_ONLY 1
#define BUG_PUBLISH_BEFORE_SWITCH 1
#include "../proc_park.pml"
