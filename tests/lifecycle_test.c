/*
 * tests/lifecycle_test.c - swarm lifecycle: the default scheduler count
 * (affinity mask, cgroup quota, SWARM_SCHEDULERS), bounded destroy, and
 * deadlock detection in swarm_run / swarm_wait.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "runtime/swarm.h"
#include "test.h"

/* Room for a formatted pid ("<255.16777215.4294967295>"). */
#define SWARM_PID_STRLEN_TEST 48

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Spin (politely) until *flag is set, failing after 60 s (test_ms). */
static void wait_flag(atomic_int *flag, const char *what)
{
    int64_t until = now_ms() + test_ms(60000);
    while (!atomic_load(flag)) {
        if (now_ms() > until)
            TEST_FAIL("timed out waiting for %s", what);
        sched_yield();
    }
}

/* ------------------------------------------------------------------ */
/* Item 10: the default scheduler count. */

static swarm_info_t info_of_default(void)
{
    swarm_config_t c;
    swarm_config_init(&c); /* schedulers = 0: the default */
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_info_t in;
    CHECK_OK(swarm_info(sw, &in));
    CHECK_OK(swarm_destroy(sw));
    return in;
}

TEST(sched_default_affinity)
{
    unsetenv("SWARM_SCHEDULERS");
    cpu_set_t orig, one;
    CHECK_OK(sched_getaffinity(0, sizeof orig, &orig));
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
        if (CPU_ISSET(i, &orig))
            first = i;
    CHECK(first >= 0);
    unsigned quota = swarm__cgroup_cpu_limit("");
    printf("online=%ld allowed=%d cgroup quota=%u\n", online, CPU_COUNT(&orig), quota);

    /* Unrestricted: the mask (or the quota, if lower). */
    swarm_info_t in = info_of_default();
    CHECK_EQ(in.cpus_allowed, CPU_COUNT(&orig));
    CHECK_EQ(in.cpu_quota, quota);
    if (quota && quota < (unsigned)CPU_COUNT(&orig)) {
        CHECK_EQ(in.schedulers, quota);
        CHECK_EQ(in.schedulers_source, SWARM_SCHED_SRC_CGROUP);
    } else {
        CHECK_EQ(in.schedulers, CPU_COUNT(&orig));
        CHECK_EQ(in.schedulers_source, SWARM_SCHED_SRC_AFFINITY);
    }

    /* Like `taskset -c <first>`: one CPU, so one scheduler, not `online`. */
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK_OK(sched_setaffinity(0, sizeof one, &one));
    in = info_of_default();
    CHECK_EQ(in.schedulers, 1);
    CHECK_EQ(in.cpus_allowed, 1);
    CHECK_EQ(in.schedulers_source, SWARM_SCHED_SRC_AFFINITY);

    /* An explicit count still wins, and says so. */
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 3;
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_info(sw, &in));
    CHECK_EQ(in.schedulers, 3);
    CHECK_EQ(in.schedulers_source, SWARM_SCHED_SRC_CONFIG);
    CHECK_OK(swarm_destroy(sw));
    CHECK_OK(sched_setaffinity(0, sizeof orig, &orig));
}

TEST(sched_default_env)
{
    setenv("SWARM_SCHEDULERS", "3", 1);
    swarm_info_t in = info_of_default();
    CHECK_EQ(in.schedulers, 3);
    CHECK_EQ(in.schedulers_source, SWARM_SCHED_SRC_ENV);

    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 2; /* the configuration wins over the environment */
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_info(sw, &in));
    CHECK_EQ(in.schedulers, 2);
    CHECK_EQ(in.schedulers_source, SWARM_SCHED_SRC_CONFIG);
    CHECK_OK(swarm_destroy(sw));

    static const char *bad[] = {"0", "257", "-1", "+2", "2x", "abc", " 2", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("SWARM_SCHEDULERS", bad[i], 1);
        sw = (swarm_t *)&in; /* must be reset to NULL */
        CHECK_EQ(swarm_create(&sw, NULL), SWARM_EINVAL);
        CHECK(sw == NULL);
    }
    setenv("SWARM_SCHEDULERS", "256", 1);
    in = info_of_default();
    CHECK_EQ(in.schedulers, 256);
    setenv("SWARM_SCHEDULERS", "", 1); /* empty: as if unset */
    in = info_of_default();
    CHECK(in.schedulers_source != SWARM_SCHED_SRC_ENV);
    unsetenv("SWARM_SCHEDULERS");
}

