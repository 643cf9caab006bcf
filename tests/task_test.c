/*
 * tests/task_test.c - tasks (swarmrt/task.h): results, crashes, timeouts,
 * groups.
 */
#include <stdatomic.h>
#include <string.h>

#include "base/sys.h"
#include "test.h"

/* (Also out of TSan's sight: each process is a TSan fiber, and two
 * crashers' stores to address 0 would read as a race.) */
#define CRASHES_ON_PURPOSE __attribute__((no_sanitize("undefined", "thread")))

static atomic_int done;

static void square(void *arg)
{
    long x = (long)(intptr_t)arg;
    long y = x * x;
    swarm_task_return(&y, sizeof y);
}

CRASHES_ON_PURPOSE static void crasher(void *arg)
{
    (void)arg;
    volatile int *volatile np = NULL;
    *np = 1;
}

static void returns_nothing(void *arg) { (void)arg; }

static void slow(void *arg)
{
    swarm_sleep((int64_t)(intptr_t)arg);
    swarm_task_return("slow", 4);
}

static void big_result(void *arg)
{
    (void)arg;
    static char big[256];
    swarm_task_return(big, sizeof big); /* over the swarm's 128-byte limit */
}

static void driver(void *arg)
{
    (void)arg;
    swarm_task_t t[8];
    swarm_msg_t *m;
    for (long i = 0; i < 8; i++)
        API_RET(swarm_task_spawn, 0, swarm_task_spawn(&t[i], square, (void *)(intptr_t)i));
    for (long i = 7; i >= 0; i--) { /* any order: each result is its own task's */
        API_RET(swarm_task_await, 0, swarm_task_await(&t[i], &m, test_ms(30000), NULL));
        CHECK_EQ(*(const long *)swarm_msg_data(m), i * i);
        swarm_msg_free(m);
    }
    API_RET(swarm_task_await, SWARM_EINVAL, swarm_task_await(&t[0], &m, 0, NULL)); /* spent */
    /* A crash is the await's error, with its reason; the owner lives on. */
    swarm_atom_t why = 0;
    CHECK_OK(swarm_task_spawn(&t[0], crasher, NULL));
    API_RET(swarm_task_await, SWARM_ESRCH, swarm_task_await(&t[0], &m, test_ms(30000), &why));
    CHECK_EQ(why, SWARM_ATOM_CRASH);
    /* No result, a normal end: 0 and NULL. */
    CHECK_OK(swarm_task_spawn(&t[0], returns_nothing, NULL));
    m = (swarm_msg_t *)1;
    CHECK_OK(swarm_task_await(&t[0], &m, test_ms(30000), NULL));
    CHECK(m == NULL);
    /* Not done in time: it runs on; a second await gets it. */
    CHECK_OK(swarm_task_spawn(&t[0], slow, (void *)(intptr_t)200));
    API_RET(swarm_task_await, SWARM_ETIMEDOUT, swarm_task_await(&t[0], &m, 10, NULL));
    CHECK_OK(swarm_task_await(&t[0], &m, test_ms(30000), NULL));
    CHECK_EQ(memcmp(swarm_msg_data(m), "slow", 4), 0);
    swarm_msg_free(m);
    /* A result that cannot be sent: the task ends with nomem. */
    CHECK_OK(swarm_task_spawn(&t[0], big_result, NULL));
    CHECK_EQ(swarm_task_await(&t[0], &m, test_ms(30000), &why), SWARM_ESRCH);
    CHECK_EQ(why, SWARM_ATOM_NOMEM);
    /* A group: the first 2 of 4 (two quick, two slow), then the rest. */
    CHECK_OK(swarm_task_spawn(&t[0], slow, (void *)(intptr_t)5000));
    CHECK_OK(swarm_task_spawn(&t[1], square, (void *)(intptr_t)3));
    CHECK_OK(swarm_task_spawn(&t[2], crasher, NULL));
    CHECK_OK(swarm_task_spawn(&t[3], slow, (void *)(intptr_t)6000));
    swarm_task_outcome_t out[4];
    API_RET(swarm_task_await_many, 0, swarm_task_await_many(t, 4, 2, out, test_ms(30000)));
    CHECK_EQ(out[0].rc, SWARM_ETIMEDOUT);
    CHECK_EQ(out[1].rc, 0);
    CHECK_EQ(*(const long *)swarm_msg_data(out[1].result), 9);
    swarm_msg_free(out[1].result);
    CHECK_EQ(out[2].rc, SWARM_ESRCH);
    CHECK_EQ(out[2].why, SWARM_ATOM_CRASH);
    CHECK_EQ(out[3].rc, SWARM_ETIMEDOUT);
    API_RET(swarm_task_await_many, SWARM_ETIMEDOUT, swarm_task_await_many(t, 4, 0, out, 100));
    API_RET(swarm_task_await_many, 0, swarm_task_await_many(t, 4, 0, out, test_ms(60000)));
    CHECK_EQ(out[0].rc, 0);
    CHECK_EQ(out[3].rc, 0);
    CHECK_EQ(out[1].rc, SWARM_EINVAL); /* settled before */
    swarm_msg_free(out[0].result);
    swarm_msg_free(out[3].result);
    API_RET(swarm_task_await_many, SWARM_EINVAL, swarm_task_await_many(t, 4, 5, out, 0));
    API_RET(swarm_task_await, SWARM_EINVAL, swarm_task_await(NULL, &m, 0, NULL));
    API_RET(swarm_task_spawn, SWARM_EINVAL, swarm_task_spawn(&t[0], NULL, NULL));
    API_RET(swarm_task_spawn, SWARM_EINVAL, swarm_task_spawn(NULL, square, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_task_spawn, SWARM_ENOMEM, swarm_task_spawn(&t[0], square, NULL));
    swarm__sys_reset();
    /* The table (12 here) full: this process and 11 tasks. */
    swarm_task_t hold[12];
    size_t nh = 0;
    while (nh < 12 && swarm_task_spawn(&hold[nh], slow, (void *)(intptr_t)1000) == 0)
        nh++;
    CHECK_EQ(nh, 11);
    API_RET(swarm_task_spawn, SWARM_EAGAIN, swarm_task_spawn(&t[1], square, NULL));
    swarm_task_outcome_t oh[12];
    CHECK_OK(swarm_task_await_many(hold, nh, 0, oh, test_ms(60000)));
    for (size_t i = 0; i < nh; i++) {
        CHECK_EQ(oh[i].rc, 0);
        swarm_msg_free(oh[i].result);
    }
    atomic_store(&done, 1);
}

static atomic_int spin_started, spin_done;
static void shutdown_spinner(void *arg)
{
    (void)arg;
    swarm_task_t t;
    atomic_store(&spin_started, 1);
    while (swarm_task_spawn(&t, square, NULL) == SWARM_EAGAIN)
        ;
    API_RET(swarm_task_spawn, SWARM_ESHUTDOWN, swarm_task_spawn(&t, square, NULL));
    atomic_store(&spin_done, 1);
}

static void parked(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0)
        swarm_msg_free(m);
}

TEST(tasks)
{
    swarm_task_t t;
    swarm_msg_t *m;
    swarm_task_outcome_t o;
    API_RET(swarm_task_spawn, SWARM_ENOTPROC, swarm_task_spawn(&t, square, NULL));
    API_RET(swarm_task_await, SWARM_ENOTPROC, swarm_task_await(&t, &m, 0, NULL));
    API_RET(swarm_task_await_many, SWARM_ENOTPROC, swarm_task_await_many(&t, 1, 1, &o, 0));
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.quiet = 1;
    c.max_procs = 12;
    c.max_msg_size = 128;
    atomic_store(&done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);

    /* A process still running while destroy begins: threads, even in the
     * .det run (a deterministic swarm runs only inside swarm_wait). */
    swarm_config_init(&c);
    c.schedulers = 1;
    c.max_procs = 2;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, parked, NULL, NULL));
    CHECK_OK(swarm_spawn_in(sw, NULL, shutdown_spinner, NULL, NULL));
    TEST_POLL(atomic_load(&spin_started), 60000);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&spin_done), 1);
}

TEST_MAIN(TEST_ENTRY(tasks, TEST_DET))
