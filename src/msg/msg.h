/*
 * msg/msg.h - messages (the signal-queue entries) and what the layers
 * above need from this one.
 */
#ifndef SWARM_MSG_MSG_H
#define SWARM_MSG_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "mbox/mailbox.h"
#include "ptable/ptable.h"
#include "ptable/res.h"
#include "swarmrt/ref.h"
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
    /* Messages of a request/reply protocol (gen_server/): counted as
     * messages; corr is the call's number in the caller. */
    SWARM__SIG_CALL = 4,      /* a request that wants a reply */
    SWARM__SIG_CAST = 5,      /* a request that does not */
    SWARM__SIG_REPLY = 6,     /* the answer to call corr; dropped unless the
                                 receiver is waiting for exactly that call */
    SWARM__SIG_IO = 7,        /* an fd the receiver waits on is ready (io/): corr = the
                                 wait's token, tag = the events; dropped unless the
                                 receiver is in exactly that wait */
    /* Signals (msg/sig.h): handled by the receiver when popped. */
    SWARM__SIG_EXIT = 8,
    SWARM__SIG_LINK = 9,
    SWARM__SIG_UNLINK = 10,
    SWARM__SIG_MONITOR = 11,
    SWARM__SIG_DEMONITOR = 12,
    SWARM__SIG_DOWN = 13,
    SWARM__SIG_INFO = 14,     /* process_info: answer the sender's call corr */
    SWARM__SIG_GIVE = 15,     /* a resource handed over (data: its swarm__res_t *): the
                                 receiver puts it on its resource list; if it is gone,
                                 the resource is released */
};
#define SWARM__SIG_IS_SIGNAL(k) ((k) >= SWARM__SIG_EXIT)
/* Kinds that count in msgs_sent / delivered / dropped. */
#define SWARM__SIG_COUNTED(k) ((k) == SWARM__SIG_MSG || ((k) >= SWARM__SIG_CALL && (k) <= SWARM__SIG_REPLY))

struct swarm_msg {
    swarm__mnode_t link;              /* mailbox link: must stay first */
    struct swarm_msg *lnext, *lprev;  /* save list / held list (receiver-private) */
    swarm_pid_t to;                   /* receiver incl. generation: stale entries are dropped */
    swarm_pid_t from;
    uint32_t kind;
    uint32_t tag;
    size_t size;
    uint32_t corr;                    /* CALL, REPLY: the call's number (in the header's padding) */
    uint32_t seq;                     /* in the save list: the low bits of the receiver's
                                         save_seq when it joined (receive marks) */
    unsigned char data[] __attribute__((aligned(16)));
};
_Static_assert(sizeof(struct swarm_msg) == 64, "a message header is one cache line");

/* A new process's messages join its resource list (ptable/res.h): when
 * it ends, its timed wait is dropped and its messages are freed (received
 * ones not yet freed, set-aside ones, and whatever is still queued, those
 * counted as dropped). Called at spawn. */
void swarm__msg_attach(struct swarm__proc *p);

/* Pop and free every entry of a mailbox; returns how many were messages
 * (timeout signals are not counted). Destroy's last sweep. */
uint64_t swarm__msg_drain(swarm__mailbox_t *mb);

/* Send a message of kind MSG, CALL, CAST or REPLY (corr for CALL and
 * REPLY): swarm_send with a kind, for the runtime's own protocols, which
 * may use the reserved tags. Returns as swarm_send. */
int swarm__msg_send_kind(swarm_pid_t to, uint32_t kind, uint32_t tag, uint32_t corr, const void *data, size_t size);

/* The wait of a call: the REPLY with corr, or the DOWN of monitor mon,
 * looking only at what arrived after mark (swarm__msg_mark), so a caller
 * with a long mailbox scans nothing old. While it waits, corr is the only
 * REPLY the process keeps. Returns as swarm_recv. */
int swarm__msg_recv_call(uint32_t corr, const swarm_ref_t *mon, uint64_t mark, struct swarm_msg **out,
                         int64_t timeout_ms);

/* A mark of the running process's mailbox: the queue is moved to the save
 * list, and what arrives from now on joins that list with a higher number
 * (struct swarm_msg.seq). May handle signals (as a receive). */
uint64_t swarm__msg_mark(void);

/* Messages queued for p and set aside (p is the caller: its owner);
 * *bytes (may be NULL) gets their size, headers included. */
size_t swarm__msg_count(struct swarm__proc *p, size_t *bytes);

/* A fresh call number of the running process (never 0). */
uint32_t swarm__msg_next_corr(void);

/* The wait of an fd (io/): the IO notice with this token (*events gets
 * its events), or, with msgs, also any message (returned in *out).
 * compact: nothing outside the process uses its stack while it waits, so
 * a long wait may compact it (sched/compact.h; 0 for a blocking call or a
 * send waiting for room, whose arguments or node are on the stack).
 * Returns 0 with *out (a message), 1 with *events (the fd is ready or was
 * closed), or as swarm_recv. Process side. */
int swarm__msg_recv_io(uint32_t token, int msgs, uint32_t *events, struct swarm_msg **out, int64_t timeout_ms,
                       int compact);

/* Tell pid that the fd it waits on with token has events: an IO notice.
 * Returns 0 or SWARM_ESRCH (pid is gone: nothing is sent), SWARM_ENOMEM.
 * Any thread. */
int swarm__msg_post_io(swarm_pid_t pid, uint32_t token, uint32_t events);

/* Hand resource r to pid: a GIVE signal. Returns 0, or SWARM_ESRCH /
 * SWARM_EINVAL / SWARM_ENOMEM (nothing was sent: r is still the
 * caller's). Any thread. */
int swarm__msg_post_give(swarm_pid_t pid, swarm__res_t *r);

/* Bounded mailboxes (bound.c). of: the bounded mailbox of slot index,
 * or NULL when it is unbounded. spawn: set it up for a new process
 * (max 0: unbounded). reserve: room for one message for generation gen:
 * 0 reserved, 1 full, -1 another generation. unreserve: a message left the
 * mailbox (or a reservation was not used). wait: park the running process
 * until there may be room (0: retry) or timeout_ms (> 0, or
 * SWARM_INFINITE) passes (SWARM_ETIMEDOUT). exit: the receiver ends: wake
 * every parked sender. */
swarm__mbound_t *swarm__mbound_of(swarm__ptable_t *pt, uint32_t index);
void swarm__mbound_spawn(swarm__ptable_t *pt, uint32_t index, uint32_t gen, uint32_t max, int policy);
int swarm__mbound_reserve(swarm__mbound_t *b, uint32_t gen);
void swarm__mbound_unreserve(swarm__mbound_t *b, uint32_t gen);
int swarm__mbound_wait(swarm__mbound_t *b, uint32_t gen, int64_t timeout_ms);
void swarm__mbound_exit(swarm__mbound_t *b, uint32_t gen);

/* A process woken from hibernation (hibernate.c), in its entry
 * (proc/spawn.c) with the continuation cont (sched.h:
 * swarm__sched_take_resume): returns the function to run and its
 * argument once a message waits; else handles the signals that woke it
 * and hibernates again (does not return). Process side. */
void swarm__msg_hibernate_resume(void *cont, swarm_fn *fn, void **arg);

/* Wait ms milliseconds (> 0, or SWARM_INFINITE) as a receive that matches
 * nothing: messages arriving meanwhile are set aside, in order. Returns 0
 * when the time is up, SWARM_ENOTPROC, SWARM_EINVAL. Process side
 * (timer/: swarm_sleep). */
int swarm__msg_set_aside(int64_t ms);

#endif
