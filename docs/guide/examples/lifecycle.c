/* lifecycle.c - create, wait, destroy, and a bounded destroy. */
#include <stdatomic.h>
#include <stdio.h>
#include <swarmrt.h>

static atomic_int release;

/* Spins in plain C with no yield point until main lets it go. */
static void stubborn(void *arg)
{
    (void)arg;
    while (!atomic_load(&release)) {
    }
}

static void sleeper(void *arg)
{
    (void)arg;
    swarm_sleep(1000000); /* 1000 s: killed by the destroy long before */
}

int main(void)
{
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.name = "demo";
    cfg.schedulers = 2;
    cfg.quiet = 1; /* no watchdog report for the spinner */
    swarm_t *sw;
    if (swarm_create(&sw, &cfg) != 0)
        return 1;
    swarm_spawn_in(sw, NULL, stubborn, NULL, NULL);
    swarm_spawn_in(sw, NULL, sleeper, NULL, NULL);

    /* Waiting is bounded here; nothing ends within 100 ms. */
    int rc = swarm_wait(sw, 100);
    printf("swarm_wait(100 ms): %s\n", swarm_strerror(rc));

    /* Destroy kills what is still alive, but it can only stop a scheduler
     * at a switch point: the spinner holds one, so a bounded destroy gives
     * up, leaving the swarm shut down. */
    swarm_stats_t final;
    rc = swarm_destroy_timeout(sw, 200, &final);
    printf("swarm_destroy_timeout(200 ms): %s\n", swarm_strerror(rc));

    atomic_store(&release, 1); /* the spinner returns */
    rc = swarm_destroy_timeout(sw, SWARM_INFINITE, &final);
    printf("swarm_destroy_timeout again: %s; messages in flight %llu\n", swarm_strerror(rc),
           (unsigned long long)final.msgs_in_flight);
    return 0;
}
