/*
 * msg_test.c - send and receive: ordering, selective receive, timeouts,
 * dead and stale pids, limits, accounting.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "test.h"

static long recv_long(uint32_t *tag)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    CHECK_EQ(swarm_msg_size(m), sizeof(long));
    long v = *(const long *)swarm_msg_data(m);
    if (tag)
        *tag = swarm_msg_tag(m);
    swarm_msg_free(m);
    return v;
}

/* ---- ping-pong ---- */
static void ponger(void *arg)
{
    (void)arg;
    for (;;) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
        long v = *(const long *)swarm_msg_data(m);
        swarm_pid_t from = swarm_msg_sender(m);
        swarm_msg_free(m);
        CHECK_OK(swarm_send(from, 2, &v, sizeof v));
        if (v < 0)
            return;
    }
}

static void pinger(void *arg)
{
    long n = *(long *)arg;
    swarm_pid_t pong;
    CHECK_OK(swarm_spawn(&pong, ponger, NULL, NULL));
    for (long i = 0; i < n; i++) {
        CHECK_OK(swarm_send(pong, 1, &i, sizeof i));
        uint32_t tag;
        CHECK_EQ(recv_long(&tag), i);
        CHECK_EQ(tag, 2);
    }
    long stop = -1;
    CHECK_OK(swarm_send(pong, 1, &stop, sizeof stop));
    CHECK_EQ(recv_long(NULL), -1);
}

TEST(ping_pong)
{
    long n = test_scale(200000);
    for (unsigned sch = 1; sch <= 2; sch++) {
        swarm_config_t c = test_config(sch);
        CHECK_OK(swarm_run(&c, pinger, &n));
    }
}

/* ---- selective receive ---- */
static void selective(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    for (long i = 0; i < 10; i++)
        CHECK_OK(swarm_send(me, (uint32_t)(i % 3), &i, sizeof i)); /* tags 0,1,2,0,1,... */
    CHECK_EQ(swarm_mailbox_len(), 10);
    /* Take the tag-2 messages first: 2, 5, 8. */
    for (long want = 2; want < 10; want += 3) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(2, &m, 0));
        CHECK_EQ(*(const long *)swarm_msg_data(m), want);
        swarm_msg_free(m);
    }
    swarm_msg_t *m;
    CHECK_EQ(swarm_recv_tag(2, &m, 0), SWARM_ETIMEDOUT);
    CHECK_EQ(swarm_mailbox_len(), 7);
    /* The rest come out in their original order. */
    long expect[] = {0, 1, 3, 4, 6, 7, 9};
    for (int k = 0; k < 7; k++)
        CHECK_EQ(recv_long(NULL), expect[k]);
    CHECK_EQ(swarm_mailbox_len(), 0);
    CHECK_EQ(swarm_recv(&m, 0), SWARM_ETIMEDOUT);
}

TEST(selective_tag)
{
    swarm_config_t c = test_config(1);
    CHECK_OK(swarm_run(&c, selective, NULL));
}

static int is_odd(const swarm_msg_t *m, void *ctx)
{
    (*(int *)ctx)++;
    return *(const long *)swarm_msg_data(m) % 2 != 0;
}

static void late_sender(void *arg)
{
    swarm_pid_t to = *(swarm_pid_t *)arg;
    swarm_sleep(20);
    long v = 101;
    CHECK_OK(swarm_send(to, 0, &v, sizeof v));
}

static void selective_fn(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    for (long i = 0; i < 6; i += 2)
        CHECK_OK(swarm_send(me, 0, &i, sizeof i)); /* only even ones */
    int calls = 0;
    swarm_msg_t *m;
    CHECK_EQ(swarm_recv_match(is_odd, &calls, &m, 0), SWARM_ETIMEDOUT);
    CHECK_EQ(calls, 3);
    CHECK_EQ(swarm_recv_match(NULL, NULL, &m, 0), SWARM_EINVAL);
    /* An odd one arrives later, from another process: the receive parks
     * and is woken by it; the even ones stay queued in order. */
    static swarm_pid_t self_pid;
    self_pid = me;
    CHECK_OK(swarm_spawn(NULL, late_sender, &self_pid, NULL));
    CHECK_OK(swarm_recv_match(is_odd, &calls, &m, test_ms(5000)));
    CHECK_EQ(*(const long *)swarm_msg_data(m), 101);
    swarm_msg_free(m);
    for (long i = 0; i < 6; i += 2)
        CHECK_EQ(recv_long(NULL), i);
}

TEST(selective_match)
{
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_run(&c, selective_fn, NULL));
}

/* ---- receive marks ---- */

static int tag_is(const swarm_msg_t *m, void *ctx)
{
    return swarm_msg_tag(m) == *(uint32_t *)ctx;
}

static uint32_t tag_of_next(swarm_msg_t **m)
{
    CHECK_OK(swarm_recv(m, 0));
    uint32_t t = swarm_msg_tag(*m);
    swarm_msg_free(*m);
    return t;
}

static void send_self(uint32_t tag) { CHECK_OK(swarm_send(swarm_self(), tag, "x", 1)); }

/* A child handed the parent's mark: it is not the child's to use. */
static void mark_thief(void *arg)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_recv_mark_t mk;
    memcpy(&mk, swarm_msg_data(m), sizeof mk);
    swarm_msg_free(m);
    API_RET(swarm_recv_marked, SWARM_EPERM, swarm_recv_marked(&mk, NULL, NULL, &m, 0));
    CHECK_OK(swarm_send((swarm_pid_t)(uintptr_t)arg, 9, "late", 4));
}

