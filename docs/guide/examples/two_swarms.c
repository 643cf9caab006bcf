/* two_swarms.c - independent swarms in one program; pids cross between them. */
#include <stdio.h>
#include <swarmrt.h>

enum { TAG_ASK = 1, TAG_ANSWER = 2 };

static void server(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv_tag(TAG_ASK, &m, SWARM_INFINITE);
    int q = *(const int *)swarm_msg_data(m), a = q * q;
    swarm_send(swarm_msg_sender(m), TAG_ANSWER, &a, sizeof a); /* into the other swarm */
    swarm_msg_free(m);
}

static void client(void *arg)
{
    swarm_pid_t srv = *(const swarm_pid_t *)arg;
    int q = 12;
    swarm_send(srv, TAG_ASK, &q, sizeof q);
    swarm_msg_t *m;
    if (swarm_recv_tag(TAG_ANSWER, &m, 5000) == 0) {
        printf("%d squared is %d, answered from the other swarm\n", q, *(const int *)swarm_msg_data(m));
        swarm_msg_free(m);
    }
}

int main(void)
{
    swarm_config_t cb, cf;
    swarm_config_init(&cb);
    cb.name = "back";
    cb.schedulers = 1;
    swarm_config_init(&cf);
    cf.name = "front";
    cf.schedulers = 1;
    swarm_t *back, *front;
    if (swarm_create(&back, &cb) != 0 || swarm_create(&front, &cf) != 0)
        return 1;
    static swarm_pid_t srv;
    swarm_spawn_in(back, &srv, server, NULL, NULL);
    swarm_spawn_in(front, NULL, client, &srv, NULL);
    swarm_wait(front, SWARM_INFINITE);
    swarm_wait(back, SWARM_INFINITE);
    swarm_destroy(front);
    swarm_destroy(back);
    /* A pid of a destroyed swarm is dead, not dangling. */
    int rc = swarm_send(srv, TAG_ASK, NULL, 0);
    printf("send to a pid of a destroyed swarm: %s\n", swarm_strerror(rc));
    return 0;
}
