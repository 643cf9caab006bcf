/*
 * wheel/wheel.c - hierarchical timing wheel.
 *
 * Invariant: a timer filed at a level L below the top has a deadline in
 * the same 64^(L+1)-tick block as w->now but not in the same 64^L-tick
 * block, so those slots never wrap and the first occupied level (from 0 up)
 * holds the earliest deadline. The top level is a ring: it holds everything
 * further away, up to 63 of its slots ahead (later deadlines are clamped
 * there and re-filed when that slot comes due), and is searched circularly
 * from the current slot.
 */
#include "wheel/wheel.h"

#include <string.h>

#define BITS 6
#define TOP (SWARM__WHEEL_LEVELS - 1)
#define TOP_SHIFT (BITS * TOP)
#define MAX_DELTA ((int64_t)(SWARM__WHEEL_SLOTS - 1) << TOP_SHIFT)

void swarm__wheel_init(swarm__wheel_t *w, int64_t now)
{
    memset(w, 0, sizeof *w);
    w->now = now;
}

static unsigned level_for(int64_t now, int64_t when)
{
    uint64_t diff = ((uint64_t)now ^ (uint64_t)when) | (SWARM__WHEEL_SLOTS - 1);
    unsigned significant = 63 - (unsigned)__builtin_clzll(diff);
    unsigned level = significant / BITS;
    return level < TOP ? level : TOP;
}

static void file(swarm__wheel_t *w, swarm__timer_t *t)
{
    int64_t when = t->deadline;
    if (when < w->now)
        when = w->now;
    if (when - w->now > MAX_DELTA)
        when = w->now + MAX_DELTA;
    unsigned level = level_for(w->now, when);
    unsigned slot = (unsigned)(when >> (BITS * level)) & (SWARM__WHEEL_SLOTS - 1);
    t->level = (uint8_t)level;
    t->slot = (uint8_t)slot;
    t->prev = NULL;
    t->next = w->slots[level][slot];
    if (t->next)
        t->next->prev = t;
    w->slots[level][slot] = t;
    w->occupied[level] |= (uint64_t)1 << slot;
    t->linked = 1;
}

void swarm__wheel_insert(swarm__wheel_t *w, swarm__timer_t *t)
{
    file(w, t);
    w->count++;
}

static void unlink_timer(swarm__wheel_t *w, swarm__timer_t *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        w->slots[t->level][t->slot] = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (!w->slots[t->level][t->slot])
        w->occupied[t->level] &= ~((uint64_t)1 << t->slot);
    t->next = t->prev = NULL;
    t->linked = 0;
}

void swarm__wheel_remove(swarm__wheel_t *w, swarm__timer_t *t)
{
    if (!t->linked)
        return;
    unlink_timer(w, t);
    w->count--;
}

/* Start tick of the next occupied slot of a level, or -1. */
static int64_t level_next(const swarm__wheel_t *w, unsigned level, unsigned *slot_out)
{
    uint64_t occ = w->occupied[level];
    if (!occ)
        return -1;
    unsigned shift = BITS * level;
    unsigned pos = (unsigned)(w->now >> shift) & (SWARM__WHEEL_SLOTS - 1);
    if (level == TOP) {
        uint64_t rot = pos ? (occ >> pos) | (occ << (SWARM__WHEEL_SLOTS - pos)) : occ;
        unsigned d = (unsigned)__builtin_ctzll(rot);
        *slot_out = (pos + d) & (SWARM__WHEEL_SLOTS - 1);
        return (w->now & ~(((int64_t)1 << shift) - 1)) + ((int64_t)d << shift);
    }
    /* Slots before pos are empty by the invariant; search from pos. */
    uint64_t ahead = occ >> pos;
    if (!ahead)
        return -1;
    unsigned slot = pos + (unsigned)__builtin_ctzll(ahead);
    int64_t block = (int64_t)1 << (shift + BITS);
    int64_t start = (w->now & ~(block - 1)) + ((int64_t)slot << shift);
    *slot_out = slot;
    return start;
}

int64_t swarm__wheel_next(const swarm__wheel_t *w)
{
    if (!w->count)
        return INT64_MAX;
    for (unsigned level = 0; level < SWARM__WHEEL_LEVELS; level++) {
        unsigned slot;
        int64_t start = level_next(w, level, &slot);
        if (start >= 0)
            return start > w->now ? start : w->now;
    }
    return INT64_MAX;
}

size_t swarm__wheel_advance(swarm__wheel_t *w, int64_t now,
                            void (*fire)(swarm__timer_t *t, void *ctx), void *ctx)
{
    size_t fired = 0;
    while (w->count) {
        unsigned level, slot = 0;
        int64_t start = -1;
        for (level = 0; level < SWARM__WHEEL_LEVELS; level++) {
            start = level_next(w, level, &slot);
            if (start >= 0)
                break;
        }
        if (start < 0 || start > now)
            break;
        if (start > w->now)
            w->now = start;
        swarm__timer_t *list = w->slots[level][slot];
        w->slots[level][slot] = NULL;
        w->occupied[level] &= ~((uint64_t)1 << slot);
        while (list) {
            swarm__timer_t *t = list;
            list = t->next;
            t->next = t->prev = NULL;
            t->linked = 0;
            if (t->deadline <= now) {
                w->count--;
                fired++;
                fire(t, ctx);
            } else {
                file(w, t); /* cascade to a lower level */
            }
        }
    }
    if (now > w->now)
        w->now = now;
    return fired;
}
