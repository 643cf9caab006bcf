/*
 * gen_server/gen_server.c - swarmrt/gen_server.h over messages of kinds
 * CALL, CAST and REPLY (msg/msg.h) and a monitor per call.
 *
 * A call: mark the caller's save list, monitor the server, send a CALL
 * with a fresh call number, wait for the REPLY with that number or the
 * monitor's DOWN, scanning only past the mark (swarm__msg_recv_call).
 * While it waits, the caller keeps no other REPLY, and after it stops
 * waiting it keeps none of this call's: a late reply is dropped.
 */
#include <string.h>

#include "msg/msg.h"
#include "proc/proc.h"
#include "reason/reason.h"
#include "sched/sched.h"
#include "signal/call.h"
#include "swarmrt.h"
#include "swarmrt/gen_server.h"

/* A CALL with this tag asks the server to stop (swarm_gs_stop); its data
 * is a reason: the atom, then the payload. */
#define GS_TAG_STOP (SWARM_TAG_SYSTEM + 16)

void swarm_gs_opts_init(swarm_gs_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->name = SWARM_GS_NO_NAME;
}

/* What the starter hands the new server (on the starter's stack: read
 * before the server answers, which the starter waits for). */
typedef struct start_ctx {
    const swarm_gs_ops_t *ops;
    void *arg;
    swarm_pid_t starter;
    uint32_t corr;
    swarm_atom_t name;
} start_ctx_t;

static void reply_to(swarm_pid_t pid, uint32_t tag, uint32_t corr, const void *data, size_t size)
{
    /* The caller may be gone or have stopped waiting: nothing to do then. */
    swarm__msg_send_kind(pid, SWARM__SIG_REPLY, tag, corr, data, size);
}

SWARM_NORETURN static void stop_server(const swarm_gs_ops_t *ops, void *state, swarm_reason_t why)
{
    if (ops->terminate)
        ops->terminate(state, why);
    swarm_exit_with(why);
}

/* A stop request's reason, as swarm_gs_stop packed it. */
static swarm_reason_t unpack_reason(const swarm_msg_t *m)
{
    swarm_reason_t r = swarm_reason(SWARM_ATOM_NORMAL);
    if (m->size >= sizeof r.atom) {
        memcpy(&r.atom, m->data, sizeof r.atom);
        r.size = (uint32_t)(m->size - sizeof r.atom);
        r.data = r.size ? m->data + sizeof r.atom : NULL;
    }
    return r;
}

static void server_main(void *arg)
{
    start_ctx_t c = *(const start_ctx_t *)arg;
    const swarm_gs_ops_t *ops = c.ops;
    int rc = 0;
    if (c.name != SWARM_GS_NO_NAME)
        rc = swarm_register(c.name, swarm_self());
    void *state = NULL;
    if (rc == 0 && ops->init && ops->init(c.arg, &state) != 0)
        rc = SWARM_ECANCELED;
    if (rc != 0) {
        /* Unlinked first: a failed start is the starter's error code, not
         * an exit signal that would end it too. */
        swarm_unlink(c.starter);
        reply_to(c.starter, 0, c.corr, &rc, sizeof rc);
        swarm_exit_with(swarm_reason(rc == SWARM_EEXIST ? SWARM_ATOM_NORMAL : SWARM_ATOM_SHUTDOWN));
    }
    reply_to(c.starter, 0, c.corr, &rc, sizeof rc);

    for (;;) {
        swarm_msg_t *m;
        swarm_recv(&m, SWARM_INFINITE);
        swarm_gs_result_t r = {NULL, 0, {SWARM_ATOM_NORMAL, 0, NULL}};
        int action = SWARM_GS_CONTINUE;
        if (m->kind == SWARM__SIG_CALL && m->tag == GS_TAG_STOP) {
            unsigned char copy[SWARM_REASON_MAX];
            swarm_reason_t why = unpack_reason(m);
            if (why.size) {
                memcpy(copy, why.data, why.size);
                why.data = copy;
            }
            swarm_msg_free(m);
            stop_server(ops, state, why);
        } else if (m->kind == SWARM__SIG_CALL) {
            swarm_gs_from_t from = {m->from, m->corr};
            action = ops->handle_call ? ops->handle_call(state, m, from, &r) : SWARM_GS_REPLY;
            if (action == SWARM_GS_REPLY || (action == SWARM_GS_STOP && (r.reply || r.reply_size)))
                reply_to(from.pid, m->tag, from.corr, r.reply, r.reply_size);
        } else if (m->kind == SWARM__SIG_CAST) {
            if (ops->handle_cast)
                action = ops->handle_cast(state, m, &r);
        } else if (ops->handle_info) {
            action = ops->handle_info(state, m, &r);
        }
        swarm_msg_free(m);
        if (action == SWARM_GS_STOP) {
            if (!swarm__reason_valid(&r.stop))
                r.stop = swarm_reason(SWARM_ATOM_UNDEFINED);
            stop_server(ops, state, r.stop);
        }
    }
}

