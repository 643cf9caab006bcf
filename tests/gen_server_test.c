/*
 * tests/gen_server_test.c - swarmrt/gen_server.h against OTP 25's
 * gen_server (docs/design/semantics-plan.md rows G1-G7).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/sys.h"
#include "test.h"

enum { T_ADD = 1, T_GET = 2, T_SLEEP = 3, T_DIE = 4, T_DEFER = 5, T_SET = 6, T_STOPME = 7, T_BIG = 8 };

static atomic_int terminated, terminate_atom, done;
static swarm_gs_from_t deferred_from;
static atomic_int have_deferred;

typedef struct kv {
    long value;
} kv_t;

static int kv_init(void *arg, void **state)
{
    if (arg == (void *)(intptr_t)-1)
        return 1; /* refuse to start */
    kv_t *kv = malloc(sizeof *kv);
    CHECK(kv != NULL);
    kv->value = (long)(intptr_t)arg;
    *state = kv;
    return 0;
}

static int kv_call(void *state, const swarm_msg_t *req, swarm_gs_from_t from, swarm_gs_result_t *r)
{
    kv_t *kv = state;
    switch (swarm_msg_tag(req)) {
    case T_GET:
        r->reply = &kv->value;
        r->reply_size = sizeof kv->value;
        return SWARM_GS_REPLY;
    case T_SLEEP:
        swarm_sleep(*(const int *)swarm_msg_data(req));
        r->reply = "late";
        r->reply_size = 4;
        return SWARM_GS_REPLY;
    case T_DIE: {
        swarm_atom_t boom;
        swarm_atom("boom", &boom);
        r->stop = swarm_reason(boom);
        return SWARM_GS_STOP; /* no reply: the caller sees the end */
    }
    case T_DEFER:
        deferred_from = from;
        atomic_store(&have_deferred, 1);
        return SWARM_GS_NOREPLY;
    case T_STOPME:
        r->reply = "bye";
        r->reply_size = 3;
        r->stop = swarm_reason(SWARM_ATOM_SHUTDOWN);
        return SWARM_GS_STOP; /* reply, then stop */
    default:
        return SWARM_GS_REPLY; /* an empty reply */
    }
}

static int kv_cast(void *state, const swarm_msg_t *req, swarm_gs_result_t *r)
{
    kv_t *kv = state;
    (void)r;
    if (swarm_msg_tag(req) == T_ADD)
        kv->value += *(const long *)swarm_msg_data(req);
    if (swarm_msg_tag(req) == T_SET)
        kv->value = *(const long *)swarm_msg_data(req);
    return SWARM_GS_CONTINUE;
}

static int kv_info(void *state, const swarm_msg_t *m, swarm_gs_result_t *r)
{
    kv_t *kv = state;
    (void)r;
    kv->value += 1000; /* any plain message counts as +1000 */
    (void)m;
    return SWARM_GS_CONTINUE;
}

static void kv_terminate(void *state, swarm_reason_t why)
{
    free(state);
    atomic_store(&terminate_atom, (int)why.atom);
    atomic_fetch_add(&terminated, 1);
}

static const swarm_gs_ops_t kv_ops = {kv_init, kv_call, kv_cast, kv_info, kv_terminate};

static long get(swarm_pid_t srv)
{
    swarm_msg_t *m;
    API_RET(swarm_gs_call, 0, swarm_gs_call(srv, T_GET, NULL, 0, &m, test_ms(30000), NULL));
    CHECK_EQ(swarm_msg_size(m), sizeof(long));
    long v;
    memcpy(&v, swarm_msg_data(m), sizeof v);
    swarm_msg_free(m);
    return v;
}

