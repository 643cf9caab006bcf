/* hibernate.c - many sessions that sleep between requests with no stack
 * at all: swarm_hibernate, Erlang's erlang:hibernate/3. */
#include <stdio.h>
#include <swarmrt.h>

enum { TAG_HIT = 1, TAG_STOP = 2, TAG_TOTAL = 3 };
#define SESSIONS 10000

typedef struct session {
    swarm_pid_t owner; /* who gets the total */
    long hits;
} session_t;

/* Runs afresh, on an empty stack, each time a message wakes the session. */
static void session_wake(void *arg)
{
    session_t *s = arg; /* in the process's own heap: it outlives every stack */
    swarm_msg_t *m;
    swarm_recv(&m, 0); /* the message that woke it is there */
    uint32_t tag = swarm_msg_tag(m);
    swarm_msg_free(m);
    if (tag == TAG_HIT) {
        s->hits++;
        swarm_hibernate(session_wake, s); /* back to sleep: does not return */
    }
    swarm_send(s->owner, TAG_TOTAL, &s->hits, sizeof s->hits);
} /* returning ends the process, as always */

static void session(void *arg)
{
    session_t *s = swarm_alloc(sizeof *s); /* freed when the process ends */
    s->owner = *(const swarm_pid_t *)arg;
    s->hits = 0;
    swarm_hibernate(session_wake, s);
}

static void main_proc(void *arg)
{
    (void)arg;
    static swarm_pid_t pids[SESSIONS];
    swarm_pid_t me = swarm_self();
    for (int i = 0; i < SESSIONS; i++)
        swarm_spawn(&pids[i], session, &me, NULL);

    /* Asking about a hibernating process does not run its continuation:
     * it answers and sleeps on. */
    swarm_process_info_t info;
    do
        swarm_process_info(pids[SESSIONS - 1], &info, 1000);
    while (info.wait != SWARM_WAIT_HIBERNATE && swarm_sleep(1) == 0);
    printf("the last session waits: %s\n", info.wait == SWARM_WAIT_HIBERNATE ? "hibernating" : "?");

    for (int i = 0; i < SESSIONS; i += 10) /* a hit for every tenth, three for the first */
        swarm_send(pids[i], TAG_HIT, NULL, 0);
    swarm_send(pids[0], TAG_HIT, NULL, 0);
    swarm_send(pids[0], TAG_HIT, NULL, 0);
    long total = 0;
    for (int i = 0; i < SESSIONS; i++) {
        swarm_send(pids[i], TAG_STOP, NULL, 0);
        swarm_msg_t *m;
        swarm_recv_tag(TAG_TOTAL, &m, SWARM_INFINITE);
        total += *(const long *)swarm_msg_data(m);
        swarm_msg_free(m);
    }
    printf("%d sessions counted %ld hits\n", SESSIONS, total);
}

int main(void)
{
    return swarm_run(NULL, main_proc, NULL) == 0 ? 0 : 1;
}
