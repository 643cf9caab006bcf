/*
 * tests/soak.c - long-running mixed workload on SwarmRT with leak and
 * accounting checks. Not a ctest test: run it through scripts/soak.sh.
 *
 *   soak [--minutes M | --seconds S] [--schedulers N] [--seed N]
 *        [--sample-ms MS] [--warmup-s S] [--max-live N] [--no-overflow]
 *        [--csv FILE] [--malloc-trim]
 *
 * --malloc-trim calls malloc_trim(0) before each sample: glibc then returns
 * the free pages inside its heaps, so RSS shows live data plus stacks. A
 * diagnosis aid: RSS that grows without it and not with it is glibc
 * keeping freed heap memory, not a leak.
 *
 * Workload (all at once, for the whole duration): a conductor process keeps
 * up to --max-live short-lived processes alive, drawn at random from
 *   client     ping-pong with long-lived echo servers (pipelined, checked:
 *              payload checksum, per-pair FIFO), self-sent "noise" received
 *              later by selective receive (recv_tag / recv_match leave it in
 *              order), sends to dead pids; some end with swarm_exit(user)
 *   sleeper    swarm_sleep() of 1..50 ms, checks the time slept
 *   waiter     receive with a 1..30 ms timeout that must expire
 *   burner     CPU loop with SWARM_CHECK() (reductions, yields, migration)
 *   exiter     sends itself messages and exits without reading them
 *   spawner    spawns a few sleepers and ends before them
 *   crash_null NULL dereference (exit reason crash)
 *   crash_deep unbounded recursion on a volatile array (stack_overflow);
 *              only when the stack guard is a real guard (madvise/mprotect)
 *   pair       strict ping-pong with a private partner process: the only
 *              wake-up either side ever gets comes from the other, so a lost
 *              wake-up cannot be healed by unrelated traffic
 *
 * Samples every --sample-ms: RSS (/proc/self/statm), bytes malloc has
 * handed out and not had back (mallinfo2: in use in the arenas plus
 * mmapped chunks), mappings (lines of /proc/self/maps), open fds
 * (/proc/self/fd), swarm_stats().
 *
 * Verdict (exit 0 = pass, 1 = fail, 2 = usage/setup error):
 *  - growth: samples taken during the warm-up are ignored (default
 *    max(60 s, 20 % of the run); observed on 2 cores: RSS climbs for about
 *    50 s, then stays flat); the rest are split in thirds; with F and L
 *    the max (for the noisy gauges: the median) over the first and the last
 *    third, it fails if
 *      RSS            median  L > 1.10 * F and L - F > 2 MiB
 *      malloc in use  median  L > 1.10 * F and L - F > 2 MiB
 *      mappings       max     L > F + 64
 *      open fds       max     L > F + 8
 *      live processes median  L > 1.25 * F + 100
 *      in-flight msgs median  L > 1.25 * F + 1024
 *    (fewer than 6 samples after the warm-up: the growth check is skipped
 *    and says so). RSS and malloc are compared by median, not max: the
 *    workload swings between about 60 and 1,100 live processes, each
 *    client holding a 64 KiB buffer and up to 64 KiB messages in flight,
 *    so a burst lifts RSS by up to 15 MB for a sample or two (and glibc
 *    keeps part of a burst's heap: fragmentation, not a leak). A max
 *    compares the largest bursts of two thirds; a leak lifts the median.
 *    Measured, 10 minutes, release, 2 schedulers: RSS medians 23-25 MiB,
 *    bursts to 37 MiB (docs/design/reliability.md);
 *  - progress: fails if, after the first sample, neither delivered
 *    messages nor process exits advance for 3 consecutive samples;
 *  - workload checks: any bad payload, out-of-order reply, reply missing
 *    after 10 s or slower than 5 s (a lost wake-up that only the receive
 *    timeout ended, or a lost message), early or 5 s late timer;
 *  - at the end, after every process ended (swarm_wait): msgs_sent_total ==
 *    delivered + dropped + in_flight, in_flight == 0, delivered == what the
 *    processes received, sent_total == sends that returned 0, rejected ==
 *    sends that returned an error (SWARM_ESRCH among them), exits by reason == what was spawned
 *    (crash, stack_overflow, user), no other reason (killed, nomem);
 *  - after swarm_destroy: open fds back to the value before swarm_create,
 *    and not one mapping more than before swarm_create. "Before" is taken
 *    after a warm-up create/run/destroy cycle with the same configuration:
 *    glibc gives each new thread that mallocs its own arena (a 64 MiB heap
 *    reservation, two mappings) and never unmaps one, but hands it to the
 *    next new thread once its thread is gone; the cycle creates them, and
 *    the soak's own threads reuse them (docs/design/runtime.md). Mappings
 *    left over are printed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "swarmrt.h"

/* ---------------------------------------------------------------- config */

#define NSERVERS 16
#define NDEAD 64                   /* ring of recently crashed pids */
#define PONG_TIMEOUT_MS 10000      /* receive timeout for a reply */
#define LATE_REPLY_MS 5000         /* a reply slower than this is a failure: a
                                      lost wake-up that only the timeout ended */
#define TIMER_LATE_MS 5000         /* a timer later than this is a failure */
#define MAX_PAYLOAD (64 * 1024)

enum tag {
    TAG_PING = 1,
    TAG_PONG = 2,
    TAG_NOISE = 3,
    TAG_STOP = 4,
    TAG_JUNK = 5,   /* sent to dead pids */
    TAG_NEVER = 6,  /* never sent */
    TAG_SELF = 7
};

enum kind {
    K_CLIENT,
    K_SLEEPER,
    K_WAITER,
    K_BURNER,
    K_EXITER,
    K_SPAWNER,
    K_CRASH_NULL,
    K_CRASH_DEEP,
    K_PAIR,
    K_PARTNER,
    K_NKINDS
};
static const char *const kind_name[K_NKINDS] = {
    "client", "sleeper", "waiter", "burner", "exiter", "spawner", "crash_null", "crash_deep",
    "pair", "partner",
};
/* Relative weights of the kinds the conductor spawns (partners are spawned
 * by pairs). */
static const unsigned kind_weight[K_NKINDS] = {40, 10, 10, 8, 5, 4, 3, 2, 10, 0};

