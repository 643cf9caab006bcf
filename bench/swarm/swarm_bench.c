/*
 * bench/swarm/swarm_bench.c - the SwarmRT side of the benchmark suite.
 *
 * One program, one sub-command per workload of bench/WORKLOADS.md (that file
 * is the contract: parameters, checksums and the output line):
 *
 *     swarm_bench <workload> <schedulers> <quick|full>
 *
 * The workload runs as the first process of swarm_run(), so the wall and CPU
 * time taken around it exclude creating and destroying the swarm. Every
 * message carries one int64_t; its tag says what it is. The program prints
 * one "result ..." line, or one "error ..." line and exits non-zero.
 *
 * Extra keys after ops= come from swarm_stats() and are informational.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <swarmrt.h>

#define RING_SIZE 503
#define SPAWN_BATCH 10000
#define PRIME_CHUNKS 64
#define LCG_MUL UINT64_C(6364136223846793005)
#define LCG_ADD UINT64_C(1442695040888963407)

/* Message tags. */
enum {
    TAG_VALUE = 1, /* an integer result or stream element */
    TAG_PING,
    TAG_PONG,
    TAG_GET,   /* counting: ask for the total */
    TAG_START, /* ring: the starter's cue; big: all pids are known */
    TAG_TOKEN,
    TAG_DONE,
    TAG_STOP,
    TAG_ACK /* a process confirms it is stopping (its arguments may be freed) */
};

/* One size of a workload; unused fields stay 0. */
typedef struct bench_params {
    int64_t n, s, m, w, p, k, q;
} bench_params_t;

typedef struct bench_result {
    int64_t checksum;
    int64_t ops;
    int64_t untimed_wall_ns, untimed_cpu_ns; /* spent measuring, not working:
                                                taken out of wall_ns and cpu_ns */
    char extra[128]; /* " key=value" pairs, or empty */
} bench_result_t;

typedef struct workload {
    const char *name;
    void (*run)(const bench_params_t *p, bench_result_t *r);
    bench_params_t quick;
    bench_params_t full;
} workload_t;

/* What the benchmark's main process measured, read after swarm_run(). */
typedef struct bench_run {
    const workload_t *wl;
    bench_params_t params;
    bench_result_t result;
    int64_t wall_ns;
    int64_t cpu_ns;
    swarm_stats_t stats;
} bench_run_t;

static const char *workload_name = "?";

/* The benchmark's main process: most workloads report to it. Written once
 * before any child is spawned, so children read it without a race. */
static swarm_pid_t main_pid;

/* ------------------------------------------------------------ utilities */

/* Report a failure on the result channel and end the OS process at once:
 * a benchmark with a broken invariant has nothing useful left to measure. */
