/*
 * tests/test.h - the few macros the test programs share.
 *
 * Each test program declares its cases once, in its TEST_MAIN table, with
 * their attributes:
 *
 *   TEST_MAIN(TEST_ENTRY(basic),
 *             TEST_ENTRY(ping_pong, TEST_DET),
 *             TEST_ENTRY(parked_100k, TEST_CONCURRENCY, TEST_TIMEOUT(300)))
 *
 *   TEST_DET          also run as <program>.<case>.det: deterministic mode
 *                     (SWARM_TEST_DETERMINISTIC=1), labelled concurrency
 *   TEST_CONCURRENCY  ctest label `concurrency` (scripts/stress.sh reruns
 *                     these with fresh seeds)
 *   TEST_SERIAL       ctest RUN_SERIAL: nothing else runs meanwhile (a case
 *                     that asserts on time the machine's other work could
 *                     steal, or that holds gigabytes)
 *   TEST_TIMEOUT(s)   ctest timeout in seconds, when the program's default
 *                     (swarm_test_program's TIMEOUT, 120 s) does not fit
 *
 * `<program> --list` prints one line per case: its name, then its
 * attributes ("det", "concurrency", "serial", "timeout=<s>"). The build runs it after
 * linking and ctest registers every case from that list
 * (swarm_test_program in tests/CMakeLists.txt), each in its own OS process
 * with its own timeout, so a crash or a hang fails one case, not the suite.
 * There is no other list of cases. A failed check prints both operands and
 * aborts.
 *
 * Concurrency tests draw their randomness from test_seed(), which prints
 * the seed; SWARM_TEST_SEED=<n> replays it. SWARM_TEST_SCALE=<d> divides
 * the big counts (sanitizer builds run with d > 1; the counts are still
 * checked exactly). SWARM_TEST_TIME_SCALE=<k> multiplies every time bound
 * a test waits for (test_ms()): sanitizer builds run slower, and ctest's
 * timeouts grow by the same factor (tests/CMakeLists.txt).
 */
#ifndef SWARM_TESTS_TEST_H
#define SWARM_TESTS_TEST_H

#include <dirent.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "swarmrt.h"

static inline void test_capture_undo(void);