struct options {
    double seconds;
    unsigned schedulers;
    uint64_t seed;
    long sample_ms;
    double warmup_s; /* < 0: default */
    long max_live;
    int overflow;
    const char *csv;
    int malloc_trim;
};

/* ---------------------------------------------------------- shared state */

/* The soak's own bookkeeping (test code may share memory; SwarmRT
 * processes normally would not). */
static atomic_int stop_flag;                 /* 1: conductor stops spawning */
static _Atomic swarm_pid_t servers[NSERVERS];
static _Atomic swarm_pid_t conductor_pid;
static _Atomic swarm_pid_t dead_ring[NDEAD];
static atomic_uint dead_next;
static atomic_int overflow_enabled;
static atomic_long max_live;
static uint64_t base_seed;
static atomic_uint_fast64_t spawn_serial;

static atomic_uint_fast64_t spawned[K_NKINDS]; /* by the conductor and spawners */
static atomic_uint_fast64_t spawned_total;     /* short-lived processes only */
static atomic_uint_fast64_t exited_total;      /* short-lived processes only */
static atomic_uint_fast64_t spawn_failures;
static atomic_uint_fast64_t exits_by_reason[5]; /* NORMAL .. NOMEM */
static atomic_uint_fast64_t exits_user;
static atomic_uint_fast64_t exits_other;
static atomic_uint_fast64_t user_exits_expected;

static atomic_uint_fast64_t app_sent_ok;    /* swarm_send returned 0 */
static atomic_uint_fast64_t app_sent_esrch; /* swarm_send returned SWARM_ESRCH */
static atomic_uint_fast64_t app_sent_err;   /* swarm_send returned an error (ESRCH included) */
static atomic_uint_fast64_t app_received;   /* messages handed to our processes */
static atomic_uint_fast64_t pongs;
static atomic_uint_fast64_t violations;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
    uint64_t n = atomic_fetch_add(&violations, 1) + 1;
    if (n > 20)
        return; /* counted, not printed */
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char pid[48];
    swarm_pid_format(swarm_self(), pid, sizeof pid);
    fprintf(stderr, "soak: VIOLATION in %s: %s\n", pid, buf);
}

/* xorshift64* */
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t mix_seed(uint64_t a)
{
    a ^= base_seed + 0x9E3779B97F4A7C15ull;
    a = (a ^ (a >> 30)) * 0xBF58476D1CE4E5B9ull;
    a = (a ^ (a >> 27)) * 0x94D049BB133111EBull;
    a ^= a >> 31;
    return a ? a : 1;
}

static int is_server(swarm_pid_t pid)
{
    for (int i = 0; i < NSERVERS; i++)
        if (atomic_load(&servers[i]) == pid)
            return 1;
    return 0;
}

/* Counting wrappers. */
static int send_counted(swarm_pid_t to, uint32_t tag, const void *data, size_t size)
{
    int rc = swarm_send(to, tag, data, size);
    if (rc == 0)
        atomic_fetch_add(&app_sent_ok, 1);
    else
        atomic_fetch_add(&app_sent_err, 1);
    if (rc == SWARM_ESRCH)
        atomic_fetch_add(&app_sent_esrch, 1);
    return rc;
}

static int recv_counted(swarm_msg_t **m, int64_t timeout_ms)
{
    int rc = swarm_recv(m, timeout_ms);
    if (rc == 0)
        atomic_fetch_add(&app_received, 1);
    return rc;
}

static int recv_tag_counted(uint32_t tag, swarm_msg_t **m, int64_t timeout_ms)
{
    int rc = swarm_recv_tag(tag, m, timeout_ms);
    if (rc == 0)
        atomic_fetch_add(&app_received, 1);
    return rc;
}

static int recv_match_counted(swarm_match_fn fn, void *ctx, swarm_msg_t **m, int64_t timeout_ms)
{
    int rc = swarm_recv_match(fn, ctx, m, timeout_ms);
    if (rc == 0)
        atomic_fetch_add(&app_received, 1);
    return rc;
}

/* --------------------------------------------------------------- payload */

struct hdr {
    uint32_t magic;
    uint32_t seq;
    uint64_t origin; /* the client's pid */
    uint32_t len;    /* whole payload, header included */
    uint32_t sum;    /* of the bytes after the header */
};
#define MAGIC 0x50494E47u