static _Noreturn void die(const char *what, int rc)
{
    printf("error workload=%s runtime=swarm %s: %s (%d)\n", workload_name, what,
           rc ? swarm_strerror(rc) : "invariant broken", rc);
    fflush(stdout);
    _exit(1);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* Resident set size from /proc/self/statm, in bytes. */
static int64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = -1;
    if (f == NULL)
        die("open /proc/self/statm", 0);
    if (fscanf(f, "%lld %lld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    if (resident < 0)
        die("parse /proc/self/statm", 0);
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static swarm_pid_t spawn_or_die(swarm_fn fn, void *arg)
{
    swarm_pid_t pid;
    int rc = swarm_spawn(&pid, fn, arg, NULL);
    if (rc != 0)
        die("swarm_spawn", rc);
    return pid;
}

static void send_i64(swarm_pid_t to, uint32_t tag, int64_t value)
{
    int rc = swarm_send(to, tag, &value, sizeof value);
    if (rc != 0)
        die("swarm_send", rc);
}

/* Receive one message (timeout in ms) and unpack it: returns the payload,
 * stores the tag and, if wanted, the sender. The message is freed here. */
static int64_t recv_i64(uint32_t *tag, swarm_pid_t *sender, int64_t timeout_ms)
{
    swarm_msg_t *msg;
    int rc = swarm_recv(&msg, timeout_ms);
    if (rc != 0)
        die("swarm_recv", rc);
    if (swarm_msg_size(msg) != sizeof(int64_t))
        die("message size", 0);
    int64_t value;
    memcpy(&value, swarm_msg_data(msg), sizeof value);
    *tag = swarm_msg_tag(msg);
    if (sender != NULL)
        *sender = swarm_msg_sender(msg);
    swarm_msg_free(msg);
    return value;
}

/* Receive a message that must carry the given tag. */
static int64_t expect_i64(uint32_t want, int64_t timeout_ms)
{
    uint32_t tag;
    int64_t value = recv_i64(&tag, NULL, timeout_ms);
    if (tag != want)
        die("unexpected message tag", 0);
    return value;
}

/* Send each of pids a stop and wait for their n acknowledgements (each
 * process answers once before it ends); returns the count received. */
static int64_t stop_all(const swarm_pid_t *pids, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        send_i64(pids[i], TAG_STOP, 0);
    int64_t acks = 0;
    for (int64_t i = 0; i < n; i++) {
        expect_i64(TAG_ACK, SWARM_INFINITE);
        acks++;
    }
    return acks;
}

/* Selective receive: the oldest message with this tag; others stay queued
 * in order (Erlang's receive with a pattern). */
static int64_t recv_tagged_i64(uint32_t tag)
{
    swarm_msg_t *msg;
    int rc = swarm_recv_tag(tag, &msg, SWARM_INFINITE);
    if (rc != 0)
        die("swarm_recv_tag", rc);
    if (swarm_msg_size(msg) != sizeof(int64_t))
        die("message size", 0);
    int64_t value;
    memcpy(&value, swarm_msg_data(msg), sizeof value);
    swarm_msg_free(msg);
    return value;
}

/* Receive count TAG_VALUE messages and return their sum. */
static int64_t sum_values(int64_t count)
{
    int64_t sum = 0;
    for (int64_t i = 0; i < count; i++)
        sum += expect_i64(TAG_VALUE, SWARM_INFINITE);
    return sum;
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL)
        die("malloc", SWARM_ENOMEM);
    return p;
}

/* ------------------------------------------------ pingpong, timer_churn */

/* Echo every ping back to its sender until told to stop. With a finite
 * timeout every receive arms and cancels a timer (timer_churn). */
static void echo_loop(int64_t timeout_ms)
{
    for (;;) {
        uint32_t tag;
        swarm_pid_t from;
        int64_t v = recv_i64(&tag, &from, timeout_ms);
        if (tag == TAG_STOP)
            return;
        send_i64(from, TAG_PONG, v);
    }
}

static void pong_proc(void *arg)
{
    (void)arg;
    echo_loop(SWARM_INFINITE);
}

static void timed_pong_proc(void *arg)
{
    (void)arg;
    echo_loop(1000);
}

static int64_t ping_rounds(swarm_pid_t partner, int64_t n, int64_t timeout_ms)
{
    int64_t count = 0;
    for (int64_t i = 1; i <= n; i++) {
        send_i64(partner, TAG_PING, i);
        if (expect_i64(TAG_PONG, timeout_ms) == i)
            count++;
    }
    send_i64(partner, TAG_STOP, 0);
    return count;
}

static void run_pingpong(const bench_params_t *p, bench_result_t *r)
{
    swarm_pid_t partner = spawn_or_die(pong_proc, NULL);
    r->checksum = ping_rounds(partner, p->n, SWARM_INFINITE);
    r->ops = p->n;
}

static void run_timer_churn(const bench_params_t *p, bench_result_t *r)
{
    swarm_pid_t partner = spawn_or_die(timed_pong_proc, NULL);
    r->checksum = ping_rounds(partner, p->n, 1000);
    r->ops = p->n;
}

/* -------------------------------------------------------------- gs_call */

static int sum_init(void *arg, void **state)
{
    (void)arg;
    *state = calloc(1, sizeof(int64_t));
    return *state == NULL;
}

static int sum_call(void *state, const swarm_msg_t *req, swarm_gs_from_t from, swarm_gs_result_t *r)
{
    (void)from;
    int64_t *sum = state, v;
    memcpy(&v, swarm_msg_data(req), sizeof v);
    *sum += v;
    r->reply = sum;
    r->reply_size = sizeof *sum;
    return SWARM_GS_REPLY;
}

static void sum_terminate(void *state, swarm_reason_t why)
{
    (void)why;
    free(state);
}

static const swarm_gs_ops_t sum_ops = {.init = sum_init, .handle_call = sum_call, .terminate = sum_terminate};

static void run_gs_call(const bench_params_t *p, bench_result_t *r)
{
    swarm_pid_t srv;
    int rc = swarm_gs_start(&srv, &sum_ops, NULL, NULL);
    if (rc != 0)
        die("swarm_gs_start", rc);
    for (int64_t i = 0; i < p->q; i++) /* unrelated messages a call must not pay for */
        send_i64(swarm_self(), TAG_PING, i);
    int64_t last = 0;
    for (int64_t i = 1; i <= p->n; i++) {
        swarm_msg_t *m;
        if ((rc = swarm_gs_call(srv, 1, &i, sizeof i, &m, SWARM_INFINITE, NULL)) != 0)
            die("swarm_gs_call", rc);
        memcpy(&last, swarm_msg_data(m), sizeof last);
        swarm_msg_free(m);
    }
    swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), SWARM_INFINITE);
    swarm_msg_t *m;
    while (swarm_recv(&m, 0) == 0)
        swarm_msg_free(m);
    r->checksum = last;
    r->ops = p->n;
}

/* ----------------------------------------------------------- link_chain */

static void chain_link(void *arg)
{
    int64_t left = (int64_t)(intptr_t)arg; /* processes still to spawn after this one */
    if (left > 0) {
        int rc = swarm_spawn_link(NULL, chain_link, (void *)(intptr_t)(left - 1), NULL);
        if (rc != 0)
            die("swarm_spawn_link", rc);
    } else {
        send_i64(main_pid, TAG_VALUE, (int64_t)swarm_self()); /* the chain is built */
    }
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0) /* ended by the links, or told to go */
        swarm_msg_free(m);
    swarm_exit_with(swarm_reason(SWARM_ATOM_SHUTDOWN)); /* the last one starts it */
}

static void run_link_chain(const bench_params_t *p, bench_result_t *r)
{
    swarm_pid_t first;
    swarm_ref_t mon;
    int rc = swarm_spawn_monitor(&first, &mon, chain_link, (void *)(intptr_t)(p->n - 1), NULL);
    if (rc != 0)
        die("swarm_spawn_monitor", rc);
    swarm_pid_t last = (swarm_pid_t)expect_i64(TAG_VALUE, SWARM_INFINITE);
    send_i64(last, TAG_PING, 0); /* the last one exits: shutdown runs down the links */
    swarm_msg_t *m;
    if ((rc = swarm_recv_tag(SWARM_TAG_DOWN, &m, SWARM_INFINITE)) != 0)
        die("swarm_recv_tag", rc);
    swarm_reason_t why;
    swarm_msg_down(m, NULL, NULL, &why);
    swarm_msg_free(m);
    r->checksum = why.atom == SWARM_ATOM_SHUTDOWN ? p->n : -1; /* the first ended by the chain */
    r->ops = p->n;
}

/* ---------------------------------------------------------- sup_restart */

static void sup_worker(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0)
        swarm_msg_free(m);
}

static swarm_pid_t sup_child(swarm_pid_t sup)
{
    swarm_sup_child_t c;
    size_t n = 0;
    int rc = swarm_sup_which_children(sup, &c, 1, &n);
    if (rc != 0 || n != 1)
        die("swarm_sup_which_children", rc);
    return c.pid;
}

