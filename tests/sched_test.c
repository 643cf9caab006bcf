/*
 * sched_test.c - schedulers: stealing, placement, idle cost, watchdog,
 * timers at scale, migration safety, deterministic replay.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <time.h>

#include <sys/mman.h>

#include "base/sanitizer.h"
#include "ptable/ptable.h"
#include "runq/runq.h"
#include "state/state.h"
#include "test.h"

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- one process spawns CPU-bound workers: the other scheduler must
 * steal some of them, and every one completes. 200 workers fit in the
 * spawner's ring (256), so none spill to the injector: stealing is the
 * only way work reaches scheduler 1. ---- */
static atomic_long done_work;
static atomic_int ran_on[2];    /* workers started on each scheduler */
static atomic_int worked_on[2]; /* some worker ran on it (a stolen one may have started elsewhere) */

/* Each worker computes until a worker has run on each scheduler (bounded
 * by swarm time, so an OS that keeps one scheduler thread off the CPU for
 * a while cannot make the check pass or fail by luck). Running, not
 * starting: a starved scheduler 1 may wake only after 0 has started all
 * of them, and then it can steal only started ones. */
static void worker(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran_on[swarm_scheduler_index()], 1);
    int64_t give_up = swarm_now_ms() + test_ms(10000);
    volatile uint64_t x = 0;
    for (uint64_t i = 0;; i++) {
        int me = swarm_scheduler_index();
        if (!atomic_load(&worked_on[me]))
            atomic_store(&worked_on[me], 1);
        if (atomic_load(&worked_on[0]) && atomic_load(&worked_on[1]))
            break;
        x += i * i;
        SWARM_CHECK();
        if ((i & 4095) == 0 && swarm_now_ms() > give_up)
            break;
    }
    atomic_fetch_add(&done_work, 1);
}

static void spawn_workers(void *arg)
{
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++)
        CHECK_OK(swarm_spawn(NULL, worker, NULL, NULL));
}

TEST(steal_spreads)
{
    test_seed();
    long n = 200;
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.scheduler = 0;
    CHECK_OK(swarm_spawn_in(sw, NULL, spawn_workers, (void *)(intptr_t)n, &o));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_EQ(atomic_load(&done_work), n);
    swarm_sched_stats_t s0, s1;
    swarm_sched_stats(sw, 0, &s0);
    swarm_sched_stats(sw, 1, &s1);
    printf("steals %llu/%llu, workers started on 0: %d, on 1: %d\n", (unsigned long long)s0.steals,
           (unsigned long long)s1.steals, atomic_load(&ran_on[0]), atomic_load(&ran_on[1]));
    CHECK_CMP(s1.steals, >, 0); /* all work started on 0: 1 got some only by stealing */
    CHECK_EQ(atomic_load(&worked_on[1]), 1);
    CHECK_EQ(atomic_load(&ran_on[0]) + atomic_load(&ran_on[1]), n);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- a hinted spawn starts on that scheduler (deterministic mode makes
 * "starts" exact: nobody steals what is already runnable there) ---- */
static int first_seen = -1;
static void where_am_i(void *arg)
{
    (void)arg;
    first_seen = swarm_scheduler_index();
}

static void hint_main(void *arg)
{
    (void)arg;
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.scheduler = 2;
    CHECK_OK(swarm_spawn(NULL, where_am_i, NULL, &o));
}

TEST(hint_places)
{
    swarm_t *sw;
    swarm_config_t c = test_config(3);
    c.deterministic_seed = 7;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.scheduler = 0;
    CHECK_OK(swarm_spawn_in(sw, NULL, hint_main, NULL, &o));
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    CHECK_EQ(first_seen, 2);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- an idle swarm burns no CPU ---- */
static void long_sleeper(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_sleep(400));
}

TEST(idle_cpu)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, long_sleeper, NULL, NULL));
    struct rusage r0, r1;
    usleep(50000); /* let start-up settle; only CPU use is measured */
    getrusage(RUSAGE_SELF, &r0);
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    getrusage(RUSAGE_SELF, &r1);
    long us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000 + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
              (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000 + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
    printf("CPU over ~350 ms of idleness: %ld us\n", us);
    /* Two spinning schedulers would burn ~700 ms; parked ones ~nothing. */
    CHECK_CMP(us, <, 50000);
    swarm_stats_t st;
    swarm_stats(sw, &st);
    CHECK_CMP(st.total.parks, >=, 1);
    CHECK_OK(swarm_destroy(sw));
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the watchdog names a process that holds its scheduler, and the
 * other scheduler takes the work queued behind it (the helper sits in the
 * hog's LIFO slot) while the hog still spins ---- */
static atomic_int helper_ran, hog_gave_up;
static void helper_proc(void *arg)
{
    (void)arg;
    atomic_store(&helper_ran, 1);
}

static void hog(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_spawn(NULL, helper_proc, NULL, NULL)); /* queued behind us */
    int64_t t0 = thread_cpu_ns();
    /* Spin without a yield point for 60 ms of CPU, and until the helper ran
     * elsewhere (bounded: give up after 10 s, and say so). */
    while (thread_cpu_ns() - t0 < 60 * 1000000 || !atomic_load(&helper_ran)) {
        if (thread_cpu_ns() - t0 > test_ms(10000) * 1000000LL) {
            atomic_store(&hog_gave_up, 1);
            break;
        }
    }
}

TEST(watchdog_reports)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, hog, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(30000)));
    CHECK_EQ(atomic_load(&helper_ran), 1);
    CHECK_EQ(atomic_load(&hog_gave_up), 0); /* the helper ran while the hog held its scheduler */
    swarm_stats_t st;
    swarm_stats(sw, &st);
    CHECK_CMP(st.total.watchdog_reports, >=, 1);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- while a process holds scheduler 0 without a yield point, the
 * other scheduler takes every unpinned queue of it: the ring, the LIFO
 * slot, the inbox (spawns hinted to 0 from a foreign thread) and its due
 * timers; a pinned process waits for its home (issue 7 item 7) ---- */