static void marked_fn(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv_mark_t mk, mk2;
    uint32_t want;
    send_self(1), send_self(2), send_self(1); /* before the mark */
    API_RET(swarm_recv_mark, 0, swarm_recv_mark(&mk));
    send_self(1), send_self(3);               /* after it */
    /* The oldest message after the mark, not before it. */
    API_RET(swarm_recv_marked, 0, swarm_recv_marked(&mk, NULL, NULL, &m, 0));
    CHECK_EQ(swarm_msg_tag(m), 1);
    swarm_msg_free(m);
    want = 1; /* no tag-1 message after the mark is left */
    API_RET(swarm_recv_marked, SWARM_ETIMEDOUT, swarm_recv_marked(&mk, tag_is, &want, &m, 0));
    want = 3;
    CHECK_OK(swarm_recv_marked(&mk, tag_is, &want, &m, 0));
    swarm_msg_free(m);
    /* What came before the mark is all there, in order, for the others. */
    CHECK_EQ(swarm_mailbox_len(), 3);
    CHECK_EQ(tag_of_next(&m), 1);
    CHECK_EQ(tag_of_next(&m), 2);
    /* A mark is a position: the message just before it can go (a stale
     * mark is fine), and it serves again and again. */
    CHECK_OK(swarm_recv_mark(&mk2));
    CHECK_EQ(tag_of_next(&m), 1);
    send_self(4);
    CHECK_OK(swarm_recv_marked(&mk2, NULL, NULL, &m, 0));
    CHECK_EQ(swarm_msg_tag(m), 4);
    swarm_msg_free(m);
    send_self(5);
    CHECK_OK(swarm_recv_marked(&mk, NULL, NULL, &m, 0));
    CHECK_EQ(swarm_msg_tag(m), 5);
    swarm_msg_free(m);
    /* It waits (parks) for a later message from another process. */
    swarm_pid_t child;
    CHECK_OK(swarm_spawn(&child, mark_thief, (void *)(uintptr_t)swarm_self(), NULL));
    CHECK_OK(swarm_recv_mark(&mk));
    CHECK_OK(swarm_send(child, 1, &mk, sizeof mk));
    API_RET(swarm_recv_marked, 0, swarm_recv_marked(&mk, NULL, NULL, &m, test_ms(30000)));
    CHECK_EQ(swarm_msg_tag(m), 9);
    CHECK_EQ(swarm_msg_sender(m), child);
    swarm_msg_free(m);
    API_RET(swarm_recv_marked, SWARM_ETIMEDOUT, swarm_recv_marked(&mk, NULL, NULL, &m, 5));
    /* Misuse. */
    swarm_recv_mark_t bad = mk;
    bad.seq += 1000; /* never handed out */
    API_RET(swarm_recv_marked, SWARM_EINVAL, swarm_recv_marked(&bad, NULL, NULL, &m, 0));
    memset(&bad, 0, sizeof bad);
    API_RET(swarm_recv_marked, SWARM_EINVAL, swarm_recv_marked(&bad, NULL, NULL, &m, 0));
    API_RET(swarm_recv_marked, SWARM_EINVAL, swarm_recv_marked(NULL, NULL, NULL, &m, 0));
    API_RET(swarm_recv_marked, SWARM_EINVAL, swarm_recv_marked(&mk, NULL, NULL, NULL, 0));
    API_RET(swarm_recv_marked, SWARM_EINVAL, swarm_recv_marked(&mk, NULL, NULL, &m, -5));
    API_RET(swarm_recv_mark, SWARM_EINVAL, swarm_recv_mark(NULL));
    CHECK_EQ(swarm_mailbox_len(), 0);
}

TEST(recv_marked)
{
    swarm_recv_mark_t mk = {0};
    swarm_msg_t *m;
    API_RET(swarm_recv_mark, SWARM_ENOTPROC, swarm_recv_mark(&mk));
    API_RET(swarm_recv_marked, SWARM_ENOTPROC, swarm_recv_marked(&mk, NULL, NULL, &m, 0));
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_run(&c, marked_fn, NULL));
}

/* The cost of a marked receive is what arrived after the mark: the match
 * function is the count of messages looked at. With 10,000 unrelated
 * messages queued, each round trip of a request to itself looks at one
 * message; the same search without the mark looks at all of them. */
static long looked;
static int count_tag(const swarm_msg_t *m, void *ctx)
{
    looked++;
    return swarm_msg_tag(m) == *(uint32_t *)ctx;
}

static void marked_cost_fn(void *arg)
{
    (void)arg;
    enum { QUEUED = 10000, ROUNDS = 100 };
    for (int i = 0; i < QUEUED; i++)
        send_self(1);
    uint32_t want = 2;
    swarm_msg_t *m;
    looked = 0;
    for (int i = 0; i < ROUNDS; i++) {
        swarm_recv_mark_t mk;
        CHECK_OK(swarm_recv_mark(&mk));
        send_self(2);
        CHECK_OK(swarm_recv_marked(&mk, count_tag, &want, &m, 0));
        swarm_msg_free(m);
    }
    CHECK_EQ(looked, ROUNDS);
    looked = 0;
    send_self(2);
    CHECK_OK(swarm_recv_match(count_tag, &want, &m, 0));
    swarm_msg_free(m);
    CHECK_EQ(looked, QUEUED + 1);
    CHECK_EQ(swarm_mailbox_len(), QUEUED);
}

TEST(recv_marked_cost)
{
    swarm_config_t c = test_config(1);
    CHECK_OK(swarm_run(&c, marked_cost_fn, NULL));
}

/* ---- timeouts ---- */
static void timeouts(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    int64_t delays[] = {1, 5, 20, 50};
    for (int k = 0; k < 4; k++) {
        int64_t t0 = swarm_now_ms();
        CHECK_EQ(swarm_recv(&m, delays[k]), SWARM_ETIMEDOUT);
        int64_t took = swarm_now_ms() - t0;
        /* Never early; late by at most a generous scheduling bound. */
        CHECK_CMP(took, >=, delays[k]);
        CHECK_CMP(took, <=, delays[k] + test_ms(200));
        t0 = swarm_now_ms();
        CHECK_OK(swarm_sleep(delays[k]));
        took = swarm_now_ms() - t0;
        CHECK_CMP(took, >=, delays[k]);
        CHECK_CMP(took, <=, delays[k] + test_ms(200));
    }
    /* A message that arrives during a timed receive ends it early and the
     * timer does not fire into a later receive. */
    static swarm_pid_t self_pid;
    self_pid = swarm_self();
    CHECK_OK(swarm_spawn(NULL, late_sender, &self_pid, NULL));
    int64_t t0 = swarm_now_ms();
    CHECK_OK(swarm_recv(&m, test_ms(10000)));
    CHECK_CMP(swarm_now_ms() - t0, <, test_ms(5000));
    swarm_msg_free(m);
    t0 = swarm_now_ms();
    CHECK_EQ(swarm_recv(&m, 30), SWARM_ETIMEDOUT);
    CHECK_CMP(swarm_now_ms() - t0, >=, 30);
    /* Messages that arrive while sleeping are kept, in order. */
    CHECK_OK(swarm_spawn(NULL, late_sender, &self_pid, NULL));
    CHECK_OK(swarm_sleep(60));
    CHECK_EQ(recv_long(NULL), 101);
    CHECK_EQ(swarm_sleep(-1), SWARM_EINVAL);
    CHECK_EQ(swarm_recv(&m, -5), SWARM_EINVAL);
}

