/*
 * tests/test.h - the few macros the test programs share.
 *
 * Each test program holds named cases; ctest runs every case in its own OS
 * process with a timeout (tests/CMakeLists.txt), so a crash or a hang fails
 * one case, not the suite. A failed check prints both operands and aborts.
 *
 * Concurrency tests draw their randomness from test_seed(), which prints
 * the seed; SWARM_TEST_SEED=<n> replays it. SWARM_TEST_SCALE=<d> divides
 * the big counts (sanitizer builds run with d > 1; the counts are still
 * checked exactly).
 */
#ifndef SWARM_TESTS_TEST_H
#define SWARM_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "swarmrt.h"

#define TEST_FAIL(...)                                                              \
    do {                                                                            \
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
} test_case_t;

#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) { #name, test_##name }

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

/* Run the case named by argv[1]; with no argument run them all in turn
 * (handy under a debugger). */
static inline int test_main(int argc, char **argv, const test_case_t *cases, size_t n)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
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
