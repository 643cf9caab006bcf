/*
 * Seeded bug in proc_park.pml, MARK_ONLY protocol: park_commit marks the
 * mailbox EMPTY first and stores WAITING afterwards (the C code stores
 * WAITING first). The producer that finds the mark can store RUNNABLE and
 * enqueue P before the late WAITING store, which then overwrites RUNNABLE.
 * Spin must report: assertion violated (s==3)  [A6]
 */
#define MARK_ONLY 1
#define BUG_MO_WAITING_AFTER_MARK 1
#include "../proc_park.pml"