TEST(recv_timeout)
{
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_run(&c, timeouts, NULL));
}

static void poller(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    CHECK_EQ(swarm_recv(&m, 0), SWARM_ETIMEDOUT);
    long v = 7;
    CHECK_OK(swarm_send(swarm_self(), 3, &v, sizeof v));
    CHECK_OK(swarm_recv(&m, 0));
    CHECK_EQ(swarm_msg_tag(m), 3);
    CHECK_EQ(swarm_msg_sender(m), swarm_self());
    swarm_msg_free(m);
    swarm_msg_free(NULL);
}

TEST(recv_poll)
{
    swarm_config_t c = test_config(1);
    CHECK_OK(swarm_run(&c, poller, NULL));
}

/* ---- dead and stale pids ---- */
static void quick_exit_proc(void *arg)
{
    (void)arg;
}

static void stale_main(void *arg)
{
    (void)arg;
    /* A process that ended: its pid is dead; the slot's next owner must
     * never see messages meant for it. */
    swarm_pid_t old;
    CHECK_OK(swarm_spawn(&old, quick_exit_proc, NULL, NULL));
    while (swarm_is_alive(old))
        swarm_yield();
    long v = 1;
    CHECK_EQ(swarm_send(old, 0, &v, sizeof v), SWARM_ESRCH);
    /* Reuse the slot (LIFO slot cache): the new process gets a new pid. */
    swarm_pid_t fresh;
    CHECK_OK(swarm_spawn(&fresh, ponger, NULL, NULL));
    CHECK(fresh != old);
    CHECK_EQ(swarm_send(old, 0, &v, sizeof v), SWARM_ESRCH);
    v = 5;
    CHECK_OK(swarm_send(fresh, 0, &v, sizeof v));
    CHECK_EQ(recv_long(NULL), 5); /* the ponger answered only the live pid's message */
    v = -1;
    CHECK_OK(swarm_send(fresh, 0, &v, sizeof v));
    CHECK_EQ(recv_long(NULL), -1);
}

TEST(stale_pid)
{
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, stale_main, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    swarm_stats_t st;
    swarm_stats(sw, &st);
    /* The two sends to the stale pid were refused, not sent and dropped. */
    CHECK_EQ(st.msgs_rejected, 2);
    CHECK_EQ(st.msgs_dropped, 0);
    CHECK_EQ(st.msgs_sent_total, 4); /* 5 and -1 each way */
    CHECK_EQ(st.msgs_sent_total, st.msgs_delivered + st.msgs_dropped + st.msgs_in_flight);
    CHECK_EQ(st.msgs_in_flight, 0);
    CHECK_OK(swarm_destroy(sw));
}

TEST(dead_pid)
{
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.max_procs = 1u << 20; /* below the pid's 24-bit slot field: slots past the table exist */
    CHECK_OK(swarm_create(&sw, &c));
    swarm_pid_t pid;
    CHECK_OK(swarm_spawn_in(sw, &pid, quick_exit_proc, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    long v = 3;
    CHECK_EQ(swarm_send(pid, 0, &v, sizeof v), SWARM_ESRCH);
    /* Malformed pids: none, another (non-existent) swarm, out-of-range slot. */
    CHECK_EQ(swarm_send(SWARM_PID_NONE, 0, &v, sizeof v), SWARM_EINVAL);
    CHECK_EQ(swarm_send((swarm_pid_t)250 << 56 | 1, 0, &v, sizeof v), SWARM_ESRCH);
    swarm_pid_t bad_slot = (pid & ~(swarm_pid_t)0xFFFFFF) | 0xFFFFFE;
    CHECK_EQ(swarm_send(bad_slot, 0, &v, sizeof v), SWARM_EINVAL);
    CHECK_EQ(swarm_send(pid, SWARM_TAG_SYSTEM, &v, sizeof v), SWARM_EINVAL);
    CHECK_EQ(swarm_send(pid, 0, NULL, 8), SWARM_EINVAL);
    swarm_stats_t st;
    swarm_stats(sw, &st);
    /* Every refused send is a rejection (the dead pid's too); the pid of a
     * swarm that does not exist has no swarm to count it. */
    CHECK_EQ(st.msgs_sent_total, 0);
    CHECK_EQ(st.msgs_dropped, 0);
    CHECK_EQ(st.msgs_rejected, 4);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- size limit ---- */
static void big_sender(void *arg)
{
    swarm_pid_t me = swarm_self();
    size_t max = *(size_t *)arg;
    char *buf = calloc(1, max + 1);
    buf[max - 1] = 42;
    CHECK_EQ(swarm_send(me, 0, buf, max + 1), SWARM_EMSGSIZE);
    CHECK_OK(swarm_send(me, 0, buf, max));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0));
    CHECK_EQ(swarm_msg_size(m), max);
    CHECK_EQ(((const char *)swarm_msg_data(m))[max - 1], 42);
    CHECK_EQ((uintptr_t)swarm_msg_data(m) % 16, 0);
    swarm_msg_free(m);
    CHECK_OK(swarm_send(me, 0, NULL, 0)); /* empty message */
    CHECK_OK(swarm_recv(&m, 0));
    CHECK_EQ(swarm_msg_size(m), 0);
    swarm_msg_free(m);
    free(buf);
}

TEST(msg_too_big)
{
    swarm_config_t c = test_config(1);
    size_t max = 100000;
    c.max_msg_size = max;
    CHECK_OK(swarm_run(&c, big_sender, &max));
}

/* ---- sends from a foreign thread ---- */
static void counter_proc(void *arg)
{
    long n = *(long *)arg, sum = 0;
    for (long i = 0; i < n; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
        CHECK_EQ(swarm_msg_sender(m), SWARM_PID_NONE);
        long v = *(const long *)swarm_msg_data(m);
        CHECK_EQ(v, i); /* one sender: its order holds */
        sum += v;
        swarm_msg_free(m);
    }
    *(long *)arg = sum;
}

TEST(foreign_send)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    long n = test_scale(100000), box = n;
    swarm_pid_t pid;
    CHECK_OK(swarm_spawn_in(sw, &pid, counter_proc, &box, NULL));
    for (long i = 0; i < n; i++)
        CHECK_OK(swarm_send(pid, 0, &i, sizeof i));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_EQ(box, n * (n - 1) / 2);
    CHECK_OK(swarm_destroy(sw));
}

