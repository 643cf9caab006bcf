/*
 * wheel/wheel.h - a hierarchical timing wheel with 1 ms ticks.
 *
 * Six levels of 64 slots: level L holds timers due within 64^(L+1) ms of the
 * wheel's current time, in slots 64^L ms wide, so insert, remove and
 * "what is due next" are O(1) (a bitmap per level finds the next occupied
 * slot). A timer whose slot comes due at a higher level is re-filed at a
 * lower one (cascade) until it fires at level 0. Range: 63 * 2^30 ms (2
 * years); later deadlines are clamped and re-filed when reached.
 *
 * A wheel belongs to one scheduler and is touched only by its thread (no
 * locks). Timers are plain data: the scheduler decides what firing means.
 */
#ifndef SWARM_WHEEL_WHEEL_H
#define SWARM_WHEEL_WHEEL_H

#include <stddef.h>
#include <stdint.h>

#define SWARM__WHEEL_LEVELS 6
#define SWARM__WHEEL_SLOTS 64

struct swarm__proc;

typedef struct swarm__timer {
    struct swarm__timer *next, *prev;
    int64_t deadline;          /* in ticks (ms) */
    struct swarm__proc *proc;  /* the waiting process */
    uint32_t gen;              /* its generation */
    uint32_t wait_seq;         /* which of its waits this timer belongs to */
    uint32_t seq;              /* bumped when the entry is recycled */
    /* What firing means, given by whoever armed the timer. */
    int (*fire)(struct swarm__proc *p, uint64_t pid, uint32_t wait_seq);
    /* Or, for a timer that belongs to no wait (proc NULL): ctx_fire(ctx,
     * now, &deadline); nonzero: fire again at the new *deadline. */
    int (*ctx_fire)(void *ctx, int64_t now, int64_t *deadline);
    void *ctx;
    uint8_t level, slot, linked;
} swarm__timer_t;

typedef struct swarm__wheel {
    int64_t now;               /* ticks processed up to */
    size_t count;
    uint64_t occupied[SWARM__WHEEL_LEVELS];
    swarm__timer_t *slots[SWARM__WHEEL_LEVELS][SWARM__WHEEL_SLOTS];
} swarm__wheel_t;

void swarm__wheel_init(swarm__wheel_t *w, int64_t now);
void swarm__wheel_insert(swarm__wheel_t *w, swarm__timer_t *t);
void swarm__wheel_remove(swarm__wheel_t *w, swarm__timer_t *t);

/* The earliest tick at which something may be due (a lower bound that is
 * exact for level-0 timers), or INT64_MAX when empty. */
int64_t swarm__wheel_next(const swarm__wheel_t *w);

/* Advance to tick now, calling fire(t, ctx) for every timer due (t is
 * unlinked first; fire owns it afterwards). Returns the number fired. */
size_t swarm__wheel_advance(swarm__wheel_t *w, int64_t now,
                            void (*fire)(swarm__timer_t *t, void *ctx), void *ctx);

#endif
