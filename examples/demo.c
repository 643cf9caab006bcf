/*
 * demo.c - the showcase: 1,000 processes spread over every scheduler
 * switch as fast as they can for a fixed time; then per-scheduler counters,
 * a ping-pong rate and a spawn rate.
 *
 *   swarm_demo [seconds] [schedulers] [count]
 *
 * seconds: switching phase (default 2); schedulers: 0 = one per CPU;
 * count: ping-pong round trips and spawns (default 1,000,000).
 */
#include <locale.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "swarmrt.h"

#define SPINNERS 1000

static double seconds = 2.0;
static long ROUND_TRIPS = 1000000, SPAWNS = 1000000;
static atomic_int stop;
static swarm_pid_t main_pid;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spinner(void *arg)
{
    (void)arg;
    uint64_t n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        swarm_yield();
        n++;
    }
    swarm_send(main_pid, 1, &n, sizeof n);
}

static void ponger(void *arg)
{
    (void)arg;
    for (;;) {
        swarm_msg_t *m;
        swarm_recv(&m, SWARM_INFINITE);
        uint64_t v = *(const uint64_t *)swarm_msg_data(m);
        swarm_pid_t from = swarm_msg_sender(m);
        swarm_msg_free(m);
        swarm_send(from, 2, &v, sizeof v);
        if (v == 0)
            return;
    }
}

static void child(void *arg)
{
    (void)arg;
    swarm_send(main_pid, 3, NULL, 0);
}

static void fail(const char *what, int r)
{
    fprintf(stderr, "demo: %s: %s\n", what, swarm_strerror(r));
    exit(1);
}

static void demo_main(void *arg)
{
    (void)arg;
    swarm_t *sw = swarm_current();
    swarm_info_t info;
    swarm_info(sw, &info);
    main_pid = swarm_self();
    static const char *guards[] = {"auto", "MADV_GUARD_INSTALL", "mprotect", "canary"};
    printf("SwarmRT demo: %d processes on %u schedulers for %.1f s (stack guard: %s)\n", SPINNERS,
           info.schedulers, seconds, guards[info.guard_mode]);

    /* 1. Switching. */
    swarm_spawn_opts_t opts;
    swarm_spawn_opts_init(&opts);
    for (int i = 0; i < SPINNERS; i++) {
        opts.scheduler = (int)(i % info.schedulers);
        int r = swarm_spawn(NULL, spinner, NULL, &opts);
        if (r)
            fail("spawn", r);
    }
    swarm_sched_stats_t before[256];
    for (unsigned i = 0; i < info.schedulers && i < 256; i++)
        swarm_sched_stats(sw, i, &before[i]);
    double t0 = now_s();
    swarm_sleep((int64_t)(seconds * 1000));
    double t1 = now_s();
    uint64_t total = 0;
    for (unsigned i = 0; i < info.schedulers && i < 256; i++) {
        swarm_sched_stats_t st;
        swarm_sched_stats(sw, i, &st);
        uint64_t sw_n = st.switches - before[i].switches;
        total += sw_n;
        printf("  Scheduler %u: %'llu queued, %'llu switches, %'llu steals\n", i,
               (unsigned long long)st.queued, (unsigned long long)sw_n, (unsigned long long)st.steals);
    }
    atomic_store(&stop, 1);
    uint64_t yields = 0;
    for (int i = 0; i < SPINNERS; i++) {
        swarm_msg_t *m;
        swarm_recv_tag(1, &m, SWARM_INFINITE);
        yields += *(const uint64_t *)swarm_msg_data(m);
        swarm_msg_free(m);
    }
    printf("  Total: %'llu switches in %.2f s = %.1f M switches/s (%'llu yields counted by the processes)\n",
           (unsigned long long)total, t1 - t0, (double)total / (t1 - t0) / 1e6,
           (unsigned long long)yields);

    /* 2. Ping-pong. */
    swarm_pid_t pong;
    int r = swarm_spawn(&pong, ponger, NULL, NULL);
    if (r)
        fail("spawn", r);
    t0 = now_s();
    for (uint64_t v = (uint64_t)ROUND_TRIPS; v-- > 0;) {
        swarm_send(pong, 2, &v, sizeof v);
        swarm_msg_t *m;
        swarm_recv_tag(2, &m, SWARM_INFINITE);
        swarm_msg_free(m);
    }
    t1 = now_s();
    printf("ping-pong: %'ld round trips in %.3f s = %.2f M round trips/s (%.0f ns each)\n", ROUND_TRIPS,
           t1 - t0, ROUND_TRIPS / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / ROUND_TRIPS);

    /* 3. Spawn. */
    t0 = now_s();
    int outstanding = 0;
    for (long i = 0; i < SPAWNS; i++) {
        if (outstanding == 10000) {
            for (; outstanding > 0; outstanding--) {
                swarm_msg_t *m;
                swarm_recv_tag(3, &m, SWARM_INFINITE);
                swarm_msg_free(m);
            }
        }
        if ((r = swarm_spawn(NULL, child, NULL, NULL)) != 0)
            fail("spawn", r);
        outstanding++;
    }
    for (; outstanding > 0; outstanding--) {
        swarm_msg_t *m;
        swarm_recv_tag(3, &m, SWARM_INFINITE);
        swarm_msg_free(m);
    }
    t1 = now_s();
    printf("spawn: %'ld processes spawned, run and exited in %.3f s = %.2f M spawns/s (%.0f ns each)\n",
           SPAWNS, t1 - t0, SPAWNS / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / SPAWNS);
}

int main(int argc, char **argv)
{
    setlocale(LC_NUMERIC, "");
    if (argc > 1)
        seconds = atof(argv[1]);
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.name = "demo";
    if (argc > 2)
        cfg.schedulers = (unsigned)atoi(argv[2]);
    if (argc > 3)
        ROUND_TRIPS = SPAWNS = atol(argv[3]);
    int r = swarm_run(&cfg, demo_main, NULL);
    if (r)
        fail("swarm_run", r);
    return 0;
}
