/*
 * swarmrt/runtime.h - swarms: create, run, wait, destroy, introspect.
 *
 * A swarm is one independent runtime instance: its own scheduler threads,
 * process table, stack arena and timers. Several swarms may live in one OS
 * process; a pid names its swarm, so a message may cross from one swarm to
 * another, but nothing else is shared.
 */
#ifndef SWARMRT_RUNTIME_H
#define SWARMRT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/reason.h"
#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swarm swarm_t;

/* A process id: 64 bits naming the swarm, a table slot and the slot's
 * generation. A pid is never reused for another process of the same swarm
 * (until the 32-bit generation of its slot wraps). 0 is never a valid pid. */
typedef uint64_t swarm_pid_t;
#define SWARM_PID_NONE ((swarm_pid_t)0)

/* The body of a process. Returning from it is a normal exit. */
typedef void (*swarm_fn)(void *arg);

/* Default usable size of a process stack. A guard region of 64 KiB lies
 * below every stack (swarm_info_t.guard_size). Only touched pages cost
 * memory: a process parked in receive typically touches one 4 KiB page.
 * A frame larger than the guard can step over it into the neighbouring
 * stack: code that may put large arrays on the stack must be built with
 * -fstack-clash-protection (the pkg-config Cflags and the CMake targets
 * add it), which makes every frame touch each page it allocates, so the
 * guard is always hit first. */
#define SWARM_DEFAULT_STACK_SIZE ((size_t)64 * 1024)
#define SWARM_MIN_STACK_SIZE ((size_t)16 * 1024)
#define SWARM_MAX_STACK_SIZE ((size_t)8 * 1024 * 1024)

/* Default and largest process table. The table and its side arrays are
 * address space reserved at create (about 340 bytes per slot, plus 16 per
 * slot and scheduler) and touched only as slots are used: 16M slots cost
 * a create no more memory or time than 1M. Where the kernel's overcommit
 * is strict (vm.overcommit_memory = 2), reserved space counts as used
 * memory, so the default there is SWARM_DEFAULT_MAX_PROCS_STRICT. */
#define SWARM_DEFAULT_MAX_PROCS (1u << 24)
#define SWARM_DEFAULT_MAX_PROCS_STRICT (1u << 20)
#define SWARM_LIMIT_MAX_PROCS (1u << 24)

/* Default largest message payload (bytes), and the largest max_msg_size
 * swarm_create accepts (1 TiB: a copied payload never gets near it, and
 * header plus payload can never wrap size_t). */
#define SWARM_DEFAULT_MAX_MSG_SIZE ((size_t)64 * 1024 * 1024)
#define SWARM_LIMIT_MAX_MSG_SIZE ((size_t)1 << 40)

/* Most scheduler threads one swarm may have. */
#define SWARM_LIMIT_SCHEDULERS 256u

/* How process stacks are guarded, in the order SWARM_GUARD_AUTO tries.
 * swarm_create installs each guarded mode once on a scratch page and checks
 * that it really traps (a kernel or emulator may accept the call and
 * install nothing: qemu-user does so for MADV_GUARD_INSTALL); AUTO steps
 * down to the next mode when it does not. A fault at an address in the
 * stack arena outside the running process's stack, or with the stack
 * pointer outside it, ends that process with SWARM_EXIT_STACK_OVERFLOW.
 * What each mode catches is listed in docs/design/stack.md ("What the
 * guards catch"); CANARY catches an overflow only at the next switch or
 * when it runs into a guard, and may corrupt neighbouring stacks first. */
typedef enum swarm_guard_mode {
    SWARM_GUARD_AUTO = 0,     /* the best the kernel offers that traps */
    SWARM_GUARD_MADVISE = 1,  /* MADV_GUARD_INSTALL (Linux >= 6.13): no VMA per stack */
    SWARM_GUARD_MPROTECT = 2, /* PROT_NONE page per stack while under a budget
                                 derived from vm.max_map_count, canary beyond */
    SWARM_GUARD_CANARY = 3    /* canary word checked at every switch */
} swarm_guard_mode_t;

