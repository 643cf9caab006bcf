/*
 * tests/chan_test.c - channels and select (swarmrt/chan.h).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/sys.h"
#include "test.h"

static atomic_int done;

static void run_n(swarm_fn driver, void *arg, unsigned nsched)
{
    swarm_config_t c = test_config(nsched);
    test_run_swarm(&c, driver, arg, &done);
}

/* ---- every documented code ---- */

static void *foreign_codes(void *arg)
{
    swarm_chan_t *ch = arg;
    int v = 1;
    API_RET(swarm_chan_send, SWARM_ENOTPROC, swarm_chan_send(ch, &v, 10));
    API_RET(swarm_chan_recv, SWARM_ENOTPROC, swarm_chan_recv(ch, &v, SWARM_INFINITE));
    swarm_chan_case_t c = {.chan = ch, .op = SWARM_CHAN_RECV, .elem = &v};
    API_RET(swarm_chan_select, SWARM_ENOTPROC, swarm_chan_select(&c, 1, 0, 10));
    API_RET(swarm_chan_select, SWARM_ENOTPROC, swarm_chan_select(&c, 1, SWARM_SELECT_MAILBOX, 0));
    /* try-forms work from any thread */
    CHECK_OK(swarm_chan_send(ch, &v, 0));
    CHECK_OK(swarm_chan_recv(ch, &v, 0));
    return NULL;
}

static void codes_main(void *arg)
{
    (void)arg;
    swarm_chan_t *ch, *u;
    int v = 7, got = 0;
    API_RET(swarm_chan_create, SWARM_EINVAL, swarm_chan_create(NULL, 4, 1));
    API_RET(swarm_chan_create, SWARM_EINVAL, swarm_chan_create(&ch, 0, 1));
    API_RET(swarm_chan_create, SWARM_EINVAL, swarm_chan_create(&ch, SWARM_CHAN_ELEM_MAX + 1, 1));
    API_RET(swarm_chan_create, SWARM_EINVAL, swarm_chan_create(&ch, 4, SWARM_CHAN_CAP_MAX + 1));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_chan_create, SWARM_ENOMEM, swarm_chan_create(&ch, 4, 1));
    swarm__sys_reset();
    API_RET(swarm_chan_create, 0, swarm_chan_create(&ch, sizeof(int), 1));
    API_RET(swarm_chan_create, 0, swarm_chan_create(&u, sizeof(int), SWARM_CHAN_UNBOUNDED));

    API_RET(swarm_chan_send, SWARM_EINVAL, swarm_chan_send(NULL, &v, 0));
    API_RET(swarm_chan_send, SWARM_EINVAL, swarm_chan_send(ch, NULL, 0));
    API_RET(swarm_chan_send, SWARM_EINVAL, swarm_chan_send(ch, &v, -5));
    API_RET(swarm_chan_recv, SWARM_EINVAL, swarm_chan_recv(ch, NULL, 0));
    API_RET(swarm_chan_recv, SWARM_EINVAL, swarm_chan_recv(ch, &v, -5));
    API_RET(swarm_chan_recv, SWARM_EAGAIN, swarm_chan_recv(ch, &got, 0));
    int64_t t0 = swarm_now_ms();
    API_RET(swarm_chan_recv, SWARM_ETIMEDOUT, swarm_chan_recv(ch, &got, 30));
    CHECK_CMP(swarm_now_ms() - t0, >=, 30);
    API_RET(swarm_chan_send, 0, swarm_chan_send(ch, &v, 0));
    CHECK_EQ(swarm_chan_len(ch), 1);
    API_RET(swarm_chan_send, SWARM_EAGAIN, swarm_chan_send(ch, &v, 0));
    API_RET(swarm_chan_send, SWARM_ETIMEDOUT, swarm_chan_send(ch, &v, 20));
    API_RET(swarm_chan_recv, 0, swarm_chan_recv(ch, &got, 0));
    CHECK_EQ(got, 7);

    /* An unbounded channel that cannot grow. */
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_chan_send, SWARM_ENOMEM, swarm_chan_send(u, &v, 0));
    swarm_chan_case_t uc = {.chan = u, .op = SWARM_CHAN_SEND, .elem = &v};
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_chan_select, SWARM_ENOMEM, swarm_chan_select(&uc, 1, 0, 0));
    swarm__sys_reset();
    for (int i = 0; i < 1000; i++)
        CHECK_OK(swarm_chan_send(u, &i, 0));
    CHECK_EQ(swarm_chan_len(u), 1000);
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(swarm_chan_recv(u, &got, 0));
        CHECK_EQ(got, i);
    }

    /* select's argument checks */
    swarm_chan_case_t c[2] = {{.chan = ch, .op = SWARM_CHAN_RECV, .elem = &got},
                              {.chan = ch, .op = (swarm_chan_op_t)9, .elem = &got}};
    API_RET(swarm_chan_select, SWARM_EINVAL, swarm_chan_select(NULL, 1, 0, 0));
    API_RET(swarm_chan_select, SWARM_EINVAL, swarm_chan_select(c, 2, 0, 0));
    API_RET(swarm_chan_select, SWARM_EINVAL, swarm_chan_select(c, SWARM_CHAN_SELECT_MAX + 1, 0, 0));
    API_RET(swarm_chan_select, SWARM_EINVAL, swarm_chan_select(c, 1, 8, 0));
    API_RET(swarm_chan_select, SWARM_EINVAL, swarm_chan_select(c, 1, 0, -3));
    API_RET(swarm_chan_select, SWARM_EAGAIN, swarm_chan_select(c, 1, 0, 0));
    API_RET(swarm_chan_select, SWARM_ETIMEDOUT, swarm_chan_select(c, 1, 0, 20));
    API_RET(swarm_chan_select, SWARM_ETIMEDOUT, swarm_chan_select(NULL, 0, 0, 5));

    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, foreign_codes, ch), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);

    API_RET(swarm_chan_close, SWARM_EINVAL, swarm_chan_close(NULL));
    CHECK_OK(swarm_chan_send(ch, &v, 0));
    API_RET(swarm_chan_close, 0, swarm_chan_close(ch));
    API_RET(swarm_chan_close, SWARM_ECLOSED, swarm_chan_close(ch));
    API_RET(swarm_chan_send, SWARM_ECLOSED, swarm_chan_send(ch, &v, 0));
    API_RET(swarm_chan_recv, 0, swarm_chan_recv(ch, &got, 0)); /* drained first */
    API_RET(swarm_chan_recv, SWARM_ECLOSED, swarm_chan_recv(ch, &got, 0));
    API_RET(swarm_chan_select, 0, swarm_chan_select(c, 1, 0, 0)); /* ready: closed */
    CHECK_EQ(c[0].result, SWARM_ECLOSED);

    /* references */
    CHECK(swarm_chan_dup(ch) == ch);
    swarm_chan_release(ch);
    swarm_chan_release(ch);
    swarm_chan_release(u);
    swarm_chan_release(NULL);
    atomic_store(&done, 1);
}