#define STUCK_TIMERS 50
#define STUCK_RING 20 /* woken by the hog: the last one woken sits in the LIFO slot */
#define STUCK_INBOX 200
#define STUCK_ALL (STUCK_TIMERS + STUCK_RING + STUCK_INBOX)
static atomic_long stuck_ran, stuck_ran_on0, stuck_armed_on0, stuck_woke_early;
static atomic_int stuck_hog_spinning, stuck_hog_done, stuck_hog_by_counter;
static atomic_int pinned_ran, pinned_ran_while_stuck, pinned_home = -1;
static swarm_pid_t pinned_pid;

static void stuck_worker(void *arg)
{
    (void)arg;
    if (swarm_scheduler_index() == 0)
        atomic_fetch_add(&stuck_ran_on0, 1);
    atomic_fetch_add(&stuck_ran, 1);
}

static void stuck_sleeper(void *arg)
{
    (void)arg;
    if (swarm_scheduler_index() == 0)
        atomic_fetch_add(&stuck_armed_on0, 1); /* the timer goes on this scheduler's wheel */
    CHECK_OK(swarm_sleep(test_ms(500))); /* still asleep when the hog starts to spin */
    if (!atomic_load(&stuck_hog_spinning))
        atomic_fetch_add(&stuck_woke_early, 1);
    stuck_worker(NULL);
}

static void stuck_waiter(void *arg)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);
    stuck_worker(arg);
}

/* Is pid parked (WAITING)? Read from its table slot. */
static swarm_t *stuck_swarm;
static int proc_waiting(swarm_pid_t pid)
{
    swarm__proc_t *p = swarm__ptable_slot(&stuck_swarm->ptable, pid);
    uint64_t w = atomic_load(&p->state);
    return swarm__pstate_gen(w) == swarm__pid_gen(pid) && swarm__pstate_st(w) == SWARM__PS_WAITING;
}

static void stuck_pinned(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_pin());
    atomic_store(&pinned_home, swarm_scheduler_index());
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);
    atomic_store(&pinned_ran_while_stuck, !atomic_load(&stuck_hog_done));
    atomic_store(&pinned_ran, 1);
}

