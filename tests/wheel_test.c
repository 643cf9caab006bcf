/*
 * wheel_test.c - the timing wheel as a data structure.
 */
#include "test.h"
#include "wheel/wheel.h"

static int64_t fired_at[4096];
static int nfired;
static int64_t wheel_now;

static void on_fire(swarm__timer_t *t, void *ctx)
{
    (void)ctx;
    CHECK_CMP(t->deadline, <=, wheel_now);
    fired_at[nfired++] = t->deadline;
}

static void advance(swarm__wheel_t *w, int64_t to)
{
    wheel_now = to;
    swarm__wheel_advance(w, to, on_fire, NULL);
}

TEST(basic)
{
    swarm__wheel_t w;
    swarm__timer_t t[3] = {{.deadline = 5}, {.deadline = 1}, {.deadline = 63}};
    swarm__wheel_init(&w, 0);
    for (int i = 0; i < 3; i++)
        swarm__wheel_insert(&w, &t[i]);
    CHECK_EQ(swarm__wheel_next(&w), 1);
    nfired = 0;
    advance(&w, 4);
    CHECK_EQ(nfired, 1);
    CHECK_EQ(fired_at[0], 1);
    CHECK_EQ(swarm__wheel_next(&w), 5);
    advance(&w, 100);
    CHECK_EQ(nfired, 3);
    CHECK_EQ(w.count, 0);
    CHECK_EQ(swarm__wheel_next(&w), INT64_MAX);
}

TEST(cascade)
{
    swarm__wheel_t w;
    swarm__timer_t t[4] = {{.deadline = 64}, {.deadline = 130}, {.deadline = 4095}, {.deadline = 4097}};
    swarm__wheel_init(&w, 0);
    for (int i = 0; i < 4; i++)
        swarm__wheel_insert(&w, &t[i]);
    nfired = 0;
    /* Step one tick at a time: each fires exactly at its deadline. */
    for (int64_t now = 1; now <= 5000; now++) {
        int before = nfired;
        advance(&w, now);
        for (int k = before; k < nfired; k++)
            CHECK_EQ(fired_at[k], now);
    }
    CHECK_EQ(nfired, 4);
}

TEST(far_future)
{
    swarm__wheel_t w;
    swarm__timer_t t = {.deadline = (int64_t)1 << 40}; /* beyond the wheel's range */
    swarm__wheel_init(&w, 1000);
    swarm__wheel_insert(&w, &t);
    nfired = 0;
    advance(&w, (int64_t)1 << 37);
    CHECK_EQ(nfired, 0);
    CHECK_EQ(w.count, 1);
    advance(&w, ((int64_t)1 << 40) - 1);
    CHECK_EQ(nfired, 0);
    advance(&w, (int64_t)1 << 40);
    CHECK_EQ(nfired, 1);
}

TEST(cancel)
{
    swarm__wheel_t w;
    swarm__timer_t t[2] = {{.deadline = 10}, {.deadline = 10}};
    swarm__wheel_init(&w, 0);
    swarm__wheel_insert(&w, &t[0]);
    swarm__wheel_insert(&w, &t[1]);
    swarm__wheel_remove(&w, &t[0]);
    swarm__wheel_remove(&w, &t[0]); /* twice is harmless */
    CHECK_EQ(w.count, 1);
    nfired = 0;
    advance(&w, 20);
    CHECK_EQ(nfired, 1);
}

TEST(random)
{
    uint64_t rng = test_seed();
    static swarm__timer_t t[4000];
    swarm__wheel_t w;
    swarm__wheel_init(&w, 12345);
    int64_t now = 12345;
    int removed = 0;
    for (int i = 0; i < 4000; i++) {
        t[i].deadline = now + (int64_t)(test_rand(&rng) % 300000);
        swarm__wheel_insert(&w, &t[i]);
    }
    for (int i = 0; i < 4000; i += 7) {
        swarm__wheel_remove(&w, &t[i]);
        removed++;
    }
    nfired = 0;
    while (w.count) {
        now += 1 + (int64_t)(test_rand(&rng) % 5000);
        int before = nfired;
        advance(&w, now);
        /* Every timer due by now fired, none early (on_fire checks). */
        for (int k = before; k < nfired; k++)
            CHECK_CMP(fired_at[k], >, now - 5001);
        for (int i = 0; i < 4000; i++)
            if (t[i].linked)
                CHECK_CMP(t[i].deadline, >, now);
        if (nfired > 3000)
            nfired = 0; /* keep the record array small */
    }
    (void)removed;
}

TEST_MAIN(TEST_ENTRY(basic), TEST_ENTRY(cascade), TEST_ENTRY(far_future), TEST_ENTRY(cancel),
          TEST_ENTRY(random))