TEST(codes) { run_n(codes_main, NULL, 1); }

/* ---- MPMC: every value received exactly once ---- */

enum { NPROD = 4, NCONS = 4, NFOREIGN = 2 };
#define NSRC (NPROD + NFOREIGN)

typedef struct mpmc {
    swarm_chan_t *ch;
    long per;                 /* values per producer */
    _Atomic unsigned char *seen;
    atomic_long received;
    atomic_int producers_left;
    atomic_int consumers_left;
    uint64_t seed;
} mpmc_t;

static mpmc_t M;

static void producer_done(void)
{
    if (atomic_fetch_sub(&M.producers_left, 1) == 1)
        CHECK_OK(swarm_chan_close(M.ch));
}

static void producer(void *arg)
{
    long id = (long)(intptr_t)arg;
    uint64_t rng = M.seed ^ (uint64_t)(id + 1) * 0x9E3779B97F4A7C15ull;
    for (long k = 0; k < M.per; k++) {
        long v = id * M.per + k;
        if (test_rand(&rng) % 64 == 0)
            swarm_yield();
        if (test_rand(&rng) % 8 == 0) {
            /* the try-form, then the timed one */
            int r = swarm_chan_send(M.ch, &v, 0);
            if (r == SWARM_EAGAIN)
                r = swarm_chan_send(M.ch, &v, test_ms(60000));
            CHECK_OK(r);
        } else {
            CHECK_OK(swarm_chan_send(M.ch, &v, SWARM_INFINITE));
        }
    }
    producer_done();
}

/* The try-form in a loop: a foreign thread's way (or, in deterministic
 * mode, where only the swarm's own processes may run, a process's). */
static void try_producer(long id, int in_proc)
{
    for (long k = 0; k < M.per; k++) {
        long v = id * M.per + k;
        int r;
        while ((r = swarm_chan_send(M.ch, &v, 0)) == SWARM_EAGAIN) {
            if (in_proc)
                swarm_yield();
            else
                sched_yield();
        }
        CHECK_OK(r);
    }
    producer_done();
}