static void len_proc(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    long v = 0;
    for (int i = 0; i < 5; i++)
        CHECK_OK(swarm_send(me, 1, &v, sizeof v));
    CHECK_EQ(swarm_mailbox_len(), 5);
    swarm_msg_t *m;
    CHECK_EQ(swarm_recv_tag(9, &m, 0), SWARM_ETIMEDOUT); /* all 5 set aside */
    CHECK_EQ(swarm_mailbox_len(), 5);
    CHECK_OK(swarm_send(me, 1, &v, sizeof v));
    CHECK_EQ(swarm_mailbox_len(), 6);
    CHECK_OK(swarm_sleep(2)); /* a timeout signal is not a message */
    CHECK_EQ(swarm_mailbox_len(), 6);
    /* Held (received, unfreed) messages are freed at exit: not freeing
     * them here must not leak (ASan's leak check covers this). */
    CHECK_OK(swarm_recv(&m, 0));
    CHECK_OK(swarm_recv(&m, 0));
    CHECK_EQ(swarm_mailbox_len(), 4);
}

TEST(mailbox_len)
{
    CHECK_EQ(swarm_mailbox_len(), 0);
    swarm_config_t c = test_config(1);
    CHECK_OK(swarm_run(&c, len_proc, NULL));
}

/* ---- 10M messages among 1,000 processes ----
 * Every process sends to random peers sequence-numbered messages; every
 * receiver checks that the sequence from each sender only grows (per-pair
 * order) and counts. At the end: received == sent, exactly. */
#define NPROC 1000
typedef struct storm {
    long per_proc;
    uint64_t seed;
    swarm_pid_t pids[NPROC];
    atomic_int ready;
    atomic_long received;
    atomic_long order_errors;
    atomic_long sent_to[NPROC];
} storm_t;

typedef struct storm_msg {
    int from;
    long seq;
} storm_msg_t;

static storm_t *storm;

static void storm_proc(void *arg)
{
    int me = (int)(intptr_t)arg;
    uint64_t rng = storm->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(me + 1));
    long *seq_to = calloc(NPROC, sizeof *seq_to);
    long *last_from = malloc(NPROC * sizeof *last_from);
    for (int i = 0; i < NPROC; i++)
        last_from[i] = -1;
    /* Wait until every pid is known. */
    while (atomic_load(&storm->ready) == 0)
        swarm_yield();
    long expect = atomic_load(&storm->sent_to[me]); /* filled in before ready */
    long got = 0;
    for (long k = 0; k < storm->per_proc; k++) {
        int to = (int)(test_rand(&rng) % NPROC);
        storm_msg_t msg = {me, seq_to[to]++};
        CHECK_OK(swarm_send(storm->pids[to], 0, &msg, sizeof msg));
        /* Drain what is there without blocking, to keep queues short. */
        swarm_msg_t *m;
        while (swarm_recv(&m, 0) == 0) {
            const storm_msg_t *sm = swarm_msg_data(m);
            if (sm->seq <= last_from[sm->from])
                atomic_fetch_add(&storm->order_errors, 1);
            last_from[sm->from] = sm->seq;
            got++;
            swarm_msg_free(m);
        }
    }
    while (got < expect) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
        const storm_msg_t *sm = swarm_msg_data(m);
        if (sm->seq <= last_from[sm->from])
            atomic_fetch_add(&storm->order_errors, 1);
        last_from[sm->from] = sm->seq;
        got++;
        swarm_msg_free(m);
    }
    atomic_fetch_add(&storm->received, got);
    free(seq_to);
    free(last_from);
}

TEST(messages_10m)
{
    storm = calloc(1, sizeof *storm);
    storm->per_proc = test_scale(10000000) / NPROC;
    storm->seed = test_seed();
    /* Precompute how many each process will receive (same RNG streams). */
    for (int p = 0; p < NPROC; p++) {
        uint64_t rng = storm->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(p + 1));
        for (long k = 0; k < storm->per_proc; k++)
            atomic_fetch_add(&storm->sent_to[test_rand(&rng) % NPROC], 1);
    }
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    for (int p = 0; p < NPROC; p++)
        CHECK_OK(swarm_spawn_in(sw, &storm->pids[p], storm_proc, (void *)(intptr_t)p, NULL));
    atomic_store(&storm->ready, 1);
    CHECK_OK(swarm_wait(sw, test_ms(240000)));
    long total = storm->per_proc * NPROC;
    CHECK_EQ(atomic_load(&storm->received), total);
    CHECK_EQ(atomic_load(&storm->order_errors), 0);
    swarm_stats_t st;
    swarm_stats(sw, &st);
    CHECK_EQ(st.msgs_sent_total, total);
    CHECK_EQ(st.msgs_delivered, total);
    CHECK_EQ(st.msgs_dropped, 0);
    CHECK_EQ(st.msgs_in_flight, 0);
    printf("10M storm: %ld messages, %llu steals, %llu parks\n", total,
           (unsigned long long)st.total.steals, (unsigned long long)st.total.parks);
    CHECK_OK(swarm_destroy(sw));
    free(storm);
}

/* ---- accounting: 10M sequence-numbered messages, random delays, and
 * receivers that end mid-stream ----
 * Every send returns 0 or SWARM_ESRCH; every receiver checks that each
 * sender's sequence only grows (per-pair order); after all processes ended
 * and the swarm is destroyed, every message sent was delivered or dropped. */
#define ACCT_SENDERS 8
typedef struct acctg {
    swarm_pid_t sink[64];
    long per_sender;
    atomic_long got;
    atomic_long stops_received;
    atomic_long order_errors;
    atomic_int senders_done;
    atomic_long accepted; /* sends that returned 0 */
    atomic_long refused;  /* sends that returned SWARM_ESRCH */
} acct_t;
static acct_t *acctg;