/* A fake /proc and /sys under a temporary root. */
static char fake_root[64];

static void put_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", fake_root, rel);
    /* mkdir -p the parent */
    for (char *p = path + strlen(fake_root) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

TEST(cgroup_quota)
{
    snprintf(fake_root, sizeof fake_root, "/tmp/swarm_cg_XXXXXX");
    CHECK(mkdtemp(fake_root) != NULL);
    /* No cgroup files at all: no limit. */
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 0);

    /* cgroup v2, mounted at /sys/fs/cgroup with the host's root. */
    put_file("/proc/self/cgroup", "0::/app/worker\n");
    put_file("/proc/self/mountinfo",
             "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
             "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
    put_file("/sys/fs/cgroup/app/cpu.max", "max 100000\n");
    put_file("/sys/fs/cgroup/app/worker/cpu.max", "150000 100000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 2); /* 1.5 CPUs, rounded up */
    put_file("/sys/fs/cgroup/app/cpu.max", "50000 100000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 1); /* the lower ancestor; at least 1 */
    put_file("/sys/fs/cgroup/app/cpu.max", "max 100000\n");
    put_file("/sys/fs/cgroup/app/worker/cpu.max", "max 100000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 0);
    put_file("/sys/fs/cgroup/app/worker/cpu.max", "400000 100000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 4);

    /* A container without a cgroup namespace: the mount's root is the
     * process's own cgroup. */
    put_file("/proc/self/cgroup", "0::/docker/abc\n");
    put_file("/proc/self/mountinfo", "30 25 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n");
    put_file("/sys/fs/cgroup/cpu.max", "250000 100000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 3);

    /* cgroup v1: the cpu controller's hierarchy. */
    put_file("/proc/self/cgroup", "5:memory:/x\n4:cpu,cpuacct:/x\n1:name=systemd:/x\n");
    put_file("/proc/self/mountinfo",
             "40 25 0:35 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
             "41 25 0:36 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
    put_file("/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us", "-1\n");
    put_file("/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 0);
    put_file("/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us", "250000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 3);
    /* The memory hierarchy's files do not count. */
    put_file("/sys/fs/cgroup/memory/x/cpu.cfs_quota_us", "10000\n");
    put_file("/sys/fs/cgroup/memory/x/cpu.cfs_period_us", "100000\n");
    CHECK_EQ(swarm__cgroup_cpu_limit(fake_root), 3);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fake_root);
    CHECK_EQ(system(cmd), 0);
}

/* ------------------------------------------------------------------ */
/* Item 11: bounded destroy. */

static atomic_int spin_started, spin_release, spin_resumed;
static atomic_int exits_killed, exits_other;

static void count_exit(swarm_t *sw, const swarm_exit_info_t *info, void *ud)
{
    (void)sw;
    (void)ud;
    if (info->reason == SWARM_EXIT_KILLED)
        atomic_fetch_add(&exits_killed, 1);
    else
        atomic_fetch_add(&exits_other, 1);
}

/* Holds its scheduler without a yield point until released, then yields:
 * a shut-down swarm never resumes it. */
static void spinner(void *arg)
{
    (void)arg;
    atomic_store(&spin_started, 1);
    while (!atomic_load(&spin_release))
        ;
    swarm_yield();
    atomic_store(&spin_resumed, 1);
}

static void parked(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE);
}

TEST(destroy_timeout)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 2;
    c.on_exit = count_exit;
    c.quiet = 1; /* the watchdog reports the spinner */
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, &c));
    enum { nparked = 10 };
    swarm_pid_t pids[nparked];
    for (int i = 0; i < nparked; i++)
        CHECK_OK(swarm_spawn_in(sw, &pids[i], parked, NULL, NULL));
    CHECK_OK(swarm_spawn_in(sw, NULL, spinner, NULL, NULL));
    wait_flag(&spin_started, "the spinner to start");

    CHECK_EQ(swarm_destroy_timeout(NULL, 0, NULL), SWARM_EINVAL);
    CHECK_EQ(swarm_destroy_timeout(sw, -2, NULL), SWARM_EINVAL);

    swarm_stats_t st;
    memset(&st, 0xab, sizeof st);
    int64_t t0 = now_ms();
    CHECK_EQ(swarm_destroy_timeout(sw, 200, &st), SWARM_ETIMEDOUT);
    int64_t waited = now_ms() - t0;
    printf("first destroy returned after %lld ms\n", (long long)waited);
    CHECK_CMP(waited, >=, 200);
    CHECK_EQ(st.procs_peak, (uint64_t)0xabababababababab); /* *final untouched */

    /* The documented state: shut down, not freed. */
    CHECK_EQ(swarm_spawn_in(sw, NULL, parked, NULL, NULL), SWARM_ESHUTDOWN);
    swarm_info_t in;
    CHECK_OK(swarm_info(sw, &in));
    CHECK_EQ(in.schedulers, 2);
    CHECK_EQ(swarm_wait(sw, 0), SWARM_ETIMEDOUT);
    CHECK_EQ(atomic_load(&exits_killed) + atomic_load(&exits_other), 0);
    CHECK_EQ(swarm_destroy_timeout(sw, 0, &st), SWARM_ETIMEDOUT); /* still held: repeatable */
    /* Its pids are dead to the outside from the first destroy call on. */
    for (int i = 0; i < nparked; i++) {
        CHECK_EQ(swarm_send(pids[i], 1, "m", 1), SWARM_ESRCH);
        CHECK_EQ(swarm_is_alive(pids[i]), 0);
    }

    atomic_store(&spin_release, 1);
    CHECK_OK(swarm_destroy_timeout(sw, test_ms(60000), &st));
    CHECK_EQ(atomic_load(&spin_resumed), 0); /* stopped at its yield for good */
    CHECK_EQ(atomic_load(&exits_killed), nparked + 1);
    CHECK_EQ(atomic_load(&exits_other), 0);
    CHECK_EQ(st.total.spawns, nparked + 1);
    CHECK_EQ(st.procs_live, 0);
    CHECK_EQ(st.procs_peak, nparked + 1);
    CHECK_EQ(st.msgs_sent_total, 0);
    CHECK_EQ(st.msgs_dropped, 0);
    CHECK_EQ(st.msgs_delivered, 0);
    CHECK_EQ(st.msgs_in_flight, 0);
}

TEST(destroy_timeout_quick)
{
    /* Nothing holds a scheduler: a bounded destroy completes, and so does
     * the unbounded one, as before. */
    for (int round = 0; round < 2; round++) {
        swarm_config_t c = test_config(2);
        c.on_exit = count_exit;
        swarm_t *sw;
        CHECK_OK(swarm_create(&sw, &c));
        for (int i = 0; i < 100; i++)
            CHECK_OK(swarm_spawn_in(sw, NULL, parked, NULL, NULL));
        swarm_stats_t st;
        if (round == 0)
            CHECK_OK(swarm_destroy_timeout(sw, test_ms(60000), &st));
        else
            CHECK_OK(swarm_destroy_stats(sw, &st));
        CHECK_EQ(st.total.spawns, 100);
        CHECK_EQ(st.procs_live, 0);
        CHECK_EQ(st.msgs_in_flight, 0);
    }
    CHECK_EQ(atomic_load(&exits_killed), 200);
    CHECK_EQ(atomic_load(&exits_other), 0);
}

/* ------------------------------------------------------------------ */
/* Item 12: deadlock detection. */

static swarm_pid_t dl_pids[3];

static void wait_tag7(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv_tag(7, &m, SWARM_INFINITE);
}

/* The forgotten stop message: a worker and a tag waiter are spawned, then
 * main waits for a reply nobody sends. */
static void forgetful_main(void *arg)
{
    (void)arg;
    dl_pids[0] = swarm_self();
    CHECK_OK(swarm_spawn(&dl_pids[1], parked, NULL, NULL));
    CHECK_OK(swarm_spawn(&dl_pids[2], wait_tag7, NULL, NULL));
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE);
}

TEST(deadlock_run)
{
    swarm_config_t c = test_config(2);
    c.on_exit = count_exit;
    test_capture_start();
    int r = swarm_run(&c, forgetful_main, NULL);
    char *out = test_capture_stop();
    CHECK_EQ(r, SWARM_EDEADLK);
    CHECK(strstr(out, "deadlock: all 3 live processes wait") != NULL);
    for (int i = 0; i < 3; i++) {
        char pid[SWARM_PID_STRLEN_TEST];
        swarm_pid_format(dl_pids[i], pid, sizeof pid);
        CHECK(strstr(out, pid) != NULL);
    }
    char line[128];
    char pid[SWARM_PID_STRLEN_TEST];
    swarm_pid_format(dl_pids[2], pid, sizeof pid);
    snprintf(line, sizeof line, "%s waits in swarm_recv_tag (tag 7)", pid);
    CHECK(strstr(out, line) != NULL);
    swarm_pid_format(dl_pids[0], pid, sizeof pid);
    snprintf(line, sizeof line, "%s waits in swarm_recv (any message)", pid);
    CHECK(strstr(out, line) != NULL);
    /* One report, and swarm_run destroyed the swarm: all three killed. */
    CHECK(strstr(strstr(out, "deadlock:") + 1, "deadlock:") == NULL);
    CHECK_EQ(atomic_load(&exits_killed), 3);
    CHECK_EQ(atomic_load(&exits_other), 0);
    free(out);

    /* Opting out: swarm_create + swarm_wait keep their default (off). */
    swarm_t *sw;
    swarm_config_t d = test_config(2);
    CHECK_OK(swarm_create(&sw, &d));
    swarm_info_t in;
    CHECK_OK(swarm_info(sw, &in));
    CHECK_EQ(in.deadlock, SWARM_DEADLOCK_OFF);
    CHECK_OK(swarm_destroy(sw));
    d.deadlock = (swarm_deadlock_mode_t)4;
    CHECK_EQ(swarm_create(&sw, &d), SWARM_EINVAL);
}

/* Many processes, bounded list: 40 parked, the report names 16 and counts
 * the rest. */
static void many_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 39; i++)
        CHECK_OK(swarm_spawn(NULL, parked, NULL, NULL));
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE);
}

