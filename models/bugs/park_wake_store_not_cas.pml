/*
 * Seeded bug in proc_park.pml: wake() turns WAITING into RUNNABLE with a
 * load and a plain store instead of a CAS. Two wakers (a producer and a
 * timer) that both saw WAITING both enqueue P.
 * Spin must report: assertion violated (runq==0)  [A3]
 */
#define BUG_WAKE_STORE_NOT_CAS 1
#include "../proc_park.pml"
