/*
 * msg/internal.h - what msg.c and sig.c share (this folder only).
 */
#ifndef SWARM_MSG_INTERNAL_H
#define SWARM_MSG_INTERNAL_H

#include "mem/pool.h"
#include "msg/msg.h"
#include "sched/sched.h"

/* A queue entry with size payload bytes (m->size set), from the block
 * pool (mem/pool.h) through s's cache (s may be NULL); NULL when out of
 * memory. The block is header + m->size bytes, which release gives back.
 * Inline: a cache hit is a class computation and a list pop. */
static inline swarm_msg_t *swarm__msg_alloc(swarm__sched_t *s, size_t size)
{
    swarm_msg_t *m;
    size_t bytes;
    if (__builtin_add_overflow(sizeof *m, size, &bytes))
        return NULL; /* (excluded by the limit; checked anyway) */
    m = (swarm_msg_t *)swarm__pool_alloc(s ? &s->pool : NULL, bytes);
    if (m)
        m->size = size;
    return m;
}

static inline void swarm__msg_release(swarm__sched_t *s, swarm_msg_t *m)
{
    swarm__pool_free(s ? &s->pool : NULL, m, sizeof *m + m->size);
}

/* Put m at the tail of p's save list. */
void swarm__msg_save_append(swarm__sched_t *s, swarm__proc_t *p, swarm_msg_t *m);


#endif
