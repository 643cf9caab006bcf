/*
 * proc/info.c - swarm_process_info and swarm_set_label. Another process's
 * state belongs to that process (only it touches its links, monitors and
 * queue), so it is asked: an INFO signal it answers with a REPLY to a
 * call of the asker's, as a gen_server call, monitor included.
 */
#include <string.h>

#include "msg/msg.h"
#include "msg/sig.h"
#include "sched/sched.h"
#include "swarmrt.h"

int swarm_set_label(const char *label)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!label)
        return SWARM_EINVAL;
    swarm__psig_t *g = swarm__sig_state(s, s->current);
    if (!g)
        return SWARM_ENOMEM;
    strncpy(g->label, label, sizeof g->label - 1);
    g->label[sizeof g->label - 1] = '\0';
    return 0;
}

int swarm_process_info(swarm_pid_t pid, swarm_process_info_t *out, int64_t timeout_ms)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!out || pid == SWARM_PID_NONE || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    swarm_pid_t me = swarm__ptable_pid(p);
    if (pid == me) {
        swarm__sig_info(p, out);
        return 0;
    }
    swarm_msg_t *mark = swarm__msg_mark();
    swarm_ref_t mon;
    int rc = swarm_monitor(pid, &mon);
    if (rc != 0)
        return rc;
    uint32_t corr = swarm__msg_next_corr();
    rc = swarm__sig_send_info(swarm__sched_self(), pid, me, corr);
    if (rc != 0 && rc != SWARM_ESRCH) {
        swarm_demonitor(mon, SWARM_DEMONITOR_FLUSH);
        return rc;
    }
    swarm_msg_t *m;
    rc = swarm__msg_recv_call(corr, &mon, mark, &m, timeout_ms);
    if (rc != 0) {
        swarm_demonitor(mon, SWARM_DEMONITOR_FLUSH);
        return rc;
    }
    if (m->kind != SWARM__SIG_REPLY) {
        swarm_msg_free(m); /* its DOWN: gone before it answered */
        return SWARM_ESRCH;
    }
    memcpy(out, swarm_msg_data(m), sizeof *out);
    swarm_msg_free(m);
    swarm_demonitor(mon, SWARM_DEMONITOR_FLUSH);
    return 0;
}