static void run(swarm_fn driver, unsigned n)
{
    swarm_t *sw;
    swarm_config_t c = test_config(n);
    atomic_store(&done, 0);
    atomic_store(&terminated, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
}

/* Calls, casts, infos, in order; stop with a reason runs terminate (G6). */
static void basic_driver(void *arg)
{
    (void)arg;
    swarm_pid_t srv;
    API_RET(swarm_gs_start, 0, swarm_gs_start(&srv, &kv_ops, (void *)(intptr_t)7, NULL));
    CHECK_EQ(get(srv), 7);
    long five = 5;
    API_RET(swarm_gs_cast, 0, swarm_gs_cast(srv, T_ADD, &five, sizeof five));
    CHECK_OK(swarm_send(srv, 9, "x", 1)); /* info */
    CHECK_EQ(get(srv), 1012);             /* the cast and the info came first */
    swarm_msg_t *m;
    CHECK_OK(swarm_gs_call(srv, 99, NULL, 0, &m, test_ms(30000), NULL)); /* unknown: an empty reply */
    CHECK_EQ(swarm_msg_size(m), 0);
    swarm_msg_free(m);
    swarm_reason_t why = {SWARM_ATOM_SHUTDOWN, 1, "x"};
    API_RET(swarm_gs_stop, 0, swarm_gs_stop(srv, why, test_ms(30000)));
    CHECK_EQ(atomic_load(&terminated), 1);
    CHECK_EQ(atomic_load(&terminate_atom), SWARM_ATOM_SHUTDOWN);
    API_RET(swarm_gs_stop, SWARM_ESRCH, swarm_gs_stop(srv, why, test_ms(30000)));
    /* G3: a call to a server that is gone returns at once with noproc. */
    swarm_atom_t a = 0;
    API_RET(swarm_gs_call, SWARM_ESRCH, swarm_gs_call(srv, T_GET, NULL, 0, &m, SWARM_INFINITE, &a));
    CHECK_EQ(a, SWARM_ATOM_NOPROC);
    /* A cast to a server that is gone is no error (G7). */
    API_RET(swarm_gs_cast, 0, swarm_gs_cast(srv, T_ADD, &five, sizeof five));
    CHECK_EQ(swarm_recv(&m, 0), SWARM_ETIMEDOUT); /* nothing left over */
    atomic_store(&done, 1);
}
TEST(basic) { run(basic_driver, 2); }

/* G1: a call times out; the late reply is dropped, never delivered. */
static void timeout_driver(void *arg)
{
    (void)arg;
    swarm_pid_t srv;
    CHECK_OK(swarm_gs_start(&srv, &kv_ops, NULL, NULL));
    int ms = 200;
    swarm_msg_t *m;
    API_RET(swarm_gs_call, SWARM_ETIMEDOUT, swarm_gs_call(srv, T_SLEEP, &ms, sizeof ms, &m, 50, NULL));
    /* The server finished the slow call and replied before it answered
     * this one: that late reply reached the mailbox first and was dropped. */
    CHECK_EQ(get(srv), 0);
    CHECK_EQ(swarm_recv(&m, 0), SWARM_ETIMEDOUT);
    CHECK_OK(swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), test_ms(30000)));
    atomic_store(&done, 1);
}
TEST(call_timeout_late_reply_dropped) { run(timeout_driver, 2); }

/* G4: the server ends (boom) while handling the call: the call returns
 * SWARM_ESRCH with boom at once, not at its timeout. */
static void dies_driver(void *arg)
{
    (void)arg;
    swarm_pid_t srv;
    CHECK_OK(swarm_gs_start(&srv, &kv_ops, NULL, NULL));
    swarm_msg_t *m;
    swarm_atom_t why = 0, boom;
    CHECK_OK(swarm_atom("boom", &boom));
    int64_t t0 = swarm_now_ms();
    API_RET(swarm_gs_call, SWARM_ESRCH, swarm_gs_call(srv, T_DIE, NULL, 0, &m, 100000, &why));
    CHECK_EQ(why, boom);
    CHECK_CMP(swarm_now_ms() - t0, <, 50000);
    CHECK_EQ(atomic_load(&terminated), 1);
    CHECK_EQ(atomic_load(&terminate_atom), (int)boom);
    atomic_store(&done, 1);
}
TEST(server_dies_in_call) { run(dies_driver, 2); }

