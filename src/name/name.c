/*
 * name/name.c - the public calls of swarmrt/name.h, over the table in
 * ptable/names.c.
 */
#include "msg/sig.h"
#include "ptable/names.h"
#include "ptable/registry.h"
#include "reason/reason.h"
#include "sched/sched.h"
#include "signal/monitor.h"
#include "swarmrt.h"
#include "swarmrt/name.h"

/* The swarm a name call means: sw, or the caller's own. */
static swarm_t *names_of(swarm_t *sw)
{
    if (sw)
        return sw;
    swarm__sched_t *s = swarm__sched_self();
    return s && s->current ? s->swarm : NULL;
}

int swarm_register(swarm_atom_t name, swarm_pid_t pid)
{
    if (name == SWARM_ATOM_UNDEFINED || !swarm__atom_valid(name))
        return SWARM_EINVAL;
    swarm__sched_t *s = swarm__sched_self();
    swarm__target_t t;
    int rc = swarm__pid_resolve(pid, s ? s->swarm->id : 0, &t);
    if (rc != 0)
        return rc;
    if (!t.p)
        rc = SWARM_EINVAL;
    else
        rc = swarm__names_add(&t.sw->ptable.names, &t.sw->ptable, t.p, pid, name);
    swarm__pid_release(&t);
    return rc;
}

int swarm_unregister(swarm_t *sw, swarm_atom_t name)
{
    sw = names_of(sw);
    if (!sw)
        return SWARM_EINVAL;
    return swarm__names_del(&sw->ptable.names, &sw->ptable, name);
}

swarm_pid_t swarm_whereis(swarm_t *sw, swarm_atom_t name)
{
    sw = names_of(sw);
    return sw ? swarm__names_find(&sw->ptable.names, name) : SWARM_PID_NONE;
}

int swarm_send_name(swarm_t *sw, swarm_atom_t name, uint32_t tag, const void *data, size_t size)
{
    sw = names_of(sw);
    if (!sw)
        return SWARM_EINVAL;
    swarm_pid_t pid = swarm__names_find(&sw->ptable.names, name);
    if (pid == SWARM_PID_NONE)
        return SWARM_ENOENT;
    /* The process may end between the lookup and the send: its name is
     * gone then too. */
    int rc = swarm_send(pid, tag, data, size);
    return rc == SWARM_ESRCH ? SWARM_ENOENT : rc;
}

int swarm_monitor_name(swarm_atom_t name, swarm_ref_t *ref)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    /* An unknown name: a monitor that is down already (M5). */
    return swarm__monitor(swarm__names_find(&s->swarm->ptable.names, name), ref);
}
