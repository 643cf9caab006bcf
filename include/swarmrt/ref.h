/*
 * swarmrt/ref.h - references: unique values for correlating a request
 * with its reply, and for naming monitors (Erlang's make_ref()).
 *
 * A reference is three 32-bit words, as Erlang's local references are: no
 * two swarm_make_ref() calls in one OS process return equal references
 * (a 64-bit counter), and w[2] is drawn at random when the OS process
 * first makes one, so references of different runs differ too.
 */
#ifndef SWARMRT_REF_H
#define SWARMRT_REF_H

#include <stdint.h>

#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swarm_ref {
    uint32_t w[3];
} swarm_ref_t;

/* A new reference. Context: any thread. Blocking: never. */
SWARM_API swarm_ref_t swarm_make_ref(void);

/* Nonzero if a and b are the same reference. */
static inline int swarm_ref_eq(swarm_ref_t a, swarm_ref_t b)
{
    return a.w[0] == b.w[0] && a.w[1] == b.w[1] && a.w[2] == b.w[2];
}

/* The all-zero reference, which swarm_make_ref never returns. */
static inline int swarm_ref_is_none(swarm_ref_t r) { return !(r.w[0] | r.w[1] | r.w[2]); }

#ifdef __cplusplus
}
#endif

#endif