static void stuck_hog(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_pin()); /* we are the one that stays on 0 */
    CHECK_EQ(swarm_scheduler_index(), 0);
    /* A spawn takes our LIFO slot, which nobody steals from a scheduler
     * that is not stuck: each child runs here, on 0, when we yield. */
    CHECK_OK(swarm_spawn(&pinned_pid, stuck_pinned, NULL, NULL));
    while (atomic_load(&pinned_home) < 0)
        CHECK_OK(swarm_yield());
    CHECK_EQ(atomic_load(&pinned_home), 0);
    for (int i = 0; i < STUCK_TIMERS; i++) {
        CHECK_OK(swarm_spawn(NULL, stuck_sleeper, NULL, NULL));
        while (atomic_load(&stuck_armed_on0) <= i)
            CHECK_OK(swarm_yield());
    }
    CHECK_OK(swarm_yield()); /* the last sleeper parks */
    swarm_pid_t waiters[STUCK_RING];
    for (int i = 0; i < STUCK_RING; i++)
        CHECK_OK(swarm_spawn(&waiters[i], stuck_waiter, NULL, NULL));
    for (int i = 0; i < STUCK_RING; i++)
        while (!proc_waiting(waiters[i]))
            CHECK_OK(swarm_yield());
    /* Wake them from here: each wake takes our LIFO slot and pushes the
     * one before to our ring. A slice starts with a chunk of 200
     * reductions and a send spends one, so no yield point comes between
     * the wakes and the spin: none of them can run here first. (Spawns
     * could not do this: a spawn reads the slice clock and may yield.) */
    CHECK_OK(swarm_yield());
    for (int i = 0; i < STUCK_RING; i++)
        CHECK_OK(swarm_send(waiters[i], 0, NULL, 0));
    /* Now hold the scheduler, with no yield point, until everything
     * counted ran elsewhere or 10 s pass. */
    atomic_store(&stuck_hog_spinning, 1);
    int64_t give_up = mono_ms() + test_ms(10000);
    while (atomic_load(&stuck_ran) < STUCK_ALL && mono_ms() < give_up)
        ;
    atomic_store(&stuck_hog_by_counter, atomic_load(&stuck_ran) == STUCK_ALL);
    atomic_store(&stuck_hog_done, 1);
}

TEST(stuck_queues_taken)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    stuck_swarm = sw;
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.scheduler = 0;
    CHECK_OK(swarm_spawn_in(sw, NULL, stuck_hog, NULL, &o));
    int64_t deadline = mono_ms() + test_ms(30000);
    while (!atomic_load(&stuck_hog_spinning) && mono_ms() < deadline)
        usleep(1000);
    CHECK_EQ(atomic_load(&stuck_hog_spinning), 1);
    /* From this foreign thread: spawns hinted to the stuck scheduler land
     * in its inbox, and a message wakes the pinned process. */
    for (int i = 0; i < STUCK_INBOX; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, stuck_worker, NULL, &o));
    CHECK_OK(swarm_send(pinned_pid, 0, NULL, 0));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    swarm_stats_t st;
    swarm_stats(sw, &st);
    printf("ran %ld (on 0: %ld), timers armed on 0: %ld, hog ended by %s, watchdog reports %llu\n",
           atomic_load(&stuck_ran), atomic_load(&stuck_ran_on0), atomic_load(&stuck_armed_on0),
           atomic_load(&stuck_hog_by_counter) ? "the counter" : "the 10 s bound",
           (unsigned long long)st.total.watchdog_reports);
    CHECK_EQ(atomic_load(&stuck_armed_on0), STUCK_TIMERS);
    CHECK_EQ(atomic_load(&stuck_woke_early), 0);
    CHECK_EQ(atomic_load(&stuck_ran), STUCK_ALL);
    CHECK_EQ(atomic_load(&stuck_hog_by_counter), 1); /* all ran before the hog let go */
    CHECK_EQ(atomic_load(&stuck_ran_on0), 0);
    CHECK_CMP(st.total.watchdog_reports, >=, 1);
    CHECK_EQ(atomic_load(&pinned_ran), 1);
    CHECK_EQ(atomic_load(&pinned_ran_while_stuck), 0); /* pinned: waited for its home */
    CHECK_OK(swarm_destroy(sw));
}

/* ---- a process blocked in system calls (usleep) holds its scheduler too:
 * the watchdog reports it as blocked (not running), and the work hinted to
 * that scheduler runs elsewhere before the calls return (issue 7 item 8) ---- */
