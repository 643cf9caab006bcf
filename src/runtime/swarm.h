/*
 * runtime/swarm.h - the swarm object: everything one runtime instance owns.
 */
#ifndef SWARM_RUNTIME_SWARM_H
#define SWARM_RUNTIME_SWARM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "proc/proc.h"
#include "sched/runq.h"
#include "sched/sched.h"
#include "stack/stack.h"
#include "swarmrt/runtime.h"

struct swarm {
    swarm_config_t cfg;
    char name[32];
    unsigned id;                    /* 1..255, in every pid */
    unsigned nsched;
    unsigned nsched_init;           /* schedulers whose init succeeded */
    swarm__sched_t *scheds;
    swarm__ptable_t ptable;
    swarm__stack_arena_t *stacks;
    size_t stack_size;              /* default, rounded to its class */

    swarm__plist_t injector;
    pthread_mutex_t idle_lock;
    swarm__sched_t *idle_head;
    _Atomic uint32_t npidle;
    _Atomic uint32_t nspinning;
    _Atomic int shutdown;

    /* Live processes; waiters sleep on live_word until it reaches zero. */
    _Atomic uint64_t live;
    _Atomic uint64_t peak;
    _Atomic uint32_t live_word;

    /* Message accounting done outside the schedulers' counters. */
    _Atomic uint64_t foreign_sent;    /* accepted sends from other threads/swarms */
    _Atomic uint64_t foreign_dropped; /* drops seen outside a scheduler (send-time, destroy) */
    _Atomic uint64_t rejected;        /* sends refused with an error */
    _Atomic uint64_t foreign_spawns;

    /* Deterministic mode. */
    int deterministic;
    uint64_t det_rng;
    _Atomic int64_t vclock_ms;

    /* Watchdog. */
    pthread_t watchdog;
    int watchdog_started;
    _Atomic uint32_t watchdog_word;
    _Atomic int watchdog_sleeping;
};

/* The swarm with this id, or NULL. Any thread. */
swarm_t *swarm__registry_get(unsigned id);

/* Milliseconds on the swarm's clock (virtual in deterministic mode). */
int64_t swarm__now_ms(swarm_t *sw);

#endif