static uint32_t checksum(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static size_t build_ping(unsigned char *buf, uint64_t *rng, uint32_t seq, swarm_pid_t self)
{
    size_t len;
    uint64_t r = rnd(rng);
    if (r % 64 == 0)
        len = MAX_PAYLOAD;
    else if (r % 8 == 0)
        len = sizeof(struct hdr) + (size_t)(r >> 8) % 4096;
    else
        len = sizeof(struct hdr) + (size_t)(r >> 8) % 256;
    for (size_t i = sizeof(struct hdr); i < len; i++)
        buf[i] = (unsigned char)(rnd(rng) >> 56);
    struct hdr h = {MAGIC, seq, self, (uint32_t)len, 0};
    h.sum = checksum(buf + sizeof h, len - sizeof h);
    memcpy(buf, &h, sizeof h);
    return len;
}

static int check_payload(const swarm_msg_t *m, uint32_t want_seq, swarm_pid_t self)
{
    struct hdr h;
    size_t size = swarm_msg_size(m);
    const unsigned char *d = swarm_msg_data(m);
    if (size < sizeof h || !d) {
        violation("reply of %zu bytes", size);
        return -1;
    }
    memcpy(&h, d, sizeof h);
    if (h.magic != MAGIC || h.len != size || h.origin != self) {
        violation("corrupt reply header (magic %08x len %u/%zu)", h.magic, h.len, size);
        return -1;
    }
    if (h.seq != want_seq) {
        violation("reply %u arrived when %u was due (FIFO broken)", h.seq, want_seq);
        return -1;
    }
    if (checksum(d + sizeof h, size - sizeof h) != h.sum) {
        violation("reply %u: payload checksum mismatch", h.seq);
        return -1;
    }
    return 0;
}

static uint32_t msg_seq(const swarm_msg_t *m)
{
    struct hdr h;
    if (swarm_msg_size(m) < sizeof h)
        return UINT32_MAX;
    memcpy(&h, swarm_msg_data(m), sizeof h);
    return h.seq;
}

/* ------------------------------------------------------------- processes */

static swarm_pid_t spawn_kind(enum kind k, uint64_t *rng);

static void remember_dead(swarm_pid_t pid)
{
    unsigned i = atomic_fetch_add(&dead_next, 1) % NDEAD;
    atomic_store(&dead_ring[i], pid);
}

static swarm_pid_t some_dead(uint64_t *rng)
{
    return atomic_load(&dead_ring[rnd(rng) % NDEAD]);
}

/* Echo server: replies to every PING with a PONG carrying the same bytes.
 * Receives without a timeout: a lost wake-up shows up as a client's
 * missing reply, not hidden by a timer. */
static void server_main(void *arg)
{
    (void)arg;
    for (;;) {
        swarm_msg_t *m = NULL;
        int rc = recv_counted(&m, SWARM_INFINITE);
        if (rc != 0) {
            violation("server: swarm_recv(INFINITE) returned %d (%s)", rc, swarm_strerror(rc));
            continue;
        }
        uint32_t tag = swarm_msg_tag(m);
        if (tag == TAG_STOP) {
            swarm_msg_free(m);
            return;
        }
        if (tag == TAG_PING) {
            rc = send_counted(swarm_msg_sender(m), TAG_PONG, swarm_msg_data(m), swarm_msg_size(m));
            if (rc != 0)
                violation("server: reply to a waiting client failed: %s", swarm_strerror(rc));
        }
        swarm_msg_free(m);
    }
}

static int match_pong_seq(const swarm_msg_t *m, void *ctx)
{
    return swarm_msg_tag(m) == TAG_PONG && msg_seq(m) == *(const uint32_t *)ctx;
}

static void client_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    swarm_pid_t self = swarm_self();
    swarm_pid_t server = atomic_load(&servers[rnd(&rng) % NSERVERS]);
    uint32_t nping = 1 + (uint32_t)(rnd(&rng) % 32);
    uint32_t window = 1 + (uint32_t)(rnd(&rng) % 8);
    uint32_t sent = 0, got = 0, noise = 0;
    unsigned char *buf = malloc(MAX_PAYLOAD);
    if (!buf) {
        violation("client: out of memory");
        return;
    }
    while (got < nping) {
        while (sent < nping && sent - got < window) {
            size_t len = build_ping(buf, &rng, sent, self);
            int rc = send_counted(server, TAG_PING, buf, len);
            if (rc != 0) {
                violation("client: send to server failed: %s", swarm_strerror(rc));
                free(buf);
                return;
            }
            sent++;
            if (rnd(&rng) % 4 == 0) { /* noise for the selective receives to skip */
                struct hdr h = {MAGIC, noise++, self, sizeof h, 0};
                rc = send_counted(self, TAG_NOISE, &h, sizeof h);
                if (rc != 0)
                    violation("client: send to self failed: %s", swarm_strerror(rc));
            }
        }
        swarm_msg_t *m = NULL;
        int rc;
        int64_t t0 = swarm_now_ms();
        if (rnd(&rng) & 1)
            rc = recv_tag_counted(TAG_PONG, &m, PONG_TIMEOUT_MS);
        else
            rc = recv_match_counted(match_pong_seq, &got, &m, PONG_TIMEOUT_MS);
        int64_t dt = swarm_now_ms() - t0;
        if (rc == 0 && dt > LATE_REPLY_MS)
            violation("client: reply %u took %" PRId64 " ms (a lost wake-up ended by the timeout?)",
                      got, dt);
        if (rc == SWARM_ETIMEDOUT) {
            violation("client: no reply %u within %d ms (lost wake-up or lost message?)", got,
                      PONG_TIMEOUT_MS);
            break;
        }
        if (rc != 0) {
            violation("client: receive returned %d (%s)", rc, swarm_strerror(rc));
            break;
        }
        if (swarm_msg_tag(m) != TAG_PONG)
            violation("client: selective receive returned tag %u", swarm_msg_tag(m));
        else if (swarm_msg_sender(m) != server)
            violation("client: reply from an unexpected sender");
        else if (check_payload(m, got, self) == 0)
            atomic_fetch_add(&pongs, 1);
        got++;
        swarm_msg_free(m);
    }
    /* The noise is still there, in order, and nothing else is. */
    if (swarm_mailbox_len() != noise)
        violation("client: mailbox holds %zu messages, %u noise expected", swarm_mailbox_len(),
                  noise);
    for (uint32_t i = 0; i < noise; i++) {
        swarm_msg_t *m = NULL;
        int rc = recv_counted(&m, 0);
        if (rc != 0) {
            violation("client: noise %u of %u missing (%s)", i, noise, swarm_strerror(rc));
            break;
        }
        if (swarm_msg_tag(m) != TAG_NOISE || msg_seq(m) != i)
            violation("client: noise out of order (tag %u seq %u, want %u)", swarm_msg_tag(m),
                      msg_seq(m), i);
        swarm_msg_free(m);
    }
    /* Sometimes mail a process that crashed: dropped and counted. */
    if (rnd(&rng) % 4 == 0) {
        swarm_pid_t dead = some_dead(&rng);
        if (dead != SWARM_PID_NONE) {
            int rc = send_counted(dead, TAG_JUNK, buf, 32);
            if (rc != 0 && rc != SWARM_ESRCH)
                violation("client: send to a dead pid returned %d (%s)", rc, swarm_strerror(rc));
        }
    }
    free(buf);
    if (rnd(&rng) % 8 == 0) {
        atomic_fetch_add(&user_exits_expected, 1);
        swarm_exit(SWARM_EXIT_USER + 7);
    }
}

static void sleeper_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    int n = 1 + (int)(rnd(&rng) % 3);
    for (int i = 0; i < n; i++) {
        int64_t ms = 1 + (int64_t)(rnd(&rng) % 50);
        int64_t t0 = swarm_now_ms();
        int rc = swarm_sleep(ms);
        int64_t dt = swarm_now_ms() - t0;
        if (rc != 0)
            violation("sleeper: swarm_sleep returned %d", rc);
        else if (dt < ms)
            violation("sleeper: slept %" PRId64 " ms of %" PRId64, dt, ms);
        else if (dt > ms + TIMER_LATE_MS)
            violation("sleeper: slept %" PRId64 " ms for %" PRId64, dt, ms);
    }
}