#define BLOCKED_WORK 100
static atomic_int blocker_asleep, blocker_awake, blocked_all_spawned;
static atomic_long blocked_work_ran, blocked_work_late;
static swarm_pid_t blocker_pid;

static void blocked_work(void *arg)
{
    (void)arg;
    if (atomic_load(&blocker_awake))
        atomic_fetch_add(&blocked_work_late, 1);
    atomic_fetch_add(&blocked_work_ran, 1);
}

static void blocker(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_pin());
    blocker_pid = swarm_self();
    atomic_store(&blocker_asleep, 1);
    /* Block the scheduler thread in the kernel while the work is spawned
     * to our scheduler, and 300 ms more. */
    while (!atomic_load(&blocked_all_spawned))
        usleep(1000);
    usleep((useconds_t)test_ms(300) * 1000);
    atomic_store(&blocker_awake, 1);
}

TEST(watchdog_blocked)
{
    test_capture_start(); /* the report goes to stderr */
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.scheduler = 0;
    CHECK_OK(swarm_spawn_in(sw, NULL, blocker, NULL, &o));
    while (!atomic_load(&blocker_asleep))
        usleep(1000);
    for (int i = 0; i < BLOCKED_WORK; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, blocked_work, NULL, &o)); /* into 0's inbox */
    atomic_store(&blocked_all_spawned, 1);
    CHECK_OK(swarm_wait(sw, test_ms(30000)));
    swarm_stats_t st;
    swarm_stats(sw, &st);
    CHECK_OK(swarm_destroy(sw));
    char *text = test_capture_stop();
    char pid[SWARM_PID_STRLEN];
    swarm_pid_format(blocker_pid, pid, sizeof pid);
    printf("reports %llu, work ran %ld (%ld after the call returned)\n",
           (unsigned long long)st.total.watchdog_reports, atomic_load(&blocked_work_ran),
           atomic_load(&blocked_work_late));
    CHECK_EQ(atomic_load(&blocked_work_ran), BLOCKED_WORK);
    CHECK_EQ(atomic_load(&blocked_work_late), 0);
    CHECK_EQ(st.total.watchdog_reports, 1);
    CHECK(strstr(text, pid) != NULL);
    CHECK(strstr(text, "blocked in the kernel") != NULL);
    CHECK(strstr(text, "without a yield point") == NULL);
    free(text);
}

/* ---- many sleepers: none wakes early, all wake ---- */
static atomic_long early, slept;
static void sleeper(void *arg)
{
    int64_t ms = (int64_t)(intptr_t)arg;
    int64_t t0 = swarm_now_ms();
    CHECK_OK(swarm_sleep(ms));
    if (swarm_now_ms() - t0 < ms)
        atomic_fetch_add(&early, 1);
    atomic_fetch_add(&slept, 1);
}