/* Why a process ended, as an int (the full reason is an atom with an
 * optional payload: swarmrt/reason.h, swarm_exit_info_t.why). Values
 * below SWARM_EXIT_USER are the runtime's; the first five are also the
 * atoms of the same numbers. swarm_exit() accepts any value, and values
 * >= SWARM_EXIT_USER are free for applications. */
enum swarm_exit_reason {
    SWARM_EXIT_NORMAL = 0,         /* returned, or swarm_exit(SWARM_EXIT_NORMAL) */
    SWARM_EXIT_KILLED = 1,         /* killed (swarm shutdown with live processes) */
    SWARM_EXIT_STACK_OVERFLOW = 2, /* hit its stack guard (or canary) */
    SWARM_EXIT_CRASH = 3,          /* a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL) in its code */
    SWARM_EXIT_NOMEM = 4,          /* the runtime could not allocate on its behalf */
    SWARM_EXIT_ATOM = 5,           /* any other reason: swarm_exit_info_t.why has it */
    SWARM_EXIT_USER = 256
};

/* A readable name for an exit reason ("normal", "stack_overflow", ...;
 * "user" for application values). Context: any. Blocking: never. */
SWARM_API const char *swarm_exit_reason_str(int reason);

/* Most frames of a crashed process's stack kept in swarm_exit_info_t. */
#define SWARM_EXIT_FRAMES 8

/* Facts about a process exit, handed to the on_exit hook. */
typedef struct swarm_exit_info {
    swarm_pid_t pid;
    int reason;           /* enum swarm_exit_reason or an application value */
    int signo;            /* for SWARM_EXIT_CRASH / STACK_OVERFLOW: the signal, else 0 */
    uintptr_t fault_addr; /* faulting address, when signo != 0 */
    uintptr_t fault_pc;   /* instruction address, when signo != 0 */
    /* The crashed process's own stack, innermost first: frames[0] is
     * fault_pc, frames[i > 0] the return address into the i-th caller (one
     * past its call instruction: look up frames[i] - 1). Unwound with the
     * DWARF call-frame information every x86-64 object carries, so it works
     * without frame pointers and at any optimisation level; it stops at the
     * first function without such information (or at the process's entry).
     * nframes is 0 for exits without a signal, 1 (only fault_pc) for a stack
     * overflow, whose frames are not walked. Pass the pcs to dladdr() (names
     * need -rdynamic in an executable) or to addr2line. */
    unsigned nframes;
    uintptr_t frames[SWARM_EXIT_FRAMES];
    /* The reason as linked processes and monitors see it: reason 0..4 is
     * that atom; a swarm_exit(v) of another v is {SWARM_ATOM_EXIT, the 8
     * bytes of (int64_t)v}; anything else (swarm_exit_with, an exit
     * signal) gives reason SWARM_EXIT_ATOM. why.data is valid during the
     * hook only. */
    swarm_reason_t why;
} swarm_exit_info_t;

/* Called on the scheduler thread (not on the process stack) after a process
 * has ended and its resources are released. It must not block nor call
 * process-only functions; sending a message is allowed. */
typedef void (*swarm_exit_hook)(swarm_t *swarm, const swarm_exit_info_t *info, void *ud);

/* What a swarm does when every live process waits forever: each one is
 * parked in a receive with no timeout, no process is runnable, no timer is
 * armed and no send or spawn from outside the swarm (another thread,
 * another swarm) is in progress. Nothing inside the swarm can wake anything
 * then; only an outside thread could (Go's "all goroutines are asleep").
 * The report (on stderr, unless `quiet`) names the first 16 parked pids and
 * what each waits for, and the count. One report per quiet spell: after
 * something wakes the swarm, the next deadlock is reported again. */