static void run_sup_restart(const bench_params_t *p, bench_result_t *r)
{
    swarm_child_spec_t spec = {.fn = sup_worker, .restart = SWARM_PERMANENT};
    swarm_atom("w", &spec.id);
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.intensity = (unsigned)p->n * 2;
    swarm_pid_t sup;
    int rc = swarm_sup_start(&sup, &f, &spec, 1, NULL);
    if (rc != 0)
        die("swarm_sup_start", rc);
    int64_t restarts = 0;
    swarm_pid_t w = sup_child(sup);
    for (int64_t i = 0; i < p->n; i++) {
        /* Its DOWN comes after its EXIT reached the supervisor, so the
         * next call into the supervisor is answered after the restart. */
        swarm_ref_t mon;
        swarm_monitor(w, &mon);
        swarm_exit_pid(w, swarm_reason(SWARM_ATOM_KILL));
        swarm_msg_t *m;
        if ((rc = swarm_recv_tag(SWARM_TAG_DOWN, &m, SWARM_INFINITE)) != 0)
            die("swarm_recv_tag", rc);
        swarm_msg_free(m);
        swarm_pid_t next = sup_child(sup);
        restarts += next != w && next != SWARM_PID_NONE;
        w = next;
    }
    swarm_gs_stop(sup, swarm_reason(SWARM_ATOM_SHUTDOWN), SWARM_INFINITE);
    r->checksum = restarts;
    r->ops = p->n;
}

/* ---------------------------------------------------------------- yield */

static void yield_proc(void *arg)
{
    int64_t n = (int64_t)(intptr_t)arg, count = 0;
    for (int64_t i = 0; i < n; i++) {
        int rc = swarm_yield();
        if (rc != 0)
            die("swarm_yield", rc);
        count++;
    }
    send_i64(main_pid, TAG_VALUE, count);
}

static void run_yield(const bench_params_t *p, bench_result_t *r)
{
    spawn_or_die(yield_proc, (void *)(intptr_t)p->n);
    spawn_or_die(yield_proc, (void *)(intptr_t)p->n);
    r->checksum = sum_values(2);
    r->ops = 2 * p->n;
}

/* ------------------------------------------------------------- counting */

static void counter_proc(void *arg)
{
    (void)arg;
    int64_t sum = 0;
    for (;;) {
        uint32_t tag;
        swarm_pid_t from;
        int64_t v = recv_i64(&tag, &from, SWARM_INFINITE);
        if (tag == TAG_GET) {
            send_i64(from, TAG_VALUE, sum);
            return;
        }
        sum += v;
    }
}

static void run_counting(const bench_params_t *p, bench_result_t *r)
{
    swarm_pid_t counter = spawn_or_die(counter_proc, NULL);
    for (int64_t i = 1; i <= p->n; i++)
        send_i64(counter, TAG_VALUE, i);
    send_i64(counter, TAG_GET, 0);
    r->checksum = expect_i64(TAG_VALUE, SWARM_INFINITE);
    r->ops = p->n;
}

/* -------------------------------------------------------------- mailbox */

static void stream_sender_proc(void *arg)
{
    int64_t m = (int64_t)(intptr_t)arg;
    for (int64_t i = 1; i <= m; i++)
        send_i64(main_pid, TAG_VALUE, i);
}

/* The bounded variant's receiver: set before its senders are spawned
 * (the spawn orders the store before their reads). */
static swarm_pid_t bounded_target;

static void bounded_sender_proc(void *arg)
{
    int64_t m = (int64_t)(intptr_t)arg;
    swarm_pid_t to = bounded_target;
    for (int64_t i = 1; i <= m; i++) {
        int rc = swarm_send(to, TAG_VALUE, &i, sizeof i);
        if (rc != 0)
            die("swarm_send", rc);
    }
}

static void run_mailbox(const bench_params_t *p, bench_result_t *r)
{
    for (int64_t s = 0; s < p->s; s++)
        spawn_or_die(stream_sender_proc, (void *)(intptr_t)p->m);
    r->checksum = sum_values(p->s * p->m);
    r->ops = p->s * p->m;
}

/* The same stream into a bounded mailbox (1,024 messages, as Go's
 * channel): the senders park while it is full. */
static int64_t bounded_sum_count;

static void bounded_receiver_proc(void *arg)
{
    (void)arg;
    send_i64(main_pid, TAG_VALUE, sum_values(bounded_sum_count));
}

static void run_mailbox_bounded(const bench_params_t *p, bench_result_t *r)
{
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.mailbox_max = 1024;
    o.mailbox_full = SWARM_MBOX_PARK;
    bounded_sum_count = p->s * p->m;
    swarm_pid_t rx;
    int rc = swarm_spawn(&rx, bounded_receiver_proc, NULL, &o);
    if (rc != 0)
        die("swarm_spawn", rc);
    bounded_target = rx;
    for (int64_t s = 0; s < p->s; s++)
        spawn_or_die(bounded_sender_proc, (void *)(intptr_t)p->m);
    r->checksum = expect_i64(TAG_VALUE, SWARM_INFINITE);
    r->ops = p->s * p->m;
}

/* ------------------------------------- channels and mutex (issue 11) */

#define CHAN_PIPE_WORKERS 4 /* chan_pipeline: producers, and consumers */
#define CHAN_PIPE_CAP 1024
#define CHAN_SELECT_SENDERS 4
#define CHAN_BUFFERED_CAP 1 /* chan_buffered: a ping-pong has one value in flight */
#define MUTEX_TIMEOUT_MS 600000 /* the mutex has no untimed lock: "never" */

static swarm_chan_t *chan_make(size_t cap)
{
    swarm_chan_t *ch;
    int rc = swarm_chan_create(&ch, sizeof(int64_t), cap);
    if (rc != 0)
        die("swarm_chan_create", rc);
    return ch;
}

static void chan_send_i64(swarm_chan_t *ch, int64_t v)
{
    int rc = swarm_chan_send(ch, &v, SWARM_INFINITE);
    if (rc != 0)
        die("swarm_chan_send", rc);
}

/* Receive one value; returns 0, or SWARM_ECLOSED when ch is closed and
 * drained (anything else ends the program). */
static int chan_recv_i64(swarm_chan_t *ch, int64_t *v)
{
    int rc = swarm_chan_recv(ch, v, SWARM_INFINITE);
    if (rc != 0 && rc != SWARM_ECLOSED)
        die("swarm_chan_recv", rc);
    return rc;
}

/* chan_pingpong, chan_buffered: the partner echoes every ping on the
 * pong channel until the ping channel is closed. */
