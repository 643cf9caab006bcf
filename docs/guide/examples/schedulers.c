/* schedulers.c - many processes on a few threads: yields, SWARM_CHECK. */
#include <stdio.h>
#include <swarmrt.h>

enum { WORKERS = 8, TAG_RESULT = 1 };

typedef struct job {
    swarm_pid_t collector;
    long n;
} job_t;

/* CPU-bound work. The loop calls no SwarmRT function, so it says where it
 * may be interrupted: SWARM_CHECK() spends one reduction and yields when
 * the process's slice is spent. */
static void worker(void *arg)
{
    const job_t *job = arg;
    long sum = 0;
    for (long i = 1; i <= job->n; i++) {
        sum += i % 7;
        SWARM_CHECK();
    }
    swarm_send(job->collector, TAG_RESULT, &sum, sizeof sum);
}

static void collector(void *arg)
{
    (void)arg;
    long total = 0;
    for (int i = 0; i < WORKERS; i++) {
        swarm_msg_t *m;
        swarm_recv_tag(TAG_RESULT, &m, SWARM_INFINITE);
        total += *(const long *)swarm_msg_data(m);
        swarm_msg_free(m);
    }
    printf("total %ld from %d workers\n", total, WORKERS);
}

int main(void)
{
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.schedulers = 2; /* two OS threads; 0 = one per usable CPU */
    swarm_t *sw;
    if (swarm_create(&sw, &cfg) != 0)
        return 1;

    swarm_pid_t coll;
    swarm_spawn_in(sw, &coll, collector, NULL, NULL); /* from the main thread */
    static job_t jobs[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        jobs[i] = (job_t){coll, 1000000};
        swarm_spawn_in(sw, NULL, worker, &jobs[i], NULL);
    }
    swarm_wait(sw, SWARM_INFINITE); /* until every process has ended */

    swarm_stats_t st;
    swarm_stats(sw, &st);
    printf("processes spawned: %llu, slices given up: %s\n", (unsigned long long)st.total.spawns,
           st.total.yields > 0 ? "many" : "none");
    swarm_destroy(sw);
    return 0;
}
