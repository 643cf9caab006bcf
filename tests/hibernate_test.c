/*
 * tests/hibernate_test.c - swarm_hibernate: a process waits with no stack
 * and starts afresh in its continuation when a message comes
 * (msg/hibernate.c, sched/run.c).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/sys.h"
#include "sched/sched.h"
#include "stack/stack.h"
#include "state/state.h"
#include "stack_pages.h"
#include "test.h"

static atomic_int done;

enum { TAG_ADD = 1, TAG_GET, TAG_SUM, TAG_A, TAG_B, TAG_GOT, TAG_VALUE, TAG_DOUBLE };

static swarm_t *self_swarm(void) { return swarm__sched_self()->swarm; }

static int send_i64(swarm_pid_t to, uint32_t tag, int64_t v) { return swarm_send(to, tag, &v, sizeof v); }

static int64_t msg_i64(const swarm_msg_t *m)
{
    int64_t v;
    CHECK_EQ(swarm_msg_size(m), sizeof v);
    memcpy(&v, swarm_msg_data(m), sizeof v);
    return v;
}

/* The next value (31 bits) of the stream test_seed() starts. */
static int64_t next_value(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005u + 1442695040888963407u;
    return (int64_t)(*seed >> 33);
}

/* Send each of pids a TAG_VALUE (yielding now and then if asked, so that
 * some go to sleep before theirs comes) and check that their TAG_DOUBLE
 * answers add up exactly. */
static void doubled_round(const swarm_pid_t *pids, int n, uint64_t *seed, int yields)
{
    int64_t want = 0, sum = 0;
    for (int i = 0; i < n; i++) {
        int64_t v = next_value(seed);
        want += 2 * v;
        CHECK_OK(send_i64(pids[i], TAG_VALUE, v));
        if (yields && (*seed >> 20) % 7 == 0)
            CHECK_OK(swarm_yield());
    }
    for (int i = 0; i < n; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(TAG_DOUBLE, &m, test_ms(30000)));
        sum += msg_i64(m);
        swarm_msg_free(m);
    }
    CHECK_EQ(sum, want);
}


/* Pages a hibernating process keeps: none, or the canary's page. */
static unsigned kept_pages(swarm_t *sw, swarm_pid_t pid)
{
    return sw->ptable.procs[swarm__pid_index(pid)].stack.guard == SWARM_GUARD_CANARY ? 1u : 0u;
}

/* Wait (as a process) until no process of pids holds a page of its stack
 * (a canary slot keeps its canary's): until their schedulers have
 * dropped the last batches, which they do when they run out of work, as
 * while this process sleeps. A process asked about (process_info) wakes
 * and is noted for a batch again. */
static void await_dropped(swarm_t *sw, const swarm_pid_t *pids, int n)
{
    unsigned kept = kept_pages(sw, pids[0]);
    for (int64_t waited = 0;; waited++) {
        unsigned held = 0;
        for (int i = 0; i < n; i++)
            held += test_stack_pages(sw, pids[i]) > kept;
        if (held == 0)
            return;
        CHECK_CMP(waited, <, test_ms(10000));
        CHECK_OK(swarm_sleep(1));
    }
}

/* Wait (as a process) until pid reports that it hibernates. */
static void await_hibernating(swarm_pid_t pid)
{
    for (int64_t waited = 0;; waited++) {
        swarm_process_info_t info;
        CHECK_OK(swarm_process_info(pid, &info, test_ms(10000)));
        if (info.wait == SWARM_WAIT_HIBERNATE)
            return;
        CHECK_CMP(waited, <, test_ms(10000));
        CHECK_OK(swarm_sleep(1));
    }
}

/* Touch about 12 KiB of stack: the fresh stack of a continuation works
 * like any other. */
__attribute__((noinline)) static unsigned deep(int depth)
{
    volatile unsigned char buf[4000];
    for (size_t i = 0; i < sizeof buf; i += 64)
        buf[i] = (unsigned char)(i + depth);
    return buf[depth * 64] + (depth ? deep(depth - 1) : 0u);
}

/* ---- a counter that hibernates between messages ---- */

typedef struct counter {
    swarm_pid_t parent;
    int64_t sum;
    int64_t runs; /* times the continuation ran */
} counter_t;