/* G5: NOREPLY, then swarm_gs_reply from another process. A STOP with a
 * reply replies first (OTP's {stop, R, Reply, S}). */
static void replier(void *arg)
{
    (void)arg;
    while (!atomic_load(&have_deferred))
        swarm_yield();
    API_RET(swarm_gs_reply, 0, swarm_gs_reply(deferred_from, "deferred", 8));
}
static void deferred_driver(void *arg)
{
    (void)arg;
    swarm_pid_t srv;
    atomic_store(&have_deferred, 0);
    CHECK_OK(swarm_gs_start(&srv, &kv_ops, NULL, NULL));
    CHECK_OK(swarm_spawn(NULL, replier, NULL, NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_gs_call(srv, T_DEFER, NULL, 0, &m, test_ms(30000), NULL));
    CHECK_EQ(swarm_msg_size(m), 8);
    CHECK_EQ(memcmp(swarm_msg_data(m), "deferred", 8), 0);
    swarm_msg_free(m);
    /* A reply to a call nobody waits for any more: dropped, no error. */
    API_RET(swarm_gs_reply, 0, swarm_gs_reply(deferred_from, "again", 5));
    API_RET(swarm_gs_reply, SWARM_EINVAL, swarm_gs_reply(deferred_from, NULL, 5));
    CHECK_OK(swarm_gs_call(srv, T_STOPME, NULL, 0, &m, test_ms(30000), NULL));
    CHECK_EQ(memcmp(swarm_msg_data(m), "bye", 3), 0);
    swarm_msg_free(m);
    CHECK_EQ(swarm_recv(&m, 0), SWARM_ETIMEDOUT);
    atomic_store(&done, 1);
}
TEST(deferred_reply) { run(deferred_driver, 2); }

/* G7: named servers; a second start with the name: SWARM_EEXIST. An init
 * that refuses: SWARM_ECANCELED, and a linked starter lives on. */
static void named_driver(void *arg)
{
    (void)arg;
    swarm_atom_t name;
    CHECK_OK(swarm_atom("kv", &name));
    swarm_gs_opts_t o;
    swarm_gs_opts_init(&o);
    o.name = name;
    o.link = 1;
    swarm_pid_t srv, other;
    CHECK_OK(swarm_gs_start(&srv, &kv_ops, (void *)(intptr_t)3, &o));
    CHECK_EQ(swarm_whereis(NULL, name), srv);
    API_RET(swarm_gs_start, SWARM_EEXIST, swarm_gs_start(&other, &kv_ops, NULL, &o));
    o.name = SWARM_GS_NO_NAME;
    API_RET(swarm_gs_start, SWARM_ECANCELED, swarm_gs_start(&other, &kv_ops, (void *)(intptr_t)-1, &o));
    o.name = SWARM_ATOM_UNDEFINED;
    API_RET(swarm_gs_start, SWARM_EINVAL, swarm_gs_start(&other, &kv_ops, NULL, &o));
    API_RET(swarm_gs_start, SWARM_EINVAL, swarm_gs_start(&other, NULL, NULL, NULL));
    CHECK_EQ(get(swarm_whereis(NULL, name)), 3);
    CHECK_OK(swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), test_ms(30000)));
    CHECK_EQ(swarm_whereis(NULL, name), SWARM_PID_NONE);
    atomic_store(&done, 1);
}
TEST(named_and_failed_starts) { run(named_driver, 2); }

/* A call into a server from a caller with 10,000 unrelated messages
 * queued finds its reply without looking at them (each call's scan
 * starts at the mark): 1,000 calls stay quick, and the 10,000 are all
 * still there, in order. */