typedef struct chan_pair {
    swarm_chan_t *ping, *pong;
} chan_pair_t;

static void chan_echo_proc(void *arg)
{
    const chan_pair_t *pair = arg;
    int64_t v;
    while (chan_recv_i64(pair->ping, &v) == 0)
        chan_send_i64(pair->pong, v);
    send_i64(main_pid, TAG_ACK, 0); /* done with the channels */
}

static void chan_pingpong_cap(const bench_params_t *p, bench_result_t *r, size_t cap)
{
    chan_pair_t pair = {.ping = chan_make(cap), .pong = chan_make(cap)};
    spawn_or_die(chan_echo_proc, &pair);
    int64_t count = 0;
    for (int64_t i = 1; i <= p->n; i++) {
        chan_send_i64(pair.ping, i);
        int64_t v;
        if (chan_recv_i64(pair.pong, &v) != 0)
            die("pong channel closed", 0);
        count += v == i;
    }
    swarm_chan_close(pair.ping);
    expect_i64(TAG_ACK, SWARM_INFINITE);
    swarm_chan_release(pair.ping);
    swarm_chan_release(pair.pong);
    r->checksum = count;
    r->ops = p->n;
}

static void run_chan_pingpong(const bench_params_t *p, bench_result_t *r)
{
    chan_pingpong_cap(p, r, 0); /* rendezvous channels */
}

static void run_chan_buffered(const bench_params_t *p, bench_result_t *r)
{
    chan_pingpong_cap(p, r, CHAN_BUFFERED_CAP);
}

/* chan_pipeline: producer k sends k*M+1 .. k*M+M into one channel; the
 * consumers sum what they take until it is closed and drained. */
typedef struct chan_worker {
    swarm_chan_t *ch;
    int64_t first, count;
} chan_worker_t;

static void chan_producer_proc(void *arg)
{
    const chan_worker_t w = *(const chan_worker_t *)arg; /* as chan_select's senders */
    for (int64_t i = 0; i < w.count; i++)
        chan_send_i64(w.ch, w.first + i);
    send_i64(main_pid, TAG_DONE, 0);
}

static void chan_consumer_proc(void *arg)
{
    swarm_chan_t *ch = arg;
    int64_t sum = 0, v;
    while (chan_recv_i64(ch, &v) == 0)
        sum += v;
    send_i64(main_pid, TAG_VALUE, sum);
}

static void run_chan_pipeline(const bench_params_t *p, bench_result_t *r)
{
    swarm_chan_t *ch = chan_make(CHAN_PIPE_CAP);
    chan_worker_t producers[CHAN_PIPE_WORKERS];
    for (int k = 0; k < CHAN_PIPE_WORKERS; k++)
        spawn_or_die(chan_consumer_proc, ch);
    for (int k = 0; k < CHAN_PIPE_WORKERS; k++) {
        producers[k] = (chan_worker_t){.ch = ch, .first = k * p->m + 1, .count = p->m};
        spawn_or_die(chan_producer_proc, &producers[k]);
    }
    for (int k = 0; k < CHAN_PIPE_WORKERS; k++)
        expect_i64(TAG_DONE, SWARM_INFINITE);
    swarm_chan_close(ch);
    r->checksum = 0;
    for (int k = 0; k < CHAN_PIPE_WORKERS; k++)
        r->checksum += recv_tagged_i64(TAG_VALUE);
    swarm_chan_release(ch);
    r->ops = CHAN_PIPE_WORKERS * p->m;
}

/* chan_select: sender k sends k*M+1 .. k*M+M on its own rendezvous
 * channel; the main process selects over the four, 4*M times. */
static void chan_select_sender_proc(void *arg)
{
    /* A copy: arg is on main's stack, and main returns once it has the
     * last value, while this process may still be after its last send. */
    const chan_worker_t w = *(const chan_worker_t *)arg;
    for (int64_t i = 0; i < w.count; i++)
        chan_send_i64(w.ch, w.first + i);
}

static void run_chan_select(const bench_params_t *p, bench_result_t *r)
{
    chan_worker_t senders[CHAN_SELECT_SENDERS];
    int64_t vals[CHAN_SELECT_SENDERS];
    swarm_chan_case_t cases[CHAN_SELECT_SENDERS];
    for (int k = 0; k < CHAN_SELECT_SENDERS; k++) {
        senders[k] = (chan_worker_t){.ch = chan_make(0), .first = k * p->m + 1, .count = p->m};
        cases[k] = (swarm_chan_case_t){.chan = senders[k].ch, .op = SWARM_CHAN_RECV, .elem = &vals[k]};
        spawn_or_die(chan_select_sender_proc, &senders[k]);
    }
    int64_t sum = 0, total = CHAN_SELECT_SENDERS * p->m;
    for (int64_t i = 0; i < total; i++) {
        int k = swarm_chan_select(cases, CHAN_SELECT_SENDERS, 0, SWARM_INFINITE);
        if (k < 0 || k >= CHAN_SELECT_SENDERS)
            die("swarm_chan_select", k < 0 ? k : 0);
        if (cases[k].result != 0)
            die("select case result", cases[k].result);
        sum += vals[k];
    }
    /* Every sender has handed over its last value: it is past its sends. */
    for (int k = 0; k < CHAN_SELECT_SENDERS; k++)
        swarm_chan_release(senders[k].ch);
    r->checksum = sum;
    r->ops = total;
}

/* mutex_contended: P processes share N increments of one counter, each
 * under the mutex. */
typedef struct mutex_shared {
    swarm_mutex_t *m;
    int64_t counter;
} mutex_shared_t;

static mutex_shared_t mutex_shared;

static void mutex_worker_proc(void *arg)
{
    int64_t n = (int64_t)(intptr_t)arg;
    for (int64_t i = 0; i < n; i++) {
        int rc = swarm_mutex_lock(mutex_shared.m, MUTEX_TIMEOUT_MS);
        if (rc != 0)
            die("swarm_mutex_lock", rc);
        mutex_shared.counter++;
        if ((rc = swarm_mutex_unlock(mutex_shared.m)) != 0)
            die("swarm_mutex_unlock", rc);
    }
    send_i64(main_pid, TAG_DONE, 0);
}

