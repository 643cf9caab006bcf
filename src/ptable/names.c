/*
 * ptable/names.c - registered names (names.h). One mutex per swarm: names
 * change at process start and end, not per message; a lookup takes it
 * too (an uncontended lock is ~20 ns, next to a send's ~50).
 */
#include "ptable/names.h"

#include <string.h>

#include "base/sys.h"
#include "swarmrt/error.h"

#define DELETED UINT32_MAX

void swarm__names_init(swarm__names_t *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
}

void swarm__names_destroy(swarm__names_t *t)
{
    swarm__free(t->tab);
    t->tab = NULL;
    pthread_mutex_destroy(&t->lock);
}

static uint32_t hash_atom(swarm_atom_t a) { return a * 2654435761u; }

/* [lock] The slot of name, or NULL. */
static swarm__name_slot_t *lookup(swarm__names_t *t, swarm_atom_t name)
{
    if (!t->tab)
        return NULL;
    uint32_t mask = t->cap - 1;
    for (uint32_t i = hash_atom(name) & mask;; i = (i + 1) & mask) {
        swarm__name_slot_t *s = &t->tab[i];
        if (s->atom1 == 0)
            return NULL;
        if (s->atom1 == name + 1)
            return s;
    }
}

/* [lock] Room for one more (live + deleted stay under half the table). */
static int reserve(swarm__names_t *t)
{
    if (t->tab && (t->used + 1) * 2 <= t->cap)
        return 0;
    uint32_t live = 0;
    for (uint32_t i = 0; t->tab && i < t->cap; i++)
        live += t->tab[i].atom1 != 0 && t->tab[i].atom1 != DELETED;
    uint32_t cap = 16;
    while ((live + 1) * 2 > cap)
        cap *= 2;
    swarm__name_slot_t *tab = swarm__calloc(cap, sizeof *tab);
    if (!tab)
        return SWARM_ENOMEM;
    for (uint32_t i = 0; t->tab && i < t->cap; i++) {
        swarm__name_slot_t *s = &t->tab[i];
        if (s->atom1 == 0 || s->atom1 == DELETED)
            continue;
        uint32_t j = hash_atom(s->atom1 - 1) & (cap - 1);
        while (tab[j].atom1)
            j = (j + 1) & (cap - 1);
        tab[j] = *s;
    }
    swarm__free(t->tab);
    t->tab = tab;
    t->cap = cap;
    t->used = live;
    return 0;
}

int swarm__names_add(swarm__names_t *t, swarm__ptable_t *pt, swarm__proc_t *p, swarm_pid_t pid, swarm_atom_t name)
{
    pthread_mutex_lock(&t->lock);
    int rc = reserve(t);
    uint32_t none = 0;
    if (rc == 0 && lookup(t, name))
        rc = SWARM_EEXIST;
    /* seq_cst: the exit path stores EXITING, then reads name1 with an RMW;
     * of the two, one sees the other (swarm__names_release). */
    else if (rc == 0 && !atomic_compare_exchange_strong(&p->name1, &none, name + 1))
        /* Named already: this process, or the slot's next owner when pid
         * has ended (the slot is shared by its owners, one at a time). */
        rc = swarm__ptable_live(pt, p, pid) ? SWARM_EEXIST : SWARM_ESRCH;
    else if (rc == 0 && !swarm__ptable_live(pt, p, pid)) {
        atomic_store_explicit(&p->name1, 0, memory_order_relaxed);
        rc = SWARM_ESRCH;
    } else if (rc == 0) {
        uint32_t mask = t->cap - 1, i = hash_atom(name) & mask;
        while (t->tab[i].atom1 && t->tab[i].atom1 != DELETED)
            i = (i + 1) & mask;
        if (t->tab[i].atom1 == 0)
            t->used++;
        t->tab[i].atom1 = name + 1;
        t->tab[i].pid = pid;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

/* [lock] Remove slot s and clear its process's name. */
static void remove_slot(swarm__ptable_t *pt, swarm__name_slot_t *s)
{
    swarm__proc_t *p = swarm__ptable_slot(pt, s->pid);
    if (p && atomic_load_explicit(&p->name1, memory_order_relaxed) == s->atom1)
        atomic_store_explicit(&p->name1, 0, memory_order_relaxed);
    s->atom1 = DELETED;
    s->pid = SWARM_PID_NONE;
}

int swarm__names_del(swarm__names_t *t, swarm__ptable_t *pt, swarm_atom_t name)
{
    pthread_mutex_lock(&t->lock);
    swarm__name_slot_t *s = lookup(t, name);
    if (s)
        remove_slot(pt, s);
    pthread_mutex_unlock(&t->lock);
    return s ? 0 : SWARM_ENOENT;
}

swarm_pid_t swarm__names_find(swarm__names_t *t, swarm_atom_t name)
{
    pthread_mutex_lock(&t->lock);
    swarm__name_slot_t *s = lookup(t, name);
    swarm_pid_t pid = s ? s->pid : SWARM_PID_NONE;
    pthread_mutex_unlock(&t->lock);
    return pid;
}

void swarm__names_release(swarm__names_t *t, swarm__proc_t *p, swarm_pid_t pid)
{
    /* An RMW (a full barrier) after the EXITING store: an add whose CAS
     * comes later sees EXITING and backs out; one that came earlier is
     * seen here. A process that never had a name takes no lock. */
    uint32_t a1 = atomic_fetch_or(&p->name1, 0);
    if (!a1)
        return;
    pthread_mutex_lock(&t->lock);
    swarm__name_slot_t *s = lookup(t, a1 - 1);
    if (s && s->pid == pid) {
        s->atom1 = DELETED;
        s->pid = SWARM_PID_NONE;
    }
    atomic_store_explicit(&p->name1, 0, memory_order_relaxed);
    pthread_mutex_unlock(&t->lock);
}