static void long_mailbox_driver(void *arg)
{
    (void)arg;
    swarm_pid_t srv, me = swarm_self();
    CHECK_OK(swarm_gs_start(&srv, &kv_ops, NULL, NULL));
    for (int i = 0; i < 10000; i++)
        CHECK_OK(swarm_send(me, 5, &i, sizeof i));
    for (int i = 0; i < 1000; i++)
        CHECK_EQ(get(srv), 0);
    CHECK_EQ(swarm_mailbox_len(), 10000);
    for (int i = 0; i < 10000; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, 0));
        CHECK_EQ(*(const int *)swarm_msg_data(m), i);
        swarm_msg_free(m);
    }
    CHECK_OK(swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), test_ms(30000)));
    atomic_store(&done, 1);
}
TEST(call_with_long_mailbox) { run(long_mailbox_driver, 1); }

/* Many callers, one server: every call answered, counts exact. */
#define CALLERS 16
#define CALLS 200
static atomic_int calls_ok;
static void caller(void *arg)
{
    swarm_pid_t srv = (swarm_pid_t)(uintptr_t)arg;
    long one = 1;
    for (int i = 0; i < CALLS; i++) {
        CHECK_OK(swarm_gs_cast(srv, T_ADD, &one, sizeof one));
        swarm_msg_t *m;
        CHECK_OK(swarm_gs_call(srv, T_GET, NULL, 0, &m, test_ms(30000), NULL));
        swarm_msg_free(m);
        atomic_fetch_add(&calls_ok, 1);
    }
}
static void many_driver(void *arg)
{
    (void)arg;
    swarm_pid_t srv;
    CHECK_OK(swarm_gs_start(&srv, &kv_ops, NULL, NULL));
    swarm_ref_t refs[CALLERS];
    for (int i = 0; i < CALLERS; i++)
        CHECK_OK(swarm_spawn_monitor(NULL, &refs[i], caller, (void *)(uintptr_t)srv, NULL));
    for (int i = 0; i < CALLERS; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
        swarm_reason_t why;
        CHECK(swarm_msg_down(m, NULL, NULL, &why));
        CHECK_EQ(why.atom, SWARM_ATOM_NORMAL);
        swarm_msg_free(m);
    }
    CHECK_EQ(get(srv), CALLERS * CALLS);
    CHECK_EQ(atomic_load(&calls_ok), CALLERS * CALLS);
    CHECK_OK(swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), test_ms(30000)));
    atomic_store(&done, 1);
}
TEST(many_callers) { run(many_driver, 2); }

