/*
 * runtime/stats.c - reading the counters.
 */
#include <string.h>

#include "runtime/swarm.h"
#include "swarmrt.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static void read_sched(swarm__sched_t *s, swarm_sched_stats_t *o)
{
#define COPY(name) o->name = LOAD(s->st.name);
    SWARM__COUNTERS(COPY)
#undef COPY
    o->queued = swarm__runq_len(&s->runq) + swarm__plist_len(&s->inbox) + swarm__plist_len(&s->pinned) +
                (LOAD(s->runnext) != NULL);
}

int swarm_sched_stats(swarm_t *sw, unsigned idx, swarm_sched_stats_t *out)
{
    if (!sw || !out || idx >= sw->nsched)
        return SWARM_EINVAL;
    read_sched(&sw->scheds[idx], out);
    return 0;
}

int swarm_stats(swarm_t *sw, swarm_stats_t *out)
{
    if (!sw || !out)
        return SWARM_EINVAL;
    memset(out, 0, sizeof *out);
    swarm_sched_stats_t *t = &out->total;
    for (unsigned i = 0; i < sw->nsched; i++) {
        swarm_sched_stats_t s;
        read_sched(&sw->scheds[i], &s);
#define SUM(name) t->name += s.name;
        SWARM__COUNTERS(SUM)
#undef SUM
        t->queued += s.queued;
    }
    t->queued += swarm__plist_len(&sw->injector);
    t->spawns += LOAD(sw->foreign_spawns);
    out->procs_live = LOAD(sw->live);
    out->procs_peak = LOAD(sw->peak);
    out->msgs_sent_total = t->msgs_sent + LOAD(sw->foreign_sent);
    out->msgs_delivered = t->msgs_received;
    out->msgs_dropped = t->msgs_dropped + LOAD(sw->foreign_dropped);
    out->msgs_rejected = LOAD(sw->rejected);
    uint64_t done = out->msgs_delivered + out->msgs_dropped;
    out->msgs_in_flight = out->msgs_sent_total > done ? out->msgs_sent_total - done : 0;
    return 0;
}
