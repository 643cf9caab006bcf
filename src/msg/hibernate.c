/*
 * msg/hibernate.c - swarm_hibernate (swarmrt/proc.h): a process waits for
 * its next message with no stack at all, then starts afresh in a function
 * of its choice (Erlang's erlang:hibernate/3).
 *
 * The wait is a receive's (woken through the mailbox only, sched.h:
 * swarm__sched_hibernate), with two differences. Its commit hook also
 * refuses while a message set aside by an earlier receive waits, as such a
 * message wakes a hibernating process at once. And whatever wakes it, the
 * process starts at the top of an empty stack: a signal alone (an info
 * request, a link's exit that is not trapped) is handled there, and if no
 * message came with it the process hibernates again, its stack dropped
 * again. Only a message calls the continuation.
 */
#include "msg/msg.h"
#include "msg/sig.h"

#include "base/sys.h"
#include "mbox/mailbox.h"
#include "ptable/res.h"
#include "sched/sched.h"
#include "swarmrt.h"

/* The continuation: what the process runs when a message wakes it. On
 * the process's resource list from swarm_hibernate until a message calls
 * it, so an exit meanwhile (a kill, destroy) frees it. */
typedef struct hib {
    swarm__res_t res;
    swarm_fn fn;
    void *arg;
} hib_t;

static void hib_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    swarm__free(r);
}

/* The park's commit hook, on the scheduler's stack (msg.c's mbox_commit,
 * plus: a message already set aside wakes it at once). */
static int hib_commit(swarm__proc_t *p, void *ctx)
{
    (void)ctx;
    return !p->save_head && swarm__mbox_mark_empty(&p->mbox);
}

static SWARM_NORETURN void hibernate(swarm__sched_t *s, swarm__proc_t *p, hib_t *h)
{
    p->wait_kind = SWARM_WAIT_HIBERNATE;
    p->wait_tag = 0;
    swarm__sched_hibernate(s, p, hib_commit, h);
}

int swarm_hibernate(swarm_fn fn, void *arg)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!fn)
        return SWARM_EINVAL;
    hib_t *h = swarm__malloc(sizeof *h);
    if (!h)
        return SWARM_ENOMEM;
    h->fn = fn;
    h->arg = arg;
    h->res.release = hib_release;
    swarm__res_add(&s->current->res, &h->res);
    hibernate(s, s->current, h);
}

void swarm__msg_hibernate_resume(void *cont, swarm_fn *fn, void **arg)
{
    hib_t *h = cont;
    for (;;) {
        swarm__sched_t *s = swarm__sched_self();
        swarm__proc_t *p = s->current;
        /* Every entry to the save list, in order; signals are handled on
         * the way (an exit signal may end the process here: its resource
         * list frees h). */
        swarm__msg_take_queue(s, p);
        if (p->save_head)
            break;
        if (!swarm__mbox_busy(&p->mbox))
            hibernate(s, p, h); /* signals only: back to sleep */
        /* A sender is between its exchange and its link: let it run. */
        swarm__sched_switch_out(s, p, SWARM__ACT_YIELD);
    }
    swarm__proc_t *p = swarm__sched_current();
    p->wait_kind = SWARM_WAIT_NONE;
    swarm__res_remove(&p->res, &h->res);
    *fn = h->fn;
    *arg = h->arg;
    swarm__free(h);
}
