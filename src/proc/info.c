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
#include "signal/call.h"
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

struct ask {
    swarm_pid_t to, from;
};

static int send_info(void *ctx, uint32_t corr)
{
    struct ask *a = ctx;
    return swarm__sig_send_info(swarm__sched_self(), a->to, a->from, corr);
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
    struct ask ask = {pid, me};
    swarm_msg_t *m;
    int rc = swarm__call(pid, send_info, &ask, timeout_ms, &m, NULL);
    if (rc != 0)
        return rc;
    memcpy(out, swarm_msg_data(m), sizeof *out);
    swarm_msg_free(m);
    return 0;
}