static void waiter_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    int64_t ms = 1 + (int64_t)(rnd(&rng) % 30);
    swarm_msg_t *m = NULL;
    int64_t t0 = swarm_now_ms();
    int rc = recv_tag_counted(TAG_NEVER, &m, ms);
    int64_t dt = swarm_now_ms() - t0;
    if (rc != SWARM_ETIMEDOUT) {
        violation("waiter: receive of a tag nobody sends returned %d", rc);
        if (rc == 0)
            swarm_msg_free(m);
    } else if (dt < ms) {
        violation("waiter: timed out after %" PRId64 " ms of %" PRId64, dt, ms);
    } else if (dt > ms + TIMER_LATE_MS) {
        violation("waiter: timed out after %" PRId64 " ms for %" PRId64, dt, ms);
    }
    /* A poll on an empty mailbox never parks. */
    if (recv_counted(&m, 0) != SWARM_ETIMEDOUT)
        violation("waiter: poll on an empty mailbox did not return ETIMEDOUT");
}

static void burner_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    long iters = 20000 + (long)(rnd(&rng) % 200000);
    volatile uint64_t acc = 0;
    for (long i = 0; i < iters; i++) {
        acc += (uint64_t)i * 2654435761u;
        SWARM_CHECK();
    }
    (void)acc;
    if (rnd(&rng) % 2)
        swarm_yield();
}

static void exiter_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    swarm_pid_t self = swarm_self();
    int n = (int)(rnd(&rng) % 5);
    for (int i = 0; i < n; i++) {
        char b[64] = {0};
        send_counted(self, TAG_SELF, b, sizeof b); /* left unread: dropped at exit */
    }
    atomic_fetch_add(&user_exits_expected, 1);
    swarm_exit(SWARM_EXIT_USER + 1);
}

static void spawner_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    int n = 1 + (int)(rnd(&rng) % 4);
    for (int i = 0; i < n; i++)
        spawn_kind(K_SLEEPER, &rng);
}

static int *volatile null_ptr;

static void crash_null_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    swarm_msg_t *m = NULL;
    if (rnd(&rng) % 2) { /* park once first */
        if (recv_counted(&m, 1) == 0)
            swarm_msg_free(m);
    }
    *null_ptr = 42; /* SIGSEGV: ends this process only */
    violation("crash_null: survived a NULL store");
}

static volatile int dive_limit = 1 << 30;

static __attribute__((noinline)) int dive(int depth)
{
    volatile char pad[256];
    pad[0] = (char)depth;
    pad[255] = (char)(depth >> 8);
    if (depth < dive_limit)
        return dive(depth + 1) + pad[0] + pad[255]; /* not a tail call */
    return pad[0];
}

static void crash_deep_main(void *arg)
{
    (void)arg;
    dive(0); /* stack overflow: ends this process only */
    violation("crash_deep: survived unbounded recursion");
}

/* Echo for one pair: waits without a timeout, like the servers. */
static void partner_main(void *arg)
{
    (void)arg;
    for (;;) {
        swarm_msg_t *m = NULL;
        int rc = recv_counted(&m, SWARM_INFINITE);
        if (rc != 0) {
            violation("partner: swarm_recv(INFINITE) returned %d (%s)", rc, swarm_strerror(rc));
            return;
        }
        uint32_t tag = swarm_msg_tag(m);
        if (tag == TAG_PING) {
            rc = send_counted(swarm_msg_sender(m), TAG_PONG, swarm_msg_data(m), swarm_msg_size(m));
            if (rc != 0)
                violation("partner: reply failed: %s", swarm_strerror(rc));
        }
        swarm_msg_free(m);
        if (tag == TAG_STOP)
            return;
    }
}

static void pair_main(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg;
    swarm_pid_t self = swarm_self();
    swarm_pid_t partner = spawn_kind(K_PARTNER, &rng);
    if (partner == SWARM_PID_NONE)
        return;
    uint32_t rounds = 10 + (uint32_t)(rnd(&rng) % 200);
    for (uint32_t i = 0; i < rounds; i++) {
        struct hdr h = {MAGIC, i, self, sizeof h, 0};
        h.sum = checksum(NULL, 0);
        int rc = send_counted(partner, TAG_PING, &h, sizeof h);
        if (rc != 0) {
            violation("pair: send to partner failed: %s", swarm_strerror(rc));
            break;
        }
        swarm_msg_t *m = NULL;
        int64_t t0 = swarm_now_ms();
        rc = recv_tag_counted(TAG_PONG, &m, PONG_TIMEOUT_MS);
        int64_t dt = swarm_now_ms() - t0;
        if (rc != 0) {
            violation("pair: no reply %u within %d ms (lost wake-up?)", i, PONG_TIMEOUT_MS);
            break;
        }
        if (dt > LATE_REPLY_MS)
            violation("pair: reply %u took %" PRId64 " ms (a lost wake-up ended by the timeout?)",
                      i, dt);
        check_payload(m, i, self);
        swarm_msg_free(m);
        if (rnd(&rng) % 16 == 0)
            swarm_yield();
    }
    if (send_counted(partner, TAG_STOP, NULL, 0) != 0)
        violation("pair: cannot stop the partner");
}

static const swarm_fn kind_fn[K_NKINDS] = {
    client_main, sleeper_main, waiter_main,     burner_main,     exiter_main,
    spawner_main, crash_null_main, crash_deep_main, pair_main,   partner_main,
};

static swarm_pid_t spawn_kind(enum kind k, uint64_t *rng)
{
    uint64_t serial = atomic_fetch_add(&spawn_serial, 1);
    void *arg = (void *)(uintptr_t)mix_seed(serial ^ rnd(rng));
    swarm_pid_t pid = SWARM_PID_NONE;
    /* Count first: the child may end (and be counted as ended) before
     * swarm_spawn returns. */
    atomic_fetch_add(&spawned_total, 1);
    atomic_fetch_add(&spawned[k], 1);
    int rc = swarm_spawn(&pid, kind_fn[k], arg, NULL);
    if (rc != 0) {
        atomic_fetch_sub(&spawned_total, 1);
        atomic_fetch_sub(&spawned[k], 1);
        atomic_fetch_add(&spawn_failures, 1);
        if (rc != SWARM_EAGAIN && rc != SWARM_ENOMEM)
            violation("swarm_spawn(%s) returned %d (%s)", kind_name[k], rc, swarm_strerror(rc));
        return SWARM_PID_NONE;
    }
    if (k == K_CRASH_NULL || k == K_CRASH_DEEP)
        remember_dead(pid);
    return pid;
}

