/*
 * tests/prio_test.c - process priorities (swarmrt/proc.h: swarm_set_priority,
 * swarm_spawn_opts_t.priority), as Erlang's process_flag(priority, P) on
 * one scheduler: a runnable high process runs before any queued normal or
 * low one; a low process is passed over at the head of its queue
 * SWARM_PRIO_LOW_TURN - 1 times out of SWARM_PRIO_LOW_TURN, but still runs
 * while normal ones are busy (docs/design/sched.md, docs/semantics.md).
 *
 * The ordering cases run in deterministic mode on one scheduler, where the
 * order is exact; each case prints its seed.
 */
#include <stdatomic.h>
#include <string.h>

#include "test.h"

static atomic_int driver_done;

/* Run driver in a fresh swarm: deterministic on one scheduler (det), or
 * as the environment says on n schedulers. */
static void run(swarm_fn driver, unsigned n, int det)
{
    swarm_t *sw;
    swarm_config_t c = test_config(n);
    if (det)
        c.deterministic_seed = test_seed();
    atomic_store(&driver_done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&driver_done), 1);
}

/* The order processes first ran in: each records its id. */
static int order[16];
static int norder;

static void record(void *arg)
{
    order[norder++] = (int)(intptr_t)arg;
}

static swarm_pid_t spawn_prio(swarm_fn fn, void *arg, int prio)
{
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.priority = prio;
    swarm_pid_t p;
    CHECK_OK(swarm_spawn(&p, fn, arg, &o));
    return p;
}

/* Five normal processes are spawned (queued: the LIFO slot and the ring),
 * then a high one: it runs first, the normals after it in their order. */
static void high_first_driver(void *arg)
{
    (void)arg;
    norder = 0;
    for (int i = 1; i <= 5; i++)
        spawn_prio(record, (void *)(intptr_t)i, SWARM_PRIO_NORMAL);
    spawn_prio(record, (void *)(intptr_t)99, SWARM_PRIO_HIGH);
    swarm_yield();
    CHECK_EQ(norder, 6);
    CHECK_EQ(order[0], 99);
    /* The LIFO slot holds the last normal child; the ring the others. */
    CHECK_EQ(order[1], 5);
    for (int i = 2; i <= 5; i++)
        CHECK_EQ(order[i], i - 1);
    atomic_store(&driver_done, 1);
}

/* A high process woken by a message runs before the normal processes
 * that were queued before the message was sent. */
static atomic_int stop;
static atomic_long ticks;   /* normal slices run */
static long ticks_at_wake;  /* ticks when the high process got its message */

static void busy(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        atomic_fetch_add(&ticks, 1);
        swarm_yield();
    }
}

static void high_waiter(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    ticks_at_wake = atomic_load(&ticks);
    swarm_msg_free(m);
}

static void high_wake_driver(void *arg)
{
    (void)arg;
    atomic_store(&stop, 0);
    atomic_store(&ticks, 0);
    ticks_at_wake = -1;
    swarm_pid_t h = spawn_prio(high_waiter, NULL, SWARM_PRIO_HIGH);
    swarm_yield(); /* h runs (high) and parks in its receive */
    for (int i = 0; i < 4; i++)
        spawn_prio(busy, NULL, SWARM_PRIO_NORMAL);
    while (atomic_load(&ticks) < 20)
        swarm_yield();
    long at_send = atomic_load(&ticks);
    CHECK_OK(swarm_send(h, 1, "x", 1));
    swarm_yield(); /* h is picked before the four busy ones */
    CHECK_EQ(ticks_at_wake, at_send);
    atomic_store(&stop, 1);
    atomic_store(&driver_done, 1);
}

TEST(high_runs_first)
{
    run(high_first_driver, 1, 1);
    run(high_wake_driver, 1, 1);
}

/* Four normal processes and one low one, all busy (yielding). The low
 * one runs once per SWARM_PRIO_LOW_TURN rounds of the four: never
 * starved, and exactly that much less often. */
#define LOW_RUNS 12
static long low_seen[LOW_RUNS];
static int low_runs;

static void low_worker(void *arg)
{
    swarm_pid_t driver = (swarm_pid_t)(uintptr_t)arg;
    while (low_runs < LOW_RUNS) {
        low_seen[low_runs++] = atomic_load(&ticks);
        swarm_yield();
    }
    atomic_store(&stop, 1);
    CHECK_OK(swarm_send(driver, 1, "done", 4));
}

/* nbusy busy normal processes and one low worker; returns when the low
 * one has had LOW_RUNS turns. */
static void busy_and_low(int nbusy)
{
    atomic_store(&stop, 0);
    atomic_store(&ticks, 0);
    low_runs = 0;
    for (int i = 0; i < nbusy; i++)
        spawn_prio(busy, NULL, SWARM_PRIO_NORMAL);
    spawn_prio(low_worker, (void *)(uintptr_t)swarm_self(), SWARM_PRIO_LOW);
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, test_ms(30000)));
    swarm_msg_free(m);
    CHECK_EQ(low_runs, LOW_RUNS);
}

