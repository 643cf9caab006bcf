/*
 * task/task.c - swarmrt/task.h: a task is spawned monitored by its owner;
 * its result is a message with tag SWARM_TAG_TASK, sent before it ends,
 * so the owner finds it ahead of the DOWN (one sender's order), and a
 * DOWN with nothing before it means the task ended without a result.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/deadline.h"
#include "msg/msg.h"
#include "msg/sig.h"
#include "proc/proc.h"
#include "sched/sched.h"
#include "swarmrt.h"
#include "swarmrt/task.h"

int swarm_task_spawn(swarm_task_t *t, swarm_fn fn, void *arg)
{
    if (!swarm__sched_current())
        return SWARM_ENOTPROC;
    if (!t)
        return SWARM_EINVAL;
    return swarm__spawn_bound(&t->pid, fn, arg, NULL, 0, &t->mon, 1);
}

SWARM_NORETURN void swarm_task_return(const void *data, size_t size)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current) {
        fprintf(stderr, "swarmrt: swarm_task_return() called outside a process\n");
        abort();
    }
    swarm__psig_t *g = s->current->sig;
    swarm_pid_t owner = g ? g->task_owner : SWARM_PID_NONE;
    if (owner != SWARM_PID_NONE) {
        int rc = swarm__msg_send_kind(owner, SWARM__SIG_MSG, SWARM_TAG_TASK, 0, data, size);
        if (rc != 0 && rc != SWARM_ESRCH)
            swarm_exit_with(swarm_reason(SWARM_ATOM_NOMEM));
    }
    swarm_exit(SWARM_EXIT_NORMAL);
}

/* Is m the result or the DOWN of task t? 1 result, 2 DOWN, 0 neither. */
static int of_task(const swarm_msg_t *m, const swarm_task_t *t)
{
    if (t->pid == SWARM_PID_NONE)
        return 0;
    if (m->kind == SWARM__SIG_MSG && m->tag == SWARM_TAG_TASK && m->from == t->pid)
        return 1;
    swarm_ref_t r;
    return swarm_msg_down(m, &r, NULL, NULL) && swarm_ref_eq(r, t->mon) ? 2 : 0;
}

typedef struct many {
    swarm_task_t *tasks;
    size_t n;
} many_t;

static int of_any(const swarm_msg_t *m, void *ctx)
{
    const many_t *k = ctx;
    for (size_t i = 0; i < k->n; i++)
        if (of_task(m, &k->tasks[i]))
            return 1;
    return 0;
}

/* Settle task t with m (its result or DOWN) into o; t is spent. */
static void settle(swarm_task_t *t, swarm_msg_t *m, swarm_task_outcome_t *o)
{
    if (of_task(m, t) == 1) {
        o->rc = 0;
        o->result = m;
        swarm_demonitor(t->mon, SWARM_DEMONITOR_FLUSH);
    } else {
        /* A DOWN with no result before it: normal is a task that returned
         * without swarm_task_return (0, no result). */
        swarm_reason_t why;
        swarm_msg_down(m, NULL, NULL, &why);
        o->rc = why.atom == SWARM_ATOM_NORMAL ? 0 : SWARM_ESRCH;
        o->why = why.atom;
        o->result = NULL;
        swarm_msg_free(m);
    }
    t->pid = SWARM_PID_NONE;
}

int swarm_task_await_many(swarm_task_t *tasks, size_t n, size_t want, swarm_task_outcome_t *out, int64_t timeout_ms)
{
    if (!swarm__sched_current())
        return SWARM_ENOTPROC;
    if ((n && (!tasks || !out)) || want > n || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    if (!want)
        want = n;
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = (swarm_task_outcome_t){SWARM_ETIMEDOUT, NULL, SWARM_ATOM_NORMAL};
        if (tasks[i].pid == SWARM_PID_NONE) {
            out[i].rc = SWARM_EINVAL; /* spent: counts as done, with nothing */
            done++;
        }
    }
    int64_t deadline = timeout_ms > 0 ? swarm__deadline_ms(swarm_now_ms(), timeout_ms) : SWARM__NEVER;
    many_t k = {tasks, n};
    while (done < want) {
        int64_t left = timeout_ms;
        if (timeout_ms > 0 && deadline != SWARM__NEVER) {
            left = deadline - swarm_now_ms();
            if (left <= 0)
                left = 0;
        }
        swarm_msg_t *m;
        if (swarm_recv_match(of_any, &k, &m, left) != 0)
            return SWARM_ETIMEDOUT;
        for (size_t i = 0; i < n; i++) {
            if (of_task(m, &tasks[i])) {
                settle(&tasks[i], m, &out[i]);
                done++;
                break;
            }
        }
    }
    return 0;
}

int swarm_task_await(swarm_task_t *t, swarm_msg_t **result, int64_t timeout_ms, swarm_atom_t *why)
{
    if (!swarm__sched_current())
        return SWARM_ENOTPROC;
    if (!t || !result || t->pid == SWARM_PID_NONE || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    swarm_task_outcome_t o;
    int rc = swarm_task_await_many(t, 1, 1, &o, timeout_ms);
    if (rc != 0)
        return rc;
    if (o.rc == 0)
        *result = o.result;
    else if (why)
        *why = o.why;
    return o.rc;
}
