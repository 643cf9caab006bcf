/* counter.c - an Erlang-style server process: state in a loop, requests
 * and replies as messages, the caller's pid as the return address. */
#include <stdio.h>
#include <swarmrt.h>

enum { TAG_ADD = 1, TAG_GET = 2, TAG_VALUE = 3, TAG_STOP = 4 };

/* loop(Count) -> receive {add, N} -> loop(Count + N); {get, From} -> ... */
static void counter(void *arg)
{
    long count = 0; /* the state lives on the process's own stack */
    (void)arg;
    for (;;) {
        swarm_msg_t *m;
        swarm_recv(&m, SWARM_INFINITE);
        switch (swarm_msg_tag(m)) {
        case TAG_ADD: count += *(const long *)swarm_msg_data(m); break;
        case TAG_GET: swarm_send(swarm_msg_sender(m), TAG_VALUE, &count, sizeof count); break;
        case TAG_STOP: swarm_msg_free(m); return;
        }
        swarm_msg_free(m);
    }
}

/* A synchronous call: send, then wait for the reply by tag (Erlang's
 * gen_server:call, minus the monitor: chapter 7 adds it). */
static int get(swarm_pid_t srv, long *out)
{
    swarm_send(srv, TAG_GET, NULL, 0);
    swarm_msg_t *m;
    int rc = swarm_recv_tag(TAG_VALUE, &m, 1000);
    if (rc == 0) {
        *out = *(const long *)swarm_msg_data(m);
        swarm_msg_free(m);
    }
    return rc;
}

static void adder(void *arg)
{
    swarm_pid_t srv = *(const swarm_pid_t *)arg;
    for (long i = 1; i <= 100; i++)
        swarm_send(srv, TAG_ADD, &i, sizeof i); /* a cast: fire and forget */
}

static void main_proc(void *arg)
{
    (void)arg;
    static swarm_pid_t srv;
    swarm_spawn(&srv, counter, NULL, NULL);
    swarm_pid_t adders[10];
    for (int i = 0; i < 10; i++)
        swarm_spawn(&adders[i], adder, &srv, NULL);
    for (int i = 0; i < 10; i++)
        while (swarm_is_alive(adders[i]))
            swarm_sleep(1);
    long v = 0;
    if (get(srv, &v) == 0)
        printf("count = %ld\n", v); /* 10 * (1 + ... + 100) */
    swarm_send(srv, TAG_STOP, NULL, 0);
}

int main(void)
{
    return swarm_run(NULL, main_proc, NULL) == 0 ? 0 : 1;
}