static void *foreign_producer(void *arg)
{
    try_producer((long)(intptr_t)arg, 0);
    return NULL;
}

static void try_producer_proc(void *arg) { try_producer((long)(intptr_t)arg, 1); }

static void consumer(void *arg)
{
    (void)arg;
    long v;
    int r;
    while ((r = swarm_chan_recv(M.ch, &v, SWARM_INFINITE)) == 0) {
        CHECK(v >= 0 && v < NSRC * M.per);
        CHECK_EQ(atomic_fetch_add(&M.seen[v], 1), 0);
        atomic_fetch_add(&M.received, 1);
    }
    CHECK_EQ(r, SWARM_ECLOSED);
    atomic_fetch_sub(&M.consumers_left, 1);
}

static void mpmc_run(size_t cap, unsigned nsched)
{
    M.seed = test_seed();
    M.per = test_scale(20000);
    M.seen = calloc((size_t)(NSRC * M.per), 1);
    atomic_store(&M.received, 0);
    atomic_store(&M.producers_left, NSRC);
    atomic_store(&M.consumers_left, NCONS);
    CHECK_OK(swarm_chan_create(&M.ch, sizeof(long), cap));
    swarm_t *sw;
    swarm_config_t c = test_config(nsched);
    CHECK_OK(swarm_create(&sw, &c));
    for (long i = 0; i < NCONS; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, consumer, NULL, NULL));
    for (long i = 0; i < NPROD; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, producer, (void *)(intptr_t)i, NULL));
    /* A deterministic swarm runs only inside swarm_wait and ends it when
     * every process waits with no deadline: foreign threads cannot feed it,
     * so there the try-form producers are processes. */
    int det = c.deterministic_seed != 0;
    pthread_t th[NFOREIGN];
    for (long i = 0; i < NFOREIGN; i++) {
        if (det)
            CHECK_OK(swarm_spawn_in(sw, NULL, try_producer_proc, (void *)(intptr_t)(NPROD + i), NULL));
        else
            CHECK_EQ(pthread_create(&th[i], NULL, foreign_producer, (void *)(intptr_t)(NPROD + i)), 0);
    }
    CHECK_OK(swarm_wait(sw, test_ms(120000)));
    for (int i = 0; i < NFOREIGN && !det; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&M.received), NSRC * M.per);
    CHECK_EQ(atomic_load(&M.consumers_left), 0);
    for (long v = 0; v < NSRC * M.per; v++)
        CHECK_EQ(M.seen[v], 1);
    swarm_chan_release(M.ch);
    free((void *)M.seen);
}

TEST(mpmc_rendezvous) { mpmc_run(0, 2); }
TEST(mpmc_buffered) { mpmc_run(8, 2); }
TEST(mpmc_unbounded) { mpmc_run(SWARM_CHAN_UNBOUNDED, 2); }

/* ---- close while senders and receivers are parked ---- */

static swarm_chan_t *cl_empty, *cl_full;
static atomic_int cl_closed_recv, cl_closed_send;

static void cl_receiver(void *arg)
{
    (void)arg;
    int v;
    CHECK_EQ(swarm_chan_recv(cl_empty, &v, SWARM_INFINITE), SWARM_ECLOSED);
    atomic_fetch_add(&cl_closed_recv, 1);
}

static void cl_sender(void *arg)
{
    int v = (int)(intptr_t)arg;
    CHECK_EQ(swarm_chan_send(cl_full, &v, SWARM_INFINITE), SWARM_ECLOSED);
    atomic_fetch_add(&cl_closed_send, 1);
}

