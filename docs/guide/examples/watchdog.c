/* watchdog.c - a process that holds its scheduler is reported. */
#include <stdio.h>
#include <swarmrt.h>

static void hog(void *arg)
{
    (void)arg;
    /* A loop with no yield point: no SwarmRT call that may yield, no
     * SWARM_CHECK(). It keeps its scheduler thread to itself until the
     * watchdog has reported it (or 10 s pass). */
    swarm_t *sw = swarm_current();
    int64_t deadline = swarm_now_ms() + 10000;
    swarm_stats_t st = {0};
    while (st.total.watchdog_reports == 0 && swarm_now_ms() < deadline)
        swarm_stats(sw, &st); /* never yields */
    printf("the watchdog reported the hog: %s\n", st.total.watchdog_reports ? "yes" : "no");
}

int main(void)
{
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.schedulers = 2;
    cfg.watchdog_ms = 20; /* default 10 ms */
    return swarm_run(&cfg, hog, NULL) == 0 ? 0 : 1;
}
