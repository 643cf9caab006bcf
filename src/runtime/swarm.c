/*
 * runtime/swarm.c - swarm lifecycle: configuration, create, wait, destroy,
 * run, info.
 */
#include "runtime/swarm.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/deadline.h"
#include "base/sanitizer.h"
#include "base/sys.h"
#include "base/upcalls.h"
#include "io/io.h"
#include "mem/pool.h"
#include "msg/msg.h"
#include "timer/tmsg.h"
#include "ptable/registry.h"
#include "swarmrt.h"


void swarm_config_init(swarm_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->name = "swarm";
    cfg->guard_mode = SWARM_GUARD_AUTO;
    cfg->deadlock = SWARM_DEADLOCK_DEFAULT;
}

/* ------------------------------------------------------------------ */
/* The default number of schedulers: the CPUs this thread may use, as Go's
 * GOMAXPROCS and Erlang's +S default do, not the CPUs the machine has. */

/* CPUs in the calling thread's affinity mask, or 0 if it cannot be read. */
static unsigned affinity_cpus(void)
{
    for (int ncpu = 1024; ncpu <= (1 << 22); ncpu *= 2) {
        cpu_set_t *set = CPU_ALLOC(ncpu);
        if (!set)
            return 0;
        size_t size = CPU_ALLOC_SIZE(ncpu);
        int r = sched_getaffinity(0, size, set);
        int err = errno;
        int n = r == 0 ? CPU_COUNT_S(size, set) : 0;
        CPU_FREE(set);
        if (r == 0)
            return n > 0 ? (unsigned)n : 0;
        if (err != EINVAL) /* EINVAL: the kernel's mask is larger */
            return 0;
    }
    return 0;
}

static int read_text(const char *root, const char *path, char *buf, size_t len)
{
    char full[4096];
    if ((size_t)snprintf(full, sizeof full, "%s%s", root, path) >= sizeof full)
        return -1;
    FILE *f = fopen(full, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = 0;
    return 0;
}

/* CPUs allowed by one cgroup directory's quota files, 0 if unlimited. */
static unsigned quota_at(const char *root, const char *dir, int v2)
{
    char path[4096], buf[128];
    long long quota = -1, period = 0;
    if (v2) {
        if ((size_t)snprintf(path, sizeof path, "%s/cpu.max", dir) >= sizeof path ||
            read_text(root, path, buf, sizeof buf) != 0)
            return 0;
        if (strncmp(buf, "max", 3) == 0 || sscanf(buf, "%lld %lld", &quota, &period) != 2)
            return 0;
    } else {
        if ((size_t)snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir) >= sizeof path ||
            read_text(root, path, buf, sizeof buf) != 0 || sscanf(buf, "%lld", &quota) != 1)
            return 0;
        if ((size_t)snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir) >= sizeof path ||
            read_text(root, path, buf, sizeof buf) != 0 || sscanf(buf, "%lld", &period) != 1)
            return 0;
    }
    if (quota <= 0 || period <= 0)
        return 0; /* -1 (v1) or "max" (v2): no limit */
    long long cpus = quota / period + (quota % period != 0);
    if (cpus < 1)
        cpus = 1;
    return cpus > (long long)UINT32_MAX ? UINT32_MAX : (unsigned)cpus;
}

/* Lowest quota on the cgroup `cg` (a path inside the hierarchy mounted at
 * `mnt` whose root is `mroot`) and its ancestors up to the mount. */
static unsigned quota_walk(const char *root, const char *mnt, const char *mroot, const char *cg, int v2)
{
    size_t rl = strlen(mroot);
    if (strcmp(mroot, "/") == 0)
        rl = 0;
    else if (strncmp(cg, mroot, rl) != 0 || (cg[rl] && cg[rl] != '/'))
        return 0; /* the cgroup is outside what this mount shows */
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s%s", mnt, cg + rl) >= sizeof dir)
        return 0;
    size_t ml = strlen(mnt);
    unsigned best = 0;
    for (;;) {
        size_t dl = strlen(dir);
        while (dl > ml && dir[dl - 1] == '/')
            dir[--dl] = 0;
        unsigned q = quota_at(root, dir, v2);
        if (q && (!best || q < best))
            best = q;
        if (dl <= ml)
            break;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < ml)
            break;
        *slash = 0;
    }
    return best;
}