typedef enum swarm_deadlock_mode {
    SWARM_DEADLOCK_DEFAULT = 0, /* swarm_run: SWARM_DEADLOCK_RETURN;
                                   swarm_create: SWARM_DEADLOCK_OFF (outside
                                   threads that send are normal there) */
    SWARM_DEADLOCK_OFF = 1,     /* no detection; costs nothing */
    SWARM_DEADLOCK_REPORT = 2,  /* report; swarm_wait keeps waiting */
    SWARM_DEADLOCK_RETURN = 3   /* report; swarm_wait returns SWARM_EDEADLK
                                   (swarm_run then destroys the swarm, the
                                   parked processes exit as killed) */
} swarm_deadlock_mode_t;

/* Where the number of schedulers came from (swarm_info_t.schedulers_source). */
typedef enum swarm_sched_source {
    SWARM_SCHED_SRC_CONFIG = 0,   /* swarm_config_t.schedulers */
    SWARM_SCHED_SRC_ENV = 1,      /* the SWARM_SCHEDULERS environment variable */
    SWARM_SCHED_SRC_AFFINITY = 2, /* the CPUs in the creating thread's affinity mask */
    SWARM_SCHED_SRC_CGROUP = 3,   /* the cgroup CPU quota, lower than the mask */
    SWARM_SCHED_SRC_ONLINE = 4    /* online CPUs (the mask could not be read) */
} swarm_sched_source_t;

typedef struct swarm_config {
    const char *name;               /* for reports; default "swarm" */
    unsigned schedulers;            /* 1..256; 0 = the default: SWARM_SCHEDULERS
                                       from the environment if set (1..256, else
                                       swarm_create fails with SWARM_EINVAL),
                                       otherwise the CPUs this thread may run on
                                       (sched_getaffinity), lowered to the cgroup
                                       CPU quota (v2 cpu.max, v1 cpu.cfs_quota_us /
                                       cpu.cfs_period_us, rounded up, at least 1)
                                       where one is set; at most 256 */
    uint32_t max_procs;             /* process table size; 0 = SWARM_DEFAULT_MAX_PROCS
                                       (_STRICT under strict overcommit) */
    size_t stack_size;              /* default stack size; 0 = SWARM_DEFAULT_STACK_SIZE */
    size_t max_msg_size;            /* 0 = SWARM_DEFAULT_MAX_MSG_SIZE */
    swarm_guard_mode_t guard_mode;  /* default SWARM_GUARD_AUTO */
    int abort_on_fault;             /* nonzero: a fault in a process aborts the OS
                                       process (core dump) instead of ending only
                                       that process */
    uint32_t watchdog_ms;           /* report a process that holds a scheduler
                                       longer than this without a yield point,
                                       running or blocked in a system call
                                       (other schedulers then take its queues);
                                       0 = 10 ms; UINT32_MAX disables */
    uint64_t deterministic_seed;    /* nonzero: run every scheduler on the caller's
                                       thread in an order drawn from this seed, with
                                       virtual time (see swarm_run) */
    swarm_exit_hook on_exit;        /* optional; called for every exit */
    void *on_exit_ud;
    int quiet;                      /* nonzero: no crash/watchdog/deadlock reports
                                       on stderr */
    swarm_deadlock_mode_t deadlock; /* default SWARM_DEADLOCK_DEFAULT (see above) */
} swarm_config_t;

/* Fill *cfg with defaults. Context: any. Blocking: never. */
SWARM_API void swarm_config_init(swarm_config_t *cfg);

/* Create a swarm and start its scheduler threads (none in deterministic mode:
 * see swarm_wait). cfg may be NULL for defaults; zero fields take their
 * defaults, and a name longer than 31 bytes is cut in reports.
 * Returns 0, SWARM_EINVAL (out is NULL, or a config value out of range:
 * schedulers > SWARM_LIMIT_SCHEDULERS, max_procs > SWARM_LIMIT_MAX_PROCS,
 * stack_size > SWARM_MAX_STACK_SIZE, max_msg_size > SWARM_LIMIT_MAX_MSG_SIZE,
 * guard_mode not one of swarm_guard_mode_t, deadlock not one of
 * swarm_deadlock_mode_t, or schedulers 0 with a SWARM_SCHEDULERS in the
 * environment that is not a number in 1..SWARM_LIMIT_SCHEDULERS), SWARM_ENOMEM (memory or address
 * space for the table and stack arena), SWARM_ENOSYS (guard_mode
 * SWARM_GUARD_MADVISE or SWARM_GUARD_MPROTECT, and the kernel refuses it or
 * the start-up probe sees its guard not trap), SWARM_EAGAIN
 * (no swarm id left: 255 swarms live at once; or the system refused a
 * thread), or another -errno from pthread_create.
 * Context: any thread outside a process of the same swarm. Blocking: briefly. */
