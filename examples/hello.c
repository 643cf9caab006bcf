/* hello.c - the README's first program: an echo process and its client. */
#include <stdio.h>
#include <swarmrt.h>

enum { TAG_ECHO = 1, TAG_STOP = 2 };

static void echo(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    while (swarm_recv(&m, SWARM_INFINITE) == 0) { /* parks until a message */
        int stop = swarm_msg_tag(m) == TAG_STOP;
        if (!stop)
            swarm_send(swarm_msg_sender(m), TAG_ECHO, swarm_msg_data(m), swarm_msg_size(m));
        swarm_msg_free(m);
        if (stop)
            return; /* returning is a normal exit */
    }
}

static void main_proc(void *arg)
{
    (void)arg;
    swarm_pid_t pid;
    swarm_spawn(&pid, echo, NULL, NULL);
    swarm_send(pid, TAG_ECHO, "hello", 6);
    swarm_msg_t *reply;
    if (swarm_recv_tag(TAG_ECHO, &reply, 1000) == 0) { /* 1 s deadline */
        printf("%s\n", (const char *)swarm_msg_data(reply));
        swarm_msg_free(reply);
    }
    swarm_send(pid, TAG_STOP, NULL, 0);
}

int main(void)
{
    /* One scheduler per CPU; returns when every process has ended. */
    return swarm_run(NULL, main_proc, NULL) == 0 ? 0 : 1;
}