static void run_mutex_contended(const bench_params_t *p, bench_result_t *r)
{
    int rc = swarm_mutex_create(&mutex_shared.m);
    if (rc != 0)
        die("swarm_mutex_create", rc);
    mutex_shared.counter = 0;
    for (int64_t k = 0; k < p->p; k++) /* N split as evenly as it goes */
        spawn_or_die(mutex_worker_proc,
                     (void *)(intptr_t)(p->n / p->p + (k < p->n % p->p)));
    for (int64_t k = 0; k < p->p; k++)
        expect_i64(TAG_DONE, SWARM_INFINITE);
    r->checksum = mutex_shared.counter; /* the DONE messages order the stores */
    if ((rc = swarm_mutex_destroy(mutex_shared.m)) != 0)
        die("swarm_mutex_destroy", rc);
    r->ops = p->n;
}

/* ----------------------------------------------------------------- ring */

typedef struct ring ring_t;

typedef struct ring_member {
    ring_t *ring;
    int index;
} ring_member_t;

struct ring {
    swarm_pid_t pids[RING_SIZE];
    ring_member_t members[RING_SIZE];
};

/* A member looks its successor up only when a message arrives: main fills
 * ring->pids before sending anything, and the send/receive pair orders that
 * write before this read. */
static void ring_proc(void *arg)
{
    const ring_member_t *self = arg;
    for (;;) {
        uint32_t tag;
        int64_t t = recv_i64(&tag, NULL, SWARM_INFINITE);
        if (tag == TAG_STOP) {
            send_i64(main_pid, TAG_ACK, 0);
            return;
        }
        if (tag == TAG_TOKEN && t == 0) {
            send_i64(main_pid, TAG_DONE, self->index);
            continue;
        }
        swarm_pid_t next = self->ring->pids[(self->index + 1) % RING_SIZE];
        send_i64(next, TAG_TOKEN, tag == TAG_START ? t : t - 1);
    }
}

static void run_ring(const bench_params_t *p, bench_result_t *r)
{
    ring_t *ring = xmalloc(sizeof *ring);
    for (int i = 0; i < RING_SIZE; i++) {
        ring->members[i] = (ring_member_t){.ring = ring, .index = i};
        ring->pids[i] = spawn_or_die(ring_proc, &ring->members[i]);
    }
    send_i64(ring->pids[0], TAG_START, p->n);
    r->checksum = expect_i64(TAG_DONE, SWARM_INFINITE);
    stop_all(ring->pids, RING_SIZE);
    free(ring);
    r->ops = p->n;
}

/* -------------------------------------------------- spawn, spawn_batched */

static void spawn_child_proc(void *arg)
{
    send_i64(main_pid, TAG_VALUE, (int64_t)(intptr_t)arg);
}

/* The standard form: all N children are spawned before the parent receives
 * anything, so up to N are outstanding at once (their slots, or their
 * messages in the parent's mailbox): N = 1,000,000 plus the parent fits in
 * the default table (16M slots). */
static void run_spawn(const bench_params_t *p, bench_result_t *r)
{
    for (int64_t i = 0; i < p->n; i++)
        spawn_or_die(spawn_child_proc, (void *)(intptr_t)i);
    r->checksum = sum_values(p->n);
    r->ops = p->n;
}

/* The batched variant: at most SPAWN_BATCH children outstanding, the parent
 * collects each batch before it spawns the next. */
static void run_spawn_batched(const bench_params_t *p, bench_result_t *r)
{
    int64_t sum = 0;
    for (int64_t next = 0; next < p->n;) {
        int64_t last = next + SPAWN_BATCH < p->n ? next + SPAWN_BATCH : p->n;
        for (int64_t i = next; i < last; i++)
            spawn_or_die(spawn_child_proc, (void *)(intptr_t)i);
        sum += sum_values(last - next);
        next = last;
    }
    r->checksum = sum;
    r->ops = p->n;
}

/* --------------------------------------------------------------- skynet */

typedef struct skynet_arg {
    swarm_pid_t parent;
    int64_t num;
    int64_t size;
} skynet_arg_t;

static void skynet_proc(void *arg)
{
    skynet_arg_t a = *(skynet_arg_t *)arg;
    free(arg);
    if (a.size == 1) {
        send_i64(a.parent, TAG_VALUE, a.num);
        return;
    }
    int64_t sub = a.size / 10;
    for (int64_t k = 0; k < 10; k++) {
        skynet_arg_t *child = xmalloc(sizeof *child);
        *child = (skynet_arg_t){.parent = swarm_self(), .num = a.num + k * sub, .size = sub};
        spawn_or_die(skynet_proc, child);
    }
    send_i64(a.parent, TAG_VALUE, sum_values(10));
}

static void run_skynet(const bench_params_t *p, bench_result_t *r)
{
    skynet_arg_t *root = xmalloc(sizeof *root);
    *root = (skynet_arg_t){.parent = main_pid, .num = 0, .size = p->n};
    spawn_or_die(skynet_proc, root);
    r->checksum = expect_i64(TAG_VALUE, SWARM_INFINITE);
    r->ops = 0;
    for (int64_t level = p->n; level >= 1; level /= 10)
        r->ops += level;
}

/* ------------------------------------------------------------------ big */

typedef struct big big_t;

typedef struct big_member {
    big_t *big;
    int64_t index;
} big_member_t;

struct big {
    int64_t w, n;
    swarm_pid_t *pids;
    big_member_t *members;
};

/* Wait for our pong, answering other processes' pings meanwhile (two
 * processes that ping each other would otherwise deadlock). */
static void big_await_pong(const big_t *big)
{
    for (;;) {
        uint32_t tag;
        int64_t v = recv_i64(&tag, NULL, SWARM_INFINITE);
        if (tag == TAG_PONG)
            return;
        if (tag != TAG_PING)
            die("big: unexpected message before done", 0);
        send_i64(big->pids[v], TAG_PONG, 0);
    }
}

