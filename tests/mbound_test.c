/*
 * tests/mbound_test.c - bounded mailboxes (swarm_spawn_opts_t.mailbox_max):
 * never above the bound, senders parked and woken in order, policies, and
 * signals never refused.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/sys.h"
#include "test.h"

enum { TAG_DATA = 1, TAG_GO = 2, TAG_DONE = 3, TAG_HOLD = 4 };

static atomic_int done;

static void run(swarm_fn driver, unsigned nsched)
{
    swarm_config_t c = test_config(nsched);
    c.max_msg_size = 256;
    test_run_swarm(&c, driver, NULL, &done);
}

static swarm_spawn_opts_t bounded(uint32_t max, int policy)
{
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.mailbox_max = max;
    o.mailbox_full = policy;
    return o;
}

/* ---- many parked senders, one slow receiver: the bound holds ---- */

#define BOUND 8
#define PRODUCERS 4

static long per_producer;

static void consumer(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg;
    long total = per_producer * PRODUCERS, got = 0, sum = 0;
    size_t most = 0;
    while (got < total) {
        size_t len = swarm_mailbox_len();
        if (len > most)
            most = len;
        CHECK_CMP(len, <=, BOUND);
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(TAG_DATA, &m, test_ms(60000)));
        long v;
        memcpy(&v, swarm_msg_data(m), sizeof v);
        sum += v;
        swarm_msg_free(m);
        got++;
        if (got % 16 == 0)
            swarm_yield(); /* slow: let the producers fill it up */
    }
    long res[2] = {sum, (long)most};
    CHECK_OK(swarm_send(parent, TAG_DONE, res, sizeof res));
}

static void producer(void *arg)
{
    swarm_pid_t to = (swarm_pid_t)(uintptr_t)arg;
    for (long i = 1; i <= per_producer; i++)
        CHECK_OK(swarm_send(to, TAG_DATA, &i, sizeof i)); /* parks when full */
}

static void stress_driver(void *arg)
{
    (void)arg;
    per_producer = test_scale(20000);
    swarm_spawn_opts_t o = bounded(BOUND, SWARM_MBOX_PARK);
    swarm_pid_t c;
    CHECK_OK(swarm_spawn(&c, consumer, (void *)(uintptr_t)swarm_self(), &o));
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_OK(swarm_spawn(NULL, producer, (void *)(uintptr_t)c, NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_DONE, &m, test_ms(120000)));
    long res[2];
    memcpy(res, swarm_msg_data(m), sizeof res);
    swarm_msg_free(m);
    long want = PRODUCERS * per_producer * (per_producer + 1) / 2;
    CHECK_EQ(res[0], want); /* every value exactly once */
    printf("%ld messages through a mailbox of %d; most queued seen: %ld\n", PRODUCERS * per_producer, BOUND,
           res[1]);
    CHECK_CMP(res[1], <=, BOUND);
    atomic_store(&done, 1);
}
TEST(never_above_bound) { run(stress_driver, 2); }

/* ---- policies, timeouts, foreign threads ---- */

static void holder(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    /* Holds its mailbox full until told; receives only TAG_HOLD. */
    CHECK_OK(swarm_recv_tag(TAG_HOLD, &m, test_ms(60000)));
    swarm_msg_free(m);
    while (swarm_recv(&m, 0) == 0)
        swarm_msg_free(m);
}

static swarm_pid_t foreign_to;
static int foreign_rc;

static void *foreign_sender(void *arg)
{
    (void)arg;
    /* Outside the swarm: it cannot park, so a full mailbox refuses. */
    API_RET(swarm_send, SWARM_EAGAIN, swarm_send(foreign_to, TAG_DATA, "x", 1));
    foreign_rc = 1;
    return NULL;
}