static void counter_loop(void *arg)
{
    counter_t *c = arg; /* in the process's own heap: it outlives every stack */
    c->runs++;
    CHECK_CMP(deep(2), >, 0u);
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0)); /* woken by a message: it is there */
    int64_t v = msg_i64(m);
    uint32_t tag = swarm_msg_tag(m);
    swarm_msg_free(m);
    if (tag == TAG_ADD) {
        c->sum += v;
        CHECK_EQ(swarm_hibernate(counter_loop, c), 0); /* (never returns) */
    }
    CHECK_EQ(tag, (uint32_t)TAG_GET);
    int64_t out[2] = {c->sum, c->runs};
    CHECK_OK(swarm_send(c->parent, TAG_SUM, out, sizeof out));
}

static void counter_start(void *arg)
{
    counter_t *c = swarm_alloc(sizeof *c);
    CHECK(c);
    c->parent = *(const swarm_pid_t *)arg;
    c->sum = 0;
    c->runs = 0;
    for (int i = 0; i < 10; i++) /* reductions to keep across the hibernations */
        CHECK_OK(swarm_send(swarm_self(), TAG_B, NULL, 0));
    swarm_msg_t *m;
    for (int i = 0; i < 10; i++) {
        CHECK_OK(swarm_recv_tag(TAG_B, &m, 0));
        swarm_msg_free(m);
    }
    CHECK_CMP(deep(2), >, 0u);
    swarm_hibernate(counter_loop, c);
    TEST_FAIL("swarm_hibernate returned");
}

/* Messages wake it and each runs the continuation once, on a fresh stack;
 * info requests are answered without running it; its stack pages are
 * gone while it hibernates; its reductions go on counting. */
static void counter_driver(void *arg)
{
    (void)arg;
    swarm_t *sw = self_swarm();
    uint64_t seed = test_seed();
    swarm_pid_t me = swarm_self(), pid;
    swarm_ref_t ref;
    CHECK_OK(swarm_spawn_monitor(&pid, &ref, counter_start, &me, NULL));
    await_hibernating(pid);
    swarm_process_info_t info;
    CHECK_OK(swarm_process_info(pid, &info, test_ms(10000)));
    CHECK_CMP(info.reductions, >=, (uint64_t)20); /* its 10 sends and 10 receives */
    uint64_t reductions = info.reductions;
    /* An info request wakes it to answer: it sleeps again, stack dropped. */
    int64_t waited = 0;
    while (test_stack_pages(sw, pid) > kept_pages(sw, pid)) {
        CHECK_CMP(waited++, <, test_ms(10000));
        CHECK_OK(swarm_sleep(1));
    }
    int64_t want = 0;
    const int n = 200;
    for (int i = 0; i < n; i++) {
        int64_t v = next_value(&seed);
        want += v;
        CHECK_OK(send_i64(pid, TAG_ADD, v));
        if (i % 50 == 0) { /* now and then: asleep again, and asked about */
            await_hibernating(pid);
            CHECK_OK(swarm_process_info(pid, &info, test_ms(10000)));
            CHECK_CMP(info.reductions, >, reductions);
            reductions = info.reductions;
        }
    }
    CHECK_OK(send_i64(pid, TAG_GET, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_SUM, &m, test_ms(10000)));
    const int64_t *got = swarm_msg_data(m);
    CHECK_EQ(got[0], want);
    CHECK_EQ(got[1], (int64_t)n + 1); /* once per message, never for an info request */
    swarm_msg_free(m);
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_NORMAL);
    atomic_store(&done, 1);
}

TEST(messages_wake_it)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, counter_driver, NULL, &done);
}

/* ---- a message set aside before it hibernates wakes it at once ---- */

static void aside_got(void *arg)
{
    swarm_pid_t parent = *(swarm_pid_t *)arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0));
    uint32_t tag = swarm_msg_tag(m);
    swarm_msg_free(m);
    CHECK_OK(send_i64(parent, TAG_GOT, tag));
}

static void aside_start(void *arg)
{
    swarm_pid_t *parent = swarm_alloc(sizeof *parent);
    CHECK(parent);
    *parent = *(const swarm_pid_t *)arg;
    swarm_msg_t *m;
    /* A is queued first: this receive sets it aside to take B. */
    CHECK_OK(swarm_recv_tag(TAG_B, &m, test_ms(10000)));
    swarm_msg_free(m);
    swarm_hibernate(aside_got, parent);
    TEST_FAIL("swarm_hibernate returned");
}