typedef struct acct_msg {
    int sender;
    long seq;
} acct_msg_t;

static void acct_sink(void *arg)
{
    long quota = (long)(intptr_t)arg; /* ends after this many, mid-stream */
    long last[ACCT_SENDERS];
    for (int i = 0; i < ACCT_SENDERS; i++)
        last[i] = -1;
    for (long i = 0; i < quota; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
        if (swarm_msg_tag(m) == 1) {
            swarm_msg_free(m);
            atomic_fetch_add(&acctg->stops_received, 1);
            return;
        }
        const acct_msg_t *am = swarm_msg_data(m);
        if (am->seq <= last[am->sender])
            atomic_fetch_add(&acctg->order_errors, 1);
        last[am->sender] = am->seq;
        swarm_msg_free(m);
        atomic_fetch_add(&acctg->got, 1);
    }
}

static void acct_sender(void *arg)
{
    int me = (int)((intptr_t)arg & 0xff);
    uint64_t rng = (uint64_t)(intptr_t)arg;
    for (long i = 0; i < acctg->per_sender; i++) {
        acct_msg_t am = {me, i};
        int r = swarm_send(acctg->sink[test_rand(&rng) % 64], 0, &am, sizeof am);
        CHECK(r == 0 || r == SWARM_ESRCH);
        atomic_fetch_add(r == 0 ? &acctg->accepted : &acctg->refused, 1);
        uint64_t dice = test_rand(&rng) % 4096;
        if (dice < 256)
            swarm_yield(); /* random delays: short ones often, */
        else if (dice == 256)
            swarm_sleep(1); /* a timer wait now and then */
    }
    atomic_fetch_add(&acctg->senders_done, 1);
}

TEST(accounting)
{
    acctg = calloc(1, sizeof *acctg);
    acctg->per_sender = test_scale(10000000) / ACCT_SENDERS;
    uint64_t seed = test_seed();
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    uint64_t rng = seed;
    for (int i = 0; i < 64; i++) {
        long quota = (long)(test_rand(&rng) % (uint64_t)(acctg->per_sender * ACCT_SENDERS / 64 * 2));
        CHECK_OK(swarm_spawn_in(sw, &acctg->sink[i], acct_sink, (void *)(intptr_t)(quota + 1), NULL));
    }
    for (int i = 0; i < ACCT_SENDERS; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, acct_sender, (void *)(intptr_t)(((seed + (uint64_t)i) << 8) | (uint64_t)i),
                                NULL));
    /* Polls a condition; no ordering is assumed. */
    TEST_POLL(atomic_load(&acctg->senders_done) >= ACCT_SENDERS, 120000);
    /* Stop the sinks still alive: the stop is queued after every message
     * the (finished) senders pushed. */
    long stops = 0;
    for (int i = 0; i < 64; i++)
        stops += swarm_send(acctg->sink[i], 1, NULL, 0) == 0;
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    swarm_stats_t st;
    CHECK_OK(swarm_destroy_stats(sw, &st));
    long sent = ACCT_SENDERS * acctg->per_sender;
    long accepted = atomic_load(&acctg->accepted), refused = atomic_load(&acctg->refused);
    printf("sent %llu (+%ld stops) delivered %llu dropped %llu in flight %llu rejected %llu\n",
           (unsigned long long)st.msgs_sent_total, stops, (unsigned long long)st.msgs_delivered,
           (unsigned long long)st.msgs_dropped, (unsigned long long)st.msgs_in_flight,
           (unsigned long long)st.msgs_rejected);
    CHECK_CMP(stops, <=, 64);
    CHECK_EQ(accepted + refused, sent);
    /* Accepted sends (0 returned) are sent; refused ones (SWARM_ESRCH,
     * the stops to ended sinks included) are rejected, nothing else. */
    CHECK_EQ(st.msgs_sent_total, accepted + stops);
    CHECK_EQ(st.msgs_rejected, refused + (64 - stops));
    /* A sink may reach its quota and end before reading its stop: that
     * stop is dropped, so count the stops where they are received. */
    CHECK_CMP(atomic_load(&acctg->stops_received), <=, stops);
    CHECK_EQ(st.msgs_delivered, atomic_load(&acctg->got) + atomic_load(&acctg->stops_received));
    CHECK_EQ(st.msgs_in_flight, 0);
    CHECK_EQ(st.msgs_sent_total, st.msgs_delivered + st.msgs_dropped);
    CHECK_EQ(atomic_load(&acctg->order_errors), 0);
    free(acctg);
}

/* ---- timeouts too large for a deadline (issue 7, item 4) ----
 * ms * 1000000 (and now + ms) overflowed int64_t, so such waits ended at
 * once. Every value must wait: a receive until a message comes, a sleep
 * and swarm_wait at least until something else ends them. */
#include "base/deadline.h"

TEST(deadline_helpers)
{
    int64_t now = 123456789;
    CHECK_EQ(swarm__deadline_ms(now, SWARM_INFINITE), SWARM__NEVER);
    CHECK_EQ(swarm__deadline_ms(now, 0), now);
    CHECK_EQ(swarm__deadline_ms(now, INT64_MAX - now - 1), INT64_MAX - 1);
    CHECK_EQ(swarm__deadline_ms(now, INT64_MAX - now), SWARM__NEVER);
    CHECK_EQ(swarm__deadline_ms(now, INT64_MAX - now + 1), SWARM__NEVER);
    CHECK_EQ(swarm__deadline_ms(now, INT64_MAX), SWARM__NEVER);
    CHECK_EQ(swarm__ms_to_ns(INT64_MAX / 1000000), INT64_MAX / 1000000 * 1000000);
    CHECK_EQ(swarm__ms_to_ns(INT64_MAX / 1000000 + 1), SWARM__NEVER);
    CHECK_EQ(swarm__ms_to_ns(INT64_MAX), SWARM__NEVER);
    int64_t now_ns = 5000000000;
    int64_t edge = (INT64_MAX - now_ns) / 1000000; /* the last timeout with a ns deadline */
    CHECK_EQ(swarm__deadline_ns(now_ns, edge), now_ns + edge * 1000000);
    CHECK_EQ(swarm__deadline_ns(now_ns, edge + 1), SWARM__NEVER);
    CHECK_EQ(swarm__deadline_ns(now_ns, INT64_MAX / 1000), SWARM__NEVER);
    CHECK_EQ(swarm__ns_until(now_ns, SWARM__NEVER), -1);
    CHECK_EQ(swarm__ns_until(now_ns, now_ns - 1), 0);
    CHECK_EQ(swarm__ns_until(now_ns, now_ns + 7), 7);
    CHECK_EQ(swarm__ns_to_ms_ceil(2000000), 2);
    CHECK_EQ(swarm__ns_to_ms_ceil(2000001), 3);
}

