/*
 * swarmrt/error.h - error codes.
 *
 * Every SwarmRT call that can fail returns an int: 0 on success, a negative
 * code on failure. Where POSIX has a name for the condition the code equals
 * -errno (SWARM_ENOMEM == -ENOMEM); conditions that only SwarmRT knows use
 * the reserved range below -4000. SwarmRT never reports through errno: a
 * process may resume on another OS thread, and errno is per thread.
 */
#ifndef SWARMRT_ERROR_H
#define SWARMRT_ERROR_H

#include <errno.h>

#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

enum swarm_error {
    SWARM_OK = 0,
    SWARM_EPERM = -EPERM,         /* not allowed from this context */
    SWARM_ESRCH = -ESRCH,         /* no such process: dead or stale pid */
    SWARM_EAGAIN = -EAGAIN,       /* a limit is exhausted (process table full, no
                                     swarm id or thread left) */
    SWARM_ENOMEM = -ENOMEM,       /* out of memory or address space */
    SWARM_EINVAL = -EINVAL,       /* malformed argument (bad pid, bad option) */
    SWARM_EMSGSIZE = -EMSGSIZE,   /* message larger than the swarm's limit */
    SWARM_ETIMEDOUT = -ETIMEDOUT, /* the deadline passed */
    SWARM_ENOSYS = -ENOSYS,       /* not supported on this kernel/build */
    SWARM_EDEADLK = -EDEADLK,     /* every live process waits forever (swarm_wait) */
    SWARM_EEXIST = -EEXIST,       /* already there (a registered name is taken) */
    SWARM_ENOENT = -ENOENT,       /* no such entry (no process has that name) */
    SWARM_ECANCELED = -ECANCELED, /* the other side gave up (a server's init failed) */
    SWARM_EBADF = -EBADF,         /* not an open fd (io.h) */
    SWARM_EOWNERDEAD = -EOWNERDEAD, /* the mutex is yours, but its previous owner
                                       ended while holding it (sync.h) */

    /* SwarmRT-only codes. */
    SWARM_ENOTPROC = -4001,  /* the call needs a SwarmRT process (call it from one) */
    SWARM_ESHUTDOWN = -4002, /* the swarm is shutting down */
    SWARM_EBUSY = -4003,     /* in use: another process already waits on this fd
                                for the same event (io.h) */
    SWARM_ECLOSED = -4004,   /* the fd was closed (swarm_close) while the caller
                                waited on it (io.h) */
    SWARM_ETLS = -4005       /* TLS failed: a certificate check, an alert, not
                                TLS, the end without close_notify (tls.h:
                                swarm_tls_error says why) */
};

/* Each call's header comment lists exactly the codes it returns;
 * tests/api_doc_check.py holds the headers to that and finds, for every
 * listed code, a test that provokes it (API_RET in tests/).
 *
 * A static, human-readable description of an error code, or of a kernel
 * error passed on as -errno by the I/O calls (the C library's text: "Connection
 * refused"); never NULL; "unknown error" for a value that is neither.
 * Context: any thread. Blocking: never. */
SWARM_API const char *swarm_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