static void big_proc(void *arg)
{
    const big_member_t *self = arg;
    const big_t *big = self->big;
    int64_t i = self->index, w = big->w;

    /* Wait until big->pids is complete. Peers that started earlier may
     * already have pinged us: those pings stay queued behind the start. */
    recv_tagged_i64(TAG_START);
    uint64_t x = (uint64_t)i + 1;
    int64_t pongs;
    for (pongs = 0; pongs < big->n; pongs++) {
        x = x * LCG_MUL + LCG_ADD;
        int64_t target = (int64_t)((x >> 33) % (uint64_t)w);
        if (target == i)
            target = (i + 1) % w;
        send_i64(big->pids[target], TAG_PING, i);
        big_await_pong(big);
    }
    send_i64(main_pid, TAG_DONE, pongs);

    for (;;) { /* keep answering until main stops everyone */
        uint32_t tag;
        int64_t v = recv_i64(&tag, NULL, SWARM_INFINITE);
        if (tag == TAG_STOP)
            break;
        if (tag != TAG_PING)
            die("big: unexpected message after done", 0);
        send_i64(big->pids[v], TAG_PONG, 0);
    }
    send_i64(main_pid, TAG_ACK, 0);
}

static void run_big(const bench_params_t *p, bench_result_t *r)
{
    big_t *big = xmalloc(sizeof *big);
    big->w = p->w;
    big->n = p->n;
    big->pids = xmalloc((size_t)p->w * sizeof *big->pids);
    big->members = xmalloc((size_t)p->w * sizeof *big->members);
    for (int64_t i = 0; i < p->w; i++) {
        big->members[i] = (big_member_t){.big = big, .index = i};
        big->pids[i] = spawn_or_die(big_proc, &big->members[i]);
    }
    for (int64_t i = 0; i < p->w; i++)
        send_i64(big->pids[i], TAG_START, 0);
    int64_t pongs = 0;
    for (int64_t i = 0; i < p->w; i++)
        pongs += expect_i64(TAG_DONE, SWARM_INFINITE);
    stop_all(big->pids, p->w);
    free(big->members);
    free(big->pids);
    free(big);
    r->checksum = pongs;
    r->ops = 2 * p->w * p->n;
}

/* ------------------------------------------------------------------ fib */

typedef struct fib_arg {
    swarm_pid_t parent;
    int64_t n;
} fib_arg_t;

static void fib_proc(void *arg)
{
    fib_arg_t a = *(fib_arg_t *)arg;
    free(arg);
    if (a.n < 2) {
        send_i64(a.parent, TAG_VALUE, a.n);
        return;
    }
    for (int64_t d = 1; d <= 2; d++) {
        fib_arg_t *child = xmalloc(sizeof *child);
        *child = (fib_arg_t){.parent = swarm_self(), .n = a.n - d};
        spawn_or_die(fib_proc, child);
    }
    send_i64(a.parent, TAG_VALUE, sum_values(2));
}

static void run_fib(const bench_params_t *p, bench_result_t *r)
{
    fib_arg_t *root = xmalloc(sizeof *root);
    *root = (fib_arg_t){.parent = main_pid, .n = p->n};
    spawn_or_die(fib_proc, root);
    r->checksum = expect_i64(TAG_VALUE, SWARM_INFINITE);
    int64_t a = 0, b = 1; /* every call is a process: 2 * fib(n + 1) - 1 */
    for (int64_t i = 0; i < p->n + 1; i++) {
        int64_t t = a + b;
        a = b;
        b = t;
    }
    r->ops = 2 * a - 1;
}

/* --------------------------------------------------------------- primes */

typedef struct prime_chunk {
    int64_t lo, hi;
} prime_chunk_t;

static int is_prime(int64_t n)
{
    if (n < 2)
        return 0;
    if (n == 2)
        return 1;
    if (n % 2 == 0)
        return 0;
    for (int64_t d = 3; d * d <= n; d += 2) {
        if (n % d == 0)
            return 0;
        if ((d & 127) == 1) /* every 64 divisors: a pure loop must yield */
            SWARM_CHECK();
    }
    return 1;
}

static void prime_proc(void *arg)
{
    const prime_chunk_t *c = arg;
    int64_t count = 0;
    for (int64_t n = c->lo; n < c->hi; n++) {
        count += is_prime(n);
        SWARM_CHECK();
    }
    send_i64(main_pid, TAG_VALUE, count);
}

static void run_primes(const bench_params_t *p, bench_result_t *r)
{
    int64_t l = p->n;
    prime_chunk_t *chunks = xmalloc(PRIME_CHUNKS * sizeof *chunks);
    for (int64_t k = 0; k < PRIME_CHUNKS; k++) {
        chunks[k] = (prime_chunk_t){.lo = 2 + k * (l - 2) / PRIME_CHUNKS,
                                    .hi = 2 + (k + 1) * (l - 2) / PRIME_CHUNKS};
        spawn_or_die(prime_proc, &chunks[k]);
    }
    r->checksum = sum_values(PRIME_CHUNKS); /* every worker has reported */
    free(chunks);
    r->ops = l;
}

/* ------------------------------------------------------------- sleepers */

static void sleeper_proc(void *arg)
{
    int64_t k = (int64_t)(intptr_t)arg, count = 0;
    for (int64_t i = 0; i < k; i++) {
        int rc = swarm_sleep(10);
        if (rc != 0)
            die("swarm_sleep", rc);
        count++;
    }
    send_i64(main_pid, TAG_VALUE, count);
}

static void run_sleepers(const bench_params_t *p, bench_result_t *r)
{
    for (int64_t i = 0; i < p->p; i++)
        spawn_or_die(sleeper_proc, (void *)(intptr_t)p->k);
    r->checksum = sum_values(p->p);
    r->ops = p->p * p->k;
}

/* --------------------------------------------------------------- parked */

/* Children about to block in receive. Counted with seq_cst atomics (no
 * pairing to document): it is polled, not on any timed path. */
static atomic_int_fast64_t parked_count;

static void parked_proc(void *arg)
{
    (void)arg;
    atomic_fetch_add(&parked_count, 1);
    expect_i64(TAG_STOP, SWARM_INFINITE);
    send_i64(main_pid, TAG_ACK, 0);
}

/* hibernated: the same, each child waiting in swarm_hibernate (no stack)
 * and woken into hibernated_wake by its stop message. */