static void aside_driver(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self(), pid;
    swarm_ref_t ref;
    CHECK_OK(swarm_spawn_monitor(&pid, &ref, aside_start, &me, NULL));
    CHECK_OK(swarm_send(pid, TAG_A, NULL, 0));
    CHECK_OK(swarm_send(pid, TAG_B, NULL, 0));
    /* Nothing more is sent: only the message set aside can wake it. */
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_GOT, &m, test_ms(10000)));
    CHECK_EQ(msg_i64(m), (int64_t)TAG_A);
    swarm_msg_free(m);
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_NORMAL);
    atomic_store(&done, 1);
}

TEST(set_aside_message_wakes_at_once)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, aside_driver, NULL, &done);
}

/* ---- exit signals ---- */

static atomic_int cont_runs;

static void trapped_cont(void *arg)
{
    swarm_pid_t parent = *(swarm_pid_t *)arg;
    atomic_fetch_add(&cont_runs, 1);
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0));
    CHECK_EQ(swarm_msg_tag(m), SWARM_TAG_EXIT);
    swarm_pid_t from;
    swarm_reason_t why;
    CHECK(swarm_msg_exit(m, &from, &why));
    CHECK_EQ(from, parent);
    CHECK_EQ(why.atom, SWARM_ATOM_SHUTDOWN);
    swarm_msg_free(m);
}

static void sleeper(void *arg)
{
    int trap = *(const int *)arg;
    if (trap)
        CHECK_OK(swarm_trap_exit(1, NULL));
    swarm_pid_t *parent = swarm_alloc(sizeof *parent);
    CHECK(parent);
    *parent = SWARM_PID_NONE;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_VALUE, &m, test_ms(10000))); /* from the parent */
    *parent = swarm_msg_sender(m);
    swarm_msg_free(m);
    swarm_hibernate(trapped_cont, parent);
    TEST_FAIL("swarm_hibernate returned");
}

/* An exit signal ends a hibernating process as any waiting one, without
 * running its continuation; trapped, it is a message that does. */
static void exit_driver(void *arg)
{
    (void)arg;
    atomic_store(&cont_runs, 0);
    static const int no = 0, yes = 1;
    swarm_pid_t pid;
    swarm_ref_t ref;

    CHECK_OK(swarm_spawn_monitor(&pid, &ref, sleeper, (void *)&no, NULL));
    CHECK_OK(swarm_send(pid, TAG_VALUE, NULL, 0));
    await_hibernating(pid);
    CHECK_OK(swarm_exit_pid(pid, swarm_reason(SWARM_ATOM_SHUTDOWN)));
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_SHUTDOWN);
    CHECK_EQ(atomic_load(&cont_runs), 0);

    CHECK_OK(swarm_spawn_monitor(&pid, &ref, sleeper, (void *)&no, NULL));
    CHECK_OK(swarm_send(pid, TAG_VALUE, NULL, 0));
    await_hibernating(pid);
    CHECK_OK(swarm_exit_pid(pid, swarm_reason(SWARM_ATOM_KILL)));
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_KILLED);
    CHECK_EQ(atomic_load(&cont_runs), 0);

    CHECK_OK(swarm_spawn_monitor(&pid, &ref, sleeper, (void *)&yes, NULL));
    CHECK_OK(swarm_send(pid, TAG_VALUE, NULL, 0));
    await_hibernating(pid);
    CHECK_OK(swarm_exit_pid(pid, swarm_reason(SWARM_ATOM_SHUTDOWN)));
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_NORMAL); /* the continuation ran and returned */
    CHECK_EQ(atomic_load(&cont_runs), 1);
    atomic_store(&done, 1);
}

TEST(exit_signals)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, exit_driver, NULL, &done);
}

/* ---- errors ---- */

static void nop(void *arg) { (void)arg; }

static void errors_driver(void *arg)
{
    (void)arg;
    API_RET(swarm_hibernate, SWARM_EINVAL, swarm_hibernate(NULL, NULL));
    atomic_store(&swarm__alloc_fail_at, 1); /* the next allocation fails */
    API_RET(swarm_hibernate, SWARM_ENOMEM, swarm_hibernate(nop, NULL));
    swarm__sys_reset();
    /* It went on as before: it still receives. */
    CHECK_OK(swarm_send(swarm_self(), TAG_A, NULL, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_A, &m, 0));
    swarm_msg_free(m);
    atomic_store(&done, 1);
}

TEST(errors)
{
    API_RET(swarm_hibernate, SWARM_ENOTPROC, swarm_hibernate(nop, NULL));
    swarm_config_t c = test_config(1);
    test_run_swarm(&c, errors_driver, NULL, &done);
}

/* ---- many at once ---- */

#define MANY 20000

