/* errors.c - every call returns 0 or a negative code; here is each code. */
#include <stdint.h>
#include <stdio.h>
#include <swarmrt.h>

static void show(const char *what, int rc)
{
    printf("%-34s %6d  %s\n", what, rc, swarm_strerror(rc));
}

static void quick(void *arg)
{
    (void)arg;
}

static void parked(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE);
    swarm_msg_free(m);
}

static void in_process(void *arg)
{
    swarm_t *sw = arg;
    swarm_msg_t *m;
    show("swarm_recv, nothing within 10 ms", swarm_recv(&m, 10));
    show("swarm_recv, timeout -5", swarm_recv(&m, -5));
    show("swarm_wait from inside the swarm", swarm_wait(sw, 0));

    char big[2048] = {0};
    show("swarm_send, 2048 B over the limit", swarm_send(swarm_self(), 1, big, sizeof big));
    show("swarm_send to SWARM_PID_NONE", swarm_send(SWARM_PID_NONE, 1, NULL, 0));
    show("swarm_send, reserved tag", swarm_send(swarm_self(), SWARM_TAG_SYSTEM, NULL, 0));

    swarm_pid_t pid;
    swarm_spawn(&pid, quick, NULL, NULL);
    while (swarm_is_alive(pid))
        swarm_yield();
    show("swarm_send to a process that ended", swarm_send(pid, 1, NULL, 0));

    /* max_procs is 4: this process and three more fill the table. */
    swarm_pid_t p[3];
    for (int i = 0; i < 3; i++)
        swarm_spawn(&p[i], parked, NULL, NULL);
    show("swarm_spawn, table full", swarm_spawn(NULL, quick, NULL, NULL));
    for (int i = 0; i < 3; i++)
        swarm_send(p[i], 1, NULL, 0);
}

int main(void)
{
    swarm_msg_t *m;
    show("swarm_recv outside a process", swarm_recv(&m, 0));

    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.schedulers = 1000;
    swarm_t *sw;
    show("swarm_create, 1000 schedulers", swarm_create(&sw, &cfg));

    cfg.schedulers = 2;
    cfg.max_procs = 4;       /* process table: 4 slots */
    cfg.max_msg_size = 1024; /* largest payload: 1 KiB */
    if (swarm_create(&sw, &cfg) != 0)
        return 1;
    swarm_spawn_in(sw, NULL, in_process, sw, NULL);
    show("swarm_wait", swarm_wait(sw, SWARM_INFINITE));
    show("swarm_destroy", swarm_destroy(sw));
    return 0;
}