static void close_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_chan_create(&cl_empty, sizeof(int), 0));
    CHECK_OK(swarm_chan_create(&cl_full, sizeof(int), 1));
    int v = 99;
    CHECK_OK(swarm_chan_send(cl_full, &v, 0));
    swarm_ref_t refs[6];
    for (int i = 0; i < 3; i++) {
        CHECK_OK(swarm_spawn_monitor(NULL, &refs[i], cl_receiver, NULL, NULL));
        CHECK_OK(swarm_spawn_monitor(NULL, &refs[3 + i], cl_sender, (void *)(intptr_t)i, NULL));
    }
    /* One scheduler, run queue in spawn order: all six have parked once
     * this process runs again after a yield. */
    swarm_yield();
    CHECK_EQ(atomic_load(&cl_closed_recv) + atomic_load(&cl_closed_send), 0);
    CHECK_OK(swarm_chan_close(cl_empty));
    CHECK_OK(swarm_chan_close(cl_full));
    for (int i = 0; i < 6; i++) { /* DOWNs come in any order */
        swarm_msg_t *m;
        swarm_reason_t why;
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
        CHECK_EQ(swarm_msg_down(m, NULL, NULL, &why), 1);
        CHECK_EQ(why.atom, SWARM_ATOM_NORMAL);
        swarm_msg_free(m);
    }
    (void)refs;
    CHECK_EQ(atomic_load(&cl_closed_recv), 3);
    CHECK_EQ(atomic_load(&cl_closed_send), 3);
    int got;
    CHECK_OK(swarm_chan_recv(cl_full, &got, 0)); /* what was buffered stays */
    CHECK_EQ(got, 99);
    CHECK_EQ(swarm_chan_recv(cl_full, &got, 0), SWARM_ECLOSED);
    swarm_chan_release(cl_empty);
    swarm_chan_release(cl_full);
    atomic_store(&done, 1);
}

TEST(close_parked) { run_n(close_main, NULL, 1); }

/* ---- a process killed while parked on a channel ---- */

static swarm_chan_t *k_ch;

static void k_waiter(void *arg)
{
    int v;
    swarm_chan_case_t c[2] = {{.chan = k_ch, .op = SWARM_CHAN_RECV, .elem = &v},
                              {.chan = k_ch, .op = SWARM_CHAN_RECV, .elem = &v}};
    if (arg)
        swarm_chan_select(c, 2, 0, SWARM_INFINITE);
    else
        swarm_chan_recv(k_ch, &v, SWARM_INFINITE);
    TEST_FAIL("the killed waiter returned");
}

static void kill_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_chan_create(&k_ch, sizeof(int), 0));
    for (int sel = 0; sel < 2; sel++) {
        swarm_pid_t w;
        swarm_ref_t ref;
        CHECK_OK(swarm_spawn_monitor(&w, &ref, k_waiter, (void *)(intptr_t)sel, NULL));
        swarm_yield(); /* one scheduler: it parks */
        /* A message wakes it, and it waits on. */
        CHECK_OK(swarm_send(w, 5, NULL, 0));
        swarm_yield();
        CHECK(swarm_is_alive(w));
        CHECK_OK(swarm_exit_pid(w, swarm_reason(SWARM_ATOM_KILL)));
        CHECK_EQ(test_await_down(ref), SWARM_ATOM_KILLED);
        /* Its node left the queue: nobody takes a value now. */
        int v = 1;
        CHECK_EQ(swarm_chan_send(k_ch, &v, 0), SWARM_EAGAIN);
    }
    swarm_chan_release(k_ch);
    atomic_store(&done, 1);
}

TEST(kill_parked) { run_n(kill_main, NULL, 1); }

/* ---- select ---- */

enum { NSEL = 4 };

static void fair_main(void *arg)
{
    (void)arg;
    long rounds = test_scale(8000);
    swarm_chan_t *ch[NSEL];
    int in[NSEL], out[NSEL];
    long chosen[NSEL + 1] = {0};
    swarm_chan_case_t c[NSEL];
    for (int i = 0; i < NSEL; i++) {
        CHECK_OK(swarm_chan_create(&ch[i], sizeof(int), 4));
        in[i] = i;
        /* even: receive from a channel that always holds a value; odd:
         * send to one that always has room */
        if (i % 2 == 0)
            CHECK_OK(swarm_chan_send(ch[i], &in[i], 0));
        c[i] = (swarm_chan_case_t){.chan = ch[i], .op = i % 2 ? SWARM_CHAN_SEND : SWARM_CHAN_RECV,
                                   .elem = i % 2 ? (void *)&in[i] : (void *)&out[i]};
    }
    swarm_pid_t me = swarm_self();
    CHECK_OK(swarm_send(me, 1, NULL, 0));
    for (long r = 0; r < rounds; r++) {
        int k = swarm_chan_select(c, NSEL, SWARM_SELECT_MAILBOX, 0);
        CHECK(k >= 0 && k <= NSEL);
        chosen[k]++;
        if (k == NSEL) {
            swarm_msg_t *m;
            CHECK_OK(swarm_recv(&m, 0));
            swarm_msg_free(m);
            CHECK_OK(swarm_send(me, 1, NULL, 0));
        } else if (k % 2 == 0) {
            CHECK_OK(c[k].result);
            CHECK_EQ(out[k], k);
            CHECK_OK(swarm_chan_send(ch[k], &in[k], 0));
        } else {
            CHECK_OK(c[k].result);
            CHECK_OK(swarm_chan_recv(ch[k], &out[k], 0));
        }
    }
    /* Uniform: rounds / 5 each; the bound is > 10 standard deviations away. */
    for (int i = 0; i <= NSEL; i++) {
        printf("case %d chosen %ld of %ld\n", i, chosen[i], rounds);
        CHECK_CMP(chosen[i], >=, rounds / 5 * 7 / 10);
    }
    for (int i = 0; i < NSEL; i++)
        swarm_chan_release(ch[i]);
    atomic_store(&done, 1);
}