static void hibernated_wake(void *arg)
{
    (void)arg;
    expect_i64(TAG_STOP, SWARM_INFINITE);
    send_i64(main_pid, TAG_ACK, 0);
}

static void hibernated_proc(void *arg)
{
    (void)arg;
    atomic_fetch_add(&parked_count, 1);
    die("swarm_hibernate", swarm_hibernate(hibernated_wake, NULL)); /* returns only on failure */
}

/* Growth of one of swarm_memory's fields, per process. */
#define MEM_PER(field) (((int64_t)m1.field - (int64_t)m0.field) / p->p)

/* swarm_memory asks the kernel about every stack slot (mincore): with 1M
 * processes that is tens of ms, too long for a scheduler thread, so it
 * runs in the blocking pool. */
typedef struct memory_ask {
    swarm_t *sw;
    swarm_memory_t *out;
} memory_ask_t;

static void *memory_call(void *arg)
{
    memory_ask_t *a = arg;
    return (void *)(intptr_t)swarm_memory(a->sw, a->out);
}

/* Its time is taken out of the workload's (r->untimed_*). */
static void memory_or_die(swarm_memory_t *m, bench_result_t *r)
{
    memory_ask_t a = {swarm_current(), m};
    int64_t cpu0 = cpu_ns(), t0 = mono_ns();
    void *rc;
    int e = swarm_blocking(memory_call, &a, &rc);
    if (e != 0 || rc != NULL)
        die("swarm_memory", e ? e : (int)(intptr_t)rc);
    r->untimed_wall_ns += mono_ns() - t0;
    r->untimed_cpu_ns += cpu_ns() - cpu0;
}

static void park_all(const bench_params_t *p, bench_result_t *r, swarm_fn child)
{
    swarm_pid_t *pids = xmalloc((size_t)p->p * sizeof *pids);
    atomic_store(&parked_count, 0);
    swarm_memory_t m0, m1;
    memory_or_die(&m0, r);
    int64_t before = rss_bytes();
    for (int64_t i = 0; i < p->p; i++)
        pids[i] = spawn_or_die(child, NULL);
    while (atomic_load(&parked_count) < p->p) {
        int rc = swarm_sleep(1);
        if (rc != 0)
            die("swarm_sleep", rc);
    }
    int64_t parked_rss = rss_bytes();
    memory_or_die(&m1, r);
    int64_t acks = stop_all(pids, p->p);
    free(pids);
    r->checksum = acks;
    r->ops = p->p;
    /* The split (swarm_memory): where each process's bytes are. The
     * page tables are not in RSS (nor in bytes_per_proc). */
    snprintf(r->extra, sizeof r->extra,
             " bytes_per_proc=%" PRId64 " procs_b=%" PRId64 " tables_b=%" PRId64 " stacks_b=%" PRId64
             " heap_b=%" PRId64 " pte_b=%" PRId64,
             (parked_rss - before) / p->p, MEM_PER(procs), MEM_PER(tables), MEM_PER(stacks), MEM_PER(heap),
             MEM_PER(page_tables));
}
#undef MEM_PER

static void run_parked(const bench_params_t *p, bench_result_t *r) { park_all(p, r, parked_proc); }

static void run_hibernated(const bench_params_t *p, bench_result_t *r) { park_all(p, r, hibernated_proc); }

/* --------------------------------------------------------------- bursts */

/* Memory over time: P processes each do R bursts of work that take 8 KiB
 * of stack (D frames of 512 bytes), waiting for the next GO in between;
 * after each round main reads RSS, sleeps BURST_PARK_MS, reads it again.
 * The processes are spawned with compact_after_ms = 100: while they wait,
 * idle schedulers give their stack pages back. */
#define BURST_ROUNDS 3
#define BURST_DEPTH 16
#define BURST_PARK_MS 1000
#define BURST_COMPACT_MS 100

/* 512 consecutive values mod 256 cover each residue twice: every call
 * returns BURST_DEPTH * 65,280, but has to compute it. */
__attribute__((noinline)) static int64_t burst(int64_t i, int64_t r, int d)
{
    if (d == 0)
        return 0;
    volatile uint8_t buf[512];
    for (int k = 0; k < 512; k++)
        buf[k] = (uint8_t)((i + 7 * r + 13 * d + k) & 0xFF);
    int64_t s = 0;
    for (int k = 0; k < 512; k++)
        s += buf[k];
    return s + burst(i, r, d - 1);
}

static void bursts_proc(void *arg)
{
    int64_t i = (int64_t)(intptr_t)arg;
    for (int64_t r = 0; r < BURST_ROUNDS; r++) {
        expect_i64(TAG_START, SWARM_INFINITE);
        send_i64(main_pid, TAG_VALUE, burst(i, r, BURST_DEPTH));
    }
    expect_i64(TAG_STOP, SWARM_INFINITE);
    send_i64(main_pid, TAG_ACK, 0);
}

static void run_bursts(const bench_params_t *p, bench_result_t *r)
{
    swarm_pid_t *pids = xmalloc((size_t)p->p * sizeof *pids);
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.compact_after_ms = BURST_COMPACT_MS;
    int64_t before = rss_bytes(), burst_rss = 0, park_rss = 0, sum = 0;
    for (int64_t i = 0; i < p->p; i++) {
        int rc = swarm_spawn(&pids[i], bursts_proc, (void *)(intptr_t)i, &o);
        if (rc != 0)
            die("swarm_spawn", rc);
    }
    for (int64_t round = 0; round < BURST_ROUNDS; round++) {
        for (int64_t i = 0; i < p->p; i++)
            send_i64(pids[i], TAG_START, round);
        for (int64_t i = 0; i < p->p; i++)
            sum += expect_i64(TAG_VALUE, SWARM_INFINITE);
        burst_rss = rss_bytes();
        int rc = swarm_sleep(BURST_PARK_MS);
        if (rc != 0)
            die("swarm_sleep", rc);
        park_rss = rss_bytes();
    }
    stop_all(pids, p->p);
    free(pids);
    r->checksum = sum;
    r->ops = p->p * BURST_ROUNDS;
    snprintf(r->extra, sizeof r->extra, " burst_bytes_per_proc=%" PRId64 " parked_bytes_per_proc=%" PRId64,
             (burst_rss - before) / p->p, (park_rss - before) / p->p);
}