TEST(many_sleepers)
{
    uint64_t rng = test_seed();
    long n = test_scale(10000);
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    for (long i = 0; i < n; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, sleeper, (void *)(intptr_t)(1 + test_rand(&rng) % 100), NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_EQ(atomic_load(&slept), n);
    CHECK_EQ(atomic_load(&early), 0);
    swarm_stats_t st;
    swarm_stats(sw, &st);
    /* One timer per sleep at most (a sleep whose deadline passed before it
     * could park needs none). */
    CHECK_CMP(st.total.timers_fired, <=, (uint64_t)n);
    CHECK_CMP(st.total.timers_fired, >, 0);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- a process that migrates between threads always sees the runtime's
 * idea of "current scheduler" match the thread it runs on ---- */
static pthread_t sched_thread[2];
static atomic_int thread_known[2];
static atomic_long mismatches, migrations;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static void check_thread(int idx)
{
    pthread_t me = pthread_self();
    pthread_mutex_lock(&map_lock);
    if (!atomic_load(&thread_known[idx])) {
        sched_thread[idx] = me;
        atomic_store(&thread_known[idx], 1);
    } else if (!pthread_equal(sched_thread[idx], me)) {
        atomic_fetch_add(&mismatches, 1);
    }
    pthread_mutex_unlock(&map_lock);
}

static atomic_int migrants_go;
static void migrant(void *arg)
{
    swarm_pid_t *peer = arg;
    while (!atomic_load(&migrants_go)) /* every pid is written */
        swarm_yield();
    int last = swarm_scheduler_index();
    for (int i = 0; i < 2000; i++) {
        long v = i;
        swarm_send(*peer, 0, &v, sizeof v);
        swarm_msg_t *m;
        if (swarm_recv(&m, 100) == 0)
            swarm_msg_free(m);
        if (i % 7 == 0)
            swarm_yield();
        int now = swarm_scheduler_index();
        check_thread(now);
        if (now != last)
            atomic_fetch_add(&migrations, 1);
        last = now;
    }
}

TEST(tls_migration)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    static swarm_pid_t pids[200];
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    /* Pairs start on different schedulers; wake-ups pull a process to its
     * waker's scheduler, stealing pulls it back. */
    for (int i = 0; i < 200; i++) {
        o.scheduler = i % 2;
        CHECK_OK(swarm_spawn_in(sw, &pids[i], migrant, &pids[i ^ 1], &o));
    }
    atomic_store(&migrants_go, 1);
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    printf("migrations: %ld\n", atomic_load(&migrations));
    CHECK_EQ(atomic_load(&mismatches), 0);
    CHECK_CMP(atomic_load(&migrations), >, 0);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- a pinned process stays on its thread, whoever wakes it; the same
 * loop unpinned does migrate (so the check can fail) ---- */
typedef struct pin_pair {
    swarm_pid_t partner;
    int pinned;
    atomic_int ready;
} pin_pair_t;
static atomic_long pin_moves, free_moves, pin_rounds;

static void pin_partner(void *arg)
{
    (void)arg;
    for (;;) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
        swarm_pid_t from = swarm_msg_sender(m);
        int stop = swarm_msg_tag(m) == 9;
        swarm_msg_free(m);
        if (stop)
            return;
        CHECK_OK(swarm_send(from, 1, NULL, 0));
    }
}

static void pin_worker(void *arg)
{
    pin_pair_t *pp = arg;
    while (!atomic_load(&pp->ready))
        swarm_yield();
    if (pp->pinned)
        CHECK_OK(swarm_pin());
    pthread_t me = pthread_self();
    int idx = swarm_scheduler_index();
    long moves = 0;
    for (int i = 0; i < 3000; i++) {
        CHECK_OK(swarm_send(pp->partner, 1, NULL, 0));
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, test_ms(1000))); /* parks; the partner's reply wakes us */
        swarm_msg_free(m);
        if (i % 5 == 0)
            swarm_yield();
        if (i % 97 == 0)
            swarm_sleep(1); /* a timer wakes us, too */
        if (!pthread_equal(pthread_self(), me) || swarm_scheduler_index() != idx) {
            moves++;
            me = pthread_self();
            idx = swarm_scheduler_index();
        }
    }
    if (pp->pinned)
        CHECK_OK(swarm_unpin());
    CHECK_OK(swarm_send(pp->partner, 9, NULL, 0));
    atomic_fetch_add(pp->pinned ? &pin_moves : &free_moves, moves);
    atomic_fetch_add(&pin_rounds, 3000);
}

