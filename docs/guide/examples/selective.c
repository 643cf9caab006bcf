/* selective.c - receive by tag, by match function, and with timeouts. */
#include <stdio.h>
#include <string.h>
#include <swarmrt.h>

enum { TAG_LOG = 1, TAG_JOB = 2 };

typedef struct job {
    int id;
    int urgent;
} job_t;

/* A match function sees each queued message in order and says yes or no.
 * It runs on the receiving process and must not park. */
static int is_urgent(const swarm_msg_t *m, void *ctx)
{
    (void)ctx;
    return swarm_msg_tag(m) == TAG_JOB && ((const job_t *)swarm_msg_data(m))->urgent;
}

static void main_proc(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    /* Queue five messages to ourselves, in this order. */
    swarm_send(me, TAG_LOG, "first log", 10);
    job_t a = {1, 0}, b = {2, 1}, c = {3, 0};
    swarm_send(me, TAG_JOB, &a, sizeof a);
    swarm_send(me, TAG_LOG, "second log", 11);
    swarm_send(me, TAG_JOB, &b, sizeof b);
    swarm_send(me, TAG_JOB, &c, sizeof c);
    printf("queued: %zu\n", swarm_mailbox_len());

    swarm_msg_t *m;
    /* The urgent job first, although two messages are older. */
    swarm_recv_match(is_urgent, NULL, &m, 0);
    printf("urgent job %d\n", ((const job_t *)swarm_msg_data(m))->id);
    swarm_msg_free(m);

    /* Then every job, by tag: the logs stay queued, in order. */
    while (swarm_recv_tag(TAG_JOB, &m, 0) == 0) { /* timeout 0: poll */
        printf("job %d\n", ((const job_t *)swarm_msg_data(m))->id);
        swarm_msg_free(m);
    }

    /* What is left, oldest first. */
    while (swarm_recv(&m, 0) == 0) {
        printf("log: %s\n", (const char *)swarm_msg_data(m));
        swarm_msg_free(m);
    }

    /* Nothing more will come: a receive with a timeout gives up. */
    int64_t t0 = swarm_now_ms();
    int rc = swarm_recv(&m, 50);
    printf("recv with 50 ms timeout: %s after >= 50 ms: %s\n", swarm_strerror(rc),
           swarm_now_ms() - t0 >= 50 ? "yes" : "no");
}

int main(void)
{
    return swarm_run(NULL, main_proc, NULL) == 0 ? 0 : 1;
}