/* Does the comma-separated list `opts` hold `word`? */
static int has_word(const char *opts, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = opts; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == wl && strncmp(p, word, wl) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

unsigned swarm__cgroup_cpu_limit(const char *root)
{
    char full[4096];
    /* The process's cgroups: "0::/path" (v2) and "N:cpu,cpuacct:/path" (v1). */
    char v2path[2048] = "", v1path[2048] = "";
    int have_v2 = 0, have_v1 = 0;
    snprintf(full, sizeof full, "%s/proc/self/cgroup", root);
    FILE *f = fopen(full, "re");
    if (!f)
        return 0;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        if (strcmp(line, "0:") == 0 && c1 + 1 == c2) {
            snprintf(v2path, sizeof v2path, "%s", c2 + 1);
            have_v2 = 1;
        } else if (has_word(c1 + 1, "cpu")) {
            snprintf(v1path, sizeof v1path, "%s", c2 + 1);
            have_v1 = 1;
        }
    }
    fclose(f);
    if (!have_v1 && !have_v2)
        return 0;
    /* Where those hierarchies are mounted (mountinfo: id parent dev root
     * mountpoint options [optional...] - fstype source superoptions). */
    snprintf(full, sizeof full, "%s/proc/self/mountinfo", root);
    if (!(f = fopen(full, "re")))
        return 0;
    unsigned best = 0;
    while (fgets(line, sizeof line, f)) {
        char mroot[1024], mnt[1024];
        if (sscanf(line, "%*s %*s %*s %1023s %1023s", mroot, mnt) != 2)
            continue;
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        char fstype[64], source[1024], super[1024] = "";
        if (sscanf(sep + 3, "%63s %1023s %1023s", fstype, source, super) < 2)
            continue;
        unsigned q = 0;
        if (have_v2 && strcmp(fstype, "cgroup2") == 0)
            q = quota_walk(root, mnt, mroot, v2path, 1);
        else if (have_v1 && strcmp(fstype, "cgroup") == 0 && has_word(super, "cpu"))
            q = quota_walk(root, mnt, mroot, v1path, 0);
        if (q && (!best || q < best))
            best = q;
    }
    fclose(f);
    return best;
}

/* Fill in the default scheduler count and say where it came from. */
static int choose_schedulers(swarm_config_t *c, swarm_sched_source_t *src, unsigned *cpus, unsigned *quota)
{
    *cpus = affinity_cpus();
    *quota = swarm__cgroup_cpu_limit("");
    if (c->schedulers) {
        *src = SWARM_SCHED_SRC_CONFIG;
        return 0;
    }
    const char *env = getenv("SWARM_SCHEDULERS");
    if (env && *env) {
        char *end;
        errno = 0;
        unsigned long n = strtoul(env, &end, 10);
        if (errno || *end || n < 1 || n > SWARM_LIMIT_SCHEDULERS || *env < '0' || *env > '9')
            return SWARM_EINVAL;
        c->schedulers = (unsigned)n;
        *src = SWARM_SCHED_SRC_ENV;
        return 0;
    }
    unsigned n = *cpus;
    *src = SWARM_SCHED_SRC_AFFINITY;
    if (!n) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        n = online > 0 ? (unsigned)online : 1;
        *src = SWARM_SCHED_SRC_ONLINE;
    }
    if (*quota && *quota < n) {
        n = *quota;
        *src = SWARM_SCHED_SRC_CGROUP;
    }
    c->schedulers = n < SWARM_LIMIT_SCHEDULERS ? n : SWARM_LIMIT_SCHEDULERS;
    return 0;
}