/* The timeouts at and around every overflow point the conversions have:
 * ms * 10^6 (INT64_MAX / 10^6), now_ns + ms * 10^6, now_ms + ms, and
 * INT64_MAX itself. now_ms is the caller's clock reading. */
static int huge_timeouts(int64_t now_ms, int64_t *out)
{
    int n = 0;
    int64_t now_ns = now_ms * 1000000;
    int64_t points[] = {INT64_MAX / 1000000, (INT64_MAX - now_ns) / 1000000, INT64_MAX - now_ms - 1};
    for (int k = 0; k < 3; k++)
        for (int64_t d = -2; d <= 2; d++)
            out[n++] = d > 0 && points[k] > INT64_MAX - d ? INT64_MAX : points[k] + d;
    out[n++] = INT64_MAX / 1000;
    out[n++] = INT64_MAX - 1;
    out[n++] = INT64_MAX;
    return n;
}
#define MAX_HUGE 20

typedef struct huge_wait {
    int64_t timeout;
    int kind;           /* 0 recv, 1 recv_tag, 2 recv_match, 3 sleep */
    swarm_pid_t parent;
    atomic_int armed;   /* about to wait */
    atomic_int done;    /* the wait returned */
    int result;
    uint32_t tag;
} huge_wait_t;

static int tag_is_7(const swarm_msg_t *m, void *ctx)
{
    (void)ctx;
    return swarm_msg_tag(m) == 7;
}

static void huge_waiter(void *arg)
{
    huge_wait_t *w = arg;
    swarm_msg_t *m = NULL;
    atomic_store(&w->armed, 1);
    switch (w->kind) {
    case 0: w->result = swarm_recv(&m, w->timeout); break;
    case 1: w->result = swarm_recv_tag(7, &m, w->timeout); break;
    case 2: w->result = swarm_recv_match(tag_is_7, NULL, &m, w->timeout); break;
    default: w->result = swarm_sleep(w->timeout); break;
    }
    if (m) {
        w->tag = swarm_msg_tag(m);
        swarm_msg_free(m);
    }
    atomic_store(&w->done, 1);
    if (w->kind != 3)
        CHECK_OK(swarm_send(w->parent, 8, NULL, 0));
}

/* One scheduler: the checker runs only while the waiter is switched out,
 * so "armed and not done" means the wait parked instead of returning. */
static void huge_recv_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_sleep(3)); /* the clock is past 0 (virtual time starts there) */
    int64_t t[MAX_HUGE];
    int n = huge_timeouts(swarm_now_ms(), t);
    for (int k = 0; k < n; k++) {
        for (int kind = 0; kind < 3; kind++) {
            huge_wait_t w = {.timeout = t[k], .kind = kind, .parent = swarm_self()};
            swarm_pid_t pid;
            CHECK_OK(swarm_spawn(&pid, huge_waiter, &w, NULL));
            while (!atomic_load(&w.armed))
                CHECK_OK(swarm_yield());
            if (atomic_load(&w.done))
                TEST_FAIL("timeout %lld, kind %d: returned %d at once", (long long)t[k], kind, w.result);
            /* A message it does not want wakes it; it must wait on. */
            CHECK_OK(swarm_send(pid, 6, NULL, 0));
            for (int y = 0; y < 3; y++)
                CHECK_OK(swarm_yield());
            if (kind != 0 && atomic_load(&w.done))
                TEST_FAIL("timeout %lld, kind %d: returned %d after a wake-up", (long long)t[k], kind, w.result);
            if (kind == 0) {
                /* recv takes the 6: it returned with it, not with a timeout. */
                swarm_msg_t *m;
                CHECK_OK(swarm_recv_tag(8, &m, test_ms(60000)));
                swarm_msg_free(m);
                CHECK_EQ(w.result, 0);
                CHECK_EQ(w.tag, 6);
                continue;
            }
            CHECK_OK(swarm_send(pid, 7, NULL, 0));
            swarm_msg_t *m;
            CHECK_OK(swarm_recv_tag(8, &m, test_ms(60000)));
            swarm_msg_free(m);
            CHECK_EQ(w.result, 0);
            CHECK_EQ(w.tag, 7);
        }
    }
    printf("%d timeouts x 3 receives parked and returned their message\n", n);
}

TEST(huge_timeout_recv)
{
    swarm_config_t c = test_config(1);
    CHECK_OK(swarm_run(&c, huge_recv_main, NULL));
}

static huge_wait_t sleepers[MAX_HUGE];
static atomic_int sleep_checked;

static void huge_sleep_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_sleep(3)); /* the clock is past 0 (virtual time starts there) */
    int64_t t[MAX_HUGE];
    int n = huge_timeouts(swarm_now_ms(), t);
    swarm_pid_t pid[MAX_HUGE];
    for (int k = 0; k < n; k++) {
        sleepers[k] = (huge_wait_t){.timeout = t[k], .kind = 3};
        CHECK_OK(swarm_spawn(&pid[k], huge_waiter, &sleepers[k], NULL));
    }
    for (int k = 0; k < n; k++)
        while (!atomic_load(&sleepers[k].armed))
            CHECK_OK(swarm_yield());
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < n; k++)
            if (atomic_load(&sleepers[k].done))
                TEST_FAIL("sleep(%lld) returned %d (round %d)", (long long)t[k], sleepers[k].result, round);
        /* Wake every sleeper with a message: each must go back to sleep. */
        for (int k = 0; k < n; k++)
            CHECK_OK(swarm_send(pid[k], 6, NULL, 0));
        for (int y = 0; y < 2 * n; y++)
            CHECK_OK(swarm_yield());
    }
    for (int k = 0; k < n; k++)
        CHECK(swarm_is_alive(pid[k]));
    printf("%d sleepers still asleep\n", n);
    atomic_store(&sleep_checked, n);
}

