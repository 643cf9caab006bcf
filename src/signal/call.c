/*
 * signal/call.c - swarm__call (call.h).
 */
#include "signal/call.h"

#include "msg/msg.h"
#include "swarmrt.h"

int swarm__call(swarm_pid_t to, swarm__call_send_fn send, void *ctx, int64_t timeout_ms, swarm_msg_t **reply,
                swarm_atom_t *why)
{
    uint64_t mark = swarm__msg_mark();
    swarm_ref_t mon;
    int rc = swarm_monitor(to, &mon);
    if (rc != 0)
        return rc;
    uint32_t corr = swarm__msg_next_corr();
    rc = send(ctx, corr);
    if (rc != 0 && rc != SWARM_ESRCH) { /* (ESRCH: it just ended; its DOWN is coming) */
        swarm_demonitor(mon, SWARM_DEMONITOR_FLUSH);
        return rc;
    }
    swarm_msg_t *m;
    rc = swarm__msg_recv_call(corr, &mon, mark, &m, timeout_ms);
    if (rc != 0) {
        swarm_demonitor(mon, SWARM_DEMONITOR_FLUSH);
        return rc;
    }
    if (m->kind == SWARM__SIG_REPLY) {
        swarm_demonitor(mon, SWARM_DEMONITOR_FLUSH);
        *reply = m;
        return 0;
    }
    swarm_reason_t r;
    swarm_msg_down(m, NULL, NULL, &r);
    if (why)
        *why = r.atom;
    swarm_msg_free(m);
    return SWARM_ESRCH;
}
