/* pin.c - thread-local state and swarm_pin(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <swarmrt.h>

static void busy(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++)
        swarm_yield(); /* gives idle schedulers something to steal */
}

static void careful(void *arg)
{
    (void)arg;
    /* errno is per OS thread and a process may move to another thread at
     * any call that may park or yield: read it right after the failing
     * call, before calling SwarmRT. */
    FILE *f = fopen("/nonexistent/file", "r");
    int err = errno;
    swarm_yield(); /* errno may now be another thread's */
    printf("fopen: %s, errno saved before the yield: %s\n", f ? "opened" : "failed",
           strerror(err));

    /* Code that keeps thread-local state across yields (a library's error
     * queue, say) pins the process to its scheduler meanwhile. */
    swarm_pin();
    int first = swarm_scheduler_index();
    int moved = 0;
    for (int i = 0; i < 100; i++) {
        if (i % 10 == 0)
            swarm_sleep(1);
        else
            swarm_yield();
        moved |= swarm_scheduler_index() != first;
    }
    swarm_unpin();
    printf("pinned for 100 yields and sleeps, moved: %s\n", moved ? "yes" : "no");
}

static void main_proc(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4; i++)
        swarm_spawn(NULL, busy, NULL, NULL);
    swarm_spawn(NULL, careful, NULL, NULL);
}

int main(void)
{
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.schedulers = 2;
    return swarm_run(&cfg, main_proc, NULL) == 0 ? 0 : 1;
}