#define TEST_FAIL(...)                                                              \
    do {                                                                            \
        test_capture_undo();                                                        \
        fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);                     \
        fprintf(stderr, __VA_ARGS__);                                               \
        fputc('\n', stderr);                                                        \
        fflush(stderr);                                                             \
        abort();                                                                    \
    } while (0)

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond))                                                                \
            TEST_FAIL("CHECK(%s)", #cond);                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                              \
    do {                                                                            \
        long long a_ = (long long)(a), b_ = (long long)(b);                         \
        if (a_ != b_)                                                               \
            TEST_FAIL("CHECK_EQ(%s, %s): %lld != %lld", #a, #b, a_, b_);            \
    } while (0)

#define CHECK_CMP(a, op, b)                                                         \
    do {                                                                            \
        long long a_ = (long long)(a), b_ = (long long)(b);                         \
        if (!(a_ op b_))                                                            \
            TEST_FAIL("CHECK(%s %s %s): %lld vs %lld", #a, #op, #b, a_, b_);        \
    } while (0)

/* Expect a SwarmRT call to return 0. */
#define CHECK_OK(expr)                                                              \
    do {                                                                            \
        int r_ = (expr);                                                            \
        if (r_ != 0)                                                                \
            TEST_FAIL("%s returned %d (%s)", #expr, r_, swarm_strerror(r_));        \
    } while (0)

/* Expect a public call to return a documented code. tests/api_doc_check.py
 * reads these: every code a header lists for fn needs an API_RET(fn, code,
 * ...) somewhere in tests/, and every API_RET code must be listed. */
#define API_RET(fn, code, expr) CHECK_EQ((expr), (code))

typedef struct test_case {
    const char *name;
    void (*fn)(void);
    unsigned char det;         /* TEST_DET */
    unsigned char concurrency; /* TEST_CONCURRENCY */
    unsigned char serial;      /* TEST_SERIAL */
    unsigned timeout;          /* TEST_TIMEOUT(s); 0: the program's default */
} test_case_t;

#define TEST(name) static void test_##name(void)
/* TEST_ENTRY(name [, TEST_DET] [, TEST_CONCURRENCY] [, TEST_SERIAL] [, TEST_TIMEOUT(s)]) */
#define TEST_ENTRY(case_, ...) { .name = #case_, .fn = test_##case_, __VA_ARGS__ }
#define TEST_DET .det = 1
#define TEST_CONCURRENCY .concurrency = 1
#define TEST_SERIAL .serial = 1
#define TEST_TIMEOUT(s) .timeout = (s)

static inline uint64_t test_seed(void)
{
    static uint64_t seed;
    if (!seed) {
        const char *env = getenv("SWARM_TEST_SEED");
        seed = env ? strtoull(env, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
        if (!seed)
            seed = 1;
        printf("seed=%" PRIu64 " (replay with SWARM_TEST_SEED=%" PRIu64 ")\n", seed, seed);
        fflush(stdout);
    }
    return seed;
}

/* xorshift64*: small, fast, good enough for test workloads. */
static inline uint64_t test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* With SWARM_TEST_DETERMINISTIC=1 in the environment (ctest's `.det`
 * variants of the concurrency cases), swarms made by the tests run in
 * deterministic mode: every scheduler on the waiting thread, in an order
 * drawn from the printed seed, so a failure replays exactly with
 * SWARM_TEST_SEED=<seed>. */
static inline void test_config_mode(swarm_config_t *c)
{
    const char *env = getenv("SWARM_TEST_DETERMINISTIC");
    if (env && *env == '1')
        c->deterministic_seed = test_seed();
}

/* The configuration most tests start from: n schedulers, defaults
 * otherwise, deterministic when the environment asks for it. */
static inline swarm_config_t test_config(unsigned schedulers)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = schedulers;
    test_config_mode(&c);
    return c;
}

static inline long test_scale(long n)
{
    const char *env = getenv("SWARM_TEST_SCALE");
    long d = env ? atol(env) : 1;
    if (d < 1)
        d = 1;
    return n / d > 0 ? n / d : 1;
}

/* A time bound a test waits for (a poll's deadline, a receive timeout that
 * must not expire, a "finishes within" limit), in milliseconds, scaled by
 * SWARM_TEST_TIME_SCALE: sanitizer builds set it (TSan 3, ASan 2) from the
 * same place that scales ctest's timeouts (tests/CMakeLists.txt). Not for
 * durations a test measures or expects to elapse exactly. */
static inline long test_ms(long ms)
{
    /* Read once, from any thread or process: relaxed atomics, since every
     * reader computes the same value (a plain static raced under TSan). */
    static _Atomic long k;
    long v = atomic_load_explicit(&k, memory_order_relaxed);
    if (!v) {
        const char *env = getenv("SWARM_TEST_TIME_SCALE");
        v = env ? atol(env) : 1;
        if (v < 1)
            v = 1;
        atomic_store_explicit(&k, v, memory_order_relaxed);
    }
    return ms * v;
}

static inline int64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run driver(arg) as the first process of a fresh swarm made from *c,
 * wait for the swarm to empty (2 minutes, scaled), destroy it, and check
 * that the driver got to its end: it stores 1 in *done last (a failed
 * CHECK aborts the program before). */
static inline void test_run_swarm(const swarm_config_t *c, swarm_fn driver, void *arg, atomic_int *done)
{
    swarm_t *sw;
    atomic_store(done, 0);
    CHECK_OK(swarm_create(&sw, c));
    CHECK_OK(swarm_spawn_in(sw, NULL, driver, arg, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(120000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(done), 1);
}

/* Open fds of this program, leaving out /proc files: the listing's own,
 * and those the watchdog opens for a moment to read a scheduler thread's
 * state. */
static inline int test_count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    CHECK(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[300], target[300];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t k = readlink(path, target, sizeof target - 1);
        if (k < 0)
            continue; /* closed since the listing began */
        target[k] = 0;
        n += strncmp(target, "/proc/", 6) != 0;
    }
    closedir(d);
    return n;
}

/* In a process: wait for the DOWN of monitor ref (others are dropped);
 * returns its reason's atom. */
static inline swarm_atom_t test_await_down(swarm_ref_t ref)
{
    swarm_msg_t *m;
    for (;;) {
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
        swarm_ref_t r;
        swarm_reason_t why;
        CHECK_EQ(swarm_msg_down(m, &r, NULL, &why), 1);
        swarm_msg_free(m);
        if (swarm_ref_eq(r, ref))
            return why.atom;
    }
}

/* stderr into a temporary file (the runtime's crash, watchdog and
 * deadlock reports go there): test_capture_start, then test_captured()
 * for what was written so far, test_capture_stop() to put stderr back
 * (it prints the text and returns it; free it). A failing check puts
 * stderr back first and prints what was caught, so the failure is seen. */
static int test_cap_fd = -1, test_cap_saved = -1;

static inline void test_capture_start(void)
{
    char tmpl[] = "/tmp/swarm_test_XXXXXX";
    fflush(stderr);
    test_cap_fd = mkstemp(tmpl);
    if (test_cap_fd < 0)
        TEST_FAIL("mkstemp");
    unlink(tmpl);
    test_cap_saved = dup(2);
    if (test_cap_saved < 0 || dup2(test_cap_fd, 2) != 2)
        TEST_FAIL("dup2");
}

static inline char *test_captured(void)
{
    fflush(stderr);
    off_t len = lseek(test_cap_fd, 0, SEEK_END);
    char *buf = malloc((size_t)len + 1);
    if (!buf || pread(test_cap_fd, buf, (size_t)len, 0) != len)
        TEST_FAIL("reading the captured stderr");
    buf[len] = 0;
    return buf;
}

static inline char *test_capture_stop(void)
{
    char *buf = test_captured();
    dup2(test_cap_saved, 2);
    close(test_cap_saved);
    close(test_cap_fd);
    test_cap_fd = test_cap_saved = -1;
    printf("captured stderr:\n%s--\n", buf);
    return buf;
}

static inline void test_capture_undo(void)
{
    if (test_cap_saved < 0)
        return;
    int saved = test_cap_saved;
    test_cap_saved = -1; /* a check failing in here must not come back */
    fflush(stderr);
    dup2(saved, 2);
    char buf[4096];
    ssize_t n = pread(test_cap_fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    fprintf(stderr, "captured stderr (first %zd bytes):\n%s--\n", n > 0 ? n : 0, buf);
}

/* From a thread (not a process): poll cond every millisecond until it
 * holds; fail if it does not within test_ms(ms). */
#define TEST_POLL(cond, ms)                                                         \
    do {                                                                            \
        int64_t until_ = test_now_ms() + test_ms(ms);                               \
        while (!(cond)) {                                                           \
            if (test_now_ms() > until_)                                             \
                TEST_FAIL("TEST_POLL(%s): not true after %ld ms", #cond, test_ms(ms)); \
            usleep(1000);                                                           \
        }                                                                           \
    } while (0)

/* `--list`: one line per case, its name and its attributes (read by the
 * build, tests/CMakeLists.txt). */
static inline void test_list(const test_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf("%s", cases[i].name);
        if (cases[i].det)
            printf(" det");
        if (cases[i].concurrency)
            printf(" concurrency");
        if (cases[i].serial)
            printf(" serial");
        if (cases[i].timeout)
            printf(" timeout=%u", cases[i].timeout);
        putchar('\n');
    }
}

/* Run the case named by argv[1]; with no argument run them all in turn
 * (handy under a debugger); `--list` lists them. */
static inline int test_main(int argc, char **argv, const test_case_t *cases, size_t n)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        test_list(cases, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        printf("== %s\n", cases[i].name);
        cases[i].fn();
        printf("ok %s\n", cases[i].name);
        if (argc > 1)
            return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "unknown case %s\n", argv[1]);
        return 2;
    }
    return 0;
}

#define TEST_MAIN(...)                                                              \
    int main(int argc, char **argv)                                                 \
    {                                                                               \
        static const test_case_t cases[] = {__VA_ARGS__};                           \
        return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);        \
    }

#endif
