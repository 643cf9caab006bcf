/*
 * msg/msg.h - messages (the signal-queue entries) and what the scheduler
 * needs from this layer.
 */
#ifndef SWARM_MSG_MSG_H
#define SWARM_MSG_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "msg/mailbox.h"
#include "swarmrt/msg.h"

struct swarm__proc;
struct swarm__sched;

/* Kinds of queue entries. Exit, link, monitor and down signals will join
 * messages here, in the same queue, so their order per sender holds. */
enum swarm__sig_kind {
    SWARM__SIG_MSG = 1,
};

struct swarm_msg {
    swarm__mnode_t link;              /* mailbox link: must stay first */
    struct swarm_msg *lnext, *lprev;  /* save list / held list (receiver-private) */
    swarm_pid_t to;                   /* receiver incl. generation: stale entries are dropped */
    swarm_pid_t from;
    uint32_t kind;
    uint32_t tag;
    size_t size;
    unsigned char data[] __attribute__((aligned(16)));
};

/* Release everything a process holds in this layer: received messages not
 * yet freed, set-aside ones and whatever is still queued (counted as
 * dropped). s is the scheduler running the cleanup, or NULL. */
void swarm__msg_release_all(swarm_t *sw, struct swarm__sched *s, struct swarm__proc *p);

#endif