static atomic_int asleep;

static void doubler(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg; /* a pid fits a pointer here */
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_VALUE, &m, 0));
    int64_t v = msg_i64(m);
    swarm_msg_free(m);
    CHECK_OK(send_i64(parent, TAG_DOUBLE, 2 * v));
}

static void many_child(void *arg)
{
    atomic_fetch_add(&asleep, 1);
    swarm_hibernate(doubler, arg);
    TEST_FAIL("swarm_hibernate returned");
}

/* MANY processes hibernate: the stack arena keeps no page for them; each
 * wakes to exactly one message and answers exactly once. */
static void many_driver(void *arg)
{
    (void)arg;
    _Static_assert(sizeof(swarm_pid_t) <= sizeof(uintptr_t), "a pid fits a pointer");
    swarm_t *sw = self_swarm();
    uint64_t seed = test_seed();
    int n = (int)test_scale(MANY);
    atomic_store(&asleep, 0);
    swarm_pid_t *pids = swarm_alloc((size_t)n * sizeof *pids);
    CHECK(pids);
    for (int i = 0; i < n; i++)
        CHECK_OK(swarm_spawn(&pids[i], many_child, (void *)(uintptr_t)swarm_self(), NULL));
    /* Every child has started and gone to sleep (or is on its way). */
    for (int64_t waited = 0; atomic_load(&asleep) < n; waited++) {
        CHECK_CMP(waited, <, test_ms(30000));
        CHECK_OK(swarm_sleep(1));
    }
    await_hibernating(pids[n - 1]);
    await_dropped(sw, pids, n);
    doubled_round(pids, n, &seed, 0);
    swarm_free(pids);
    atomic_store(&done, 1);
}

TEST(many)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, many_driver, NULL, &done);
}

/* ---- swarm_memory: parked and hibernating processes ---- */

static void parked_child(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_VALUE, &m, SWARM_INFINITE));
    swarm_msg_free(m);
}

static void hib_value(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_VALUE, &m, 0));
    swarm_msg_free(m);
}

static void hib_child(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    swarm_hibernate(hib_value, NULL);
    TEST_FAIL("swarm_hibernate returned");
}

/* Start n children, wait until all have gone to sleep and the stacks of
 * hibernating ones were dropped; returns the memory then. */
static swarm_memory_t sleep_n(swarm_pid_t *pids, int n, swarm_fn child)
{
    swarm_t *sw = self_swarm();
    atomic_int started = 0;
    for (int i = 0; i < n; i++)
        CHECK_OK(swarm_spawn(&pids[i], child, &started, NULL));
    for (int64_t waited = 0; atomic_load(&started) < n; waited++) {
        CHECK_CMP(waited, <, test_ms(30000));
        CHECK_OK(swarm_sleep(1));
    }
    for (int i = 0; i < n; i++) {
        swarm_process_info_t info;
        do {
            CHECK_OK(swarm_process_info(pids[i], &info, test_ms(10000)));
        } while (info.wait == SWARM_WAIT_NONE && swarm_sleep(1) == 0);
    }
    if (child == hib_child) /* (each was asked about above: woken, noted again) */
        await_dropped(sw, pids, n);
    swarm_memory_t m;
    API_RET(swarm_memory, 0, swarm_memory(sw, &m));
    return m;
}

static void wake_n(const swarm_pid_t *pids, int n)
{
    swarm_ref_t ref;
    for (int i = 0; i < n; i++) {
        CHECK_OK(swarm_monitor(pids[i], &ref));
        CHECK_OK(swarm_send(pids[i], TAG_VALUE, NULL, 0));
        CHECK_EQ(test_await_down(ref), SWARM_ATOM_NORMAL);
    }
}

/* A parked process holds at least a page of stack, a hibernating one
 * none; both hold their control block. */
