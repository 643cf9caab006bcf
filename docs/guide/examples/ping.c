/* ping.c - spawn a process, send it messages, get replies. */
#include <stdio.h>
#include <swarmrt.h>

enum { TAG_PING = 1, TAG_PONG = 2, TAG_STOP = 3 };

/* A process is a plain C function on its own stack. */
static void ponger(void *arg)
{
    (void)arg;
    for (;;) {
        swarm_msg_t *m;
        swarm_recv(&m, SWARM_INFINITE); /* parks until a message arrives */
        uint32_t tag = swarm_msg_tag(m);
        if (tag == TAG_PING) {
            int n = *(const int *)swarm_msg_data(m);
            n *= 10;
            /* Reply to whoever sent it: the sender's pid travels with it. */
            swarm_send(swarm_msg_sender(m), TAG_PONG, &n, sizeof n);
        }
        swarm_msg_free(m); /* a received message is ours until freed */
        if (tag == TAG_STOP)
            return; /* returning ends the process normally */
    }
}

static void main_proc(void *arg)
{
    (void)arg;
    swarm_pid_t pong;
    swarm_spawn(&pong, ponger, NULL, NULL);
    for (int i = 1; i <= 3; i++) {
        swarm_send(pong, TAG_PING, &i, sizeof i); /* the payload is copied */
        swarm_msg_t *reply;
        if (swarm_recv_tag(TAG_PONG, &reply, 1000) == 0) {
            printf("sent %d, got %d\n", i, *(const int *)swarm_msg_data(reply));
            swarm_msg_free(reply);
        }
    }
    swarm_send(pong, TAG_STOP, NULL, 0);
}

int main(void)
{
    /* Create a swarm, run main_proc as its first process, return when every
     * process has ended. */
    int rc = swarm_run(NULL, main_proc, NULL);
    printf("swarm_run: %s\n", swarm_strerror(rc));
    return rc == 0 ? 0 : 1;
}
