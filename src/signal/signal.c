/*
 * signal/signal.c - the public calls of swarmrt/signal.h, over the
 * receiving side in msg/sig.c.
 */
#include <string.h>

#include "msg/sig.h"
#include "ptable/registry.h"
#include "reason/reason.h"
#include "sched/sched.h"
#include "signal/monitor.h"
#include "swarmrt.h"
#include "swarmrt/signal.h"

/* The running process's scheduler, or NULL outside a process. */
static swarm__sched_t *caller(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s && s->current ? s : NULL;
}

/* Leave a call: it was a switch point. */
static int leave(int rc)
{
    swarm__sched_t *s = swarm__sched_self();
    if (s && s->current)
        swarm__sig_poll(s->current);
    return rc;
}

int swarm_link(swarm_pid_t pid)
{
    swarm__sched_t *s = caller();
    if (!s)
        return SWARM_ENOTPROC;
    if (pid == SWARM_PID_NONE)
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    swarm_pid_t me = swarm__ptable_pid(p);
    if (pid == me || swarm__sig_linked(p, pid))
        return leave(0);
    if (swarm__sig_link_add(s, p, pid) != 0)
        return SWARM_ENOMEM;
    int rc = swarm__sig_send(s, pid, me, SWARM__SIG_LINK, NULL, NULL, 0);
    if (rc == 0)
        return leave(0);
    swarm__sig_link_del(p, pid);
    if (rc != SWARM_ESRCH)
        return rc;
    if (!(p->flags & SWARM__PF_TRAP_EXIT))
        return SWARM_ESRCH;
    /* Trapping: the caller hears noproc as an EXIT message from pid. */
    swarm_reason_t noproc = swarm_reason(SWARM_ATOM_NOPROC);
    rc = swarm__sig_send(s, me, pid, SWARM__SIG_EXIT, NULL, &noproc, 0);
    return leave(rc);
}

int swarm_unlink(swarm_pid_t pid)
{
    swarm__sched_t *s = caller();
    if (!s)
        return SWARM_ENOTPROC;
    if (pid == SWARM_PID_NONE)
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    if (swarm__sig_link_del(p, pid))
        swarm__sig_send(s, pid, swarm__ptable_pid(p), SWARM__SIG_UNLINK, NULL, NULL, 0);
    return leave(0);
}

int swarm_trap_exit(int on, int *old)
{
    swarm__sched_t *s = caller();
    if (!s)
        return SWARM_ENOTPROC;
    swarm__proc_t *p = s->current;
    if (old)
        *old = (p->flags & SWARM__PF_TRAP_EXIT) != 0;
    if (on)
        p->flags |= SWARM__PF_TRAP_EXIT;
    else
        p->flags &= (uint16_t)~SWARM__PF_TRAP_EXIT;
    return 0;
}

int swarm_exit_pid(swarm_pid_t pid, swarm_reason_t r)
{
    if (pid == SWARM_PID_NONE || !swarm__reason_valid(&r))
        return SWARM_EINVAL;
    swarm__sched_t *s = swarm__sched_self();
    swarm_pid_t from = s && s->current ? swarm__ptable_pid(s->current) : SWARM_PID_NONE;
    int rc = swarm__sig_send(s, pid, from, SWARM__SIG_EXIT, NULL, &r, 0);
    if (rc == SWARM_ESRCH)
        rc = 0; /* Erlang: an exit signal to a process that is gone is no error */
    return leave(rc);
}

int swarm__monitor(swarm_pid_t pid, swarm_ref_t *ref)
{
    swarm__sched_t *s = caller();
    if (!s)
        return SWARM_ENOTPROC;
    if (!ref)
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    swarm_pid_t me = swarm__ptable_pid(p);
    swarm_ref_t r = swarm_make_ref();
    if (swarm__sig_mon_add(s, p, 1, r, pid) != 0)
        return SWARM_ENOMEM;
    int rc = pid == SWARM_PID_NONE ? SWARM_ESRCH : swarm__sig_send(s, pid, me, SWARM__SIG_MONITOR, &r, NULL, 0);
    if (rc == SWARM_ESRCH) {
        /* Not alive: the DOWN comes at once, visible to a receive that
         * does not wait. */
        swarm_reason_t noproc = swarm_reason(SWARM_ATOM_NOPROC);
        rc = swarm__sig_send(s, me, pid, SWARM__SIG_DOWN, &r, &noproc, 0);
    }
    if (rc != 0) {
        swarm__sig_mon_del_out(p, r, NULL);
        return rc;
    }
    *ref = r;
    return leave(0);
}

int swarm_monitor(swarm_pid_t pid, swarm_ref_t *ref)
{
    if (caller() && pid == SWARM_PID_NONE)
        return SWARM_EINVAL; /* (outside a process: SWARM_ENOTPROC first) */
    return swarm__monitor(pid, ref);
}

/* Is m the DOWN message of monitor ref? */
static int is_down_of(const swarm_msg_t *m, swarm_ref_t ref)
{
    return m->kind == SWARM__SIG_NOTE && m->tag == SWARM_TAG_DOWN &&
           swarm_ref_eq(((const swarm__sig_body_t *)m->data)->ref, ref);
}

int swarm_demonitor(swarm_ref_t ref, unsigned flags)
{
    swarm__sched_t *s = caller();
    if (!s)
        return SWARM_ENOTPROC;
    if (flags & ~(SWARM_DEMONITOR_FLUSH | SWARM_DEMONITOR_INFO))
        return SWARM_EINVAL;
    swarm__proc_t *p = s->current;
    /* A DOWN already queued is made a message first: then "active" means
     * what Erlang's info option says (its DOWN has not come). */
    swarm__msg_take_queue(s, p);
    swarm_pid_t target;
    int active = swarm__sig_mon_del_out(p, ref, &target);
    if (active)
        swarm__sig_send(s, target, swarm__ptable_pid(p), SWARM__SIG_DEMONITOR, &ref, NULL, 0);
    /* An active monitor has no DOWN message yet (making one removes the
     * monitor): only an inactive one needs the scan, so a call that
     * demonitors after its reply costs nothing per queued message. */
    if ((flags & SWARM_DEMONITOR_FLUSH) && !active) {
        for (swarm_msg_t *m = p->save_head; m; m = m->lnext) {
            if (is_down_of(m, ref)) {
                swarm__msg_save_remove(s, p, m);
                break; /* one DOWN per monitor */
            }
        }
    }
    return leave(flags & SWARM_DEMONITOR_INFO ? active : 0);
}

int swarm_msg_exit(const swarm_msg_t *m, swarm_pid_t *from, swarm_reason_t *reason)
{
    if (!m || m->kind != SWARM__SIG_NOTE || m->tag != SWARM_TAG_EXIT)
        return 0;
    const swarm__sig_body_t *b = (const swarm__sig_body_t *)m->data;
    if (from)
        *from = b->pid;
    if (reason)
        *reason = (swarm_reason_t){b->atom, b->size, b->size ? b->data : NULL};
    return 1;
}

int swarm_msg_down(const swarm_msg_t *m, swarm_ref_t *ref, swarm_pid_t *pid, swarm_reason_t *reason)
{
    if (!m || m->kind != SWARM__SIG_NOTE || m->tag != SWARM_TAG_DOWN)
        return 0;
    const swarm__sig_body_t *b = (const swarm__sig_body_t *)m->data;
    if (ref)
        *ref = b->ref;
    if (pid)
        *pid = b->pid;
    if (reason)
        *reason = (swarm_reason_t){b->atom, b->size, b->size ? b->data : NULL};
    return 1;
}
