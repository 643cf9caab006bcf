/*
 * swarmrt/proc.h - processes: spawn, self, yield, exit, reductions.
 *
 * A process is a function running on its own guarded stack. Processes are
 * scheduled cooperatively: every SwarmRT call spends reductions from the
 * process's slice and yields when the slice is spent; code that loops
 * without calling SwarmRT should call SWARM_CHECK() in the loop.
 *
 * Processes migrate between scheduler threads at any call that may park or
 * yield. Never keep the address of a thread-local variable (errno included)
 * across such a call.
 */
#ifndef SWARMRT_PROC_H
#define SWARMRT_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/reason.h"
#include "swarmrt/ref.h"
#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reductions in one slice. */
#define SWARM_SLICE_REDUCTIONS 4000

#define SWARM_SCHED_ANY (-1)

/* Process priorities (Erlang's process_flag(priority, P)). A runnable
 * high process runs before every runnable normal or low one, on whichever
 * scheduler looks for work first; normal and low share the normal queues,
 * but a low process at the head of one is passed over (sent to the back)
 * SWARM_PRIO_LOW_TURN - 1 times out of SWARM_PRIO_LOW_TURN while other
 * processes are queued there, so it still runs while normal ones are busy,
 * only less often. Nothing preempts: a process keeps the scheduler until
 * its slice ends or it waits. A pinned process (swarm_pin) waits in its
 * home's pinned queue whatever its priority. Erlang's max is the runtime's
 * own and not offered. */
typedef enum swarm_priority {
    SWARM_PRIO_LOW = -1,
    SWARM_PRIO_NORMAL = 0, /* the default (a zeroed swarm_spawn_opts_t too) */
    SWARM_PRIO_HIGH = 1,
} swarm_priority_t;

/* Erlang's RESCHEDULE_LOW: a low process runs once every this many times
 * it reaches the head of its queue with others behind it. */
#define SWARM_PRIO_LOW_TURN 8

typedef struct swarm_spawn_opts {
    size_t stack_size; /* 0 = the swarm's default; rounded up to a power of two
                          between SWARM_MIN_STACK_SIZE and SWARM_MAX_STACK_SIZE.
                          This is the usable stack; the guard region
                          (swarm_info_t.guard_size) lies below it */
    int scheduler;     /* SWARM_SCHED_ANY (the caller's scheduler, or any), or a
                          scheduler index: the process starts there (it may be
                          stolen later) */
    int priority;      /* a swarm_priority_t: SWARM_PRIO_NORMAL by default; a
                          SWARM_PRIO_HIGH process starts on whichever scheduler
                          looks for work first, whatever scheduler says */
    uint32_t mailbox_max; /* 0: unbounded (the default). Else a bounded mailbox:
                          at most this many messages queued or set aside
                          (up to SWARM_MAILBOX_MAX); see swarm_send */
    int mailbox_full;  /* a swarm_mbox_full_t: what a send to a full bounded
                          mailbox does (SWARM_MBOX_PARK by default) */
    uint32_t compact_after_ms; /* 0: never (the default). Else, once the process
                          has waited this long in a receive or an fd wait,
                          an idle scheduler may copy the live part of its
                          stack aside (typically a few hundred bytes) and
                          give all its stack pages back to the kernel; they
                          come back, at the same addresses, before it runs
                          again (a page fault and a copy). For processes
                          that wait long, as idle connections do. While
                          compacted, its stack reads as zeros to anyone
                          else: do not give other processes or threads
                          pointers into a stack that may be compacted (a
                          channel, mutex or semaphore wait, a blocking
                          call and a send that waits for mailbox room are
                          never compacted: their stack is in use). Not in
                          deterministic mode. See docs/guide */
} swarm_spawn_opts_t;

/* What a send to a full bounded mailbox does. Only messages count and are
 * refused: exit signals, links, monitors, DOWNs, replies to calls and
 * every other signal always get through (a bound never costs a process
 * its termination signals). */
typedef enum swarm_mbox_full {
    SWARM_MBOX_PARK = 0, /* a sending process parks until there is room (or its
                            timeout: swarm_send_timeout); swarm_try_send, a
                            sender outside the swarm and a timer get SWARM_EAGAIN */
    SWARM_MBOX_FAIL = 1, /* every sender gets SWARM_EAGAIN at once */
    SWARM_MBOX_DROP = 2, /* the new message is dropped: the send returns 0 and the
                            message counts in msgs_sent and msgs_dropped */
} swarm_mbox_full_t;