static void low_driver(void *arg)
{
    (void)arg;
    busy_and_low(4);
    /* From its second run on, the queue is the four busy ones and it. */
    for (int i = 2; i < LOW_RUNS; i++)
        CHECK_EQ(low_seen[i] - low_seen[i - 1], 4 * SWARM_PRIO_LOW_TURN);
    atomic_store(&driver_done, 1);
}

/* Alone on its queue, a low process is not held back. */
static void low_alone_driver(void *arg)
{
    (void)arg;
    int old = -2;
    CHECK_OK(swarm_set_priority(SWARM_PRIO_LOW, &old));
    CHECK_EQ(old, SWARM_PRIO_NORMAL);
    for (int i = 0; i < 100; i++)
        CHECK_OK(swarm_yield());
    atomic_store(&driver_done, 1);
}

/* On two schedulers (stealing, the idle protocol): a low process still
 * gets its turns while normal ones keep both schedulers busy. */
static void low_two_driver(void *arg)
{
    (void)arg;
    busy_and_low(6);
    atomic_store(&driver_done, 1);
}

TEST(low_not_starved)
{
    run(low_driver, 1, 1);
    run(low_alone_driver, 1, 1);
    run(low_two_driver, 2, 0);
}

/* A process changes its own priority: the old one comes back, a bad
 * value changes nothing, and the new one decides its next enqueue. */
static void change_driver(void *arg)
{
    (void)arg;
    int old = -2;
    swarm_process_info_t info;
    API_RET(swarm_set_priority, 0, swarm_set_priority(SWARM_PRIO_HIGH, &old));
    CHECK_EQ(old, SWARM_PRIO_NORMAL);
    API_RET(swarm_set_priority, SWARM_EINVAL, swarm_set_priority(2, &old));
    API_RET(swarm_set_priority, SWARM_EINVAL, swarm_set_priority(-2, &old));
    CHECK_EQ(old, SWARM_PRIO_NORMAL); /* untouched by the refused calls */
    CHECK_OK(swarm_process_info(swarm_self(), &info, 0));
    CHECK_EQ(info.priority, SWARM_PRIO_HIGH);
    /* High now: a yield comes straight back, before the queued normals. */
    norder = 0;
    for (int i = 1; i <= 3; i++)
        spawn_prio(record, (void *)(intptr_t)i, SWARM_PRIO_NORMAL);
    swarm_yield();
    CHECK_EQ(norder, 0);
    CHECK_OK(swarm_set_priority(SWARM_PRIO_NORMAL, &old));
    CHECK_EQ(old, SWARM_PRIO_HIGH);
    swarm_yield();
    CHECK_EQ(norder, 3);
    CHECK_OK(swarm_set_priority(SWARM_PRIO_LOW, NULL));
    CHECK_OK(swarm_process_info(swarm_self(), &info, 0));
    CHECK_EQ(info.priority, SWARM_PRIO_LOW);
    atomic_store(&driver_done, 1);
}

TEST(priority_change)
{
    API_RET(swarm_set_priority, SWARM_ENOTPROC, swarm_set_priority(SWARM_PRIO_HIGH, NULL));
    run(change_driver, 1, 1);
}

/* The spawn option: the child starts with it; a bad one is refused. */
static void report_prio(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg;
    swarm_process_info_t info;
    CHECK_OK(swarm_process_info(swarm_self(), &info, 0));
    CHECK_OK(swarm_send(parent, 1, &info.priority, sizeof info.priority));
}

static void spawn_opt_driver(void *arg)
{
    (void)arg;
    int prios[] = {SWARM_PRIO_LOW, SWARM_PRIO_NORMAL, SWARM_PRIO_HIGH};
    for (int i = 0; i < 3; i++) {
        spawn_prio(report_prio, (void *)(uintptr_t)swarm_self(), prios[i]);
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, test_ms(30000)));
        int got;
        memcpy(&got, swarm_msg_data(m), sizeof got);
        swarm_msg_free(m);
        CHECK_EQ(got, prios[i]);
    }
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    CHECK_EQ(o.priority, SWARM_PRIO_NORMAL);
    o.priority = 5;
    API_RET(swarm_spawn, SWARM_EINVAL, swarm_spawn(NULL, record, NULL, &o));
    o.priority = SWARM_PRIO_LOW - 1;
    API_RET(swarm_spawn_link, SWARM_EINVAL, swarm_spawn_link(NULL, record, NULL, &o));
    API_RET(swarm_spawn_in, SWARM_EINVAL, swarm_spawn_in(swarm_current(), NULL, record, NULL, &o));
    atomic_store(&driver_done, 1);
}

TEST(spawn_option)
{
    run(spawn_opt_driver, 2, 0);
}

TEST_MAIN(TEST_ENTRY(high_runs_first), TEST_ENTRY(low_not_starved, TEST_CONCURRENCY),
          TEST_ENTRY(priority_change), TEST_ENTRY(spawn_option, TEST_DET))
