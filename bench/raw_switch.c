/*
 * bench/raw_switch.c - cost of one swarm__ctx_switch, nothing else.
 *
 * Two contexts ping-pong: the main context switches to a partner whose
 * only job is to switch straight back. Each round trip is two one-way
 * switches; the result is nanoseconds per one-way switch, the median of
 * RUNS runs of SWITCHES switches each (one warm-up run is discarded).
 *
 * Links only src/arch/<isa>/switch.S, so it measures the assembly and the
 * call into it, with no scheduler, sanitizer hook or stack arena around it.
 *
 * Usage: raw_switch [switches_per_run [runs]]
 * Output: one line, "raw_switch ns_per_switch=<median> runs=<n>".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "arch/switch.h"

#define STACK_SIZE (64 * 1024)
#define DEFAULT_SWITCHES 10000000L
#define DEFAULT_RUNS 7
#define MAX_RUNS 101

/* Shared by both sides; volatile is not needed because every access is
 * separated by a call into the assembly, which the compiler cannot see. */
static void *main_sp;
static void *partner_sp;

static void partner(void *arg)
{
    (void)arg;
    for (;;)
        swarm__ctx_switch(&partner_sp, main_sp);
}

/* CPU time of this thread, not wall time: the benchmark never blocks, and
 * on a shared machine time spent preempted is not switch cost. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One run: switches/2 round trips. Returns ns per one-way switch. */
static double run_once(long switches)
{
    long rounds = switches / 2;
    double t0 = now_ns();
    for (long i = 0; i < rounds; i++)
        swarm__ctx_switch(&main_sp, partner_sp);
    double t1 = now_ns();
    return (t1 - t0) / (double)(rounds * 2);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long switches = argc > 1 ? atol(argv[1]) : DEFAULT_SWITCHES;
    int runs = argc > 2 ? atoi(argv[2]) : DEFAULT_RUNS;
    if (switches < 2 || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: %s [switches_per_run >= 2 [runs 1..%d]]\n", argv[0], MAX_RUNS);
        return 2;
    }

    void *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* Start the partner; it switches straight back, leaving partner_sp. */
    swarm__ctx_enter(&main_sp, (char *)stack + STACK_SIZE, partner, NULL);

    double ns[MAX_RUNS];
    run_once(switches); /* warm-up: caches, branch predictors, frequency */
    for (int r = 0; r < runs; r++)
        ns[r] = run_once(switches);
    qsort(ns, (size_t)runs, sizeof ns[0], cmp_double);

    printf("raw_switch ns_per_switch=%.2f runs=%d\n", ns[runs / 2], runs);
    if (getenv("RAW_SWITCH_VERBOSE")) {
        for (int r = 0; r < runs; r++)
            fprintf(stderr, "  run %d: %.3f ns\n", r, ns[r]);
    }
    return 0;
}
