/*
 * swarmrt/reason.h - atoms and exit reasons.
 *
 * An atom is an interned name, as in Erlang: swarm_atom("shutdown") gives
 * the same swarm_atom_t every time in one OS process, so atoms compare as
 * integers. Atoms are never freed (as in Erlang, the table only grows; it
 * holds at most SWARM_ATOM_LIMIT). Intern a name once and keep the id:
 * swarm_atom() takes a lock.
 *
 * An exit reason is an atom with an optional payload of at most
 * SWARM_REASON_MAX bytes: Erlang's `shutdown` or `{shutdown, Term}` with
 * the term's bytes. Every call that takes a reason copies its payload.
 * The runtime's own reasons are the SWARM_ATOM_* constants below; the first
 * five equal the SWARM_EXIT_* values of swarmrt/runtime.h, so an int reason
 * of those five and the atom are the same number.
 */
#ifndef SWARMRT_REASON_H
#define SWARMRT_REASON_H

#include <stddef.h>
#include <stdint.h>

#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t swarm_atom_t;

/* The atoms every program has, with their ids. */
enum swarm_atom_builtin {
    SWARM_ATOM_NORMAL = 0,         /* "normal": returned, or ended on purpose */
    SWARM_ATOM_KILLED = 1,         /* "killed": ended by a kill exit signal, or by destroy */
    SWARM_ATOM_STACK_OVERFLOW = 2, /* "stack_overflow" */
    SWARM_ATOM_CRASH = 3,          /* "crash": a fault in its code */
    SWARM_ATOM_NOMEM = 4,          /* "nomem" */
    SWARM_ATOM_KILL = 5,           /* "kill": the untrappable exit signal (swarm_exit_pid) */
    SWARM_ATOM_SHUTDOWN = 6,       /* "shutdown" */
    SWARM_ATOM_NOPROC = 7,         /* "noproc": the process did not exist */
    SWARM_ATOM_NOCONNECTION = 8,   /* "noconnection" */
    SWARM_ATOM_TIMEOUT = 9,        /* "timeout" */
    SWARM_ATOM_UNDEFINED = 10,     /* "undefined" */
    SWARM_ATOM_EXIT = 11,          /* "exit": swarm_exit(v) with an application int v */
    SWARM_ATOM_BUILTIN_COUNT = 12
};

/* Longest atom name in bytes, and most atoms in one OS process. */
#define SWARM_ATOM_MAX_LEN 255
#define SWARM_ATOM_LIMIT (1u << 20)

/* The atom named name[0..len) (any bytes but NUL; the empty name is an
 * atom too), interned on first use.
 * Returns 0, SWARM_EINVAL (name or out NULL, len > SWARM_ATOM_MAX_LEN, a
 * NUL byte in the name), SWARM_EAGAIN (SWARM_ATOM_LIMIT atoms exist),
 * SWARM_ENOMEM. Context: any thread. Blocking: takes a lock, briefly. */
SWARM_API int swarm_atom_n(const char *name, size_t len, swarm_atom_t *out);
/* swarm_atom_n(name, strlen(name), out): name must be NUL-terminated.
 * Returns as swarm_atom_n. */
SWARM_API int swarm_atom(const char *name, swarm_atom_t *out);

/* The name of an atom (NUL-terminated, valid for the life of the OS
 * process), or NULL for an id no call handed out.
 * Context: any thread. Blocking: never. */
SWARM_API const char *swarm_atom_name(swarm_atom_t atom);

/* Largest reason payload, in bytes. */
#define SWARM_REASON_MAX 256

/* An exit reason: an atom and size bytes at data (size 0: data unused). */
typedef struct swarm_reason {
    swarm_atom_t atom;
    uint32_t size;
    const void *data;
} swarm_reason_t;

/* A reason without payload. */
static inline swarm_reason_t swarm_reason(swarm_atom_t atom)
{
    swarm_reason_t r;
    r.atom = atom;
    r.size = 0;
    r.data = NULL;
    return r;
}

#ifdef __cplusplus
}
#endif

#endif
