/*
 * ref/ref.c - swarm_make_ref: a process-wide 64-bit counter (one atomic
 * add) and a per-OS-process random word.
 */
#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "swarmrt/ref.h"

static _Atomic uint64_t counter;
static _Atomic uint32_t salt;

static uint32_t salt_word(void)
{
    uint32_t s = atomic_load_explicit(&salt, memory_order_relaxed);
    if (s)
        return s;
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
    r |= 1; /* never zero: the all-zero reference is none */
    uint32_t expect = 0;
    atomic_compare_exchange_strong(&salt, &expect, r);
    return atomic_load_explicit(&salt, memory_order_relaxed);
}

swarm_ref_t swarm_make_ref(void)
{
    uint64_t n = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed) + 1;
    swarm_ref_t r = {{(uint32_t)n, (uint32_t)(n >> 32), salt_word()}};
    return r;
}