TEST(deadlock_many)
{
    swarm_config_t c = test_config(2);
    c.on_exit = count_exit;
    test_capture_start();
    int r = swarm_run(&c, many_main, NULL);
    char *out = test_capture_stop();
    CHECK_EQ(r, SWARM_EDEADLK);
    CHECK(strstr(out, "all 40 live processes") != NULL);
    CHECK(strstr(out, "... and 24 more") != NULL);
    int lines = 0;
    for (char *p = out; (p = strstr(p, " waits in ")); p++)
        lines++;
    CHECK_EQ(lines, 16);
    CHECK_EQ(atomic_load(&exits_killed), 40);
    free(out);
}

/* Everything waits on timers at times, and one process waits forever for
 * a message that a sleeper sends later: never a deadlock. */
static void late_sender(void *arg)
{
    swarm_pid_t to = *(swarm_pid_t *)arg;
    for (int i = 0; i < 5; i++)
        CHECK_OK(swarm_sleep(20));
    CHECK_OK(swarm_send(to, 1, NULL, 0));
}

static void timed_waiter(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    CHECK_EQ(swarm_recv(&m, 30), SWARM_ETIMEDOUT); /* parked with a timer */
}

static void sleepers_main(void *arg)
{
    (void)arg;
    static swarm_pid_t me;
    me = swarm_self();
    for (int i = 0; i < 20; i++)
        CHECK_OK(swarm_spawn(NULL, timed_waiter, NULL, NULL));
    CHECK_OK(swarm_spawn(NULL, late_sender, &me, NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE)); /* waits ~100 ms with only timers pending */
    swarm_msg_free(m);
}