static void policy_driver(void *arg)
{
    (void)arg;
    /* PARK: a full mailbox; try and timeout forms, a foreign thread. */
    swarm_spawn_opts_t o = bounded(2, SWARM_MBOX_PARK);
    swarm_pid_t h;
    CHECK_OK(swarm_spawn(&h, holder, NULL, &o));
    API_RET(swarm_try_send, 0, swarm_try_send(h, TAG_DATA, "a", 1));
    API_RET(swarm_send_timeout, 0, swarm_send_timeout(h, TAG_DATA, "b", 1, 10));
    API_RET(swarm_try_send, SWARM_EAGAIN, swarm_try_send(h, TAG_DATA, "c", 1));
    int64_t t0 = test_now_ms();
    API_RET(swarm_send_timeout, SWARM_ETIMEDOUT, swarm_send_timeout(h, TAG_DATA, "c", 1, 30));
    CHECK_CMP(test_now_ms() - t0, >=, 29);
    API_RET(swarm_send_timeout, SWARM_EAGAIN, swarm_send_timeout(h, TAG_DATA, "c", 1, 0));
    API_RET(swarm_send_timeout, SWARM_EINVAL, swarm_send_timeout(h, TAG_DATA, "c", 1, -2));
    foreign_to = h;
    pthread_t th;
    CHECK_OK(pthread_create(&th, NULL, foreign_sender, NULL));
    CHECK_OK(pthread_join(th, NULL));
    CHECK_EQ(foreign_rc, 1);
    /* The other codes, as swarm_send's. */
    static char big[300];
    API_RET(swarm_try_send, SWARM_EMSGSIZE, swarm_try_send(h, TAG_DATA, big, sizeof big));
    API_RET(swarm_send_timeout, SWARM_EMSGSIZE, swarm_send_timeout(h, TAG_DATA, big, sizeof big, 5));
    swarm_pid_t me = swarm_self();
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_try_send, SWARM_ENOMEM, swarm_try_send(me, TAG_DATA, "m", 1));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_send_timeout, SWARM_ENOMEM, swarm_send_timeout(me, TAG_DATA, "m", 1, 5));
    swarm__sys_reset();
    /* Signals get through a full mailbox: a monitor's DOWN after a kill. */
    swarm_ref_t ref;
    CHECK_OK(swarm_monitor(h, &ref));
    CHECK_OK(swarm_exit_pid(h, swarm_reason(SWARM_ATOM_KILL)));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(10000)));
    swarm_msg_free(m);
    API_RET(swarm_try_send, SWARM_ESRCH, swarm_try_send(h, TAG_DATA, "d", 1));
    API_RET(swarm_send_timeout, SWARM_ESRCH, swarm_send_timeout(h, TAG_DATA, "d", 1, 5));

    /* FAIL: even a process gets SWARM_EAGAIN. */
    o = bounded(1, SWARM_MBOX_FAIL);
    CHECK_OK(swarm_spawn(&h, holder, NULL, &o));
    CHECK_OK(swarm_send(h, TAG_DATA, "a", 1));
    CHECK_EQ(swarm_send(h, TAG_DATA, "b", 1), SWARM_EAGAIN);
    CHECK_EQ(swarm_send(h, TAG_HOLD, NULL, 0), SWARM_EAGAIN); /* full: every message is refused */
    CHECK_OK(swarm_exit_pid(h, swarm_reason(SWARM_ATOM_KILL)));

    /* DROP: the send returns 0; the message counts as sent and dropped. */
    swarm_stats_t st0, st1;
    CHECK_OK(swarm_stats(swarm_current(), &st0));
    o = bounded(1, SWARM_MBOX_DROP);
    CHECK_OK(swarm_spawn(&h, holder, NULL, &o));
    CHECK_OK(swarm_send(h, TAG_DATA, "a", 1));
    for (int i = 0; i < 10; i++)
        CHECK_OK(swarm_try_send(h, TAG_DATA, "b", 1));
    CHECK_OK(swarm_stats(swarm_current(), &st1));
    CHECK_CMP(st1.msgs_dropped - st0.msgs_dropped, >=, 10);
    CHECK_OK(swarm_exit_pid(h, swarm_reason(SWARM_ATOM_KILL)));

    /* Bad options. */
    o = bounded(SWARM_MAILBOX_MAX + 1, SWARM_MBOX_PARK);
    CHECK_EQ(swarm_spawn(NULL, holder, NULL, &o), SWARM_EINVAL);
    o = bounded(4, 3);
    CHECK_EQ(swarm_spawn(NULL, holder, NULL, &o), SWARM_EINVAL);
    atomic_store(&done, 1);
}
TEST(policies) { run(policy_driver, 2); }

/* ---- a trapping bounded process still gets its EXIT messages ---- */

