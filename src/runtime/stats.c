/*
 * runtime/stats.c - reading the counters, and where the memory is.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sys.h"
#include "mem/pool.h"
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

/* ---- swarm_memory ---- */

/* Resident bytes of [p, p + len). */
static size_t resident(const void *p, size_t len) { return swarm__resident_pages(p, len) * swarm__page_size(); }

static size_t plist_resident(const swarm__plist_t *l) { return resident(l->buf, l->map_len); }

/* A "Name:   N kB" line of /proc/self/status, in bytes (0 if absent). */
static size_t status_kb(const char *name)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return 0;
    char line[128];
    size_t len = strlen(name), kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, len) == 0 && line[len] == ':') {
            kb = strtoull(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb * 1024;
}

int swarm_memory(swarm_t *sw, swarm_memory_t *out)
{
    if (!sw || !out)
        return SWARM_EINVAL;
    memset(out, 0, sizeof *out);
    swarm__ptable_t *t = &sw->ptable;
    size_t used = swarm__ptable_used(t);
    out->procs = resident(t->procs, used * sizeof *t->procs);
    out->tables = resident(t->free_idx, (size_t)t->max * sizeof *t->free_idx) +
                  resident(t->mbound, used * sizeof *t->mbound) +
                  resident(t->compact, used * sizeof *t->compact) + plist_resident(&sw->injector) +
                  plist_resident(&sw->high);
    for (unsigned i = 0; i < sw->nsched_init; i++)
        out->tables += plist_resident(&sw->scheds[i].inbox) + plist_resident(&sw->scheds[i].pinned);
    out->stacks = swarm__stack_resident_pages(sw->stacks) * swarm__page_size();
    swarm__pool_stats_t ps;
    swarm__pool_stats(&ps);
    struct mallinfo2 mi = mallinfo2();
    out->heap = ps.slab_bytes + ps.huge_bytes + mi.uordblks + mi.hblkhd;
    out->page_tables = status_kb("VmPTE");
    return 0;
}