TEST(deadlock_not_sleepers)
{
    swarm_config_t c = test_config(2);
    c.on_exit = count_exit;
    test_capture_start();
    int r = swarm_run(&c, sleepers_main, NULL);
    char *out = test_capture_stop();
    CHECK_EQ(r, 0);
    CHECK(strstr(out, "deadlock") == NULL);
    CHECK_EQ(atomic_load(&exits_other), 22);
    CHECK_EQ(atomic_load(&exits_killed), 0);
    free(out);
}

/* With detection off (swarm_create's default) a receiver waits for a
 * foreign thread that sends much later: no report, wait returns 0. With
 * REPORT the same swarm is reported, and still waits. */
static atomic_int got_msg;

static void receiver(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    atomic_store(&got_msg, 1);
    swarm_msg_free(m);
}

typedef struct {
    swarm_pid_t to;
    int wait_report; /* send only after the report is out */
} sender_arg_t;

static void *foreign_sender(void *arg)
{
    sender_arg_t *a = arg;
    if (a->wait_report) {
        int64_t until = now_ms() + test_ms(60000);
        for (;;) {
            char *out = test_captured();
            int seen = strstr(out, "deadlock:") != NULL;
            free(out);
            if (seen)
                break;
            if (now_ms() > until)
                return (void *)1;
            usleep(1000);
        }
    } else {
        usleep((useconds_t)test_ms(200) * 1000); /* long enough for every scheduler to go to sleep */
    }
    CHECK_OK(swarm_send(a->to, 1, "x", 1));
    return NULL;
}