#define SWARM_MAILBOX_MAX (1u << 30)

/* Fill *opts with defaults. Context: any. Blocking: never. */
SWARM_API void swarm_spawn_opts_init(swarm_spawn_opts_t *opts);

/* Set the calling process's priority to prio (a swarm_priority_t) from
 * its next enqueue on (Erlang's process_flag(priority, P)); *old (may be
 * NULL) gets the one it had. Returns 0, SWARM_EINVAL (prio is not one of
 * SWARM_PRIO_LOW, _NORMAL, _HIGH; nothing changed), SWARM_ENOTPROC.
 * Context: process. Blocking: never. */
SWARM_API int swarm_set_priority(int prio, int *old);

/* Spawn fn(arg) as a new process of the caller's swarm. opts may be NULL.
 * *out (may be NULL) receives the pid.
 * Returns 0, SWARM_ENOTPROC (not in a process: use swarm_spawn_in),
 * SWARM_EAGAIN (process table full), SWARM_ENOMEM (no memory or address
 * space for the stack), SWARM_EINVAL (fn is NULL, or bad opts: scheduler
 * not SWARM_SCHED_ANY nor an index below the swarm's count, stack_size above
 * SWARM_MAX_STACK_SIZE, priority not a swarm_priority_t), SWARM_ESHUTDOWN (the swarm is being destroyed: a
 * process still running then).
 * Context: inside a process. Blocking: never (may yield if the slice is spent). */
SWARM_API int swarm_spawn(swarm_pid_t *out, swarm_fn fn, void *arg,
                          const swarm_spawn_opts_t *opts);

/* Spawn fn(arg) linked to the caller (Erlang's spawn_link): the link
 * exists before the child runs, so a child that ends at once still sends
 * its exit signal (swarmrt/signal.h). Returns as swarm_spawn.
 * Context: inside a process. Blocking: never (a switch point). */
SWARM_API int swarm_spawn_link(swarm_pid_t *out, swarm_fn fn, void *arg, const swarm_spawn_opts_t *opts);

/* Spawn fn(arg) monitored by the caller (Erlang's spawn_monitor): *ref
 * gets the monitor, set before the child runs. Returns as swarm_spawn,
 * and SWARM_EINVAL when ref is NULL.
 * Context: inside a process. Blocking: never (a switch point). */
SWARM_API int swarm_spawn_monitor(swarm_pid_t *out, swarm_ref_t *ref, swarm_fn fn, void *arg,
                                  const swarm_spawn_opts_t *opts);

/* Spawn into a given swarm from any thread (also from another swarm).
 * Returns 0, SWARM_EINVAL (swarm or fn NULL, bad opts as for swarm_spawn),
 * SWARM_EAGAIN (process table full), SWARM_ENOMEM, SWARM_ESHUTDOWN (the
 * swarm is being destroyed, e.g. from an on_exit hook during destroy).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_spawn_in(swarm_t *swarm, swarm_pid_t *out, swarm_fn fn, void *arg,
                             const swarm_spawn_opts_t *opts);

/* The calling process's pid, or SWARM_PID_NONE outside a process.
 * Context: any. Blocking: never. */
SWARM_API swarm_pid_t swarm_self(void);

/* Give the scheduler to other runnable processes; returns when this process
 * is scheduled again (possibly on another thread).
 * Returns 0 or SWARM_ENOTPROC. Context: process. Blocking: may migrate. */
SWARM_API int swarm_yield(void);

/* Wait for the next message with no stack at all, then start afresh in
 * fn(arg) (Erlang's erlang:hibernate/3). The calling process's stack is
 * discarded: its pages go back to the kernel, and every frame on it is
 * gone, so this call never returns when it succeeds, and arg must not
 * point into the stack (use swarm_alloc, a static, or memory the process
 * otherwise owns). What the process owns through SwarmRT stays: its
 * mailbox (messages queued or set aside, in order), links, monitors,
 * name, fds, swarm_alloc memory, messages it holds.
 * A message wakes it: one already queued or set aside by an earlier
 * receive (then at once), or the next one to come. fn runs on an empty
 * stack and receives the message as usual. Signals do not call fn: an
 * exit signal ends the process as in any wait, an info request is
 * answered, and it sleeps on. When fn returns the process ends normally.
 * A hibernating process costs its control block and a few dozen bytes
 * (no stack page); waking costs a fresh stack page (a page fault) and
 * the call. swarm_process_info reports wait = SWARM_WAIT_HIBERNATE.
 * Returns only on failure, never 0: SWARM_ENOTPROC (not in a process),
 * SWARM_EINVAL (fn NULL), SWARM_ENOMEM (the process goes on as before).
 * Context: process. Blocking: parks; resumes in fn. */
