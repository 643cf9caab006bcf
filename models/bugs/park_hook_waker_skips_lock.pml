/*
 * Seeded bug in park_hook.pml: the waker adds its token without the wait
 * queue's lock and looks for a waiter without it. Between P's "no token"
 * check and P queueing itself, the waker finds no waiter: P parks forever.
 * Spin must report the lost wake-up  [H1]
 */
#define BUG_HOOK_WAKER_SKIPS_LOCK 1
#include "../park_hook.pml"
