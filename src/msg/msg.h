/*
 * msg/msg.h - messages (the signal-queue entries) and what the scheduler
 * needs from this layer.
 */
#ifndef SWARM_MSG_MSG_H
#define SWARM_MSG_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "mbox/mailbox.h"
#include "swarmrt/msg.h"

struct swarm__proc;
struct swarm__sched;

/* Kinds of queue entries. Exit, link, monitor and down signals will join
 * messages here, in the same queue, so their order per sender holds. */
enum swarm__sig_kind {
    SWARM__SIG_MSG = 1,
    SWARM__SIG_TIMEOUT = 2, /* a timer of the receiver's wait came due; tag = wait_seq */
};

struct swarm_msg {
    swarm__mnode_t link;              /* mailbox link: must stay first */
    struct swarm_msg *lnext, *lprev;  /* save list / held list (receiver-private) */
    swarm_pid_t to;                   /* receiver incl. generation: stale entries are dropped */
    swarm_pid_t from;
    uint32_t kind;
    uint32_t tag;
    size_t size;
    uint32_t small;                   /* allocated as a SWARM__MSG_SMALL block */
    unsigned char data[] __attribute__((aligned(16)));
};

/* Messages with payloads up to this size come from a per-scheduler cache of
 * fixed-size blocks (plain malloc blocks, so free() also takes them). */
#define SWARM__MSG_SMALL_PAYLOAD 64
#define SWARM__MSG_CACHE_MAX 4096

/* Release everything a process holds in this layer: received messages not
 * yet freed, set-aside ones and whatever is still queued (counted as
 * dropped). s is the scheduler running the cleanup, or NULL. */
void swarm__msg_release_all(swarm_t *sw, struct swarm__sched *s, struct swarm__proc *p);

/* Pop and free every entry of a mailbox; returns how many were messages
 * (timeout signals are not counted). */
uint64_t swarm__msg_drain(swarm__mailbox_t *mb);

/* Free a scheduler's cache of message blocks. */
void swarm__msg_cache_flush(struct swarm__sched *s);

/* Push a timeout signal for wait wait_seq of the process pid in slot p,
 * waking it if it sleeps. Returns 0 or SWARM_ENOMEM. */
int swarm__msg_post_timeout(struct swarm__proc *p, swarm_pid_t pid, uint32_t wait_seq);

#endif
