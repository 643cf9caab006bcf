/*
 * msg/sig.h - exit signals, links and monitors on the receiving side, and
 * what signal/ (the public calls) and proc/ (spawn_link, exit) need.
 *
 * Every signal is a queue entry in the target's one mailbox, after the
 * messages the same sender sent before it (DESIGN invariant 5; Erlang's
 * signal order). The target handles a signal when it pops it: in a
 * receive, or at its next switch point (swarm_check, swarm_yield, a send,
 * a spawn) when a sender flagged the PCB's sig_pending. Handling follows
 * Erlang's rules (docs/semantics.md):
 *
 *   EXIT from a link (the partner ended, reason R)
 *       ignored unless the partner is in the link set (unlinked since);
 *       else the link goes, and: trapping -> an EXIT message; R normal ->
 *       ignored; else the process ends with R (kill included: via a link
 *       it is an ordinary reason).
 *   EXIT from swarm_exit_pid (reason R)
 *       R kill -> the process ends with killed, trapping or not; trapping
 *       -> an EXIT message; R normal -> ignored, unless sent to itself
 *       (then it ends with normal); else it ends with R.
 *   LINK / UNLINK      the sender joins / leaves the link set
 *   MONITOR / DEMONITOR the watcher's monitor joins / leaves the set of
 *                      monitors on this process
 *   DOWN (ref)         a DOWN message, if the ref is still a monitor this
 *                      process holds (else demonitored: dropped)
 *
 * A LINK or MONITOR that finds its target gone (still queued when it
 * ended, or left for the slot's next owner) is answered as Erlang does: an
 * EXIT noproc through the link, a DOWN noproc.
 */
#ifndef SWARM_MSG_SIG_H
#define SWARM_MSG_SIG_H

#include <stdint.h>

#include "base/compiler.h"
#include "msg/msg.h"
#include "ptable/ptable.h"
#include "ptable/res.h"
#include "swarmrt/ref.h"
#include "swarmrt/reason.h"

struct swarm__proc;
struct swarm__sched;

/* The body of a signal entry, and of the EXIT / DOWN message the
 * receiver makes of it in place (kind SWARM__SIG_NOTE). */
typedef struct swarm__sig_body {
    swarm_ref_t ref;      /* MONITOR, DEMONITOR, DOWN */
    swarm_atom_t atom;    /* EXIT, DOWN: the reason */
    uint32_t size;        /* reason payload bytes, in data */
    uint32_t linked;      /* EXIT: sent through a link */
    swarm_pid_t pid;      /* the sender: EXIT's from, DOWN's dead pid */
    unsigned char data[]; /* reason payload */
} swarm__sig_body_t;

/* A monitor: on the watcher's side, ref and the watched pid; on the
 * watched process's side, ref and the watcher. */
typedef struct swarm__mon {
    swarm_ref_t ref;
    swarm_pid_t pid;
} swarm__mon_t;

/* A block of a process's own heap (swarm_alloc, proc/heap.c): a pool
 * block with this header in front, on the process's list, freed at its
 * end. */
typedef struct swarm__heap_blk {
    struct swarm__heap_blk *next, *prev;
    size_t size; /* the payload's */
    size_t pad;  /* (the payload stays 16-byte aligned) */
} swarm__heap_blk_t;

/* A process's links, monitors and exit payload; allocated at its first
 * link or monitor (or an exit reason with a payload), released at exit
 * through the resource list: EXIT to every link, DOWN to every watcher,
 * DEMONITOR to every process it watches. [owner] */
typedef struct swarm__psig {
    swarm__res_t res;
    swarm_pid_t *links;
    uint32_t nlinks, links_cap;
    swarm__mon_t *out; /* monitors this process holds */
    uint32_t nout, out_cap;
    swarm__mon_t *in;  /* monitors on this process */
    uint32_t nin, in_cap;
    swarm_pid_t task_owner; /* a task (task/): who gets its result */
    swarm__heap_blk_t *heap; /* its swarm_alloc blocks */
    size_t heap_bytes;
    char label[32];          /* swarm_set_label */
    uint32_t exit_size;
    unsigned char exit_data[SWARM_REASON_MAX];
} swarm__psig_t;

/* The process's signal state, allocated if need be (NULL: no memory).
 * s: the scheduler running the call (its pool cache), or NULL. */
swarm__psig_t *swarm__sig_state(struct swarm__sched *s, struct swarm__proc *p);