SWARM_API int swarm_hibernate(swarm_fn fn, void *arg);

/* End the calling process with the given reason: one of SWARM_EXIT_NORMAL
 * .. SWARM_EXIT_NOMEM (the atoms of the same numbers, swarmrt/reason.h),
 * or any other application value v, which becomes the reason
 * {SWARM_ATOM_EXIT, the 8 bytes of (int64_t)v} (swarm_exit_info_t.reason
 * gives v back). Everything the process owns through SwarmRT is
 * released. Outside a process it aborts with a message.
 * Context: process. Blocking: never returns. */
SWARM_NORETURN SWARM_API void swarm_exit(int reason);

/* End the calling process with reason r (Erlang's exit/1). Processes
 * linked to it get an exit signal with r (swarmrt/signal.h); monitors
 * get a DOWN message with r. A reason that is not valid (an atom no call
 * handed out, size > SWARM_REASON_MAX, data NULL with a size) ends the
 * process with SWARM_ATOM_UNDEFINED instead. Outside a process it aborts
 * with a message. Context: process. Blocking: never returns. */
SWARM_NORETURN SWARM_API void swarm_exit_with(swarm_reason_t r);

/* Memory owned by the calling process (Erlang's process heap, as far as C
 * has one): size bytes, 16-byte aligned, freed when the process ends,
 * however it ends (a crash, a kill). NULL when size is 0, when out of
 * memory, or outside a process. Give it back earlier with swarm_free.
 * Context: process. Blocking: never. */
SWARM_API void *swarm_alloc(size_t size);

/* Give back a block from the calling process's swarm_alloc (NULL: no-op).
 * Only its owner may free it. Context: process. Blocking: never. */
SWARM_API void swarm_free(void *p);

/* What a process waits for (swarm_process_info_t.wait). */
typedef enum swarm_wait {
    SWARM_WAIT_NONE = 0,     /* nothing: it was running when it answered */
    SWARM_WAIT_RECV = 1,     /* swarm_recv: any message */
    SWARM_WAIT_RECV_TAG = 2, /* swarm_recv_tag: wait_tag */
    SWARM_WAIT_RECV_MATCH = 3, /* swarm_recv_match: a match function */
    SWARM_WAIT_SLEEP = 4,    /* swarm_sleep */
    SWARM_WAIT_CALL = 5,     /* the reply of a call (swarm_gs_call, swarm_process_info, ...) */
    SWARM_WAIT_RECV_MARKED = 6, /* swarm_recv_marked: messages after a mark */
    SWARM_WAIT_FD = 7,       /* an fd (swarm/io.h: a read, write, accept, connect,
                                swarm_fd_wait, swarm_recv_fd), a blocking call, or
                                room in a full bounded mailbox */
    SWARM_WAIT_CHAN = 8,     /* a channel send, receive or select (swarmrt/chan.h) */
    SWARM_WAIT_SYNC = 9,     /* a mutex, condition variable or semaphore (swarmrt/sync.h) */
    SWARM_WAIT_HIBERNATE = 10, /* swarm_hibernate: any message, with no stack */
} swarm_wait_t;

/* What swarm_process_info tells (Erlang's process_info, in part). The
 * fields after label came later (SwarmRT 0.x grows this struct; callers
 * compiled against an older header must be rebuilt). */
typedef struct swarm_process_info {
    size_t mailbox_len;     /* messages queued or set aside */
    size_t links;           /* processes it is linked to */
    size_t monitors;        /* monitors it holds */
    size_t monitored_by;    /* monitors on it (the asker's own, while it asks, included) */
    size_t heap_bytes;      /* swarm_alloc bytes it holds */
    swarm_atom_t name;      /* its registered name, or SWARM_ATOM_UNDEFINED */
    int trap_exit;
    char label[32];         /* swarm_set_label ("" if none) */
    uint64_t reductions;    /* reductions spent so far: one per send, receive,
                               SWARM_CHECK, 10 per spawn (Erlang's reductions) */
    int priority;           /* its swarm_priority_t */
    int wait;               /* a swarm_wait_t: what it waited for when it answered */
    uint32_t wait_tag;      /* with SWARM_WAIT_RECV_TAG: the tag */
    int64_t wait_deadline_ms; /* when that wait times out, on swarm_now_ms's
                               clock; SWARM_INFINITE: no deadline */
    size_t stack_size;      /* its usable stack */
    size_t stack_used;      /* stack bytes in use when it answered (its depth) */
    size_t mailbox_bytes;   /* bytes of its queued and set-aside messages, headers included */
    size_t memory;          /* all of the above it holds: its control block, the
                               stack pages in use, heap_bytes, mailbox_bytes
                               (Erlang's memory, roughly) */
} swarm_process_info_t;