TEST(select_fair) { run_n(fair_main, NULL, 1); }

static swarm_chan_t *sp_a, *sp_b;

static void sp_sender(void *arg)
{
    (void)arg;
    int v = 42;
    CHECK_OK(swarm_chan_send(sp_b, &v, SWARM_INFINITE));
}

static void select_park_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_chan_create(&sp_a, sizeof(int), 0));
    CHECK_OK(swarm_chan_create(&sp_b, sizeof(int), 0));
    int va = 0, vb = 0;
    swarm_chan_case_t c[3] = {{.chan = sp_a, .op = SWARM_CHAN_RECV, .elem = &va},
                              {.chan = NULL},
                              {.chan = sp_b, .op = SWARM_CHAN_RECV, .elem = &vb}};
    /* a partner arrives while the select is parked */
    CHECK_OK(swarm_spawn(NULL, sp_sender, NULL, NULL));
    CHECK_EQ(swarm_chan_select(c, 3, 0, test_ms(30000)), 2);
    CHECK_OK(c[2].result);
    CHECK_EQ(vb, 42);
    /* a message ends a select with the mailbox case, and only then */
    CHECK_EQ(swarm_chan_select(c, 3, 0, 20), SWARM_ETIMEDOUT);
    CHECK_OK(swarm_send(swarm_self(), 3, NULL, 0));
    CHECK_EQ(swarm_chan_select(c, 3, 0, 20), SWARM_ETIMEDOUT); /* not a case: set aside */
    CHECK_EQ(swarm_chan_select(c, 3, SWARM_SELECT_MAILBOX, test_ms(30000)), 3);
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0));
    CHECK_EQ(swarm_msg_tag(m), 3);
    swarm_msg_free(m);
    /* a parked sender case is served by a receiver */
    swarm_chan_case_t s = {.chan = sp_a, .op = SWARM_CHAN_SEND, .elem = &va};
    va = 17;
    CHECK_EQ(swarm_chan_select(&s, 1, 0, 0), SWARM_EAGAIN);
    swarm_chan_release(sp_a);
    swarm_chan_release(sp_b);
    atomic_store(&done, 1);
}

TEST(select_park) { run_n(select_park_main, NULL, 2); }

/* ---- references: a waiter keeps the channel alive ---- */

static void ref_waiter(void *arg)
{
    swarm_chan_t *ch = arg;
    int v;
    CHECK_EQ(swarm_chan_recv(ch, &v, test_ms(30000)), SWARM_ECLOSED);
}

static void ref_main(void *arg)
{
    (void)arg;
    swarm_chan_t *ch;
    CHECK_OK(swarm_chan_create(&ch, sizeof(int), 0));
    swarm_ref_t ref;
    swarm_pid_t w;
    CHECK_OK(swarm_spawn_monitor(&w, &ref, ref_waiter, ch, NULL));
    /* It waits on the channel (and says so in its process info). */
    swarm_process_info_t info;
    do
        CHECK_OK(swarm_process_info(w, &info, test_ms(30000)));
    while (info.wait != SWARM_WAIT_CHAN);
    swarm_chan_t *h = swarm_chan_dup(ch);
    swarm_chan_release(ch); /* the waiter's call holds its own */
    CHECK_OK(swarm_chan_close(h));
    swarm_chan_release(h);
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_NORMAL);
    atomic_store(&done, 1);
}

TEST(refs) { run_n(ref_main, NULL, 1); }

TEST_MAIN(TEST_ENTRY(codes),
          TEST_ENTRY(mpmc_rendezvous, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(mpmc_buffered, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(mpmc_unbounded, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(close_parked, TEST_DET),
          TEST_ENTRY(kill_parked, TEST_DET),
          TEST_ENTRY(select_fair, TEST_DET),
          TEST_ENTRY(select_park, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(refs, TEST_DET))