/* ---------------------------------------------------------------- table */

/* Parameters as in WORKLOADS.md; .n stands for N, H (ring), leaves (skynet),
 * n (fib) and L (primes). */

static const workload_t workloads[] = {
    {"pingpong", run_pingpong, {.n = 100000}, {.n = 1000000}},
    {"gs_call", run_gs_call, {.n = 100000, .q = 10000}, {.n = 1000000, .q = 10000}},
    {"link_chain", run_link_chain, {.n = 100000}, {.n = 1000000}},
    {"sup_restart", run_sup_restart, {.n = 10000}, {.n = 100000}},
    {"yield", run_yield, {.n = 200000}, {.n = 2000000}},
    {"counting", run_counting, {.n = 1000000}, {.n = 10000000}},
    {"mailbox", run_mailbox, {.s = 10, .m = 100000}, {.s = 100, .m = 100000}},
    {"mailbox_bounded", run_mailbox_bounded, {.s = 10, .m = 100000}, {.s = 100, .m = 100000}},
    {"chan_pingpong", run_chan_pingpong, {.n = 300000}, {.n = 3000000}},
    {"chan_buffered", run_chan_buffered, {.n = 300000}, {.n = 3000000}},
    {"chan_pipeline", run_chan_pipeline, {.m = 500000}, {.m = 5000000}},
    {"chan_select", run_chan_select, {.m = 100000}, {.m = 1000000}},
    {"mutex_contended", run_mutex_contended, {.p = 4, .n = 1000000}, {.p = 4, .n = 10000000}},
    {"ring", run_ring, {.n = 1000000}, {.n = 10000000}},
    {"spawn", run_spawn, {.n = 100000}, {.n = 1000000}},
    {"spawn_batched", run_spawn_batched, {.n = 100000}, {.n = 1000000}},
    {"skynet", run_skynet, {.n = 100000}, {.n = 1000000}},
    {"big", run_big, {.w = 200, .n = 1000}, {.w = 1000, .n = 5000}},
    {"fib", run_fib, {.n = 20}, {.n = 27}},
    {"primes", run_primes, {.n = 2000000}, {.n = 20000000}},
    {"sleepers", run_sleepers, {.p = 1000, .k = 20}, {.p = 10000, .k = 50}},
    {"timer_churn", run_timer_churn, {.n = 100000}, {.n = 1000000}},
    {"parked", run_parked, {.p = 100000}, {.p = 1000000}},
    {"hibernated", run_hibernated, {.p = 100000}, {.p = 1000000}},
    {"bursts", run_bursts, {.p = 10000}, {.p = 100000}},
};

/* The third size, "huge", where a workload has one (run.py: HUGE). */
static const struct {
    const char *name;
    bench_params_t params;
} huge_sizes[] = {
    {"hibernated", {.p = 10000000}},
};

#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

/* The first process of the swarm: time the workload, nothing else. */
static void bench_main(void *arg)
{
    bench_run_t *run = arg;
    main_pid = swarm_self();
    int64_t cpu0 = cpu_ns();
    int64_t t0 = mono_ns();
    run->wl->run(&run->params, &run->result);
    int64_t t1 = mono_ns();
    int64_t cpu1 = cpu_ns();
    run->wall_ns = t1 - t0 - run->result.untimed_wall_ns;
    run->cpu_ns = cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0 - run->result.untimed_cpu_ns;
    int rc = swarm_stats(swarm_current(), &run->stats);
    if (rc != 0)
        die("swarm_stats", rc);
}

static _Noreturn void usage(const char *why)
{
    printf("error %s (usage: swarm_bench <workload> <schedulers> <quick|full|huge>; huge only for "
           "hibernated; workloads:", why);
    for (size_t i = 0; i < N_WORKLOADS; i++)
        printf(" %s", workloads[i].name);
    printf(")\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 4)
        usage("wrong number of arguments");
    const workload_t *wl = NULL;
    for (size_t i = 0; i < N_WORKLOADS; i++)
        if (strcmp(argv[1], workloads[i].name) == 0)
            wl = &workloads[i];
    if (wl == NULL)
        usage("unknown workload");
    workload_name = wl->name;
    char *end;
    long schedulers = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || schedulers < 1 || schedulers > 1024)
        usage("bad scheduler count");
    const char *size = argv[3];
    static bench_run_t run; /* outlives the swarm's processes */
    run.wl = wl;
    if (strcmp(size, "quick") == 0) {
        run.params = wl->quick;
    } else if (strcmp(size, "full") == 0) {
        run.params = wl->full;
    } else {
        size_t i = 0;
        while (i < sizeof huge_sizes / sizeof huge_sizes[0] &&
               (strcmp(size, "huge") != 0 || strcmp(huge_sizes[i].name, wl->name) != 0))
            i++;
        if (i == sizeof huge_sizes / sizeof huge_sizes[0])
            usage("bad size");
        run.params = huge_sizes[i].params;
    }

    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.name = "swarm_bench";
    cfg.schedulers = (unsigned)schedulers; /* the table: the default (16M slots) */
    int rc = swarm_run(&cfg, bench_main, &run);
    if (rc != 0)
        die("swarm_run", rc);

    const swarm_sched_stats_t *t = &run.stats.total;
    printf("result workload=%s runtime=swarm schedulers=%ld size=%s checksum=%" PRId64
           " wall_ns=%" PRId64 " cpu_ns=%" PRId64 " ops=%" PRId64 "%s"
           " switches=%" PRIu64 " steals=%" PRIu64 " parks=%" PRIu64
           " procs_peak=%" PRIu64 " msgs_dropped=%" PRIu64 " watchdog_reports=%" PRIu64 "\n",
           wl->name, schedulers, size, run.result.checksum, run.wall_ns, run.cpu_ns,
           run.result.ops, run.result.extra, t->switches, t->steals, t->parks,
           run.stats.procs_peak, run.stats.msgs_dropped, t->watchdog_reports);
    return 0;
}