static enum kind pick_kind(uint64_t *rng)
{
    unsigned total = 0;
    for (int k = 0; k < K_NKINDS; k++)
        if (k != K_CRASH_DEEP || atomic_load(&overflow_enabled))
            total += kind_weight[k];
    unsigned r = (unsigned)(rnd(rng) % total);
    for (int k = 0; k < K_NKINDS; k++) {
        if (k == K_CRASH_DEEP && !atomic_load(&overflow_enabled))
            continue;
        if (r < kind_weight[k])
            return (enum kind)k;
        r -= kind_weight[k];
    }
    return K_CLIENT;
}

static uint64_t live_short(void)
{
    return atomic_load(&spawned_total) - atomic_load(&exited_total);
}

static void conductor_main(void *arg)
{
    (void)arg;
    uint64_t rng = mix_seed(0xC0DDu);
    for (int i = 0; i < NSERVERS; i++) {
        swarm_pid_t pid = SWARM_PID_NONE;
        int rc = swarm_spawn(&pid, server_main, NULL, NULL);
        if (rc != 0) {
            violation("cannot spawn server %d: %s", i, swarm_strerror(rc));
            atomic_store(&stop_flag, 1);
            break;
        }
        atomic_store(&servers[i], pid);
    }
    while (!atomic_load(&stop_flag)) {
        long room = atomic_load(&max_live) - (long)live_short();
        for (long i = 0; i < room && i < 64; i++)
            spawn_kind(pick_kind(&rng), &rng);
        swarm_sleep(2);
    }
    /* Drain: every short-lived process ends (clients need their servers). */
    int64_t t0 = swarm_now_ms();
    while (live_short() > 0) {
        if (swarm_now_ms() - t0 > 60000) {
            violation("%" PRIu64 " processes still alive 60 s after the stop", live_short());
            break;
        }
        swarm_sleep(10);
    }
    for (int i = 0; i < NSERVERS; i++) {
        swarm_pid_t pid = atomic_load(&servers[i]);
        if (pid != SWARM_PID_NONE && send_counted(pid, TAG_STOP, NULL, 0) != 0)
            violation("cannot stop server %d", i);
    }
}

/* Runs on a scheduler thread: atomics only. */
static void on_exit_hook(swarm_t *swarm, const swarm_exit_info_t *info, void *ud)
{
    (void)swarm;
    (void)ud;
    if (info->reason >= SWARM_EXIT_USER)
        atomic_fetch_add(&exits_user, 1);
    else if (info->reason >= 0 && info->reason <= SWARM_EXIT_NOMEM)
        atomic_fetch_add(&exits_by_reason[info->reason], 1);
    else
        atomic_fetch_add(&exits_other, 1);
    if (info->pid != atomic_load(&conductor_pid) && !is_server(info->pid))
        atomic_fetch_add(&exited_total, 1);
}

/* -------------------------------------------------------------- sampling */

struct sample {
    double t;          /* seconds since start */
    uint64_t rss;      /* bytes */
    uint64_t maps;     /* lines of /proc/self/maps */
    uint64_t heap;     /* malloc: bytes in use (mallinfo2 uordblks + hblkhd) */
    uint64_t fds;      /* entries of /proc/self/fd */
    swarm_stats_t st;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t read_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2)
        res = 0;
    fclose(f);
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t count_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    uint64_t n = 0;
    int c;
    if (!f)
        return 0;
    while ((c = getc(f)) != EOF)
        n += (c == '\n');
    fclose(f);
    return n;
}

/* /proc/self/maps as one malloc'd string (NULL on failure). */
static char *read_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        len += r;
        if (len < cap - 1)
            break;
        char *p = realloc(buf, cap * 2);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    fclose(f);
    if (buf)
        buf[len] = 0;
    return buf;
}

/* Print each mapping of now whose address range was not in before. */
static void print_new_maps(const char *before, const char *now)
{
    for (const char *l = now; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        const char *sp = memchr(l, ' ', n); /* the range is the first field */
        size_t key = sp ? (size_t)(sp - l) : n;
        int found = 0;
        for (const char *b = before; b && *b;) {
            const char *be = strchr(b, '\n');
            if (strncmp(b, l, key) == 0 && b[key] == ' ') {
                found = 1;
                break;
            }
            b = be ? be + 1 : b + strlen(b);
        }
        if (!found)
            printf("soak:   left: %.*s\n", (int)n, l);
        l = e ? e + 1 : l + n;
    }
}

/* The warm-up cycle: a swarm with the soak's configuration runs a short
 * mixed burst (every scheduler runs, allocates, sends) and is destroyed,
 * so that what glibc keeps for the life of the OS process - each new
 * thread's malloc arena - exists before the mappings are counted. The
 * runtime's messages do not come from malloc (src/mem/), so the processes
 * malloc as the workload's clients do: their buffer. */
static void warm_echo(void *arg)
{
    (void)arg;
    unsigned char *buf = malloc(MAX_PAYLOAD);
    if (!buf)
        return;
    memset(buf, 1, MAX_PAYLOAD);
    free(buf);
    for (int i = 0; i < 100; i++) {
        char payload[200];
        memset(payload, i, sizeof payload);
        if (swarm_send(swarm_self(), 1, payload, sizeof payload) != 0)
            return;
        swarm_msg_t *m;
        if (swarm_recv(&m, 1000) != 0)
            return;
        swarm_msg_free(m);
        swarm_yield();
    }
}

static int warmup_cycle(const swarm_config_t *cfg)
{
    swarm_t *sw;
    int rc = swarm_create(&sw, cfg);
    if (rc != 0)
        return rc;
    for (int i = 0; i < 2000 && rc == 0; i++)
        rc = swarm_spawn_in(sw, NULL, warm_echo, NULL, NULL);
    int w = swarm_wait(sw, 60000);
    int d = swarm_destroy(sw);
    return rc ? rc : w ? w : d;
}

static uint64_t count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    uint64_t n = 0;
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static void take_sample(swarm_t *sw, double t0, struct sample *s)
{
    memset(s, 0, sizeof *s);
    s->t = now_s() - t0;
    s->rss = read_rss();
    s->maps = count_maps();
    s->fds = count_fds();
    struct mallinfo2 mi = mallinfo2();
    s->heap = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
    if (sw)
        swarm_stats(sw, &s->st);
}

