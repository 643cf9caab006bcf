/*
 * tests/tmsg_test.c - timer messages (swarmrt/timer.h), as OTP 25 does
 * them (docs/design/semantics-plan.md rows T1-T9).
 */
#include <stdatomic.h>
#include <string.h>

#include "base/sys.h"
#include "test.h"

static atomic_int done;

static void run(swarm_fn driver)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.max_msg_size = 256;
    atomic_store(&done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
}

static void waiter(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0)
        swarm_msg_free(m);
}

static void arm_for_parent(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg;
    CHECK_OK(swarm_send_after(50, parent, 8, "from the dead", 13, NULL));
}

/* T1: send_after delivers a plain message, no sender, not before its
 * time. T2: start_timer's message carries the ref. T3: read and cancel
 * give the time left; a second cancel, or one after it fired, gives
 * SWARM_ENOENT and the fired message stays. */
static void basic_driver(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    swarm_ref_t r;
    int64_t t0 = swarm_now_ms();
    API_RET(swarm_send_after, 0, swarm_send_after(50, me, 7, "hello", 5, &r));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, test_ms(30000)));
    CHECK_CMP(swarm_now_ms() - t0, >=, 50);
    CHECK_EQ(swarm_msg_tag(m), 7);
    CHECK_EQ(swarm_msg_sender(m), SWARM_PID_NONE);
    CHECK_EQ(memcmp(swarm_msg_data(m), "hello", 5), 0);
    swarm_msg_free(m);
    API_RET(swarm_read_timer, SWARM_ENOENT, swarm_read_timer(r, NULL)); /* fired */

    API_RET(swarm_start_timer, 0, swarm_start_timer(30, me, 9, "tick", 4, &r));
    CHECK_OK(swarm_recv_tag(SWARM_TAG_TIMER, &m, test_ms(30000)));
    swarm_ref_t got;
    uint32_t tag;
    const void *data;
    size_t size;
    CHECK(swarm_msg_timer(m, &got, &tag, &data, &size));
    CHECK(swarm_ref_eq(got, r));
    CHECK_EQ(tag, 9);
    CHECK_EQ(size, 4);
    CHECK_EQ(memcmp(data, "tick", 4), 0);
    swarm_msg_free(m);

    int64_t left = -1;
    CHECK_OK(swarm_start_timer(1000, me, 1, NULL, 0, &r));
    swarm_sleep(100);
    API_RET(swarm_read_timer, 0, swarm_read_timer(r, &left));
    CHECK_CMP(left, <=, 900);
    CHECK_CMP(left, >=, 800);
    API_RET(swarm_cancel_timer, 0, swarm_cancel_timer(r, &left));
    CHECK_CMP(left, <=, 900);
    API_RET(swarm_cancel_timer, SWARM_ENOENT, swarm_cancel_timer(r, &left));
    CHECK_OK(swarm_send_after(10, me, 2, "y", 1, &r));
    swarm_sleep(50);
    CHECK_EQ(swarm_cancel_timer(r, &left), SWARM_ENOENT); /* fired: ... */
    CHECK_OK(swarm_recv(&m, 0));                          /* ... and its message stays */
    CHECK_EQ(swarm_msg_tag(m), 2);
    swarm_msg_free(m);
    CHECK_EQ(swarm_cancel_timer(swarm_make_ref(), NULL), SWARM_ENOENT);
    CHECK_EQ(swarm_recv(&m, 0), SWARM_ETIMEDOUT); /* the cancelled one never came */
    atomic_store(&done, 1);
}
TEST(send_after_start_timer_cancel) { run(basic_driver); }

/* T5: a timer to a dead pid: a ref, gone at once. T6: the target ends:
 * the timer is gone. T7: a timer outlives the process that armed it. */
static void lifetime_driver(void *arg)
{
    (void)arg;
    swarm_pid_t p;
    swarm_ref_t mon, r;
    CHECK_OK(swarm_spawn_monitor(&p, &mon, waiter, NULL, NULL));
    CHECK_OK(swarm_send_after(1000, p, 1, "x", 1, &r));
    API_RET(swarm_read_timer, 0, swarm_read_timer(r, NULL));
    CHECK_OK(swarm_send(p, 1, "bye", 3));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
    swarm_msg_free(m);
    CHECK_EQ(swarm_read_timer(r, NULL), SWARM_ENOENT); /* T6 */
    CHECK_OK(swarm_send_after(10, p, 1, "x", 1, &r));   /* T5 */
    CHECK_EQ(swarm_read_timer(r, NULL), SWARM_ENOENT);
    CHECK_OK(swarm_spawn(NULL, arm_for_parent, (void *)(uintptr_t)swarm_self(), NULL)); /* T7 */
    CHECK_OK(swarm_recv_tag(8, &m, test_ms(30000)));
    swarm_msg_free(m);
    atomic_store(&done, 1);
}
TEST(timer_lifetimes) { run(lifetime_driver); }