TEST(pinned_stays)
{
    test_seed();
    CHECK_EQ(swarm_pin(), SWARM_ENOTPROC);
    CHECK_EQ(swarm_unpin(), SWARM_ENOTPROC);
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    static pin_pair_t pairs[40];
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    for (int i = 0; i < 40; i++) {
        pairs[i].pinned = i % 2; /* half pinned, half free as the control */
        o.scheduler = i % 2;
        CHECK_OK(swarm_spawn_in(sw, &pairs[i].partner, pin_partner, NULL, &o));
        o.scheduler = (i + 1) % 2; /* the partner lives on the other scheduler */
        CHECK_OK(swarm_spawn_in(sw, NULL, pin_worker, &pairs[i], &o));
    }
    for (int i = 0; i < 40; i++)
        atomic_store(&pairs[i].ready, 1);
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    printf("pinned moves: %ld, unpinned moves: %ld\n", atomic_load(&pin_moves), atomic_load(&free_moves));
    CHECK_EQ(atomic_load(&pin_rounds), 40 * 3000);
    CHECK_EQ(atomic_load(&pin_moves), 0);
    /* The control: free processes do migrate. In deterministic mode whether
     * the driver's seed ever separates a pair is up to the seed. */
    if (!c.deterministic_seed)
        CHECK_CMP(atomic_load(&free_moves), >, 0);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- deterministic mode: the same seed gives the same interleaving ---- */
#define DET_PROCS 50
typedef struct det {
    swarm_pid_t pids[DET_PROCS];
    uint64_t trace;
    long events;
} det_t;
static det_t det;

static void det_proc(void *arg)
{
    int me = (int)(intptr_t)arg;
    uint64_t rng = (uint64_t)me * 7919 + 1;
    for (int i = 0; i < 200; i++) {
        int to = (int)(test_rand(&rng) % DET_PROCS);
        long v = me * 1000 + i;
        swarm_send(det.pids[to], 0, &v, sizeof v);
        if (test_rand(&rng) % 3 == 0)
            swarm_yield();
        swarm_msg_t *m;
        while (swarm_recv(&m, 0) == 0) {
            /* The global order of receptions is the trace. */
            det.trace = (det.trace ^ (uint64_t)(*(const long *)swarm_msg_data(m) + me * 131)) * 0x100000001B3ull;
            det.events++;
            swarm_msg_free(m);
        }
        if (test_rand(&rng) % 50 == 0)
            swarm_sleep(1000); /* virtual time: costs nothing real */
    }
}

static uint64_t det_run(uint64_t seed, long *events)
{
    memset(&det, 0, sizeof det);
    det.trace = 1469598103934665603ull;
    swarm_t *sw;
    swarm_config_t c = test_config(4);
    c.deterministic_seed = seed;
    CHECK_OK(swarm_create(&sw, &c));
    for (int i = 0; i < DET_PROCS; i++)
        CHECK_OK(swarm_spawn_in(sw, &det.pids[i], det_proc, (void *)(intptr_t)i, NULL));
    int64_t t0 = swarm_now_ms();
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_CMP(swarm_now_ms() - t0, <, test_ms(30000)); /* the sleeps were virtual */
    swarm_info_t info;
    swarm_info(sw, &info);
    CHECK_EQ(info.deterministic, 1);
    CHECK_OK(swarm_destroy(sw));
    *events = det.events;
    return det.trace;
}

TEST(deterministic_replay)
{
    uint64_t seed = test_seed();
    long e1, e2, e3;
    uint64_t a = det_run(seed, &e1);
    uint64_t b = det_run(seed, &e2);
    uint64_t c = det_run(seed + 1, &e3);
    printf("trace %016llx (%ld events) / %016llx / other seed %016llx\n", (unsigned long long)a, e1,
           (unsigned long long)b, (unsigned long long)c);
    CHECK_EQ(a, b);
    CHECK_EQ(e1, e2);
    CHECK(a != c); /* another seed, another interleaving (a 64-bit trace) */
}

/* ---- the watchdog accuses only a process that really holds its
 * scheduler: one process spawns 1M children that park (each spawn takes a
 * fresh table slot and stack: a lock, an mmap now and then, a guard
 * install) and then wakes them all. Every call is a yield point and the
 * slow spawns read the slice clock, so its slices stay short: it is never
 * reported (issue 7 item 9). A child's first run faults in its stack's
 * first page, and on a virtual machine one such fault now and then takes
 * 10 ms: that child did hold its scheduler, and may be reported (the
 * runtime cannot shorten a page fault; the count is printed). ---- */
static void parked_child(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);
}

typedef struct spawn_parkers {
    long n;
    swarm_pid_t *pids;
} spawn_parkers_t;

static void spawn_parkers(void *arg)
{
    spawn_parkers_t *sp = arg;
    for (long i = 0; i < sp->n; i++)
        CHECK_OK(swarm_spawn(&sp->pids[i], parked_child, NULL, NULL));
    for (long i = 0; i < sp->n; i++)
        CHECK_OK(swarm_send(sp->pids[i], 0, NULL, 0));
}

/* Occurrences of needle in text. */
static long count_of(const char *text, const char *needle)
{
    long n = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
        n++;
    return n;
}

