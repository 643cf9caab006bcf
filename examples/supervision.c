/* supervision.c - a supervision tree whose workers crash at random.
 *
 *   swarm_supervision [seconds]
 *
 * A top supervisor (one_for_one) runs two group supervisors, each with
 * four workers. Every worker crashes after a random while: a NULL
 * dereference, a runaway recursion into its stack guard, or an exit with
 * a reason of its own. The supervisors restart them; a live line counts
 * the restarts; at the end the tree is stopped and nothing is left. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <swarmrt.h>

static _Atomic unsigned long started, crashes, overflows, exits;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static volatile int forever = 1;
__attribute__((no_sanitize("undefined"))) static int dive(int depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    return forever ? dive(depth + 1) + frame[0] : 0; /* hits the guard: stack_overflow */
}

/* (The attributes only keep this crash on purpose out of the sanitizer
 * builds' reports; plain builds ignore nothing.) */
__attribute__((no_sanitize("undefined", "thread"), noinline)) static void crash_now(int run)
{
    volatile int *volatile p = NULL;
    *p = run; /* a crash ends this process only */
}

static void worker(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + ++started;
    swarm_sleep((int64_t)(next_rand(&seed) % 40)); /* do some "work" */
    switch (next_rand(&seed) % 3) {
    case 0:
        crash_now(1); /* its supervisor restarts it */
        break;
    case 1:
        dive(0);
        break;
    default: {
        swarm_atom_t tired;
        swarm_atom("tired", &tired);
        swarm_exit_with(swarm_reason(tired));
    }
    }
}

/* A group supervisor is a child of the top one: its start links it. */
static int start_group(void *arg, swarm_pid_t *out)
{
    swarm_child_spec_t kids[4];
    for (int i = 0; i < 4; i++) {
        char id[8];
        snprintf(id, sizeof id, "w%d", i);
        kids[i] = (swarm_child_spec_t){.fn = worker, .arg = (void *)(uintptr_t)((uintptr_t)arg * 4 + (uintptr_t)i)};
        swarm_atom(id, &kids[i].id);
    }
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.intensity = 1000000; /* crashing is the point of this demo */
    swarm_gs_opts_t o;
    swarm_gs_opts_init(&o);
    o.link = 1;
    return swarm_sup_start(out, &f, kids, 4, &o);
}

static void on_exit_count(swarm_t *sw, const swarm_exit_info_t *info, void *ud)
{
    (void)sw, (void)ud;
    if (info->why.atom == SWARM_ATOM_CRASH)
        crashes++;
    else if (info->why.atom == SWARM_ATOM_STACK_OVERFLOW)
        overflows++;
    else if (info->reason == SWARM_EXIT_ATOM)
        exits++;
}

static double seconds = 2.0;

static void root(void *arg)
{
    (void)arg;
    swarm_child_spec_t groups[2];
    for (int i = 0; i < 2; i++) {
        groups[i] = (swarm_child_spec_t){.start = start_group, .arg = (void *)(uintptr_t)i, .supervisor = 1};
        swarm_atom(i ? "group1" : "group0", &groups[i].id);
    }
    swarm_pid_t top;
    if (swarm_sup_start(&top, NULL, groups, 2, NULL) != 0) {
        fprintf(stderr, "could not start the tree\n");
        return;
    }
    int ticks = (int)(seconds * 5);
    for (int t = 1; t <= ticks; t++) {
        swarm_sleep(200);
        printf("\r%4.1f s: restarts %lu (crash %lu, stack overflow %lu, exit %lu)", t / 5.0,
               started > 8 ? started - 8 : 0, crashes, overflows, exits);
        fflush(stdout);
    }
    swarm_sup_counts_t c;
    swarm_sup_count_children(top, &c);
    swarm_gs_stop(top, swarm_reason(SWARM_ATOM_SHUTDOWN), SWARM_INFINITE);
    printf("\ntree stopped: %zu groups were running; restarts: %lu\n", c.active, started - 8);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seconds = atof(argv[1]);
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.quiet = 1; /* no crash reports: the counts say it */
    cfg.on_exit = on_exit_count;
    int rc = swarm_run(&cfg, root, NULL);
    return rc == 0 ? 0 : 1;
}