/* T8: a timer to a name is resolved when it fires: registered after the
 * timer was armed, the process gets it; a name nobody has then: dropped. */
static void named_receiver(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(4, &m, test_ms(30000)));
    CHECK_OK(swarm_send(parent, 6, swarm_msg_data(m), swarm_msg_size(m)));
    swarm_msg_free(m);
}
static void by_name_driver(void *arg)
{
    (void)arg;
    swarm_atom_t later, nobody;
    CHECK_OK(swarm_atom("later", &later));
    CHECK_OK(swarm_atom("nobody", &nobody));
    swarm_ref_t r;
    API_RET(swarm_send_after_name, 0, swarm_send_after_name(50, later, 4, "hi", 2, &r));
    CHECK_OK(swarm_read_timer(r, NULL)); /* active, though no process has the name yet */
    swarm_pid_t p;
    CHECK_OK(swarm_spawn(&p, named_receiver, (void *)(uintptr_t)swarm_self(), NULL));
    CHECK_OK(swarm_register(later, p));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(6, &m, test_ms(30000)));
    CHECK_EQ(memcmp(swarm_msg_data(m), "hi", 2), 0);
    swarm_msg_free(m);
    CHECK_OK(swarm_send_after_name(10, nobody, 4, "x", 1, &r));
    swarm_sleep(50);
    CHECK_EQ(swarm_read_timer(r, NULL), SWARM_ENOENT); /* fired, into nothing */
    API_RET(swarm_send_after_name, SWARM_EINVAL, swarm_send_after_name(-1, nobody, 4, NULL, 0, &r));
    static char big[300];
    API_RET(swarm_send_after_name, SWARM_EMSGSIZE, swarm_send_after_name(1, nobody, 4, big, sizeof big, &r));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_send_after_name, SWARM_ENOMEM, swarm_send_after_name(1, nobody, 4, NULL, 0, &r));
    swarm__sys_reset();
    atomic_store(&done, 1);
}
TEST(timer_to_name) { run(by_name_driver); }

/* An interval fires every ms until cancelled: 5 ticks in 5 periods. */
static void interval_driver(void *arg)
{
    (void)arg;
    swarm_ref_t r;
    int64_t t0 = swarm_now_ms();
    API_RET(swarm_send_interval, 0, swarm_send_interval(20, swarm_self(), 3, "i", 1, &r));
    for (int i = 0; i < 5; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(3, &m, test_ms(30000)));
        swarm_msg_free(m);
    }
    CHECK_CMP(swarm_now_ms() - t0, >=, 100);
    CHECK_OK(swarm_cancel_timer(r, NULL));
    swarm_msg_t *m;
    /* At most one tick was on its way while cancelling. */
    int late = 0;
    while (swarm_recv_tag(3, &m, 100) == 0) {
        swarm_msg_free(m);
        late++;
    }
    CHECK_CMP(late, <=, 1);
    atomic_store(&done, 1);
}
TEST(interval) { run(interval_driver); }

/* T4: cancel_timer(R, [{async, true}, {info, true}]): the answer is a
 * message {cancel_timer, R, Left | false}; the timer is cancelled by the
 * time the call returns. */
static int64_t async_answer(swarm_ref_t r)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_CANCEL_TIMER, &m, test_ms(30000)));
    swarm_ref_t got;
    int64_t left = -2;
    CHECK(swarm_msg_cancel_timer(m, &got, &left));
    CHECK(swarm_ref_eq(got, r));
    CHECK_EQ(swarm_msg_sender(m), swarm_self());
    CHECK(!swarm_msg_timer(m, NULL, NULL, NULL, NULL));
    swarm_msg_free(m);
    return left;
}

