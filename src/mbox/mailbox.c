/*
 * mbox/mailbox.c - consumer side of the intrusive MPSC queue.
 */
#include "mbox/mailbox.h"

#include <stddef.h>

void swarm__mbox_init(swarm__mailbox_t *mb)
{
    atomic_store_explicit(&mb->stub.next, NULL, memory_order_relaxed);
    atomic_store_explicit(&mb->head, (uintptr_t)&mb->stub, memory_order_relaxed);
    mb->tail = &mb->stub;
}

swarm__mnode_t *swarm__mbox_pop(swarm__mailbox_t *mb)
{
    swarm__mnode_t *tail = mb->tail;
    /* acquire: pairs with the release link store in swarm__mbox_push. */
    swarm__mnode_t *next = atomic_load_explicit(&tail->next, memory_order_acquire);

    if (tail == &mb->stub) {
        if (!next)
            return NULL; /* empty, or the first push is still linking */
        mb->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next, memory_order_acquire);
    }
    if (next) {
        mb->tail = next;
        return tail;
    }
    /* tail is the last linked entry. If head moved past it a producer is
     * between its exchange and its link: try again later. */
    uintptr_t head = atomic_load_explicit(&mb->head, memory_order_acquire) & ~SWARM__MBOX_EMPTY;
    if ((swarm__mnode_t *)head != tail)
        return NULL;
    /* Put the stub behind tail so tail can be handed out. The queue is not
     * marked while its consumer runs, so the mark is never set here. */
    swarm__mbox_push(mb, &mb->stub);
    next = atomic_load_explicit(&tail->next, memory_order_acquire);
    if (next) {
        mb->tail = next;
        return tail;
    }
    return NULL;
}
