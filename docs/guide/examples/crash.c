/* crash.c - a crash or a stack overflow ends one process, not the program. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <swarmrt.h>

enum { N = 3 };
static swarm_pid_t pids[N];
static const char *names[N] = {"null_deref", "overflow", "survivor"};
static _Atomic int reasons[N], signals[N];

/* The exit hook runs on a scheduler thread after a process has ended and
 * everything it owned has been released. It must not block. */
static void on_exit_hook(swarm_t *sw, const swarm_exit_info_t *info, void *ud)
{
    (void)sw;
    (void)ud;
    for (int i = 0; i < N; i++)
        if (pids[i] == info->pid) {
            atomic_store(&signals[i], info->signo);
            atomic_store(&reasons[i], info->reason);
        }
}

/* Each process waits for the go-ahead, so that main has every pid before
 * anything ends. */
static void wait_go(void)
{
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE);
    swarm_msg_free(m);
}

static void null_deref(void *arg)
{
    (void)arg;
    wait_go();
    volatile int *p = NULL;
    *p = 42; /* SIGSEGV: this process ends with reason "crash" */
}

/* Recursion far deeper than a 64 KiB stack: runs into the guard below it.
 * (The volatile bound keeps the compiler from calling it infinite.) */
static volatile long limit = 1L << 40;
static long dive(volatile char *prev, long depth)
{
    volatile char frame[256];
    frame[0] = prev ? prev[0] : 1;
    if (depth >= limit)
        return frame[0];
    return dive(frame, depth + 1) + frame[0];
}

static void overflow(void *arg)
{
    (void)arg;
    wait_go();
    (void)dive(NULL, 0);
}

static void survivor(void *arg)
{
    (void)arg;
    wait_go();
    swarm_sleep(100); /* the others crash meanwhile */
}

int main(void)
{
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.on_exit = on_exit_hook;
    cfg.quiet = 0; /* 1: no crash reports on stderr */
    swarm_t *sw;
    if (swarm_create(&sw, &cfg) != 0)
        return 1;
    swarm_fn fns[N] = {null_deref, overflow, survivor};
    for (int i = 0; i < N; i++)
        swarm_spawn_in(sw, &pids[i], fns[i], NULL, NULL);
    for (int i = 0; i < N; i++)
        swarm_send(pids[i], 1, NULL, 0); /* a thread may send too */
    swarm_wait(sw, SWARM_INFINITE);
    swarm_destroy(sw);
    for (int i = 0; i < N; i++)
        printf("%-10s %-14s %s\n", names[i], swarm_exit_reason_str(atomic_load(&reasons[i])),
               atomic_load(&signals[i]) == SIGSEGV ? "SIGSEGV"
               : atomic_load(&signals[i])          ? "other signal"
                                                   : "-");
    return 0;
}