static void foreign_case(swarm_deadlock_mode_t mode)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 2;
    c.deadlock = mode;
    swarm_t *sw;
    test_capture_start();
    CHECK_OK(swarm_create(&sw, &c));
    sender_arg_t a = {.wait_report = mode == SWARM_DEADLOCK_REPORT};
    CHECK_OK(swarm_spawn_in(sw, &a.to, receiver, NULL, NULL));
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, foreign_sender, &a), 0);
    int r = swarm_wait(sw, SWARM_INFINITE);
    void *tr;
    pthread_join(t, &tr);
    CHECK_OK(swarm_destroy(sw));
    char *out = test_capture_stop();
    CHECK(tr == NULL);
    CHECK_EQ(r, 0);
    CHECK_EQ(atomic_load(&got_msg), 1);
    char pid[SWARM_PID_STRLEN_TEST];
    swarm_pid_format(a.to, pid, sizeof pid);
    if (mode == SWARM_DEADLOCK_REPORT) {
        CHECK(strstr(out, "deadlock: all 1 live process waits") != NULL);
        CHECK(strstr(out, pid) != NULL);
    } else {
        CHECK(strstr(out, "deadlock") == NULL);
    }
    free(out);
}

TEST(deadlock_off_foreign) { foreign_case(SWARM_DEADLOCK_DEFAULT); }
TEST(deadlock_report_foreign) { foreign_case(SWARM_DEADLOCK_REPORT); }

/* RETURN with swarm_create: swarm_wait says EDEADLK, again on a second
 * call, and waits normally once something woke the swarm. */
TEST(deadlock_wait_return)
{
    swarm_config_t c = test_config(2);
    c.deadlock = SWARM_DEADLOCK_RETURN;
    c.quiet = 1;
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_pid_t pid;
    CHECK_OK(swarm_spawn_in(sw, &pid, receiver, NULL, NULL));
    CHECK_EQ(swarm_wait(sw, SWARM_INFINITE), SWARM_EDEADLK);
    CHECK_EQ(swarm_wait(sw, SWARM_INFINITE), SWARM_EDEADLK);
    CHECK_OK(swarm_send(pid, 1, NULL, 0));
    CHECK_OK(swarm_wait(sw, SWARM_INFINITE));
    CHECK_EQ(atomic_load(&got_msg), 1);
    swarm_stats_t st;
    CHECK_OK(swarm_destroy_stats(sw, &st));
    CHECK_EQ(st.total.exits, 1);
    CHECK_EQ(st.msgs_delivered, 1);
}

TEST_MAIN(TEST_ENTRY(sched_default_affinity),
          TEST_ENTRY(sched_default_env),
          TEST_ENTRY(cgroup_quota),
          TEST_ENTRY(destroy_timeout),
          TEST_ENTRY(destroy_timeout_quick, TEST_DET),
          TEST_ENTRY(deadlock_run, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(deadlock_many, TEST_DET),
          TEST_ENTRY(deadlock_not_sleepers, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(deadlock_off_foreign),
          TEST_ENTRY(deadlock_report_foreign, TEST_CONCURRENCY),
          TEST_ENTRY(deadlock_wait_return, TEST_DET))