TEST(huge_timeout_sleep)
{
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, huge_sleep_main, NULL, NULL));
    /* The sleepers outlive the checker, so every wait ends by its timeout
     * (in deterministic mode the waits run the processes); destroy ends
     * them. */
    for (long i = 0; i < test_ms(60000) / 100 && !atomic_load(&sleep_checked); i++)
        CHECK_EQ(swarm_wait(sw, 100), SWARM_ETIMEDOUT);
    CHECK_CMP(atomic_load(&sleep_checked), >, 0);
    CHECK_OK(swarm_destroy(sw));
}

static void sleep_100(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_sleep(100));
}

TEST(huge_timeout_wait)
{
    /* swarm_wait with each value returns 0 once the process ends (after
     * 100 ms, on the swarm's clock), not SWARM_ETIMEDOUT at once. */
    int64_t t[MAX_HUGE];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int n = huge_timeouts((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, t);
    for (int k = 0; k < n; k++) {
        swarm_t *sw;
        swarm_config_t c = test_config(1);
        CHECK_OK(swarm_create(&sw, &c));
        swarm_pid_t pid;
        CHECK_OK(swarm_spawn_in(sw, &pid, sleep_100, NULL, NULL));
        int r = swarm_wait(sw, t[k]);
        if (r != 0)
            TEST_FAIL("swarm_wait(%lld) returned %d (%s)", (long long)t[k], r, swarm_strerror(r));
        CHECK(!swarm_is_alive(pid));
        CHECK_OK(swarm_destroy(sw));
    }
    printf("swarm_wait: %d timeouts waited for the process\n", n);
}

/* ---- size overflow (issue 7, item 5) ----
 * max_msg_size = SIZE_MAX let header + payload wrap: a send of SIZE_MAX - 8
 * bytes returned 0. Create now bounds max_msg_size, and the allocation a
 * send asks for is header + payload exactly. */
#include <sys/mman.h>

#include "base/sys.h"

static _Atomic size_t biggest_request;
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

/* Messages over the pool's largest block get a mapping of their own. */
static void *mmap_refusing_huge(void *addr, size_t n, int prot, int flags, int fd, off_t off)
{
    size_t seen = atomic_load(&biggest_request);
    while (n > seen && !atomic_compare_exchange_weak(&biggest_request, &seen, n))
        ;
    return n > ((size_t)1 << 30) ? MAP_FAILED : real_mmap(addr, n, prot, flags, fd, off);
}

static void parked_proc(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);
}

TEST(size_overflow)
{
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.max_msg_size = SIZE_MAX;
    CHECK_EQ(swarm_create(&sw, &c), SWARM_EINVAL);
    c.max_msg_size = SWARM_LIMIT_MAX_MSG_SIZE + 1;
    CHECK_EQ(swarm_create(&sw, &c), SWARM_EINVAL);
    c.max_msg_size = SWARM_LIMIT_MAX_MSG_SIZE;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_info_t info;
    CHECK_OK(swarm_info(sw, &info));
    CHECK_EQ(info.max_msg_size, SWARM_LIMIT_MAX_MSG_SIZE);
    swarm_pid_t pid;
    CHECK_OK(swarm_spawn_in(sw, &pid, parked_proc, NULL, NULL));
    static char buf[16];
    /* Nothing is read from buf: every one of these is refused first. */
    CHECK_EQ(swarm_send(pid, 1, buf, SIZE_MAX - 8), SWARM_EMSGSIZE);
    CHECK_EQ(swarm_send(pid, 1, buf, SIZE_MAX), SWARM_EMSGSIZE);
    CHECK_EQ(swarm_send(pid, 1, buf, SWARM_LIMIT_MAX_MSG_SIZE + 1), SWARM_EMSGSIZE);
    /* At the limit the send asks for header + payload, no less (a wrapped
     * sum would be small): a block that big is a mapping of its own
     * (mem/pool.h), which the hooked mmap here refuses. */
    real_mmap = swarm__sys.mmap;
    SWARM__SYS_SET(mmap, mmap_refusing_huge);
    int r = swarm_send(pid, 1, buf, SWARM_LIMIT_MAX_MSG_SIZE);
    swarm__sys_reset();
    CHECK_EQ(r, SWARM_ENOMEM);
    CHECK_CMP(atomic_load(&biggest_request), >, SWARM_LIMIT_MAX_MSG_SIZE);
    CHECK_CMP(atomic_load(&biggest_request), <=, SWARM_LIMIT_MAX_MSG_SIZE + 256 + swarm__page_size());
    CHECK_OK(swarm_send(pid, 1, buf, sizeof buf));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    swarm_stats_t st;
    CHECK_OK(swarm_stats(sw, &st));
    CHECK_EQ(st.msgs_rejected, 4);
    CHECK_EQ(st.msgs_delivered, 1);
    CHECK_OK(swarm_destroy(sw));
    /* Other absurd values are refused at create too. */
    c = test_config(1);
    c.schedulers = SWARM_LIMIT_SCHEDULERS + 1;
    CHECK_EQ(swarm_create(&sw, &c), SWARM_EINVAL);
    c = test_config(1);
    c.stack_size = SIZE_MAX;
    CHECK_EQ(swarm_create(&sw, &c), SWARM_EINVAL);
    c = test_config(1);
    c.max_procs = UINT32_MAX;
    CHECK_EQ(swarm_create(&sw, &c), SWARM_EINVAL);
    CHECK_OK(swarm_create(&sw, NULL));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.stack_size = SIZE_MAX;
    CHECK_EQ(swarm_spawn_in(sw, NULL, parked_proc, NULL, &o), SWARM_EINVAL);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- destroy racing senders (issue 7 item 3) ----
 * Swarm B is created and destroyed round after round while processes of
 * swarm A and plain threads keep sending to B's pids (and asking whether
 * they live), from before the destroy starts until after it ends. Every
 * send returns 0 or SWARM_ESRCH, nothing faults, and for each round the
 * sends that returned 0 are exactly B's final msgs_sent_total. */
#define RACE_ROUNDS_MAX 200 /* < 255: a round's swarm id is not reused */
#define RACE_PIDS 32
#define RACE_PROCS 4
#define RACE_THREADS 2
static swarm_pid_t race_pids[RACE_ROUNDS_MAX][RACE_PIDS];
static _Atomic int race_round = -1;
static _Atomic int race_stop;
static _Atomic uint64_t race_ok[RACE_ROUNDS_MAX];
static _Atomic uint64_t race_esrch, race_other, race_alive_calls;