static void memory_driver(void *arg)
{
    (void)arg;
    swarm_t *sw = self_swarm();
    enum { N = 500 };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    swarm_pid_t pids[N];
    swarm_memory_t m0;
    API_RET(swarm_memory, 0, swarm_memory(sw, &m0));
    CHECK_CMP(m0.procs, >=, (size_t)256); /* this process's block */
    CHECK_CMP(m0.stacks, >=, page);       /* and its stack */
    CHECK_CMP(m0.tables, >, (size_t)0);
    CHECK_CMP(m0.page_tables, >, (size_t)0);

    swarm_memory_t m1 = sleep_n(pids, N, parked_child);
    CHECK_CMP(m1.procs - m0.procs, >=, (size_t)(N - 64) * 256); /* (slots on the way: whole pages) */
    CHECK_CMP(m1.stacks - m0.stacks, >=, (size_t)N * page);
    wake_n(pids, N);

    /* Slots and stacks again, many of them warm: now hibernating, they
     * hold none of their pages, warm or not. (The arena's total need not
     * fall: its caches keep the pages of stacks that no process took.) */
    swarm_memory_t m2 = sleep_n(pids, N, hib_child);
    unsigned held = 0;
    for (int i = 0; i < N; i++)
        held += test_stack_pages(sw, pids[i]);
    CHECK_CMP(held, <=, (unsigned)N * kept_pages(sw, pids[0]));
    CHECK_CMP(m2.procs, >=, m1.procs); /* the blocks stay */
    wake_n(pids, N);

    API_RET(swarm_memory, SWARM_EINVAL, swarm_memory(NULL, &m0));
    API_RET(swarm_memory, SWARM_EINVAL, swarm_memory(sw, NULL));
    atomic_store(&done, 1);
}

TEST(memory)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, memory_driver, NULL, &done);
}

/* ---- woken and ended while their stacks wait for a batch ---- */

typedef struct stepper {
    swarm_pid_t parent;
    int left;
} stepper_t;

static void step(void *arg)
{
    stepper_t *st = arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_VALUE, &m, 0));
    int64_t v = msg_i64(m);
    swarm_msg_free(m);
    CHECK_OK(send_i64(st->parent, TAG_DOUBLE, 2 * v));
    if (--st->left > 0)
        swarm_hibernate(step, st);
    /* the last round: it ends, and its slot goes to the next round's */
}

static void stepper_start(void *arg)
{
    stepper_t *st = swarm_alloc(sizeof *st);
    CHECK(st);
    *st = *(const stepper_t *)arg;
    swarm_hibernate(step, st);
    TEST_FAIL("swarm_hibernate returned");
}

/* Processes hibernate, are woken (often before their scheduler dropped
 * their stack: the batch sees them running, or takes them back while a
 * message is pushed), hibernate again, and end, their slots going to the
 * next round's processes while older notes of them wait in the batches.
 * Every message is answered exactly once. */
static void churn_driver(void *arg)
{
    (void)arg;
    uint64_t seed = test_seed();
    int n = (int)test_scale(2000), rounds = 3, steps = 4;
    swarm_pid_t *pids = swarm_alloc((size_t)n * sizeof *pids);
    CHECK(pids);
    stepper_t init = {.parent = swarm_self(), .left = steps};
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++)
            CHECK_OK(swarm_spawn(&pids[i], stepper_start, &init, NULL)); /* (init outlives their first run) */
        for (int k = 0; k < steps; k++)
            doubled_round(pids, n, &seed, 1);
    }
    swarm_free(pids);
    atomic_store(&done, 1);
}

TEST(churn)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, churn_driver, NULL, &done);
}

/* ---- destroy ---- */

static void forever(void *arg)
{
    (void)arg;
    TEST_FAIL("a hibernating process ran without a message");
}

static void hibernate_now(void *arg)
{
    (void)arg;
    swarm_hibernate(forever, NULL);
    TEST_FAIL("swarm_hibernate returned");
}

/* Starts three that hibernate, sees each report it, then ends. */
static void destroy_driver(void *arg)
{
    swarm_pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        CHECK_OK(swarm_spawn(&pids[i], hibernate_now, NULL, NULL));
        await_hibernating(pids[i]);
    }
    atomic_store((atomic_int *)arg, 1);
}

/* Destroyed while hibernating: its continuation is freed with its other
 * resources (the ASan build's leak check sees one that is not). */
TEST(destroy_while_hibernating)
{
    swarm_config_t c = test_config(1);
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, &c));
    atomic_int ready = 0;
    CHECK_OK(swarm_spawn_in(sw, NULL, destroy_driver, &ready, NULL));
    TEST_POLL(atomic_load(&ready) == 1, 10000);
    CHECK_OK(swarm_destroy(sw));
}

TEST_MAIN(TEST_ENTRY(messages_wake_it, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(set_aside_message_wakes_at_once, TEST_DET), TEST_ENTRY(exit_signals, TEST_DET),
          TEST_ENTRY(errors), TEST_ENTRY(many, TEST_DET, TEST_CONCURRENCY), TEST_ENTRY(churn, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(memory, TEST_DET),
          TEST_ENTRY(destroy_while_hibernating))
