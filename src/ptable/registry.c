/*
 * ptable/registry.c - the swarms of this OS process by id; pid resolution.
 */
#include "ptable/registry.h"

#include <pthread.h>
#include <stdatomic.h>

#include "base/compiler.h"
#include "base/deadline.h"
#include "base/sys.h"
#include "swarmrt/error.h"

/* Swarm ids are handed out round-robin so a pid of a destroyed swarm is
 * unlikely to name a live one; generations start at a random base per
 * swarm for the same reason.
 *
 * Lifetime for senders. Any thread may send to (or ask about) a pid at any
 * time, also while the pid's swarm is being destroyed. Such a caller takes
 * a reference on the registry slot (refs += 1, then reads sw) and drops it
 * when it no longer touches the swarm. Destroy first unpublishes the swarm
 * (sw = NULL), then waits for refs to reach 0 before it releases anything.
 * Both sides are sequentially consistent, so either the caller sees NULL
 * (and answers SWARM_ESRCH) or destroy sees its reference and waits for it.
 * The id stays reserved until the swarm is freed, so a drained slot is
 * never handed to a new swarm while an old reference is out. */
swarm__reg_slot_t swarm__registry[SWARM__MAX_SWARMS];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned registry_next = 1;

void swarm__registry_put(unsigned id)
{
    swarm__reg_slot_t *e = &swarm__registry[id];
    if (atomic_fetch_sub(&e->refs, 1) == 1 && atomic_load(&e->waiting))
        swarm__futex_wake(&e->refs, INT32_MAX);
}

swarm_t *swarm__registry_get(unsigned id)
{
    if (id == 0 || id >= SWARM__MAX_SWARMS)
        return NULL;
    swarm__reg_slot_t *e = &swarm__registry[id];
    atomic_fetch_add(&e->refs, 1);
    swarm_t *sw = atomic_load(&e->sw);
    if (!sw)
        swarm__registry_put(id);
    return sw;
}


unsigned swarm__registry_add(swarm_t *sw, swarm__ptable_t *pt)
{
    unsigned id = 0;
    pthread_mutex_lock(&registry_lock);
    for (unsigned k = 0; k < SWARM__MAX_SWARMS - 1; k++) {
        unsigned cand = registry_next;
        registry_next = registry_next % (SWARM__MAX_SWARMS - 1) + 1;
        if (!swarm__registry[cand].reserved) {
            swarm__registry[cand].reserved = 1;
            atomic_store(&swarm__registry[cand].waiting, 0);
            swarm__registry[cand].pt = pt;
            atomic_store(&swarm__registry[cand].sw, sw);
            id = cand;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return id;
}

void swarm__registry_close(unsigned id)
{
    if (!id)
        return;
    atomic_store(&swarm__registry[id].sw, NULL);
    atomic_store(&swarm__registry[id].waiting, 1);
}

int swarm__registry_drain(unsigned id, int64_t deadline_ns)
{
    if (!id)
        return 0;
    swarm__reg_slot_t *e = &swarm__registry[id];
    for (;;) {
        uint32_t v = atomic_load(&e->refs);
        if (v == 0)
            return 0;
        int64_t left = swarm__ns_until(swarm__clock_ns(), deadline_ns);
        if (left == 0)
            return SWARM_ETIMEDOUT;
        swarm__futex_wait(&e->refs, v, left < 1000000 ? left : 1000000);
    }
}

void swarm__registry_remove(unsigned id)
{
    if (!id)
        return;
    pthread_mutex_lock(&registry_lock);
    atomic_store(&swarm__registry[id].sw, NULL);
    swarm__registry[id].reserved = 0;
    pthread_mutex_unlock(&registry_lock);
}



