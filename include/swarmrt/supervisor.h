/*
 * swarmrt/supervisor.h - supervisors (Erlang/OTP's supervisor): a process
 * that starts children, watches them through links, restarts them by a
 * strategy, and gives up (ends with shutdown) when they crash too often.
 *
 * A supervisor is a gen_server (swarmrt/gen_server.h) that traps exits.
 * Children start in spec order and stop in the reverse order, one at a
 * time: each is sent an exit signal shutdown and given its shutdown time
 * to end, then killed (brutal kill: killed at once). Restart rules:
 * permanent children always, transient ones when they end with a reason
 * other than normal or shutdown, temporary ones never (their spec is
 * dropped when they end). More than intensity restarts within period_s
 * seconds (the swarm's clock: virtual in deterministic mode) end the
 * supervisor with reason shutdown, after it stopped its other children.
 * An exit signal from its parent (the process that started it, if linked)
 * stops it with that reason; one from anyone else is ignored.
 */
#ifndef SWARMRT_SUPERVISOR_H
#define SWARMRT_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/gen_server.h"
#include "swarmrt/reason.h"
#include "swarmrt/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum swarm_restart { SWARM_PERMANENT = 0, SWARM_TRANSIENT = 1, SWARM_TEMPORARY = 2 } swarm_restart_t;

typedef enum swarm_strategy {
    SWARM_ONE_FOR_ONE = 0,  /* restart the child that ended */
    SWARM_ONE_FOR_ALL = 1,  /* stop the others (reverse order), restart all (in order) */
    SWARM_REST_FOR_ONE = 2, /* stop those started after it, restart it and them */
    SWARM_SIMPLE_ONE_FOR_ONE = 3 /* one spec, the template: children are added with
                                    swarm_sup_start_simple, each restarted alone */
} swarm_strategy_t;

/* Child spec shutdown values besides a time in ms (> 0). */
#define SWARM_SHUTDOWN_DEFAULT ((int64_t)0)     /* 5000 ms for a worker, infinity for a supervisor */
#define SWARM_SHUTDOWN_BRUTAL_KILL ((int64_t)-2) /* killed at once */
/* (SWARM_INFINITE: wait as long as it takes.) */

typedef struct swarm_child_spec {
    swarm_atom_t id;     /* unique among the supervisor's children */
    /* How to start it: fn(arg) spawned linked to the supervisor, or, when
     * start is set, start(arg, &pid), which must link what it starts to
     * its caller (swarm_gs_start with opts.link, swarm_sup_start with
     * link) and return 0 or an error code. */
    swarm_fn fn;
    int (*start)(void *arg, swarm_pid_t *out);
    void *arg;
    swarm_restart_t restart;
    int64_t shutdown;    /* ms, SWARM_INFINITE, SWARM_SHUTDOWN_BRUTAL_KILL or _DEFAULT */
    int supervisor;      /* the child is a supervisor (count_children, default shutdown) */
} swarm_child_spec_t;

typedef struct swarm_sup_flags {
    swarm_strategy_t strategy;
    unsigned intensity;  /* restarts allowed ... (OTP's default 1) */
    unsigned period_s;   /* ... within this many seconds (default 5; 0 means 5) */
} swarm_sup_flags_t;

/* Flags as OTP's defaults: one_for_one, 1 restart in 5 s. */
SWARM_API void swarm_sup_flags_init(swarm_sup_flags_t *flags);

/* Start a supervisor with n children (specs copied) and wait until they
 * all started. opts: as swarm_gs_start (name, link to the caller; NULL:
 * neither). With SWARM_SIMPLE_ONE_FOR_ONE, children holds exactly one spec,
 * the template, and no child starts now. Returns 0; SWARM_ECANCELED (a
 * child failed to start: the ones started are stopped again, in reverse
 * order); SWARM_EINVAL (a spec without fn nor start, or with both, a
 * duplicate id, bad flags, n > SWARM_SUP_MAX_CHILDREN, n != 1 for
 * simple_one_for_one); as swarm_gs_start: SWARM_EEXIST (the name is
 * taken), SWARM_EAGAIN (process table full), SWARM_ENOMEM,
 * SWARM_ESHUTDOWN, SWARM_ENOTPROC.
 * Context: process. Blocking: until the children started. */
SWARM_API int swarm_sup_start(swarm_pid_t *out, const swarm_sup_flags_t *flags, const swarm_child_spec_t *children,
                              size_t n, const swarm_gs_opts_t *opts);
#define SWARM_SUP_MAX_CHILDREN 4096

/* Add and start a child. Returns 0, SWARM_EEXIST (its id is taken),
 * SWARM_ECANCELED (it failed to start), SWARM_EINVAL (bad spec, too many
 * children, a simple_one_for_one supervisor), SWARM_ESRCH (no such
 * supervisor), SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: a call into the supervisor. */
SWARM_API int swarm_sup_start_child(swarm_pid_t sup, const swarm_child_spec_t *spec, swarm_pid_t *out);

/* Stop a child (by its shutdown rule) and drop its spec. Returns 0,
 * SWARM_ENOENT (no child with that id), SWARM_ESRCH (no such supervisor),
 * SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: a call into the supervisor. */
SWARM_API int swarm_sup_terminate_child(swarm_pid_t sup, swarm_atom_t id);

/* simple_one_for_one: start a child from the template with arg instead of
 * the template's (OTP's start_child(Sup, ExtraArgs)). Returns 0,
 * SWARM_ECANCELED (it failed to start), SWARM_EINVAL (not a
 * simple_one_for_one supervisor, too many children), SWARM_ESRCH (no such
 * supervisor), SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: a call into the supervisor. */
SWARM_API int swarm_sup_start_simple(swarm_pid_t sup, void *arg, swarm_pid_t *out);

/* Stop a child by its pid and drop it (for simple_one_for_one children,
 * which share their id). Returns 0, SWARM_ENOENT (no child with that
 * pid), SWARM_ESRCH (no such supervisor), SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: a call into the supervisor. */
SWARM_API int swarm_sup_terminate_pid(swarm_pid_t sup, swarm_pid_t pid);

typedef struct swarm_sup_child {
    swarm_atom_t id;
    swarm_pid_t pid;     /* SWARM_PID_NONE while not running */
    int supervisor;
} swarm_sup_child_t;

/* The children, newest first (as OTP's which_children): up to cap in
 * out, *n the number there is. Returns 0, SWARM_EINVAL (n NULL, or out
 * NULL with cap), SWARM_ESRCH (no such supervisor), SWARM_ENOMEM,
 * SWARM_ENOTPROC.
 * Context: process. Blocking: a call into the supervisor. */
SWARM_API int swarm_sup_which_children(swarm_pid_t sup, swarm_sup_child_t *out, size_t cap, size_t *n);

typedef struct swarm_sup_counts {
    size_t specs, active, supervisors, workers;
} swarm_sup_counts_t;

/* OTP's count_children. Returns 0, SWARM_EINVAL (out NULL), SWARM_ESRCH
 * (no such supervisor), SWARM_ENOMEM, SWARM_ENOTPROC.
 * Context: process. Blocking: a call into the supervisor. */
SWARM_API int swarm_sup_count_children(swarm_pid_t sup, swarm_sup_counts_t *out);

#ifdef __cplusplus
}
#endif

#endif
