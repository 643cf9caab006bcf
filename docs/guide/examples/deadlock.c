/* deadlock.c - every process waits for a message nothing can send. */
#include <stdio.h>
#include <swarmrt.h>

static void waiter(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE); /* nobody will ever send it */
    swarm_msg_free(m);
}

static void main_proc(void *arg)
{
    (void)arg;
    swarm_spawn(NULL, waiter, NULL, NULL);
    waiter(NULL); /* and main_proc waits too: a forgotten "stop" message */
}

int main(void)
{
    /* swarm_run detects it (a report on stderr names the parked pids) and
     * returns instead of hanging; the parked processes are killed. */
    int rc = swarm_run(NULL, main_proc, NULL);
    printf("swarm_run: %s\n", swarm_strerror(rc));
    return rc == SWARM_EDEADLK ? 0 : 1;
}