static void race_sink(void *arg)
{
    (void)arg;
    for (;;) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
        swarm_msg_free(m);
    }
}

/* One send to a pid of the current round; counts the outcome. */
static void race_send_one(uint64_t *rng)
{
    int r = atomic_load(&race_round);
    if (r < 0)
        return;
    swarm_pid_t to = race_pids[r][test_rand(rng) % RACE_PIDS];
    char buf[96];
    memset(buf, (int)r, sizeof buf);
    int rc = swarm_send(to, 1, buf, 1 + test_rand(rng) % sizeof buf);
    if (rc == 0)
        atomic_fetch_add(&race_ok[r], 1);
    else if (rc == SWARM_ESRCH)
        atomic_fetch_add(&race_esrch, 1);
    else
        atomic_fetch_add(&race_other, 1);
    (void)swarm_is_alive(to);
    atomic_fetch_add(&race_alive_calls, 1);
}

static void race_proc(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    for (unsigned i = 0; !atomic_load(&race_stop); i++) {
        race_send_one(&rng);
        if (i % 16 == 0)
            swarm_yield();
    }
}

static void *race_thread(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    for (unsigned i = 0; !atomic_load(&race_stop); i++) {
        race_send_one(&rng);
        if (i % 64 == 0)
            sched_yield();
    }
    return NULL;
}

static _Atomic int race_normal_exits, race_bad_exits;
static void race_on_exit(swarm_t *sw, const swarm_exit_info_t *info, void *ud)
{
    (void)sw;
    (void)ud;
    if (info->reason == SWARM_EXIT_NORMAL)
        atomic_fetch_add(&race_normal_exits, 1);
    else
        atomic_fetch_add(&race_bad_exits, 1);
}

TEST(destroy_races_senders)
{
    uint64_t rng = test_seed();
    long rounds = test_scale(RACE_ROUNDS_MAX / 2);
    if (rounds < 8)
        rounds = 8;
    swarm_config_t ca;
    swarm_config_init(&ca);
    ca.schedulers = 2;
    ca.name = "senders";
    ca.on_exit = race_on_exit;
    swarm_t *a;
    CHECK_OK(swarm_create(&a, &ca));
    for (int i = 0; i < RACE_PROCS; i++)
        CHECK_OK(swarm_spawn_in(a, NULL, race_proc, (void *)(uintptr_t)(test_rand(&rng) | 1), NULL));
    pthread_t th[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        CHECK_EQ(pthread_create(&th[i], NULL, race_thread, (void *)(uintptr_t)(test_rand(&rng) | 1)), 0);

    swarm_stats_t final[RACE_ROUNDS_MAX];
    for (long r = 0; r < rounds; r++) {
        swarm_config_t cb;
        swarm_config_init(&cb);
        cb.schedulers = 2;
        cb.name = "victim";
        cb.max_procs = 256;
        cb.quiet = 1;
        swarm_t *b;
        CHECK_OK(swarm_create(&b, &cb));
        for (int i = 0; i < RACE_PIDS; i++)
            CHECK_OK(swarm_spawn_in(b, &race_pids[r][i], race_sink, NULL, NULL));
        atomic_store(&race_round, (int)r);
        /* Let the senders get going, for a varying while (0-2 ms). */
        struct timespec ts = {0, (long)(test_rand(&rng) % 2000000)};
        nanosleep(&ts, NULL);
        CHECK_OK(swarm_destroy_stats(b, &final[r]));
        /* Destroyed: its pids are dead to everyone, at once. */
        for (int i = 0; i < RACE_PIDS; i++) {
            API_RET(swarm_send, SWARM_ESRCH, swarm_send(race_pids[r][i], 1, "x", 1));
            CHECK_EQ(swarm_is_alive(race_pids[r][i]), 0);
        }
    }
    atomic_store(&race_stop, 1);
    for (int i = 0; i < RACE_THREADS; i++)
        CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_OK(swarm_wait(a, test_ms(60000)));
    CHECK_OK(swarm_destroy(a));

    uint64_t ok = 0;
    for (long r = 0; r < rounds; r++) {
        /* Every accepted send is in its swarm's final count, nothing else. */
        CHECK_EQ(final[r].msgs_sent_total, atomic_load(&race_ok[r]));
        CHECK_EQ(final[r].msgs_sent_total, final[r].msgs_delivered + final[r].msgs_dropped);
        CHECK_EQ(final[r].msgs_in_flight, 0);
        ok += atomic_load(&race_ok[r]);
    }
    printf("rounds=%ld accepted=%" PRIu64 " esrch=%" PRIu64 " is_alive=%" PRIu64 "\n", rounds, ok,
           (uint64_t)atomic_load(&race_esrch), (uint64_t)atomic_load(&race_alive_calls));
    CHECK_EQ(atomic_load(&race_other), 0);
    CHECK_CMP(atomic_load(&race_esrch), >, 0);
    CHECK_EQ(atomic_load(&race_bad_exits), 0);
    CHECK_EQ(atomic_load(&race_normal_exits), RACE_PROCS);
}

TEST_MAIN(TEST_ENTRY(ping_pong, TEST_DET),
          TEST_ENTRY(selective_tag),
          TEST_ENTRY(selective_match, TEST_DET),
          TEST_ENTRY(recv_marked, TEST_DET),
          TEST_ENTRY(recv_marked_cost, TEST_DET),
          TEST_ENTRY(recv_timeout, TEST_DET),
          TEST_ENTRY(recv_poll),
          TEST_ENTRY(stale_pid, TEST_DET),
          TEST_ENTRY(dead_pid),
          TEST_ENTRY(msg_too_big),
          TEST_ENTRY(foreign_send, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(mailbox_len),
          TEST_ENTRY(messages_10m, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(accounting, TEST_CONCURRENCY),
          TEST_ENTRY(deadline_helpers),
          TEST_ENTRY(huge_timeout_recv, TEST_DET),
          TEST_ENTRY(huge_timeout_sleep, TEST_DET),
          TEST_ENTRY(huge_timeout_wait, TEST_DET),
          TEST_ENTRY(size_overflow),
          TEST_ENTRY(destroy_races_senders, TEST_CONCURRENCY))