/* Facts about process pid. The process answers itself (a signal, as in
 * Erlang): at once if it waits in a receive, at its next switch point if
 * it runs; the caller waits up to timeout_ms for that. About the caller
 * itself: at once. Returns 0, SWARM_ESRCH (not alive, or it ended before
 * answering), SWARM_ETIMEDOUT (it reached no switch point in time),
 * SWARM_EINVAL (out NULL, malformed pid, bad timeout), SWARM_ENOMEM,
 * SWARM_ENOTPROC. Context: process. Blocking: parks until the answer. */
SWARM_API int swarm_process_info(swarm_pid_t pid, swarm_process_info_t *out, int64_t timeout_ms);

/* Name the calling process for people (process_info, observers): up to 31
 * bytes are kept. Returns 0, SWARM_EINVAL (label NULL), SWARM_ENOMEM,
 * SWARM_ENOTPROC. Context: process. Blocking: never. */
SWARM_API int swarm_set_label(const char *label);

/* Nonzero if pid names a live process (a snapshot: it may end right after);
 * 0 once its swarm's destroy has begun. Safe with any pid at any time.
 * Context: any. Blocking: never. */
SWARM_API int swarm_is_alive(swarm_pid_t pid);

/* Pin the calling process to the scheduler (OS thread) it runs on now: it
 * never migrates until swarm_unpin(), so thread-local state (errno,
 * OpenSSL's error queue, allocator caches compiled with LTO) stays its own
 * across yields and receives. A pinned process is never stolen: when its
 * scheduler is busy it waits, even if others are idle. Use it around the
 * code that needs it, not for a whole long-lived process.
 * Returns 0 or SWARM_ENOTPROC. Context: process. Blocking: never. */
SWARM_API int swarm_pin(void);

/* Let the calling process migrate again. Returns 0 or SWARM_ENOTPROC.
 * Context: process. Blocking: never. */
SWARM_API int swarm_unpin(void);

/* Index of the scheduler running the caller, or -1 outside a process.
 * Context: any. Blocking: never. */
SWARM_API int swarm_scheduler_index(void);

/* Spend one reduction; yield if the slice is spent. Cheap enough for inner
 * loops. Outside a process it does nothing. Context: any. Blocking: may migrate. */
SWARM_API void swarm_check(void);
#define SWARM_CHECK() swarm_check()

/* Bytes enough for the text of any pid, its NUL included:
 * "<255.16777215.4294967295>" is 25 characters. */
#define SWARM_PID_STRLEN 26

/* Format a pid for logs as <swarm.index.generation> into buf[0..len):
 * swarm is the swarm id (1..255), index the process-table slot, generation
 * the slot's generation (decimal). With len >= SWARM_PID_STRLEN the text is
 * never truncated; a shorter buffer gets a truncated text, NUL-terminated;
 * len 0 leaves buf untouched. Any 64-bit value is formatted (SWARM_PID_NONE
 * is <0.0.0>); a pid of a dead process formats as it was.
 *
 * Why the generation is a large number even for a swarm's first processes:
 * every slot's generation starts at a base drawn at random when the swarm
 * is created (from deterministic_seed in deterministic mode, so pids
 * replay), not at 0, and grows by one each time the slot is reused. Swarm
 * ids are only 8 bits and are handed out again after a swarm is destroyed;
 * if generations started at 0 in every swarm, a pid kept from a destroyed
 * swarm would name the process in the same slot of the next swarm with the
 * same id. With a random base per swarm that takes a 1-in-2^32 coincidence.
 * Within one swarm a pid is never reused until its slot's generation wraps.
 * Returns buf. Context: any. Blocking: never. */
SWARM_API char *swarm_pid_format(swarm_pid_t pid, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