SWARM_API int swarm_create(swarm_t **out, const swarm_config_t *cfg);

/* Wait until the swarm has no live process, or timeout_ms passes
 * (SWARM_INFINITE waits forever; timeouts follow the rules in swarmrt/msg.h:
 * one too large to represent as a deadline waits forever). In deterministic
 * mode the calling thread runs all schedulers until then.
 * Returns 0, SWARM_ETIMEDOUT, SWARM_EPERM (called from inside the swarm),
 * SWARM_EINVAL (swarm is NULL, or a negative timeout other than SWARM_INFINITE),
 * SWARM_EDEADLK (deadlock mode SWARM_DEADLOCK_RETURN: every live process
 * waits forever, see swarm_deadlock_mode_t; the swarm is left as it is, and
 * a new call returns SWARM_EDEADLK again until something wakes it). In
 * deterministic mode with detection off, a swarm whose live processes all
 * wait with no deadline returns SWARM_ETIMEDOUT at once.
 * Context: a thread that is not one of this swarm's schedulers.
 * Blocking: parks the OS thread. */
SWARM_API int swarm_wait(swarm_t *swarm, int64_t timeout_ms);

/* Stop the swarm: processes still alive are killed (they never resume; their
 * resources are released and on_exit reports SWARM_EXIT_KILLED), scheduler
 * and watchdog threads are joined, every mapping is unmapped. The first
 * thing destroy does is take the swarm out of the registry of live swarms:
 * from then on a swarm_send or swarm_is_alive by one of its pids, from any
 * thread or any other swarm's process, answers SWARM_ESRCH (or 0) and never
 * touches the swarm; calls already under way finish first (destroy waits
 * for them, a matter of one send each), so such calls are safe at any time,
 * before, during and after destroy. Processes of the swarm itself still
 * running keep sending among themselves until they stop. The swarm_t
 * handle is another matter: no thread may use it (swarm_spawn_in,
 * swarm_stats, ...) once destroy has started, as after free(). A process that runs
 * without a yield point keeps destroy waiting for its scheduler, forever if
 * it never reaches one: swarm_destroy_timeout bounds the wait.
 * Returns 0, SWARM_EPERM (called from inside the swarm), SWARM_EINVAL
 * (swarm is NULL).
 * Context: a thread outside the swarm. Blocking: joins threads. */
SWARM_API int swarm_destroy(swarm_t *swarm);

/* swarm_destroy, and report the final counters in *final (may be NULL):
 * taken after every process is gone and every queue drained, so
 * final->msgs_in_flight is 0 and msgs_sent_total == msgs_delivered +
 * msgs_dropped. Same returns and context as swarm_destroy. */
struct swarm_stats;
SWARM_API int swarm_destroy_stats(swarm_t *swarm, struct swarm_stats *final);

