/*
 * proc/heap.c - swarm_alloc / swarm_free: a process's own memory, from
 * the block pool, on a list the process's end frees (msg/sig.c releases
 * it with the rest of the process's signal state).
 */
#include "mem/pool.h"
#include "msg/sig.h"
#include "sched/sched.h"
#include "swarmrt.h"

void *swarm_alloc(size_t size)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current || !size || size > SIZE_MAX - sizeof(swarm__heap_blk_t))
        return NULL;
    swarm__psig_t *g = swarm__sig_state(s, s->current);
    if (!g)
        return NULL;
    swarm__heap_blk_t *b = swarm__pool_alloc(&s->pool, sizeof *b + size);
    if (!b)
        return NULL;
    b->size = size;
    g->heap_bytes += size;
    b->prev = NULL;
    b->next = g->heap;
    if (g->heap)
        g->heap->prev = b;
    g->heap = b;
    return b + 1;
}

void swarm_free(void *p)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!p || !s || !s->current || !s->current->sig)
        return;
    swarm__psig_t *g = s->current->sig;
    swarm__heap_blk_t *b = (swarm__heap_blk_t *)p - 1;
    if (b->prev)
        b->prev->next = b->next;
    else
        g->heap = b->next;
    if (b->next)
        b->next->prev = b->prev;
    g->heap_bytes -= b->size;
    swarm__pool_free(&s->pool, b, sizeof *b + b->size);
}
