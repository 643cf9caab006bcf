/*
 * msg/internal.h - what msg.c and sig.c share (this folder only).
 */
#ifndef SWARM_MSG_INTERNAL_H
#define SWARM_MSG_INTERNAL_H

#include "msg/msg.h"

struct swarm__sched;
struct swarm__proc;

/* A queue entry with size payload bytes (m->size set), from the pool
 * through s's cache (s may be NULL); NULL when out of memory. */
swarm_msg_t *swarm__msg_alloc(struct swarm__sched *s, size_t size);
void swarm__msg_release(struct swarm__sched *s, swarm_msg_t *m);

/* Put m at the tail of p's save list. */
void swarm__msg_save_append(struct swarm__sched *s, struct swarm__proc *p, swarm_msg_t *m);


#endif
