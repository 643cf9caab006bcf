/*
 * ptable/res.h - the resource list: everything a process got through the
 * runtime and must give back when it ends (invariant 6).
 *
 * A resource is a node embedded in whatever it stands for, with the
 * function that gives it back. The list hangs off the PCB, is touched only
 * by code running as the process (or by its exit), and is walked newest
 * first by proc/exit.c whatever ended the process: return, swarm_exit, a
 * crash, a stack overflow, destroy. Messages (msg/) register here at spawn;
 * links, monitors, names, fds and Lua states will.
 */
#ifndef SWARM_PTABLE_RES_H
#define SWARM_PTABLE_RES_H

#include <stddef.h>

struct swarm__proc;
struct swarm__sched;

typedef struct swarm__res {
    struct swarm__res *next, *prev;
    /* Give the resource back: p is ending. s is the scheduler running the
     * exit, or NULL (destroy, on a thread outside the swarm). The node is
     * already off the list. */
    void (*release)(struct swarm__res *r, struct swarm__proc *p, struct swarm__sched *s);
} swarm__res_t;

/* The list's head lives in the PCB (swarm__proc_t.res). */
static inline void swarm__res_add(swarm__res_t **head, swarm__res_t *r)
{
    r->prev = NULL;
    r->next = *head;
    if (*head)
        (*head)->prev = r;
    *head = r;
}

static inline void swarm__res_remove(swarm__res_t **head, swarm__res_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        *head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

#endif