static void async_driver(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    swarm_ref_t r;
    int64_t t0 = swarm_now_ms();
    CHECK_OK(swarm_send_after(1000, me, 7, "late", 4, &r));
    swarm_sleep(100);
    API_RET(swarm_cancel_timer_async, 0, swarm_cancel_timer_async(r));
    API_RET(swarm_read_timer, SWARM_ENOENT, swarm_read_timer(r, NULL)); /* already gone */
    int64_t left = async_answer(r);
    int64_t spent = swarm_now_ms() - t0; /* (a loaded machine may take longer than 100 ms) */
    CHECK_CMP(left, <=, 900);
    CHECK_CMP(left, >=, 1000 - spent - 1);
    /* Fired: false (-1), and its message stays. */
    CHECK_OK(swarm_start_timer(10, me, 8, NULL, 0, &r));
    swarm_sleep(50);
    CHECK_OK(swarm_cancel_timer_async(r));
    CHECK_EQ(async_answer(r), -1);
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_TIMER, &m, 0));
    CHECK(!swarm_msg_cancel_timer(m, NULL, NULL));
    swarm_msg_free(m);
    /* Cancelled twice, or not a timer at all: false. */
    CHECK_OK(swarm_send_after(1000, me, 7, NULL, 0, &r));
    CHECK_OK(swarm_cancel_timer_async(r));
    CHECK_OK(swarm_cancel_timer_async(r));
    CHECK_CMP(async_answer(r), >=, 0);
    CHECK_EQ(async_answer(r), -1);
    r = swarm_make_ref();
    CHECK_OK(swarm_cancel_timer_async(r));
    CHECK_EQ(async_answer(r), -1);
    /* No memory for the answer: the timer is cancelled all the same. */
    CHECK_OK(swarm_send_after(50, me, 7, NULL, 0, &r));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_cancel_timer_async, SWARM_ENOMEM, swarm_cancel_timer_async(r));
    swarm__sys_reset();
    CHECK_EQ(swarm_recv(&m, 100), SWARM_ETIMEDOUT); /* neither the answer nor the message */
    CHECK(!swarm_msg_cancel_timer(NULL, NULL, NULL));
    atomic_store(&done, 1);
}

TEST(cancel_async)
{
    API_RET(swarm_cancel_timer_async, SWARM_ENOTPROC, swarm_cancel_timer_async(swarm_make_ref()));
    run(async_driver);
}

static void codes_driver(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    swarm_ref_t r;
    API_RET(swarm_send_after, SWARM_EINVAL, swarm_send_after(-1, me, 1, NULL, 0, &r));
    API_RET(swarm_send_after, SWARM_EINVAL, swarm_send_after(1, me, SWARM_TAG_SYSTEM, NULL, 0, &r));
    API_RET(swarm_send_after, SWARM_EINVAL, swarm_send_after(1, SWARM_PID_NONE, 1, NULL, 0, &r));
    API_RET(swarm_start_timer, SWARM_EINVAL, swarm_start_timer(1, me, 1, NULL, 3, &r));
    API_RET(swarm_send_interval, SWARM_EINVAL, swarm_send_interval(0, me, 1, NULL, 0, &r));
    static char big[300];
    API_RET(swarm_send_after, SWARM_EMSGSIZE, swarm_send_after(1, me, 1, big, sizeof big, &r));
    API_RET(swarm_start_timer, SWARM_EMSGSIZE, swarm_start_timer(1, me, 1, big, 250, &r)); /* + the ref */
    API_RET(swarm_send_interval, SWARM_EMSGSIZE, swarm_send_interval(1, me, 1, big, sizeof big, &r));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_send_after, SWARM_ENOMEM, swarm_send_after(1, me, 1, NULL, 0, &r));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_start_timer, SWARM_ENOMEM, swarm_start_timer(1, me, 1, NULL, 0, &r));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_send_interval, SWARM_ENOMEM, swarm_send_interval(1, me, 1, NULL, 0, &r));
    swarm__sys_reset();
    swarm_msg_t *m;
    CHECK_EQ(swarm_recv(&m, 50), SWARM_ETIMEDOUT); /* nothing half-armed fired */
    atomic_store(&done, 1);
}
TEST(codes)
{
    swarm_ref_t r = swarm_make_ref();
    API_RET(swarm_send_after, SWARM_ENOTPROC, swarm_send_after(1, 1, 1, NULL, 0, &r));
    API_RET(swarm_start_timer, SWARM_ENOTPROC, swarm_start_timer(1, 1, 1, NULL, 0, &r));
    API_RET(swarm_send_interval, SWARM_ENOTPROC, swarm_send_interval(1, 1, 1, NULL, 0, &r));
    API_RET(swarm_cancel_timer, SWARM_ENOTPROC, swarm_cancel_timer(r, NULL));
    API_RET(swarm_read_timer, SWARM_ENOTPROC, swarm_read_timer(r, NULL));
    API_RET(swarm_send_after_name, SWARM_ENOTPROC, swarm_send_after_name(1, 1, 1, NULL, 0, &r));
    run(codes_driver);
}

TEST_MAIN(TEST_ENTRY(send_after_start_timer_cancel, TEST_DET), TEST_ENTRY(timer_lifetimes, TEST_DET),
          TEST_ENTRY(interval, TEST_DET), TEST_ENTRY(codes), TEST_ENTRY(timer_to_name, TEST_DET),
          TEST_ENTRY(cancel_async, TEST_DET))