/* A request of a call (swarm__call's send). */
struct request {
    swarm_pid_t to;
    uint32_t kind, tag;
    const void *data;
    size_t size;
};

static int send_request(void *ctx, uint32_t corr)
{
    const struct request *r = ctx;
    return swarm__msg_send_kind(r->to, r->kind, r->tag, corr, r->data, r->size);
}

/* The reply or DOWN that ends a wait: 1 for a reply (*out keeps it),
 * 0 for the DOWN (freed; *why its atom). */
static int ended_by_reply(swarm_msg_t *m, swarm_msg_t **out, swarm_atom_t *why)
{
    if (m->kind == SWARM__SIG_REPLY) {
        *out = m;
        return 1;
    }
    swarm_reason_t r;
    swarm_msg_down(m, NULL, NULL, &r);
    if (why)
        *why = r.atom;
    swarm_msg_free(m);
    return 0;
}

int swarm_gs_start(swarm_pid_t *out, const swarm_gs_ops_t *ops, void *arg, const swarm_gs_opts_t *opts)
{
    if (!swarm__sched_current())
        return SWARM_ENOTPROC;
    swarm_gs_opts_t o;
    if (!opts) {
        swarm_gs_opts_init(&o);
        opts = &o;
    }
    if (!ops || (opts->name != SWARM_GS_NO_NAME && (opts->name == SWARM_ATOM_UNDEFINED || !swarm__atom_valid(opts->name))))
        return SWARM_EINVAL;
    start_ctx_t c = {ops, arg, swarm_self(), swarm__msg_next_corr(), opts->name};
    uint64_t mark = swarm__msg_mark();
    swarm_pid_t pid;
    swarm_ref_t mon;
    int rc = swarm__spawn_bound(&pid, server_main, &c, opts->spawn, opts->link, &mon, 0);
    if (rc != 0)
        return rc;
    swarm_msg_t *m;
    rc = swarm__msg_recv_call(c.corr, &mon, mark, &m, SWARM_INFINITE);
    if (rc != 0)
        return rc; /* (cannot time out: no deadline) */
    if (!ended_by_reply(m, &m, NULL))
        return SWARM_ECANCELED; /* it ended inside init (a crash) */
    memcpy(&rc, swarm_msg_data(m), sizeof rc);
    swarm_msg_free(m);
    swarm_demonitor(mon, SWARM_DEMONITOR_FLUSH);
    if (rc == 0 && out)
        *out = pid;
    return rc;
}

int swarm_gs_call(swarm_pid_t server, uint32_t tag, const void *req, size_t size, swarm_msg_t **reply,
                  int64_t timeout_ms, swarm_atom_t *why)
{
    if (!swarm__sched_current())
        return SWARM_ENOTPROC;
    if (!reply || tag >= SWARM_TAG_SYSTEM || (!req && size) || server == SWARM_PID_NONE ||
        timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    struct request rq = {server, SWARM__SIG_CALL, tag, req, size};
    return swarm__call(server, send_request, &rq, timeout_ms, reply, why);
}

int swarm_gs_cast(swarm_pid_t server, uint32_t tag, const void *data, size_t size)
{
    if (tag >= SWARM_TAG_SYSTEM)
        return SWARM_EINVAL;
    int rc = swarm__msg_send_kind(server, SWARM__SIG_CAST, tag, 0, data, size);
    return rc == SWARM_ESRCH ? 0 : rc;
}

int swarm_gs_reply(swarm_gs_from_t from, const void *data, size_t size)
{
    if (!data && size)
        return SWARM_EINVAL;
    int rc = swarm__msg_send_kind(from.pid, SWARM__SIG_REPLY, 0, from.corr, data, size);
    return rc == SWARM_ESRCH ? 0 : rc;
}

int swarm_gs_stop(swarm_pid_t server, swarm_reason_t reason, int64_t timeout_ms)
{
    if (!swarm__sched_current())
        return SWARM_ENOTPROC;
    if (!swarm__reason_valid(&reason) || server == SWARM_PID_NONE || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    unsigned char buf[sizeof reason.atom + SWARM_REASON_MAX];
    memcpy(buf, &reason.atom, sizeof reason.atom);
    if (reason.size)
        memcpy(buf + sizeof reason.atom, reason.data, reason.size);
    /* A call nobody answers: it ends with the DOWN (a call's ESRCH). */
    struct request rq = {server, SWARM__SIG_CALL, GS_TAG_STOP, buf, sizeof reason.atom + reason.size};
    swarm_msg_t *m;
    swarm_atom_t why = SWARM_ATOM_NORMAL;
    int rc = swarm__call(server, send_request, &rq, timeout_ms, &m, &why);
    if (rc == 0) { /* (a REPLY to a stop: cannot happen; nothing to keep) */
        swarm_msg_free(m);
        return 0;
    }
    if (rc != SWARM_ESRCH)
        return rc;
    return why == SWARM_ATOM_NOPROC ? SWARM_ESRCH : 0;
}