/* swarm_destroy_stats with a bound: wait at most timeout_ms for the
 * scheduler threads to stop (SWARM_INFINITE, or a value too large to
 * represent, waits forever; 0 does not wait, so it completes only when
 * every scheduler has already stopped, as on a repeated call).
 *
 * A scheduler stops when the process it runs reaches a switch point: a
 * receive that waits, swarm_yield, the end of its slice (reductions spent
 * by sends, spawns and swarm_check), or its end. A process that reaches
 * none (a loop in plain C, a system call that never returns) cannot be
 * stopped: C has no safe way to cancel arbitrary code, which may hold a
 * lock (malloc's, say), so SwarmRT does not try.
 *
 * Returns 0 when the destroy is complete (as swarm_destroy_stats: the
 * swarm is gone, *final is filled), SWARM_EINVAL (swarm NULL, or
 * timeout_ms negative other than SWARM_INFINITE), SWARM_EPERM (called from
 * inside the swarm), or SWARM_ETIMEDOUT: a scheduler is still held by a
 * process at the deadline. The swarm is then shut down but not freed:
 *  - no process starts or resumes any more except the ones still holding a
 *    scheduler, each until its next switch point, where it stops for good
 *    (it is killed when the destroy completes);
 *  - swarm_spawn_in returns SWARM_ESHUTDOWN; sends to its pids from
 *    outside the swarm return SWARM_ESRCH (as after destroy);
 *  - swarm_wait, swarm_info and swarm_stats still work; *final is not
 *    written;
 *  - nothing is freed, on_exit has not run for the killed processes.
 * Call swarm_destroy_timeout (or swarm_destroy) again to finish; until one
 * returns 0 the swarm's memory and held threads stay. Only one thread may
 * destroy a swarm at a time.
 * Context: a thread outside the swarm. Blocking: up to timeout_ms. */
SWARM_API int swarm_destroy_timeout(swarm_t *swarm, int64_t timeout_ms, struct swarm_stats *final);

/* Convenience: create a swarm from cfg (NULL for defaults), run main_fn(arg)
 * as its first process, wait until every process has ended, destroy it.
 * Deadlock detection is on unless cfg->deadlock says otherwise: when every
 * live process waits forever (swarm_deadlock_mode_t) the report names them
 * and swarm_run destroys the swarm (they exit as SWARM_EXIT_KILLED).
 * Returns 0, SWARM_EDEADLK (that deadlock; mode SWARM_DEADLOCK_RETURN, the
 * default here), swarm_create's errors (SWARM_EINVAL, SWARM_ENOMEM,
 * SWARM_ENOSYS, SWARM_EAGAIN: see there), SWARM_EINVAL (main_fn is NULL),
 * SWARM_ETIMEDOUT (deterministic mode with detection off: every process
 * left waits with no deadline, so the swarm could never end; it is
 * destroyed).
 * Context: a thread outside any swarm. Blocking: until all processes end. */
SWARM_API int swarm_run(const swarm_config_t *cfg, swarm_fn main_fn, void *arg);

/* The swarm of the calling process, or NULL outside a process.
 * Context: any. Blocking: never. */
SWARM_API swarm_t *swarm_current(void);

typedef struct swarm_info {
    const char *name;
    unsigned schedulers;
    uint32_t max_procs;
    size_t stack_size;         /* default stack size */
    size_t page_size;
    size_t max_msg_size;
    swarm_guard_mode_t guard_mode; /* the mode in force (never AUTO) */
    uint32_t mprotect_budget;  /* stacks that may get an mprotect guard (MPROTECT mode) */
    int deterministic;
    uint64_t seed;
    swarm_sched_source_t schedulers_source; /* where `schedulers` came from */
    unsigned cpus_allowed;     /* CPUs in the creating thread's affinity mask
                                  (0: unknown) */
    unsigned cpu_quota;        /* cgroup CPU quota in CPUs, rounded up (0: none) */
    swarm_deadlock_mode_t deadlock; /* the detection in force (never DEFAULT) */
    size_t guard_size;         /* bytes of guard below every stack */
    int guard_verified;        /* 1: the start-up probe saw guard_mode's guard trap;
                                  0: CANARY (nothing to probe), or the probe could
                                  not tell (the kernel's word was taken) */
    unsigned guard_rejected;   /* bit (1u << m) for each mode m that AUTO tried and
                                  dropped (refused by the kernel, or not trapping) */
    unsigned guard_no_trap;    /* of those, the modes whose call succeeded but
                                  whose guard did not trap */
} swarm_info_t;

/* Describe the swarm (guard mode chosen at start-up, sizes, limits).
 * Returns 0 or SWARM_EINVAL (swarm or out NULL).
 * Context: any. Blocking: never. */
SWARM_API int swarm_info(swarm_t *swarm, swarm_info_t *out);

#ifdef __cplusplus
}
#endif
#endif