/* msgs_in_flight read while running can be transiently "negative" (the
 * counters are not a consistent snapshot): clamp. */
static uint64_t in_flight(const swarm_stats_t *st)
{
    return st->msgs_in_flight > (UINT64_MAX >> 1) ? 0 : st->msgs_in_flight;
}

static void print_sample(const struct sample *s, FILE *csv)
{
    printf("t=%6.0fs rss=%8.1fMiB malloc=%7.1fMiB maps=%6" PRIu64 " fds=%4" PRIu64 " live=%7" PRIu64
           " inflight=%7" PRIu64 " sent=%11" PRIu64 " delivered=%11" PRIu64 " dropped=%9" PRIu64
           " spawns=%9" PRIu64 " crashes=%7" PRIu64 "\n",
           s->t, (double)s->rss / 1048576.0, (double)s->heap / 1048576.0, s->maps, s->fds, s->st.procs_live, in_flight(&s->st),
           s->st.msgs_sent_total, s->st.msgs_delivered, s->st.msgs_dropped, s->st.total.spawns,
           s->st.total.crashes);
    fflush(stdout);
    if (csv) {
        fprintf(csv,
                "%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                s->t, s->rss, s->maps, s->fds, s->st.procs_live, in_flight(&s->st),
                s->st.msgs_sent_total, s->st.msgs_delivered, s->st.msgs_dropped,
                s->st.total.spawns, s->st.total.crashes, s->heap);
        fflush(csv);
    }
}

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("soak: FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures++;
}

typedef uint64_t (*metric_fn)(const struct sample *);
static uint64_t m_rss(const struct sample *s) { return s->rss; }
static uint64_t m_maps(const struct sample *s) { return s->maps; }
static uint64_t m_heap(const struct sample *s) { return s->heap; }
static uint64_t m_fds(const struct sample *s) { return s->fds; }
static uint64_t m_live(const struct sample *s) { return s->st.procs_live; }
static uint64_t m_inflight(const struct sample *s) { return in_flight(&s->st); }