static int check_config(swarm_config_t *c)
{
    if (!c->name)
        c->name = "swarm";
    if (c->schedulers > SWARM_LIMIT_SCHEDULERS)
        return SWARM_EINVAL;
    if (!c->max_procs)
        c->max_procs = swarm__overcommit_strict() ? SWARM_DEFAULT_MAX_PROCS_STRICT : SWARM_DEFAULT_MAX_PROCS;
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
    if (c->deadlock > SWARM_DEADLOCK_RETURN)
        return SWARM_EINVAL;
    if (c->deadlock == SWARM_DEADLOCK_DEFAULT)
        c->deadlock = SWARM_DEADLOCK_OFF; /* swarm_run asks for RETURN itself */
    return 0;
}

static void swarm_dealloc(swarm_t *sw)
{
    swarm__io_destroy(sw); /* first: the blocking pool's threads post to processes */
    for (uint32_t i = 0; SWARM_TSAN && sw->ptable.procs && i < swarm__ptable_used(&sw->ptable); i++)
        swarm__san_fiber_destroy(sw->ptable.procs[i].tsan_fiber);
    if (sw->scheds) {
        for (unsigned i = 0; i < sw->nsched_init; i++) {
            swarm__pool_flush(&sw->scheds[i].pool);
            swarm__sched_destroy(&sw->scheds[i]);
        }
        swarm__free(sw->scheds);
    }
    swarm__pool_trim(1); /* what this swarm's messages took goes back */
    if (sw->stacks)
        swarm__stack_arena_destroy(sw->stacks);
    swarm__ptable_destroy(&sw->ptable);
    swarm__plist_destroy(&sw->injector);
    swarm__plist_destroy(&sw->high);
    pthread_mutex_destroy(&sw->idle_lock);
    swarm__tmsg_destroy(sw);
    swarm__registry_remove(sw->id);
    swarm__free(sw);
}

/* Shut the swarm down and join its scheduler threads, waiting for them
 * until deadline_ns on the monotonic clock (SWARM__NEVER: forever). A scheduler
 * leaves its loop (and says so on sched_exit_word) once its process, if
 * any, switches out. Returns 0 with every thread joined and the watchdog
 * stopped, or SWARM_ETIMEDOUT with the ones that stopped joined; the call
 * may be repeated. */
static int stop_threads_until(swarm_t *sw, int64_t deadline_ns)
{
    atomic_store(&sw->shutdown, 1);
    swarm__sched_wake_all(sw);
    for (;;) {
        uint32_t word = atomic_load(&sw->sched_exit_word);
        unsigned held = 0;
        for (unsigned i = 0; i < sw->nsched; i++) {
            swarm__sched_t *s = &sw->scheds[i];
            if (!s->thread_started)
                continue;
            if (deadline_ns != SWARM__NEVER && !atomic_load(&s->exited)) {
                held++;
                continue;
            }
            swarm__thread_join(&s->thread);
            s->thread_started = 0;
        }
        if (!held)
            break;
        int64_t left = swarm__ns_until(swarm__clock_ns(), deadline_ns);
        if (left == 0)
            return SWARM_ETIMEDOUT;
        swarm__futex_wait(&sw->sched_exit_word, word, left);
    }
    swarm__watchdog_stop(sw);
    return 0;
}

static void stop_threads(swarm_t *sw)
{
    stop_threads_until(sw, SWARM__NEVER);
}