static void trapper(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg;
    CHECK_OK(swarm_trap_exit(1, NULL));
    swarm_pid_t child;
    CHECK_OK(swarm_spawn_link(&child, holder, NULL, NULL));
    CHECK_OK(swarm_send(parent, TAG_GO, &child, sizeof child));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_EXIT, &m, test_ms(10000))); /* through a full mailbox */
    swarm_msg_free(m);
    CHECK_CMP(swarm_mailbox_len(), >=, 1);
    CHECK_OK(swarm_send(parent, TAG_DONE, NULL, 0));
}

static void trap_driver(void *arg)
{
    (void)arg;
    swarm_spawn_opts_t o = bounded(1, SWARM_MBOX_FAIL);
    swarm_pid_t t, child;
    CHECK_OK(swarm_spawn(&t, trapper, (void *)(uintptr_t)swarm_self(), &o));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_GO, &m, test_ms(10000)));
    memcpy(&child, swarm_msg_data(m), sizeof child);
    swarm_msg_free(m);
    CHECK_OK(swarm_send(t, TAG_DATA, "fill", 4));
    CHECK_EQ(swarm_send(t, TAG_DATA, "over", 4), SWARM_EAGAIN); /* full now */
    CHECK_OK(swarm_exit_pid(child, swarm_reason(SWARM_ATOM_KILL)));
    CHECK_OK(swarm_recv_tag(TAG_DONE, &m, test_ms(10000)));
    swarm_msg_free(m);
    atomic_store(&done, 1);
}
TEST(signals_pass_full_mailbox) { run(trap_driver, 2); }

/* ---- parked senders: a killed one passes its turn on; the receiver's end
 * wakes them all ---- */

static atomic_int parked_rc_esrch;

static void blocked_sender(void *arg)
{
    swarm_pid_t to = (swarm_pid_t)(uintptr_t)arg;
    int r = swarm_send(to, TAG_DATA, "p", 1);
    if (r == SWARM_ESRCH)
        atomic_fetch_add(&parked_rc_esrch, 1);
    else
        CHECK_OK(r);
}

static void parked_driver(void *arg)
{
    (void)arg;
    atomic_store(&parked_rc_esrch, 0);
    swarm_spawn_opts_t o = bounded(1, SWARM_MBOX_PARK);
    swarm_pid_t h;
    CHECK_OK(swarm_spawn(&h, holder, NULL, &o));
    CHECK_OK(swarm_send(h, TAG_DATA, "fill", 4));
    enum { N = 5 };
    swarm_pid_t s[N];
    swarm_ref_t ref[N];
    for (int i = 0; i < N; i++)
        CHECK_OK(swarm_spawn_monitor(&s[i], &ref[i], blocked_sender, (void *)(uintptr_t)h, NULL));
    /* Wait until all five are parked (their wait shows in process_info). */
    for (int i = 0; i < N; i++) {
        swarm_process_info_t info;
        do {
            swarm_yield();
            CHECK_OK(swarm_process_info(s[i], &info, test_ms(10000)));
        } while (info.wait != SWARM_WAIT_FD);
    }
    /* Kill the first parked sender: the others keep waiting, none lost. */
    CHECK_OK(swarm_exit_pid(s[0], swarm_reason(SWARM_ATOM_KILL)));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(10000)));
    swarm_msg_free(m);
    /* The receiver ends: the four left wake and find it gone. */
    CHECK_OK(swarm_exit_pid(h, swarm_reason(SWARM_ATOM_KILL)));
    for (int i = 1; i < N; i++) {
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(10000)));
        swarm_msg_free(m);
    }
    CHECK_EQ(atomic_load(&parked_rc_esrch), N - 1);
    atomic_store(&done, 1);
}
TEST(parked_senders) { run(parked_driver, 2); }

TEST(codes)
{
    /* Not in a process: the forms behave as swarm_send. */
    API_RET(swarm_try_send, SWARM_EINVAL, swarm_try_send(SWARM_PID_NONE, 1, NULL, 0));
    API_RET(swarm_send_timeout, SWARM_EINVAL, swarm_send_timeout(SWARM_PID_NONE, 1, NULL, 0, 0));
}

TEST_MAIN(TEST_ENTRY(never_above_bound, TEST_DET, TEST_CONCURRENCY), TEST_ENTRY(policies),
          TEST_ENTRY(signals_pass_full_mailbox), TEST_ENTRY(parked_senders, TEST_CONCURRENCY), TEST_ENTRY(codes))