static uint64_t max_of(const struct sample *s, size_t from, size_t to, metric_fn f)
{
    uint64_t m = 0;
    for (size_t i = from; i < to; i++)
        if (f(&s[i]) > m)
            m = f(&s[i]);
    return m;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median_of(const struct sample *s, size_t from, size_t to, metric_fn f)
{
    size_t n = to - from;
    uint64_t *v = malloc(n * sizeof *v);
    if (!v || n == 0) {
        free(v);
        return max_of(s, from, to, f);
    }
    for (size_t i = 0; i < n; i++)
        v[i] = f(&s[from + i]);
    qsort(v, n, sizeof *v, cmp_u64);
    uint64_t m = v[n / 2];
    free(v);
    return m;
}

/* The growth rule (see the header comment). */
static void check_growth(const struct sample *s, size_t n, double warmup_s)
{
    size_t first = 0;
    while (first < n && s[first].t < warmup_s)
        first++;
    size_t m = n - first;
    if (m < 6) {
        printf("soak: growth check skipped: %zu samples after the %.0f s warm-up (need 6)\n", m,
               warmup_s);
        return;
    }
    size_t third = m / 3;
    size_t a0 = first, a1 = first + third, b0 = n - third, b1 = n;
    struct {
        const char *name;
        metric_fn f;
        int median;       /* compare medians (noisy gauges), else maxima */
        double factor;
        uint64_t slack;   /* allowed absolute growth */
        int both;         /* 1: fail only if over the factor AND over the slack */
    } rules[] = {
        {"RSS", m_rss, 1, 1.10, 2u << 20, 1},
        {"malloc in use", m_heap, 1, 1.10, 2u << 20, 1},
        {"mappings", m_maps, 0, 1.0, 64, 0},
        {"open fds", m_fds, 0, 1.0, 8, 0},
        {"live processes", m_live, 1, 1.25, 100, 0},
        {"in-flight messages", m_inflight, 1, 1.25, 1024, 0},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        metric_fn mf = rules[i].f;
        uint64_t f = rules[i].median ? median_of(s, a0, a1, mf) : max_of(s, a0, a1, mf);
        uint64_t l = rules[i].median ? median_of(s, b0, b1, mf) : max_of(s, b0, b1, mf);
        int bad;
        if (rules[i].both)
            bad = (double)l > rules[i].factor * (double)f && l - f > rules[i].slack;
        else
            bad = (double)l > rules[i].factor * (double)f + (double)rules[i].slack;
        const char *stat = rules[i].median ? "median" : "max";
        printf("soak: %-19s first third %-6s %12" PRIu64 ", last third %-6s %12" PRIu64 " %s\n",
               rules[i].name, stat, f, stat, l, bad ? "GROWING" : "ok");
        if (bad)
            fail("%s keeps growing (%" PRIu64 " -> %" PRIu64 ")", rules[i].name, f, l);
    }
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: soak [--minutes M | --seconds S] [--schedulers N] [--seed N]\n"
            "            [--sample-ms MS] [--warmup-s S] [--max-live N] [--no-overflow]\n"
            "            [--csv FILE] [--malloc-trim]\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
#define NEED_VALUE()                                                                       \
    do {                                                                                   \
        if (!v) {                                                                          \
            fprintf(stderr, "soak: %s needs a value\n", a);                               \
            return -1;                                                                     \
        }                                                                                  \
        i++;                                                                               \
        errno = 0;                                                                         \
    } while (0)
        if (!strcmp(a, "--minutes")) {
            NEED_VALUE();
            o->seconds = strtod(v, &end) * 60.0;
        } else if (!strcmp(a, "--seconds")) {
            NEED_VALUE();
            o->seconds = strtod(v, &end);
        } else if (!strcmp(a, "--schedulers")) {
            NEED_VALUE();
            o->schedulers = (unsigned)strtoul(v, &end, 10);
        } else if (!strcmp(a, "--seed")) {
            NEED_VALUE();
            o->seed = strtoull(v, &end, 0);
        } else if (!strcmp(a, "--sample-ms")) {
            NEED_VALUE();
            o->sample_ms = strtol(v, &end, 10);
        } else if (!strcmp(a, "--warmup-s")) {
            NEED_VALUE();
            o->warmup_s = strtod(v, &end);
        } else if (!strcmp(a, "--max-live")) {
            NEED_VALUE();
            o->max_live = strtol(v, &end, 10);
        } else if (!strcmp(a, "--csv")) {
            NEED_VALUE();
            o->csv = v;
            continue;
        } else if (!strcmp(a, "--no-overflow")) {
            o->overflow = 0;
            continue;
        } else if (!strcmp(a, "--malloc-trim")) {
            o->malloc_trim = 1;
            continue;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "soak: unknown argument %s\n", a);
            return -1;
        }
#undef NEED_VALUE
        if (errno || !end || *end) {
            fprintf(stderr, "soak: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    if (o->seconds <= 0 || (o->sample_ms != 0 && o->sample_ms < 100) || o->max_live < 1) {
        fprintf(stderr, "soak: need a positive duration, --sample-ms >= 100, --max-live >= 1\n");
        return -1;
    }
    return 0;
}

static const char *guard_name(swarm_guard_mode_t g)
{
    switch (g) {
    case SWARM_GUARD_MADVISE: return "madvise";
    case SWARM_GUARD_MPROTECT: return "mprotect";
    case SWARM_GUARD_CANARY: return "canary";
    default: return "auto";
    }
}

int main(int argc, char **argv)
{
    struct options o = {
        .seconds = 60, .schedulers = 0, .seed = 0, .sample_ms = 0,
        .warmup_s = -1, .max_live = 2000, .overflow = 1, .csv = NULL,
    };
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (o.sample_ms == 0) { /* about 30 samples, 1..5 s apart */
        double ms = o.seconds * 1000.0 / 30.0;
        o.sample_ms = ms < 1000 ? 1000 : ms > 5000 ? 5000 : (long)ms;
    }
    if (o.warmup_s < 0)
        o.warmup_s = o.seconds * 0.20 > 60.0 ? o.seconds * 0.20 : 60.0;
    if (o.seed == 0) {
        const char *env = getenv("SWARM_TEST_SEED");
        o.seed = env ? strtoull(env, NULL, 0)
                     : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
        if (o.seed == 0)
            o.seed = 1;
    }
    base_seed = o.seed;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("seed=%" PRIu64 " (replay the workload mix with --seed %" PRIu64 ")\n", o.seed, o.seed);

    FILE *csv = NULL;
    if (o.csv) {
        csv = fopen(o.csv, "w");
        if (!csv) {
            fprintf(stderr, "soak: cannot write %s: %s\n", o.csv, strerror(errno));
            return 2;
        }
        fputs("t_s,rss_bytes,maps,fds,procs_live,in_flight,sent,delivered,dropped,spawns,crashes,"
              "malloc_bytes\n",
              csv);
    }

    uint64_t fds_before = count_fds(), maps_first = count_maps();

    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.name = "soak";
    cfg.schedulers = o.schedulers;
    cfg.quiet = 1;
    int rc = warmup_cycle(&cfg);
    if (rc != 0) {
        fprintf(stderr, "soak: warm-up cycle: %s\n", swarm_strerror(rc));
        return 2;
    }
    /* Room for every sample up front: a buffer that grew during the run
     * could be a mapping of its own when the mappings are counted. */
    size_t cap_samples = (size_t)(o.seconds * 1000.0 / (double)o.sample_ms) + 64, n = 0;
    struct sample *samples = malloc(cap_samples * sizeof *samples);
    if (!samples) {
        fprintf(stderr, "soak: out of memory\n");
        return 2;
    }
    char *maps_text = read_maps();
    uint64_t maps_before = count_maps();
    printf("soak: mappings: %" PRIu64 " at start, %" PRIu64 " after the warm-up cycle "
           "(glibc malloc arenas of its threads, kept for reuse)\n",
           maps_first, maps_before);

    cfg.on_exit = on_exit_hook;
    swarm_t *sw = NULL;
    rc = swarm_create(&sw, &cfg);
    if (rc != 0) {
        fprintf(stderr, "soak: swarm_create: %s\n", swarm_strerror(rc));
        return 2;
    }
    swarm_info_t info;
    memset(&info, 0, sizeof info);
    swarm_info(sw, &info);
    long cap = o.max_live;
    if (info.guard_mode == SWARM_GUARD_MPROTECT && info.mprotect_budget / 2 < (uint32_t)cap)
        cap = (long)(info.mprotect_budget / 2); /* keep every stack guarded */
    int overflow = o.overflow && (info.guard_mode == SWARM_GUARD_MADVISE ||
                                  info.guard_mode == SWARM_GUARD_MPROTECT);
    atomic_store(&overflow_enabled, overflow);
    atomic_store(&max_live, cap);
    printf("soak: %.0f s, %u schedulers, guard %s, up to %ld live processes, "
           "stack-overflow crashes %s, sample every %ld ms, warm-up %.0f s\n",
           o.seconds, info.schedulers, guard_name(info.guard_mode), cap,
           overflow ? "on" : "off (no real guard page)", o.sample_ms, o.warmup_s);

    swarm_pid_t cpid = SWARM_PID_NONE;
    rc = swarm_spawn_in(sw, &cpid, conductor_main, NULL, NULL);
    if (rc != 0) {
        fprintf(stderr, "soak: swarm_spawn_in: %s\n", swarm_strerror(rc));
        swarm_destroy(sw);
        return 2;
    }
    atomic_store(&conductor_pid, cpid);

    double t0 = now_s();
    int stalled = 0;
    for (;;) {
        struct timespec ts = {o.sample_ms / 1000, (o.sample_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        if (n == cap_samples) {
            struct sample *p = realloc(samples, 2 * cap_samples * sizeof *samples);
            if (!p)
                break;
            samples = p;
            cap_samples *= 2;
        }
        if (o.malloc_trim)
            malloc_trim(0);
        take_sample(sw, t0, &samples[n]);
        print_sample(&samples[n], csv);
        if (n > 0) {
            const struct sample *a = &samples[n - 1], *b = &samples[n];
            if (b->st.msgs_delivered == a->st.msgs_delivered &&
                b->st.total.exits == a->st.total.exits)
                stalled++;
            else
                stalled = 0;
        }
        n++;
        if (stalled >= 3) {
            fail("no progress for %d samples (no message delivered, no process ended)", stalled);
            break;
        }
        if (atomic_load(&violations)) {
            fail("%" PRIu64 " workload violations (first ones printed above)",
                 (uint64_t)atomic_load(&violations));
            break;
        }
        if (samples[n - 1].t >= o.seconds)
            break;
    }

    /* Stop, and let every process end. */
    atomic_store(&stop_flag, 1);
    rc = swarm_wait(sw, 120000);
    swarm_stats_t st;
    memset(&st, 0, sizeof st);
    swarm_stats(sw, &st);
    if (rc != 0)
        fail("swarm_wait after the stop: %s (%" PRIu64 " processes still live: hang?)",
             swarm_strerror(rc), st.procs_live);

    if (!failures)
        check_growth(samples, n, o.warmup_s);

    /* Message accounting, at rest. */
    uint64_t sent_ok = atomic_load(&app_sent_ok), esrch = atomic_load(&app_sent_esrch);
    printf("soak: messages: sent_total %" PRIu64 " = delivered %" PRIu64 " + dropped %" PRIu64
           " + in_flight %" PRIu64 "; rejected %" PRIu64 "; by the processes: sent %" PRIu64
           " (+%" PRIu64 " to dead pids), received %" PRIu64 ", replies checked %" PRIu64 "\n",
           st.msgs_sent_total, st.msgs_delivered, st.msgs_dropped, st.msgs_in_flight,
           st.msgs_rejected, sent_ok, esrch, (uint64_t)atomic_load(&app_received),
           (uint64_t)atomic_load(&pongs));
    if (rc == 0) {
        if (st.msgs_sent_total != st.msgs_delivered + st.msgs_dropped + st.msgs_in_flight)
            fail("msgs_sent_total != delivered + dropped + in_flight");
        if (st.msgs_in_flight != 0)
            fail("%" PRIu64 " messages in flight with no process alive", st.msgs_in_flight);
        if (st.msgs_delivered != atomic_load(&app_received))
            fail("runtime delivered %" PRIu64 " messages, processes received %" PRIu64,
                 st.msgs_delivered, (uint64_t)atomic_load(&app_received));
        if (st.msgs_sent_total != sent_ok)
            fail("msgs_sent_total %" PRIu64 " != %" PRIu64 " sends that returned 0", st.msgs_sent_total,
                 sent_ok);
        if (st.msgs_rejected != atomic_load(&app_sent_err))
            fail("msgs_rejected %" PRIu64 " != %" PRIu64 " sends that returned an error", st.msgs_rejected,
                 (uint64_t)atomic_load(&app_sent_err));
    }

    /* Exits by reason against what was spawned. */
    uint64_t n_null = atomic_load(&spawned[K_CRASH_NULL]);
    uint64_t n_deep = atomic_load(&spawned[K_CRASH_DEEP]);
    uint64_t e_crash = atomic_load(&exits_by_reason[SWARM_EXIT_CRASH]);
    uint64_t e_over = atomic_load(&exits_by_reason[SWARM_EXIT_STACK_OVERFLOW]);
    uint64_t e_norm = atomic_load(&exits_by_reason[SWARM_EXIT_NORMAL]);
    uint64_t e_user = atomic_load(&exits_user);
    uint64_t e_kill = atomic_load(&exits_by_reason[SWARM_EXIT_KILLED]);
    uint64_t e_nomem = atomic_load(&exits_by_reason[SWARM_EXIT_NOMEM]);
    printf("soak: processes: spawned %" PRIu64 " short-lived (+%d servers, 1 conductor), "
           "spawn failures %" PRIu64 "; exits: normal %" PRIu64 ", user %" PRIu64
           ", crash %" PRIu64 " (%" PRIu64 " NULL derefs), stack_overflow %" PRIu64
           " (%" PRIu64 " dives), killed %" PRIu64 ", nomem %" PRIu64 "; runtime counted "
           "%" PRIu64 " crashes\n",
           (uint64_t)atomic_load(&spawned_total), NSERVERS, (uint64_t)atomic_load(&spawn_failures),
           e_norm, e_user, e_crash, n_null, e_over, n_deep, e_kill, e_nomem, st.total.crashes);
    if (rc == 0) {
        if (e_crash != n_null)
            fail("%" PRIu64 " crash exits for %" PRIu64 " NULL-dereferencing processes", e_crash,
                 n_null);
        if (e_over != n_deep)
            fail("%" PRIu64 " stack_overflow exits for %" PRIu64 " recursing processes", e_over,
                 n_deep);
        if (e_user != atomic_load(&user_exits_expected))
            fail("%" PRIu64 " user exits, %" PRIu64 " expected", e_user,
                 (uint64_t)atomic_load(&user_exits_expected));
        if (e_kill || e_nomem || atomic_load(&exits_other))
            fail("unexpected exit reasons (killed %" PRIu64 ", nomem %" PRIu64 ", other %" PRIu64
                 ")",
                 e_kill, e_nomem, (uint64_t)atomic_load(&exits_other));
        if (st.total.crashes != n_null + n_deep)
            fail("runtime counted %" PRIu64 " crashes, %" PRIu64 " were provoked",
                 st.total.crashes, n_null + n_deep);
    }
    if (atomic_load(&violations) && !failures)
        fail("%" PRIu64 " workload violations", (uint64_t)atomic_load(&violations));

    rc = swarm_destroy(sw);
    if (rc != 0)
        fail("swarm_destroy: %s", swarm_strerror(rc));
    uint64_t fds_after = count_fds(), maps_after = count_maps();
    printf("soak: after destroy: fds %" PRIu64 " (before create %" PRIu64 "), mappings %" PRIu64
           " (before %" PRIu64 ")\n",
           fds_after, fds_before, maps_after, maps_before);
    if (fds_after > fds_before)
        fail("swarm_destroy left %" PRIu64 " fds open", fds_after - fds_before);
    if (maps_after > maps_before) {
        char *now = read_maps();
        fail("swarm_destroy left %" PRIu64 " more mappings than before swarm_create",
             maps_after - maps_before);
        if (now)
            print_new_maps(maps_text, now);
        free(now);
    }
    free(maps_text);

    if (csv)
        fclose(csv);
    free(samples);
    if (failures) {
        printf("soak: FAILED (%d problems, seed=%" PRIu64 ")\n", failures, o.seed);
        return 1;
    }
    printf("soak: PASSED (%.0f s, seed=%" PRIu64 ")\n", o.seconds, o.seed);
    return 0;
}