/* Called by a scheduler thread as the last thing it does. */

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
    swarm_sched_source_t src;
    unsigned cpus, quota;
    if (r || (r = choose_schedulers(&cfg, &src, &cpus, &quota)) != 0)
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
    sw->sched_source = src;
    sw->cpus_allowed = cpus;
    sw->cpu_quota = quota;
    sw->deadlock_mode = cfg.deadlock;
    sw->deadlock_watch = cfg.deadlock == SWARM_DEADLOCK_REPORT || cfg.deadlock == SWARM_DEADLOCK_RETURN;
    sw->deterministic = cfg.deterministic_seed != 0;
    sw->det_rng = cfg.deterministic_seed;
    /* A slice ends after SWARM__SLICE_BUDGET_MS, or well under the
     * watchdog's limit if that is smaller (sched.h). */
    sw->slice_budget_ns = swarm__ms_to_ns(SWARM__SLICE_BUDGET_MS);
    if ((int64_t)cfg.watchdog_ms * 1000000 / 4 < sw->slice_budget_ns)
        sw->slice_budget_ns = (int64_t)cfg.watchdog_ms * 1000000 / 4 + 1;
    if (sw->deterministic)
        sw->slice_budget_ns = 0;
    sw->stack_size = swarm__stack_class_size(cfg.stack_size);
    pthread_mutex_init(&sw->idle_lock, NULL);
    swarm__tmsg_init(sw);
    sw->io_epfd = sw->io_evfd = -1;

    uint32_t gen_base = 1;
    if (getrandom(&gen_base, sizeof gen_base, GRND_NONBLOCK) != sizeof gen_base)
        gen_base = (uint32_t)swarm__clock_ns();
    if (sw->deterministic)
        gen_base = (uint32_t)cfg.deterministic_seed | 1;
    if ((r = swarm__ptable_init(&sw->ptable, cfg.max_procs, gen_base, sw->nsched)) != 0)
        goto fail;
    if ((r = swarm__plist_init(&sw->injector, cfg.max_procs)) != 0 ||
        (r = swarm__plist_init(&sw->high, cfg.max_procs)) != 0)
        goto fail;
    if ((r = swarm__io_init(sw)) != 0) {
        r = r == -ENOMEM ? SWARM_ENOMEM : SWARM_EAGAIN; /* (EMFILE, ENFILE: a limit) */
        goto fail;
    }
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
    sw->id = swarm__registry_add(sw, &sw->ptable);
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
    swarm_dealloc(sw);
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
        if (sw->deadlock_mode == SWARM_DEADLOCK_RETURN && swarm__deadlock_active(sw))
            return SWARM_EDEADLK;
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
    return swarm_destroy_timeout(sw, SWARM_INFINITE, final);
}

int swarm_destroy_timeout(swarm_t *sw, int64_t timeout_ms, swarm_stats_t *final)
{
    if (!sw || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    if (inside(sw))
        return SWARM_EPERM;
    /* Unpublished first: from now on a send or lookup by pid from outside
     * the swarm answers SWARM_ESRCH; the ones already under way finish
     * before anything is released. */
    swarm__registry_close(sw->id);
    int64_t deadline = swarm__deadline_ns(swarm__clock_ns(), timeout_ms);
    int r = stop_threads_until(sw, deadline);
    if (r == 0)
        r = swarm__registry_drain(sw->id, deadline);
    if (r)
        return r; /* shut down, not freed: see runtime.h */
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
    swarm_dealloc(sw);
    return 0;
}

int swarm_run(const swarm_config_t *cfg_in, swarm_fn main_fn, void *arg)
{
    swarm_config_t cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        swarm_config_init(&cfg);
    /* Nobody outside has this swarm unless a process hands it out: a swarm
     * whose processes all wait forever is stuck for good. */
    if (cfg.deadlock == SWARM_DEADLOCK_DEFAULT)
        cfg.deadlock = SWARM_DEADLOCK_RETURN;
    swarm_t *sw;
    int r = swarm_create(&sw, &cfg);
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
    out->guard_size = si.guard_size;
    out->guard_verified = si.guard_verified;
    out->guard_rejected = si.guard_rejected;
    out->guard_no_trap = si.guard_no_trap;
    out->deterministic = sw->deterministic;
    out->seed = sw->cfg.deterministic_seed;
    out->schedulers_source = sw->sched_source;
    out->cpus_allowed = sw->cpus_allowed;
    out->cpu_quota = sw->cpu_quota;
    out->deadlock = sw->deadlock_mode;
    return 0;
}
