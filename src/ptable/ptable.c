/*
 * ptable/ptable.c - the process table: slot allocation with per-scheduler
 * caches over a mutex-protected free list and a bump pointer.
 *
 * Capacity is exact: a spawner whose own cache, the shared list and the
 * fresh slots are all empty takes slots out of the other caches, so the
 * table is full only when max slots are taken (issue 7, item 6: slots
 * cached by one scheduler were invisible to threads and to the others).
 */
#include "ptable/ptable.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/cpu.h"
#include "base/sys.h"
#include "ptable/names.h"
#include "swarmrt/error.h"

/* Slots handed out fresh from the bump pointer at a time. */
#define FRESH_BATCH 64u

/* len bytes of address space, zero on first touch, or NULL. */
static void *reserve(size_t len)
{
    void *m = SWARM__SYS(mmap)(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

int swarm__ptable_init(swarm__ptable_t *t, uint32_t max, uint32_t gen_base, unsigned ncaches)
{
    memset(t, 0, sizeof *t);
    swarm__names_init(&t->names); /* (ptable_destroy, also after a failure, destroys it) */
    t->max = max;
    t->gen_base = gen_base;
    t->map_len = (size_t)max * sizeof(swarm__proc_t);
    size_t page = swarm__page_size();
    t->map_len = (t->map_len + page - 1) & ~(page - 1);
    /* Reserved, zero-filled on first touch: untouched slots cost nothing.
     * On a failure what was made stays in t: the caller's cleanup runs
     * swarm__ptable_destroy, which takes back whatever is set. */
    t->procs = reserve(t->map_len);
    if (!t->procs)
        return SWARM_ENOMEM;
    t->free_idx = swarm__malloc((size_t)max * sizeof(uint32_t));
    t->caches = swarm__calloc(ncaches ? ncaches : 1, sizeof *t->caches);
    if (!t->free_idx || !t->caches)
        return SWARM_ENOMEM;
    t->mbound_len = ((size_t)max * sizeof(swarm__mbound_t) + page - 1) & ~(page - 1);
    if (!(t->mbound = reserve(t->mbound_len)))
        return SWARM_ENOMEM;
    t->compact_len = ((size_t)max * sizeof(swarm__compact_t) + page - 1) & ~(page - 1);
    if (!(t->compact = reserve(t->compact_len)))
        return SWARM_ENOMEM;
    t->ncaches = ncaches;
    pthread_mutex_init(&t->lock, NULL);
    return 0;
}

void swarm__ptable_destroy(swarm__ptable_t *t)
{
    if (t->procs)
        SWARM__SYS(munmap)(t->procs, t->map_len);
    if (t->mbound)
        SWARM__SYS(munmap)(t->mbound, t->mbound_len);
    if (t->compact)
        SWARM__SYS(munmap)(t->compact, t->compact_len);
    swarm__free(t->free_idx);
    swarm__free(t->caches);
    pthread_mutex_destroy(&t->lock);
    swarm__names_destroy(&t->names);
    memset(t, 0, sizeof *t);
}

/* First use of a slot: the mailbox is set up once and for all (see
 * mbox/mailbox.h on stale senders), the state gets the base generation. */
static void slot_init(swarm__ptable_t *t, uint32_t i)
{
    swarm__proc_t *p = &t->procs[i];
    p->index = i;
    swarm__mbox_init(&p->mbox);
    atomic_store_explicit(&p->state, swarm__pstate_make(t->gen_base, SWARM__PS_FREE),
                          memory_order_release);
}

static void cache_lock(swarm__pcache_t *c)
{
    /* acquire: pairs with the release in cache_unlock. */
    for (unsigned spins = 0; atomic_exchange_explicit(&c->lock, 1, memory_order_acquire); ) {
        while (atomic_load_explicit(&c->lock, memory_order_relaxed)) {
            /* The holder may have been preempted: give it the CPU. */
            if (++spins % 128 == 0)
                sched_yield();
            else
                SWARM_CPU_RELAX();
        }
    }
}

static void cache_unlock(swarm__pcache_t *c)
{
    atomic_store_explicit(&c->lock, 0, memory_order_release);
}

/* Take up to want indices from the shared free list, else from the fresh
 * slots. Called with nothing held, or with the caller's own cache lock
 * (lock order: a cache, then the table). Returns the count put in out. */
static uint32_t refill(swarm__ptable_t *t, uint32_t *out, uint32_t want)
{
    uint32_t n = 0;
    pthread_mutex_lock(&t->lock);
    while (n < want && t->free_n)
        out[n++] = t->free_idx[--t->free_n];
    pthread_mutex_unlock(&t->lock);
    if (n)
        return n;
    /* Fresh slots: claim a batch from the bump pointer. */
    uint32_t cur = atomic_load_explicit(&t->fresh, memory_order_relaxed);
    uint32_t take;
    do {
        if (cur >= t->max)
            return 0;
        take = t->max - cur < want ? t->max - cur : want;
    } while (!atomic_compare_exchange_weak_explicit(&t->fresh, &cur, cur + take,
                                                    memory_order_acq_rel, memory_order_relaxed));
    for (uint32_t k = 0; k < take; k++) {
        slot_init(t, cur + k);
        out[n++] = cur + k;
    }
    return n;
}

/* The table is short: take indices out of the other schedulers' caches
 * (half of the first non-empty one, at most want). Holds one cache lock at
 * a time. Returns the count put in out. */
static uint32_t take_cached(swarm__ptable_t *t, unsigned self, uint32_t *out, uint32_t want)
{
    for (unsigned i = 0; i < t->ncaches; i++) {
        if (i == self)
            continue;
        swarm__pcache_t *c = &t->caches[i];
        cache_lock(c);
        uint32_t k = c->n - c->n / 2;
        if (k > want)
            k = want;
        for (uint32_t j = 0; j < k; j++)
            out[j] = c->idx[--c->n];
        cache_unlock(c);
        if (k)
            return k;
    }
    return 0;
}

swarm__proc_t *swarm__ptable_alloc(swarm__ptable_t *t, unsigned cache)
{
    swarm__pcache_t *c = cache < t->ncaches ? &t->caches[cache] : NULL;
    for (;;) {
        uint32_t i;
        if (c) {
            cache_lock(c);
            if (!c->n)
                c->n = refill(t, c->idx, FRESH_BATCH);
            if (c->n) {
                i = c->idx[--c->n];
                cache_unlock(c);
                return &t->procs[i];
            }
            cache_unlock(c);
            /* Thieves only take from our cache, so it stays empty while we
             * fill it from another one. */
            uint32_t got[SWARM__PCACHE_MAX / 2];
            uint32_t k = take_cached(t, cache, got, SWARM__PCACHE_MAX / 2);
            if (k) {
                cache_lock(c);
                for (uint32_t j = 1; j < k; j++)
                    c->idx[c->n++] = got[j];
                cache_unlock(c);
                return &t->procs[got[0]];
            }
        } else if (refill(t, &i, 1) || take_cached(t, SWARM__PTABLE_NO_CACHE, &i, 1)) {
            return &t->procs[i];
        }
        /* The caller holds a reservation, so a free slot exists: it is on
         * its way between two lists (a cache overflowing into the shared
         * list after we looked there). Look again. */
        sched_yield();
    }
}

void swarm__ptable_free(swarm__ptable_t *t, unsigned cache, swarm__proc_t *p)
{
    swarm__pcache_t *c = cache < t->ncaches ? &t->caches[cache] : NULL;
    if (c) {
        cache_lock(c);
        if (c->n < SWARM__PCACHE_MAX) {
            c->idx[c->n++] = p->index;
            cache_unlock(c);
            return;
        }
        /* Full cache: hand half of it back so other schedulers can use it. */
        pthread_mutex_lock(&t->lock);
        t->free_idx[t->free_n++] = p->index;
        while (c->n > SWARM__PCACHE_MAX / 2)
            t->free_idx[t->free_n++] = c->idx[--c->n];
        pthread_mutex_unlock(&t->lock);
        cache_unlock(c);
        return;
    }
    pthread_mutex_lock(&t->lock);
    t->free_idx[t->free_n++] = p->index;
    pthread_mutex_unlock(&t->lock);
}

char *swarm__pid_format(swarm_pid_t pid, char *buf, size_t len)
{
    if (len)
        snprintf(buf, len, "<%u.%u.%u>", swarm__pid_swarm(pid), swarm__pid_index(pid), swarm__pid_gen(pid));
    return buf;
}
