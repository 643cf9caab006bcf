/* links.c - hearing that a process ended: a monitor's DOWN message, and a
 * link's exit signal trapped as an EXIT message. */
#include <stdint.h>
#include <stdio.h>
#include <swarmrt.h>

/* Crashes on its first two runs, then ends with {shutdown, "done"}. */
static void worker(void *arg)
{
    int run = (int)(intptr_t)arg;
    if (run < 3) {
        volatile int *volatile p = NULL;
        *p = run; /* a crash ends this process only */
    }
    swarm_reason_t done = {SWARM_ATOM_SHUTDOWN, 4, "done"};
    swarm_exit_with(done);
}

static void print_reason(const char *who, swarm_reason_t why)
{
    printf("%s ended: %s", who, swarm_atom_name(why.atom));
    if (why.size)
        printf(" \"%.*s\"", (int)why.size, (const char *)why.data);
    printf("\n");
}

static void observer(void *arg)
{
    (void)arg;
    /* A monitor: one DOWN message when the worker ends, whatever the
     * reason. Restart it until it ends by itself. */
    for (int run = 1;; run++) {
        swarm_pid_t w;
        swarm_ref_t ref;
        swarm_spawn_monitor(&w, &ref, worker, (void *)(intptr_t)run, NULL);
        swarm_msg_t *m;
        swarm_recv_tag(SWARM_TAG_DOWN, &m, SWARM_INFINITE);
        swarm_reason_t why;
        swarm_msg_down(m, NULL, NULL, &why);
        print_reason("monitored worker", why);
        int crashed = why.atom == SWARM_ATOM_CRASH;
        swarm_msg_free(m); /* why.data pointed into m */
        if (!crashed)
            break;
    }

    /* A link, with exits trapped: the partner's end arrives as a message
     * (not trapping, this process would end with the same reason). */
    swarm_trap_exit(1, NULL);
    swarm_pid_t w, from;
    swarm_spawn_link(&w, worker, (void *)(intptr_t)1, NULL);
    swarm_msg_t *m;
    swarm_recv_tag(SWARM_TAG_EXIT, &m, SWARM_INFINITE);
    swarm_reason_t why;
    swarm_msg_exit(m, &from, &why);
    print_reason(from == w ? "linked worker" : "someone else", why);
    swarm_msg_free(m);
}

int main(void)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.quiet = 1; /* no crash reports on stderr: we report them ourselves */
    return swarm_run(&c, observer, NULL) == 0 ? 0 : 1;
}
