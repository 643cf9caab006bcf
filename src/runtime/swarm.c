/*
 * runtime/swarm.c - swarm lifecycle, the registry of live swarms, clock,
 * configuration and info.
 */
#include "runtime/swarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "msg/msg.h"
#include "swarmrt.h"

#if SWARM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Swarm ids are handed out round-robin so a pid of a destroyed swarm is
 * unlikely to name a live one; generations start at a random base per
 * swarm for the same reason. */
#define MAX_SWARMS 256
static _Atomic(swarm_t *) registry[MAX_SWARMS];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned registry_next = 1;

swarm_t *swarm__registry_get(unsigned id)
{
    return id < MAX_SWARMS ? atomic_load_explicit(&registry[id], memory_order_acquire) : NULL;
}

static unsigned registry_add(swarm_t *sw)
{
    unsigned id = 0;
    pthread_mutex_lock(&registry_lock);
    for (unsigned k = 0; k < MAX_SWARMS - 1; k++) {
        unsigned cand = registry_next;
        registry_next = registry_next % (MAX_SWARMS - 1) + 1;
        if (!atomic_load(&registry[cand])) {
            atomic_store_explicit(&registry[cand], sw, memory_order_release);
            id = cand;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return id;
}

static void registry_remove(swarm_t *sw)
{
    pthread_mutex_lock(&registry_lock);
    if (sw->id)
        atomic_store_explicit(&registry[sw->id], NULL, memory_order_release);
    pthread_mutex_unlock(&registry_lock);
}

int64_t swarm__now_ms(swarm_t *sw)
{
    if (sw && sw->deterministic)
        return atomic_load_explicit(&sw->vclock_ms, memory_order_relaxed);
    return swarm__clock_ns() / 1000000;
}

int64_t swarm_now_ms(void)
{
    return swarm__now_ms(swarm_current());
}

void swarm_config_init(swarm_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "swarm";
    cfg->guard_mode = SWARM_GUARD_AUTO;
}

static int check_config(swarm_config_t *c)
{
    if (!c->name)
        c->name = "swarm";
    if (!c->schedulers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->schedulers = n > 0 ? (unsigned)n : 1;
    }
    if (c->schedulers > SWARM_LIMIT_SCHEDULERS)
        return SWARM_EINVAL;
    if (!c->max_procs)
        c->max_procs = SWARM_DEFAULT_MAX_PROCS;
    if (c->max_procs > SWARM_LIMIT_MAX_PROCS)
        return SWARM_EINVAL;
    if (!c->stack_size)
        c->stack_size = SWARM_DEFAULT_STACK_SIZE;
    if (c->stack_size > SWARM_MAX_STACK_SIZE)
        return SWARM_EINVAL;
    if (!c->max_msg_size)
        c->max_msg_size = SWARM_DEFAULT_MAX_MSG_SIZE;
    if (c->max_msg_size > SWARM_LIMIT_MAX_MSG_SIZE)
        return SWARM_EINVAL;
    if (!c->watchdog_ms)
        c->watchdog_ms = 10;
    if (c->guard_mode > SWARM_GUARD_CANARY)
        return SWARM_EINVAL;
    return 0;
}

static void swarm_free(swarm_t *sw)
{
#if SWARM_TSAN
    for (uint32_t i = 0; sw->ptable.procs && i < swarm__ptable_used(&sw->ptable); i++)
        if (sw->ptable.procs[i].tsan_fiber)
            __tsan_destroy_fiber(sw->ptable.procs[i].tsan_fiber);
#endif
    if (sw->scheds) {
        for (unsigned i = 0; i < sw->nsched_init; i++)
            swarm__sched_destroy(&sw->scheds[i]);
        swarm__free(sw->scheds);
    }
    if (sw->stacks)
        swarm__stack_arena_destroy(sw->stacks);
    swarm__ptable_destroy(&sw->ptable);
    swarm__plist_destroy(&sw->injector);
    pthread_mutex_destroy(&sw->idle_lock);
    registry_remove(sw);
    swarm__free(sw);
}

static void stop_threads(swarm_t *sw)
{
    atomic_store(&sw->shutdown, 1);
    swarm__sched_wake_all(sw);
    for (unsigned i = 0; i < sw->nsched; i++) {
        if (sw->scheds[i].thread_started) {
            pthread_join(sw->scheds[i].thread, NULL);
            sw->scheds[i].thread_started = 0;
        }
    }
    swarm__watchdog_stop(sw);
}

int swarm_create(swarm_t **out, const swarm_config_t *cfg_in)
{
    if (!out)
        return SWARM_EINVAL;
    *out = NULL;
    swarm_config_t cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        swarm_config_init(&cfg);
    int r = check_config(&cfg);
    if (r)
        return r;
    if (swarm__fault_init() != 0)
        return SWARM_EINVAL;

    swarm_t *sw = swarm__calloc(1, sizeof *sw);
    if (!sw)
        return SWARM_ENOMEM;
    sw->cfg = cfg;
    snprintf(sw->name, sizeof sw->name, "%s", cfg.name);
    sw->cfg.name = sw->name;
    sw->nsched = cfg.schedulers;
    sw->deterministic = cfg.deterministic_seed != 0;
    sw->det_rng = cfg.deterministic_seed;
    sw->stack_size = swarm__stack_class_size(cfg.stack_size);
    pthread_mutex_init(&sw->idle_lock, NULL);

    uint32_t gen_base = 1;
    if (getrandom(&gen_base, sizeof gen_base, GRND_NONBLOCK) != sizeof gen_base)
        gen_base = (uint32_t)swarm__clock_ns();
    if (sw->deterministic)
        gen_base = (uint32_t)cfg.deterministic_seed | 1;
    if ((r = swarm__ptable_init(&sw->ptable, cfg.max_procs, gen_base)) != 0)
        goto fail;
    if ((r = swarm__plist_init(&sw->injector, cfg.max_procs)) != 0)
        goto fail;
    if ((r = swarm__stack_arena_create(&sw->stacks, cfg.max_procs, sw->nsched, cfg.guard_mode)) != 0)
        goto fail;
    sw->scheds = swarm__calloc(sw->nsched, sizeof *sw->scheds);
    if (!sw->scheds) {
        r = SWARM_ENOMEM;
        goto fail;
    }
    sw->nsched_init = 0;
    for (unsigned i = 0; i < sw->nsched; i++, sw->nsched_init++)
        if ((r = swarm__sched_init(&sw->scheds[i], sw, i)) != 0)
            goto fail;
    sw->id = registry_add(sw);
    if (!sw->id) {
        r = SWARM_EAGAIN;
        goto fail;
    }
    if (!sw->deterministic) {
        for (unsigned i = 0; i < sw->nsched; i++) {
            if ((r = swarm__sched_start(&sw->scheds[i])) != 0) {
                stop_threads(sw);
                goto fail;
            }
        }
        if ((r = swarm__watchdog_start(sw)) != 0) {
            stop_threads(sw);
            goto fail;
        }
    }
    *out = sw;
    return 0;
fail:
    swarm_free(sw);
    return r;
}

static int inside(swarm_t *sw)
{
    swarm__sched_t *s = swarm__sched_self();
    return s && s->swarm == sw;
}

int swarm_wait(swarm_t *sw, int64_t timeout_ms)
{
    if (!sw)
        return SWARM_EINVAL;
    if (timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    if (inside(sw))
        return SWARM_EPERM;
    if (sw->deterministic) {
        swarm__fault_thread_enter(&sw->scheds[0]);
        int r = swarm__sched_run_deterministic(sw, timeout_ms);
        swarm__fault_thread_leave(&sw->scheds[0]);
        return r;
    }
    int64_t deadline = swarm__deadline_ns(swarm__clock_ns(), timeout_ms);
    for (;;) {
        uint32_t word = atomic_load(&sw->live_word);
        if (atomic_load(&sw->live) == 0)
            return 0;
        int64_t left = swarm__ns_until(swarm__clock_ns(), deadline);
        if (left == 0)
            return SWARM_ETIMEDOUT;
        swarm__futex_wait(&sw->live_word, word, left);
    }
}

int swarm_destroy(swarm_t *sw)
{
    return swarm_destroy_stats(sw, NULL);
}

int swarm_destroy_stats(swarm_t *sw, swarm_stats_t *final)
{
    if (!sw)
        return SWARM_EINVAL;
    if (inside(sw))
        return SWARM_EPERM;
    stop_threads(sw);
    /* Processes still alive never resume: release what they own. */
    uint32_t used = swarm__ptable_used(&sw->ptable);
    for (uint32_t i = 0; i < used; i++) {
        swarm__proc_t *p = &sw->ptable.procs[i];
        uint32_t st = swarm__pstate_st(atomic_load(&p->state)) & SWARM__PS_MASK;
        if (st != SWARM__PS_FREE)
            swarm__proc_cleanup(sw, NULL, p, SWARM_EXIT_KILLED, NULL);
    }
    /* Messages stale senders left in free slots are dropped now. */
    uint64_t dropped = 0;
    for (uint32_t i = 0; i < used; i++)
        dropped += swarm__msg_drain(&sw->ptable.procs[i].mbox);
    atomic_fetch_add(&sw->foreign_dropped, dropped);
    if (final)
        swarm_stats(sw, final);
    swarm_free(sw);
    return 0;
}

int swarm_run(const swarm_config_t *cfg, swarm_fn main_fn, void *arg)
{
    swarm_t *sw;
    int r = swarm_create(&sw, cfg);
    if (r)
        return r;
    r = swarm_spawn_in(sw, NULL, main_fn, arg, NULL);
    if (r == 0)
        r = swarm_wait(sw, SWARM_INFINITE);
    swarm_destroy(sw);
    return r;
}

int swarm_info(swarm_t *sw, swarm_info_t *out)
{
    if (!sw || !out)
        return SWARM_EINVAL;
    swarm__stack_info_t si;
    swarm__stack_info(sw->stacks, &si);
    memset(out, 0, sizeof *out);
    out->name = sw->name;
    out->schedulers = sw->nsched;
    out->max_procs = sw->cfg.max_procs;
    out->stack_size = sw->stack_size;
    out->page_size = swarm__page_size();
    out->max_msg_size = sw->cfg.max_msg_size;
    out->guard_mode = si.mode;
    out->mprotect_budget = si.mprotect_budget;
    out->deterministic = sw->deterministic;
    out->seed = sw->cfg.deterministic_seed;
    return 0;
}
