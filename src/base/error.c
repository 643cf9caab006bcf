/*
 * base/error.c - error and exit-reason strings.
 */
#include "swarmrt/error.h"

#include <string.h>

#include "swarmrt/runtime.h"

const char *swarm_strerror(int err)
{
    switch (err) {
    case SWARM_OK: return "success";
    case SWARM_EPERM: return "operation not allowed from this context";
    case SWARM_ESRCH: return "no such process (dead or stale pid)";
    case SWARM_EAGAIN: return "limit exhausted (process table full)";
    case SWARM_ENOMEM: return "out of memory or address space";
    case SWARM_EINVAL: return "invalid argument";
    case SWARM_EMSGSIZE: return "message too large";
    case SWARM_ETIMEDOUT: return "timed out";
    case SWARM_ENOSYS: return "not supported on this system";
    case SWARM_EDEADLK: return "deadlock: every live process waits for a message nothing can send";
    case SWARM_EEXIST: return "already exists (name taken, or the process has a name)";
    case SWARM_ENOENT: return "no such name";
    case SWARM_ECANCELED: return "canceled by the other side (a server's init failed)";
    case SWARM_EOWNERDEAD: return "locked, but the previous owner ended while holding it";
    case SWARM_ENOTPROC: return "must be called from a SwarmRT process";
    case SWARM_ESHUTDOWN: return "swarm is shutting down";
    case SWARM_EBUSY: return "in use (another process already waits on this fd for that event)";
    case SWARM_EBADF: return "bad file descriptor (not open)";
    case SWARM_ECLOSED: return "the fd was closed while the process waited on it";
    case SWARM_ETLS: return "TLS failed (a certificate check, an alert, or a connection that is not TLS)";
    default: break;
    }
    /* The kernel's own errors, which the I/O calls pass on as -errno. */
    const char *d = err < 0 && err > -4000 ? strerrordesc_np(-err) : NULL;
    return d ? d : "unknown error";
}

const char *swarm_exit_reason_str(int reason)
{
    switch (reason) {
    case SWARM_EXIT_NORMAL: return "normal";
    case SWARM_EXIT_KILLED: return "killed";
    case SWARM_EXIT_STACK_OVERFLOW: return "stack_overflow";
    case SWARM_EXIT_CRASH: return "crash";
    case SWARM_EXIT_NOMEM: return "nomem";
    case SWARM_EXIT_ATOM: return "atom";
    default: return reason >= SWARM_EXIT_USER ? "user" : "unknown";
    }
}
