/*
 * proc/proc.c - the process table: slot allocation with per-scheduler
 * caches over a mutex-protected free list and a bump pointer.
 */
#include "proc/proc.h"

#include <string.h>
#include <sys/mman.h>

#include "base/sys.h"
#include "swarmrt/error.h"

/* Slots handed out fresh from the bump pointer at a time. */
#define FRESH_BATCH 64u

int swarm__ptable_init(swarm__ptable_t *t, uint32_t max, uint32_t gen_base)
{
    memset(t, 0, sizeof *t);
    t->max = max;
    t->gen_base = gen_base;
    t->map_len = (size_t)max * sizeof(swarm__proc_t);
    size_t page = swarm__page_size();
    t->map_len = (t->map_len + page - 1) & ~(page - 1);
    /* Reserved, zero-filled on first touch: untouched slots cost nothing. */
    void *m = SWARM__SYS(mmap)(NULL, t->map_len, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return SWARM_ENOMEM;
    t->free_idx = swarm__malloc((size_t)max * sizeof(uint32_t));
    if (!t->free_idx) {
        SWARM__SYS(munmap)(m, t->map_len);
        return SWARM_ENOMEM;
    }
    t->procs = m;
    pthread_mutex_init(&t->lock, NULL);
    return 0;
}

void swarm__ptable_destroy(swarm__ptable_t *t)
{
    if (t->procs)
        SWARM__SYS(munmap)(t->procs, t->map_len);
    swarm__free(t->free_idx);
    pthread_mutex_destroy(&t->lock);
    memset(t, 0, sizeof *t);
}

/* First use of a slot: the mailbox is set up once and for all (see
 * msg/mailbox.h on stale senders), the state gets the base generation. */
static void slot_init(swarm__ptable_t *t, uint32_t i)
{
    swarm__proc_t *p = &t->procs[i];
    p->index = i;
    swarm__mbox_init(&p->mbox);
    atomic_store_explicit(&p->state, swarm__pstate_make(t->gen_base, SWARM__PS_FREE),
                          memory_order_release);
}

/* Refill a cache (or satisfy a cache-less caller with one index). Called
 * with nothing held. Returns the number of indices now available in out. */
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

swarm__proc_t *swarm__ptable_alloc(swarm__ptable_t *t, swarm__pcache_t *cache)
{
    if (cache) {
        if (!cache->n)
            cache->n = refill(t, cache->idx, FRESH_BATCH);
        if (!cache->n)
            return NULL;
        return &t->procs[cache->idx[--cache->n]];
    }
    uint32_t i;
    if (!refill(t, &i, 1))
        return NULL;
    return &t->procs[i];
}

void swarm__ptable_free(swarm__ptable_t *t, swarm__pcache_t *cache, swarm__proc_t *p)
{
    if (cache && cache->n < SWARM__PCACHE_MAX) {
        cache->idx[cache->n++] = p->index;
        return;
    }
    pthread_mutex_lock(&t->lock);
    t->free_idx[t->free_n++] = p->index;
    if (cache) {
        /* Full cache: hand half of it back so other schedulers can use it. */
        while (cache->n > SWARM__PCACHE_MAX / 2)
            t->free_idx[t->free_n++] = cache->idx[--cache->n];
    }
    pthread_mutex_unlock(&t->lock);
}
