/*
 * msg/msg.h - messages (the signal-queue entries) and what the layers
 * above need from this one.
 */
#ifndef SWARM_MSG_MSG_H
#define SWARM_MSG_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "mbox/mailbox.h"
#include "swarmrt/msg.h"

struct swarm__proc;
struct swarm__sched;

/* Kinds of queue entries: messages and signals share the one queue, so
 * their order per sender holds. */
enum swarm__sig_kind {
    SWARM__SIG_MSG = 1,
    SWARM__SIG_TIMEOUT = 2,   /* a timer of the receiver's wait came due; tag = wait_seq */
    SWARM__SIG_NOTE = 3,      /* a message the receiver made of a signal (EXIT, DOWN):
                                 not counted as sent, received or dropped */
    /* Signals (msg/sig.h): handled by the receiver when popped. */
    SWARM__SIG_EXIT = 4,
    SWARM__SIG_LINK = 5,
    SWARM__SIG_UNLINK = 6,
    SWARM__SIG_MONITOR = 7,
    SWARM__SIG_DEMONITOR = 8,
    SWARM__SIG_DOWN = 9,
};
#define SWARM__SIG_IS_SIGNAL(k) ((k) >= SWARM__SIG_EXIT)

struct swarm_msg {
    swarm__mnode_t link;              /* mailbox link: must stay first */
    struct swarm_msg *lnext, *lprev;  /* save list / held list (receiver-private) */
    swarm_pid_t to;                   /* receiver incl. generation: stale entries are dropped */
    swarm_pid_t from;
    uint32_t kind;
    uint32_t tag;
    size_t size;                      /* payload bytes (the block is header + size) */
    unsigned char data[] __attribute__((aligned(16)));
};

/* A new process's messages join its resource list (ptable/res.h): when
 * it ends, its timed wait is dropped and its messages are freed (received
 * ones not yet freed, set-aside ones, and whatever is still queued, those
 * counted as dropped). Called at spawn. */
void swarm__msg_attach(struct swarm__proc *p);

/* Pop and free every entry of a mailbox; returns how many were messages
 * (timeout signals are not counted). Destroy's last sweep. */
uint64_t swarm__msg_drain(swarm__mailbox_t *mb);

/* Wait ms milliseconds (> 0, or SWARM_INFINITE) as a receive that matches
 * nothing: messages arriving meanwhile are set aside, in order. Returns 0
 * when the time is up, SWARM_ENOTPROC, SWARM_EINVAL. Process side
 * (timer/: swarm_sleep). */
int swarm__msg_set_aside(int64_t ms);

#endif