/* Every other documented code. */
static void block_proc(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0)
        swarm_msg_free(m);
}
static void codes_driver(void *arg)
{
    (void)arg;
    swarm_pid_t srv;
    CHECK_OK(swarm_gs_start(&srv, &kv_ops, NULL, NULL));
    swarm_msg_t *m;
    API_RET(swarm_gs_call, SWARM_EINVAL, swarm_gs_call(srv, T_GET, NULL, 0, NULL, 0, NULL));
    API_RET(swarm_gs_call, SWARM_EINVAL, swarm_gs_call(srv, SWARM_TAG_SYSTEM, NULL, 0, &m, 0, NULL));
    API_RET(swarm_gs_call, SWARM_EINVAL, swarm_gs_call(srv, T_GET, NULL, 1, &m, 0, NULL));
    API_RET(swarm_gs_call, SWARM_EINVAL, swarm_gs_call(SWARM_PID_NONE, T_GET, NULL, 0, &m, 0, NULL));
    static char big[200];
    API_RET(swarm_gs_call, SWARM_EMSGSIZE, swarm_gs_call(srv, T_BIG, big, sizeof big, &m, 1000, NULL));
    API_RET(swarm_gs_cast, SWARM_EMSGSIZE, swarm_gs_cast(srv, T_BIG, big, sizeof big));
    API_RET(swarm_gs_cast, SWARM_EINVAL, swarm_gs_cast(srv, SWARM_TAG_SYSTEM, NULL, 0));
    swarm_gs_from_t me = {swarm_self(), 12345};
    API_RET(swarm_gs_reply, SWARM_EMSGSIZE, swarm_gs_reply(me, big, sizeof big));
    swarm_reason_t bad = {SWARM_ATOM_SHUTDOWN, 3, NULL};
    API_RET(swarm_gs_stop, SWARM_EINVAL, swarm_gs_stop(srv, bad, 0));
    /* Out of memory: the first allocation of each fails. */
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_gs_call, SWARM_ENOMEM, swarm_gs_call(srv, T_GET, NULL, 0, &m, 1000, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_gs_cast, SWARM_ENOMEM, swarm_gs_cast(srv, T_ADD, "12345678", 8));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_gs_reply, SWARM_ENOMEM, swarm_gs_reply(me, "x", 1));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_gs_stop, SWARM_ENOMEM, swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), 1000));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_gs_start, SWARM_ENOMEM, swarm_gs_start(NULL, &kv_ops, NULL, NULL));
    swarm__sys_reset();
    CHECK_EQ(get(srv), 0); /* the server is fine */
    /* A server that does not stop in time (it is in a slow call). */
    swarm_pid_t helper;
    CHECK_OK(swarm_spawn(&helper, block_proc, NULL, NULL)); /* the table (3) is full now */
    API_RET(swarm_gs_start, SWARM_EAGAIN, swarm_gs_start(NULL, &kv_ops, NULL, NULL));
    int ms = 300;
    CHECK_OK(swarm_gs_cast(srv, T_SET, "\0\0\0\0\0\0\0\0", 8));
    CHECK_OK(swarm_send(helper, 1, "x", 1));
    swarm_msg_t *r;
    CHECK_EQ(swarm_gs_call(srv, T_SLEEP, &ms, sizeof ms, &r, 1, NULL), SWARM_ETIMEDOUT);
    API_RET(swarm_gs_stop, SWARM_ETIMEDOUT, swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), 10));
    CHECK_OK(swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), test_ms(30000)));
    atomic_store(&done, 1);
}

static atomic_int spin_started, spin_done;
static void shutdown_spinner(void *arg)
{
    (void)arg;
    atomic_store(&spin_started, 1);
    while (swarm_gs_start(NULL, &kv_ops, NULL, NULL) == SWARM_EAGAIN)
        ;
    API_RET(swarm_gs_start, SWARM_ESHUTDOWN, swarm_gs_start(NULL, &kv_ops, NULL, NULL));
    atomic_store(&spin_done, 1);
}

TEST(codes)
{
    swarm_msg_t *m;
    API_RET(swarm_gs_start, SWARM_ENOTPROC, swarm_gs_start(NULL, &kv_ops, NULL, NULL));
    API_RET(swarm_gs_call, SWARM_ENOTPROC, swarm_gs_call(1, T_GET, NULL, 0, &m, 0, NULL));
    API_RET(swarm_gs_stop, SWARM_ENOTPROC, swarm_gs_stop(1, swarm_reason(SWARM_ATOM_NORMAL), 0));
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.max_procs = 3;
    c.max_msg_size = 100;
    atomic_store(&done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, codes_driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);

    c = test_config(1);
    c.max_procs = 2;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, block_proc, NULL, NULL));
    CHECK_OK(swarm_spawn_in(sw, NULL, shutdown_spinner, NULL, NULL));
    TEST_POLL(atomic_load(&spin_started), 60000);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&spin_done), 1);
}

TEST_MAIN(TEST_ENTRY(basic, TEST_DET), TEST_ENTRY(call_timeout_late_reply_dropped, TEST_DET),
          TEST_ENTRY(server_dies_in_call, TEST_DET), TEST_ENTRY(deferred_reply, TEST_DET),
          TEST_ENTRY(named_and_failed_starts, TEST_DET), TEST_ENTRY(call_with_long_mailbox, TEST_DET),
          TEST_ENTRY(many_callers, TEST_DET, TEST_CONCURRENCY), TEST_ENTRY(codes))
