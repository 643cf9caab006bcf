/*
 * reason/reason.h - atoms and reasons, for the layers above
 * (the public calls are in swarmrt/reason.h).
 */
#ifndef SWARM_REASON_REASON_H
#define SWARM_REASON_REASON_H

#include "swarmrt/error.h"
#include "swarmrt/reason.h"

/* Nonzero if some call handed out this atom (or it is built in). */
int swarm__atom_valid(swarm_atom_t atom);

/* Nonzero if r can be carried: a valid atom, size <= SWARM_REASON_MAX,
 * data present when size is. */
static inline int swarm__reason_valid(const swarm_reason_t *r)
{
    return swarm__atom_valid(r->atom) && r->size <= SWARM_REASON_MAX && (r->data || !r->size);
}

#endif