/* Send a signal from `from` to pid. ref for MONITOR, DEMONITOR, DOWN;
 * reason for EXIT and DOWN (NULL: normal); linked for EXIT. Returns 0,
 * SWARM_ESRCH (pid dead or stale, its swarm gone), SWARM_EINVAL (bad pid),
 * SWARM_ENOMEM. Any thread. */
int swarm__sig_send(struct swarm__sched *s, swarm_pid_t pid, swarm_pid_t from, uint32_t kind,
                    const swarm_ref_t *ref, const swarm_reason_t *reason, int linked);

/* Ask pid for its process info: an INFO signal; pid answers with a REPLY
 * to call corr (swarm_process_info, proc/info.c). Returns as
 * swarm__sig_send. */
int swarm__sig_send_info(struct swarm__sched *s, swarm_pid_t pid, swarm_pid_t from, uint32_t corr);

/* Fill *out with what p (the caller) knows of itself. */
struct swarm_process_info;
void swarm__sig_info(struct swarm__proc *p, struct swarm_process_info *out);

/* Handle a signal entry popped by p (running on its own stack): returns
 * NULL when it was consumed, or a message (EXIT or DOWN) to treat as one
 * just popped. May end the process (does not return then). */
swarm_msg_t *swarm__sig_handle(struct swarm__sched *s, struct swarm__proc *p, swarm_msg_t *m);

/* Dispose of a signal entry whose target is gone (exit drain, stale
 * entry): LINK and MONITOR are answered with noproc; then it is freed. */
void swarm__sig_drop(struct swarm__sched *s, swarm_msg_t *m);

/* Move everything queued onto p's save list, in order: signals are
 * handled on the way (may end p), stale entries dropped. p is running. */
void swarm__msg_take_queue(struct swarm__sched *s, struct swarm__proc *p);

/* Take m off p's save list and free it. */
void swarm__msg_save_remove(struct swarm__sched *s, struct swarm__proc *p, swarm_msg_t *m);

/* p is ending (called before its resources go): the signals still queued
 * arrived while it was alive, so its links and monitors take effect as if
 * handled (a LINK queued behind its last receive links it: the linker
 * gets its real exit reason, not noproc); exit signals and DOWNs are moot
 * now. Messages go to the save list (dropped with it). */
void swarm__sig_exit_sweep(struct swarm__sched *s, struct swarm__proc *p);

/* A switch point of p (the running process, on whatever scheduler it
 * runs now): if a signal was flagged, move the queue
 * onto the save list, handling the signals on the way (may end p). The
 * test is inline: one load. */
void swarm__sig_poll_slow(struct swarm__proc *p);
static inline void swarm__sig_poll(struct swarm__proc *p)
{
    /* acquire: pairs with the release store after a sender's push. */
    if (SWARM_UNLIKELY(atomic_load_explicit(&p->sig_pending, memory_order_acquire)))
        swarm__sig_poll_slow(p);
}

/* Link sets and monitors, owner side (the caller is p, or p has not run
 * yet: spawn_link). Return 0 or SWARM_ENOMEM. */
int swarm__sig_link_add(struct swarm__sched *s, struct swarm__proc *p, swarm_pid_t pid);
int swarm__sig_link_del(struct swarm__proc *p, swarm_pid_t pid); /* 1 if it was there */
int swarm__sig_linked(const struct swarm__proc *p, swarm_pid_t pid);   /* 1 if pid is in the link set */
int swarm__sig_mon_add(struct swarm__sched *s, struct swarm__proc *p, int out, swarm_ref_t ref, swarm_pid_t pid);
/* Remove a monitor this process holds; 1 if it was there (*pid: the watched). */
int swarm__sig_mon_del_out(struct swarm__proc *p, swarm_ref_t ref, swarm_pid_t *pid);

/* The process's exit reason with its payload (exit info, EXIT/DOWN). */
swarm_reason_t swarm__sig_exit_reason(struct swarm__proc *p);

/* Free the signal state of a process that never ran (a spawn undone),
 * sending nothing. */
void swarm__sig_discard(struct swarm__sched *s, struct swarm__proc *p);

/* Free the signal state (its exit payload was needed until the exit hook
 * ran). */
void swarm__sig_free(struct swarm__sched *s, struct swarm__proc *p);

/* End the running process p with reason r (payload copied). */
SWARM_NORETURN void swarm__sig_exit(struct swarm__sched *s, struct swarm__proc *p, const swarm_reason_t *r);

#endif
