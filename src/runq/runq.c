/*
 * runq/runq.c - bounded work-stealing ring and locked process lists.
 */
#include "runq/runq.h"

#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include "base/sys.h"
#include "swarmrt/error.h"

#define MASK (SWARM__RUNQ_SIZE - 1)

int swarm__runq_put(swarm__runq_t *q, swarm__proc_t *p)
{
    /* acquire: pairs with the head CAS of a thief, so the slot we are about
     * to overwrite has been read by whoever took it. */
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (t - h >= SWARM__RUNQ_SIZE)
        return -1;
    atomic_store_explicit(&q->buf[t & MASK], p, memory_order_relaxed);
    /* seq_cst (not just release, which would pair with the acquire loads of
     * tail in get/steal): a submitter's enqueue must be ordered before its
     * check of the idle/spinning counts (idle.c swarm__sched_wakep; models/sched_idle.pml). */
    atomic_store_explicit(&q->tail, t + 1, memory_order_seq_cst);
    return 0;
}

swarm__proc_t *swarm__runq_get(swarm__runq_t *q)
{
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    for (;;) {
        uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
        if (t == h)
            return NULL;
        swarm__proc_t *p = atomic_load_explicit(&q->buf[h & MASK], memory_order_relaxed);
        /* A thief may race for the same slot: the CAS decides. */
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return p;
    }
}

uint32_t swarm__runq_spill(swarm__runq_t *q, swarm__proc_t *p, swarm__proc_t **batch)
{
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    uint32_t n = (t - h) / 2;
    if (n != SWARM__RUNQ_SIZE / 2)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        batch[i] = atomic_load_explicit(&q->buf[(h + i) & MASK], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&q->head, &h, h + n, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return 0; /* a thief took some: the ring has room again */
    batch[n] = p;
    return n + 1;
}

swarm__proc_t *swarm__runq_steal(swarm__runq_t *thief, swarm__runq_t *victim, uint32_t *count)
{
    uint32_t tt = atomic_load_explicit(&thief->tail, memory_order_relaxed);
    for (;;) {
        uint32_t h = atomic_load_explicit(&victim->head, memory_order_acquire);
        /* acquire: pairs with the owner's store of tail, so the slots below
         * it are visible. */
        uint32_t t = atomic_load_explicit(&victim->tail, memory_order_acquire);
        uint32_t n = t - h;
        n -= n / 2;
        if (n == 0) {
            *count = 0;
            return NULL;
        }
        if (n > SWARM__RUNQ_SIZE / 2)
            continue; /* read head and tail at different times: retry */
        for (uint32_t i = 0; i < n; i++) {
            swarm__proc_t *p = atomic_load_explicit(&victim->buf[(h + i) & MASK], memory_order_relaxed);
            atomic_store_explicit(&thief->buf[(tt + i) & MASK], p, memory_order_relaxed);
        }
        if (!atomic_compare_exchange_strong_explicit(&victim->head, &h, h + n, memory_order_acq_rel,
                                                     memory_order_relaxed))
            continue;
        /* Keep the newest for ourselves, publish the rest. */
        n--;
        swarm__proc_t *run = atomic_load_explicit(&thief->buf[(tt + n) & MASK], memory_order_relaxed);
        if (n)
            atomic_store_explicit(&thief->tail, tt + n, memory_order_release);
        *count = n + 1;
        return run;
    }
}

uint32_t swarm__runq_len(swarm__runq_t *q)
{
    uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    return t - h;
}

int swarm__plist_init(swarm__plist_t *l, uint32_t cap)
{
    memset(l, 0, sizeof *l);
    size_t page = swarm__page_size();
    l->map_len = ((size_t)cap * sizeof *l->buf + page - 1) & ~(page - 1);
    void *m = SWARM__SYS(mmap)(NULL, l->map_len, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return SWARM_ENOMEM;
    l->buf = m;
    l->cap = cap;
    pthread_mutex_init(&l->lock, NULL);
    return 0;
}

void swarm__plist_destroy(swarm__plist_t *l)
{
    if (!l->buf)
        return;
    SWARM__SYS(munmap)(l->buf, l->map_len);
    pthread_mutex_destroy(&l->lock);
    l->buf = NULL;
}

void swarm__plist_push(swarm__plist_t *l, swarm__proc_t *const *procs, uint32_t n)
{
    pthread_mutex_lock(&l->lock);
    uint32_t have = atomic_load_explicit(&l->n, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++)
        l->buf[((uint64_t)l->head + have + i) % l->cap] = procs[i];
    /* seq_cst: ordered before the pusher's idle check, as in runq_put. */
    atomic_store_explicit(&l->n, have + n, memory_order_seq_cst);
    pthread_mutex_unlock(&l->lock);
}

uint32_t swarm__plist_take(swarm__plist_t *l, uint32_t max, swarm__proc_t **out)
{
    if (!atomic_load_explicit(&l->n, memory_order_relaxed))
        return 0;
    pthread_mutex_lock(&l->lock);
    uint32_t have = atomic_load_explicit(&l->n, memory_order_relaxed);
    uint32_t k = have < max ? have : max;
    for (uint32_t i = 0; i < k; i++)
        out[i] = l->buf[((uint64_t)l->head + i) % l->cap];
    /* Emptied: start again at the bottom. The ring is sized for every
     * process of the swarm (max_procs pointers, 8 MiB by default) and only
     * touched pages cost memory; a head that kept going round would touch
     * every page of it in time (the soak saw RSS step up as rings
     * advanced). So a list touches only as many pages as it ever held. */
    l->head = have == k ? 0 : (uint32_t)(((uint64_t)l->head + k) % l->cap);
    atomic_store_explicit(&l->n, have - k, memory_order_relaxed);
    pthread_mutex_unlock(&l->lock);
    return k;
}