TEST(watchdog_no_false_report)
{
    spawn_parkers_t sp = {.n = test_scale(1000000)};
#if SWARM_TSAN
    if (sp.n > 6000)
        sp.n = 6000; /* TSan: every process is a fiber, at most 8128 of them */
#endif
    sp.pids = malloc(sizeof *sp.pids * (size_t)sp.n);
    CHECK(sp.pids);
    test_capture_start(); /* the reports go to stderr */
    swarm_t *sw;
    swarm_config_t c = test_config(2); /* watchdog on, at its default */
    CHECK_OK(swarm_create(&sw, &c));
    swarm_pid_t spawner;
    CHECK_OK(swarm_spawn_in(sw, &spawner, spawn_parkers, &sp, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(250000)));
    swarm_stats_t st;
    swarm_stats(sw, &st);
    CHECK_OK(swarm_destroy(sw));
    char *text = test_capture_stop();
    char name[SWARM_PID_STRLEN + 2];
    swarm_pid_format(spawner, name, sizeof name);
    strcat(name, " "); /* "<1.0.7> ", not a prefix of "<1.0.77>" */
    long reports = count_of(text, "watchdog: process "), of_spawner = count_of(text, name);
    printf("spawned %ld, watchdog reports %llu (of the spawner %ld, of children %ld), yields %llu\n", sp.n,
           (unsigned long long)st.total.watchdog_reports, of_spawner, reports - of_spawner,
           (unsigned long long)st.total.yields);
    CHECK_CMP(st.total.spawns, >=, sp.n);
    CHECK_EQ(reports, (long)st.total.watchdog_reports); /* every report counted, and printed */
#if SWARM_TSAN
    /* Not under TSan: creating a process's TSan fiber, in the spawn, alone
     * sometimes takes 30-80 ms there (one call, not a long slice). The run
     * still checks the slicing code for races. */
#else
    CHECK_EQ(of_spawner, 0);
#endif
    free(text);
    free(sp.pids);
}

/* A process list (the injector, a scheduler's inbox) is a ring with room
 * for every process of the swarm, 8 MiB at the default max_procs, of which
 * only touched pages cost memory. Its head used to keep going round, so a
 * list that never held more than one entry touched a new page every 512
 * pushes, and in time all of them: RSS that stepped up for as long as the
 * soak ran. Now an emptied list starts again at the bottom. */
TEST(plist_touches_what_it_holds)
{
    swarm__plist_t l;
    CHECK_OK(swarm__plist_init(&l, 1u << 20));
    swarm__proc_t *p = (swarm__proc_t *)&l, *out[4];
    for (int i = 0; i < 300000; i++) {
        swarm__plist_push(&l, &p, 1);
        CHECK_EQ(swarm__plist_take(&l, 4, out), 1);
        CHECK(out[0] == p);
    }
    /* Three in, one out, repeatedly: FIFO order holds across the reset. */
    swarm__proc_t *q[3] = {(swarm__proc_t *)1, (swarm__proc_t *)2, (swarm__proc_t *)3};
    swarm__plist_push(&l, q, 3);
    CHECK_EQ(swarm__plist_take(&l, 1, out), 1);
    CHECK(out[0] == q[0]);
    swarm__plist_push(&l, q, 1);
    CHECK_EQ(swarm__plist_take(&l, 4, out), 3);
    CHECK(out[0] == q[1] && out[1] == q[2] && out[2] == q[0]);
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = l.map_len / page, resident = 0;
    unsigned char *vec = malloc(pages);
    CHECK(vec);
    CHECK_EQ(mincore(l.buf, l.map_len, vec), 0);
    for (size_t i = 0; i < pages; i++)
        resident += vec[i] & 1;
    free(vec);
    printf("ring pages resident after 300,000 push/take: %zu of %zu\n", resident, pages);
    CHECK_CMP(resident, <=, 2);
    swarm__plist_destroy(&l);
}

TEST_MAIN(TEST_ENTRY(steal_spreads, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(plist_touches_what_it_holds),
          TEST_ENTRY(hint_places),
          TEST_ENTRY(idle_cpu),
          TEST_ENTRY(watchdog_reports, TEST_SERIAL),
          TEST_ENTRY(stuck_queues_taken, TEST_SERIAL),
          TEST_ENTRY(watchdog_blocked, TEST_SERIAL),
          TEST_ENTRY(many_sleepers, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(tls_migration, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(pinned_stays, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(deterministic_replay, TEST_CONCURRENCY),
          TEST_ENTRY(watchdog_no_false_report, TEST_SERIAL, TEST_TIMEOUT(300)))
