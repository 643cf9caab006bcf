/*
 * api_test.c - every return code the public headers document, provoked.
 *
 * One case per header area. Each API_RET(fn, code, call) is read by
 * tests/api_doc_check.py (ctest api_test.doc_check), which fails when a
 * header lists a code that no test provokes or a test sees a code the
 * header does not list. Failure paths that need the allocator or the
 * kernel to refuse use the fault-injection table (base/sys.h), on
 * deterministic swarms (no other thread allocates meanwhile).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "base/sys.h"
#include "test.h"

static void quick(void *arg)
{
    (void)arg;
}

static void block(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0)
        swarm_msg_free(m);
}

static swarm_config_t det_config(void)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 1;
    c.deterministic_seed = test_seed();
    return c;
}

static swarm_config_t one_sched(void)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 1;
    return c;
}

/* ---- fault injection helpers ---- */
static int madvise_without_guard(void *addr, size_t len, int advice)
{
    if (advice == 102 /* MADV_GUARD_INSTALL */) {
        errno = EINVAL; /* what a kernel without it says */
        return -1;
    }
    return madvise(addr, len, advice);
}

static int thread_create_refused(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    (void)t, (void)a, (void)fn, (void)arg;
    return EAGAIN;
}

/* ---- swarm_create ---- */
TEST(create)
{
    swarm_t *sw;
    swarm_config_t c = one_sched();
    API_RET(swarm_create, 0, swarm_create(&sw, &c));
    API_RET(swarm_destroy, 0, swarm_destroy(sw));
    API_RET(swarm_create, 0, swarm_create(&sw, NULL));
    CHECK_OK(swarm_destroy(sw));

    API_RET(swarm_create, SWARM_EINVAL, swarm_create(NULL, &c));
    c = one_sched();
    c.schedulers = SWARM_LIMIT_SCHEDULERS + 1;
    API_RET(swarm_create, SWARM_EINVAL, swarm_create(&sw, &c));
    CHECK(sw == NULL);
    c = one_sched();
    c.max_procs = SWARM_LIMIT_MAX_PROCS + 1;
    API_RET(swarm_create, SWARM_EINVAL, swarm_create(&sw, &c));
    c = one_sched();
    c.stack_size = SWARM_MAX_STACK_SIZE + 1;
    API_RET(swarm_create, SWARM_EINVAL, swarm_create(&sw, &c));
    c = one_sched();
    c.max_msg_size = SWARM_LIMIT_MAX_MSG_SIZE + 1;
    API_RET(swarm_create, SWARM_EINVAL, swarm_create(&sw, &c));
    c = one_sched();
    c.guard_mode = (swarm_guard_mode_t)(SWARM_GUARD_CANARY + 1);
    API_RET(swarm_create, SWARM_EINVAL, swarm_create(&sw, &c));

    /* The first allocation fails. */
    c = det_config();
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_create, SWARM_ENOMEM, swarm_create(&sw, &c));
    swarm__sys_reset();
    CHECK(sw == NULL);

    /* MADVISE asked for on a kernel that has no MADV_GUARD_INSTALL. */
    c = det_config();
    c.guard_mode = SWARM_GUARD_MADVISE;
    SWARM__SYS_SET(madvise, madvise_without_guard);
    API_RET(swarm_create, SWARM_ENOSYS, swarm_create(&sw, &c));
    swarm__sys_reset();

    /* The system refuses a scheduler thread. */
    c = one_sched();
    SWARM__SYS_SET(thread_create, thread_create_refused);
    API_RET(swarm_create, SWARM_EAGAIN, swarm_create(&sw, &c));
    swarm__sys_reset();

    /* No swarm id left: 255 swarms live at once. */
    static swarm_t *many[256];
    int n = 0;
    c = det_config();
    c.max_procs = 1;
    while (n < 256 && swarm_create(&many[n], &c) == 0)
        n++;
    CHECK_EQ(n, 255);
    API_RET(swarm_create, SWARM_EAGAIN, swarm_create(&sw, &c));
    for (int i = 0; i < n; i++)
        CHECK_OK(swarm_destroy(many[i]));
    CHECK_OK(swarm_create(&sw, &c)); /* an id is free again */
    CHECK_OK(swarm_destroy(sw));
}

/* ---- swarm_wait, swarm_destroy, swarm_destroy_stats from inside ---- */
static atomic_int inside_done;

static void calls_from_inside(void *arg)
{
    (void)arg;
    swarm_t *me = swarm_current();
    CHECK(me != NULL);
    API_RET(swarm_wait, SWARM_EPERM, swarm_wait(me, 0));
    API_RET(swarm_destroy, SWARM_EPERM, swarm_destroy(me));
    swarm_stats_t st;
    API_RET(swarm_destroy_stats, SWARM_EPERM, swarm_destroy_stats(me, &st));
    API_RET(swarm_destroy_timeout, SWARM_EPERM, swarm_destroy_timeout(me, 0, &st));
    atomic_store(&inside_done, 1);
}

TEST(wait_destroy)
{
    swarm_t *sw;
    swarm_config_t c = one_sched();
    CHECK_OK(swarm_create(&sw, &c));
    API_RET(swarm_wait, 0, swarm_wait(sw, 0)); /* nothing alive */
    API_RET(swarm_wait, SWARM_EINVAL, swarm_wait(NULL, 0));
    API_RET(swarm_wait, SWARM_EINVAL, swarm_wait(sw, -2));
    API_RET(swarm_wait, SWARM_EINVAL, swarm_wait(sw, INT64_MIN));
    swarm_pid_t pid;
    CHECK_OK(swarm_spawn_in(sw, &pid, block, NULL, NULL));
    API_RET(swarm_wait, SWARM_ETIMEDOUT, swarm_wait(sw, 20));
    CHECK_OK(swarm_send(pid, 1, NULL, 0));
    API_RET(swarm_wait, 0, swarm_wait(sw, SWARM_INFINITE));
    CHECK_OK(swarm_spawn_in(sw, NULL, calls_from_inside, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_EQ(atomic_load(&inside_done), 1);
    API_RET(swarm_destroy, SWARM_EINVAL, swarm_destroy(NULL));
    API_RET(swarm_destroy_stats, SWARM_EINVAL, swarm_destroy_stats(NULL, NULL));
    swarm_stats_t st;
    API_RET(swarm_destroy_stats, 0, swarm_destroy_stats(sw, &st));
    CHECK_EQ(st.msgs_sent_total, 1);
    CHECK_EQ(st.msgs_delivered, 1);
    CHECK_EQ(st.msgs_in_flight, 0);

    /* Deadlock detection on: every live process waits forever. */
    c = one_sched();
    c.deadlock = SWARM_DEADLOCK_RETURN;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, block, NULL, NULL));
    API_RET(swarm_wait, SWARM_EDEADLK, swarm_wait(sw, SWARM_INFINITE));
    CHECK_OK(swarm_destroy(sw));
}

/* ---- swarm_destroy_timeout ---- */
static atomic_int hold_started, hold_release;

static void hold_scheduler(void *arg)
{
    (void)arg;
    atomic_store(&hold_started, 1);
    while (!atomic_load(&hold_release))
        ; /* no yield point: destroy cannot stop this scheduler */
}

TEST(destroy_timeout)
{
    swarm_t *sw;
    swarm_config_t c = one_sched();
    c.quiet = 1;
    API_RET(swarm_destroy_timeout, SWARM_EINVAL, swarm_destroy_timeout(NULL, 0, NULL));
    CHECK_OK(swarm_create(&sw, &c));
    API_RET(swarm_destroy_timeout, SWARM_EINVAL, swarm_destroy_timeout(sw, -2, NULL));
    CHECK_OK(swarm_spawn_in(sw, NULL, hold_scheduler, NULL, NULL));
    TEST_POLL(atomic_load(&hold_started), 60000);
    API_RET(swarm_destroy_timeout, SWARM_ETIMEDOUT, swarm_destroy_timeout(sw, 20, NULL));
    atomic_store(&hold_release, 1);
    swarm_stats_t st;
    API_RET(swarm_destroy_timeout, 0, swarm_destroy_timeout(sw, SWARM_INFINITE, &st));
    CHECK_EQ(st.procs_live, 0);
}

/* ---- swarm_run ---- */
TEST(run)
{
    swarm_config_t c = one_sched();
    API_RET(swarm_run, 0, swarm_run(&c, quick, NULL));
    API_RET(swarm_run, SWARM_EINVAL, swarm_run(&c, NULL, NULL));
    c.max_procs = SWARM_LIMIT_MAX_PROCS + 1;
    API_RET(swarm_run, SWARM_EINVAL, swarm_run(&c, quick, NULL));
    c = det_config();
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_run, SWARM_ENOMEM, swarm_run(&c, quick, NULL));
    swarm__sys_reset();
    c.guard_mode = SWARM_GUARD_MADVISE;
    SWARM__SYS_SET(madvise, madvise_without_guard);
    API_RET(swarm_run, SWARM_ENOSYS, swarm_run(&c, quick, NULL));
    swarm__sys_reset();
    c = one_sched();
    SWARM__SYS_SET(thread_create, thread_create_refused);
    API_RET(swarm_run, SWARM_EAGAIN, swarm_run(&c, quick, NULL));
    swarm__sys_reset();
    /* A process that waits forever with nobody to wake it: a deadlock,
     * reported (quiet here) and returned; in deterministic mode with the
     * detection off, the swarm could never end: SWARM_ETIMEDOUT. */
    c = one_sched();
    c.quiet = 1;
    API_RET(swarm_run, SWARM_EDEADLK, swarm_run(&c, block, NULL));
    c = det_config();
    c.quiet = 1;
    API_RET(swarm_run, SWARM_EDEADLK, swarm_run(&c, block, NULL));
    c.deadlock = SWARM_DEADLOCK_OFF;
    API_RET(swarm_run, SWARM_ETIMEDOUT, swarm_run(&c, block, NULL));
}

/* ---- swarm_info, swarm_stats, swarm_sched_stats ---- */
TEST(info_stats)
{
    swarm_t *sw;
    swarm_config_t c = one_sched();
    c.schedulers = 2;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_info_t info;
    API_RET(swarm_info, 0, swarm_info(sw, &info));
    CHECK_EQ(info.schedulers, 2);
    API_RET(swarm_info, SWARM_EINVAL, swarm_info(NULL, &info));
    API_RET(swarm_info, SWARM_EINVAL, swarm_info(sw, NULL));
    swarm_stats_t st;
    API_RET(swarm_stats, 0, swarm_stats(sw, &st));
    API_RET(swarm_stats, SWARM_EINVAL, swarm_stats(NULL, &st));
    API_RET(swarm_stats, SWARM_EINVAL, swarm_stats(sw, NULL));
    swarm_sched_stats_t ss;
    API_RET(swarm_sched_stats, 0, swarm_sched_stats(sw, 1, &ss));
    API_RET(swarm_sched_stats, SWARM_EINVAL, swarm_sched_stats(sw, 2, &ss));
    API_RET(swarm_sched_stats, SWARM_EINVAL, swarm_sched_stats(NULL, 0, &ss));
    API_RET(swarm_sched_stats, SWARM_EINVAL, swarm_sched_stats(sw, 0, NULL));
    CHECK_OK(swarm_destroy(sw));
}

/* ---- swarm_spawn (from a process) ---- */
static atomic_int spawn_done;

static void spawn_calls(void *arg)
{
    (void)arg;
    API_RET(swarm_spawn, 0, swarm_spawn(NULL, block, NULL, NULL)); /* 2 of 3 slots used */
    API_RET(swarm_spawn, SWARM_EINVAL, swarm_spawn(NULL, NULL, NULL, NULL));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.scheduler = 1; /* the swarm has one */
    API_RET(swarm_spawn, SWARM_EINVAL, swarm_spawn(NULL, quick, NULL, &o));
    o.scheduler = -2;
    API_RET(swarm_spawn, SWARM_EINVAL, swarm_spawn(NULL, quick, NULL, &o));
    swarm_spawn_opts_init(&o);
    o.stack_size = SWARM_MAX_STACK_SIZE + 1;
    API_RET(swarm_spawn, SWARM_EINVAL, swarm_spawn(NULL, quick, NULL, &o));
    /* A stack of a size class not used yet needs a new chunk: its first
     * allocation fails. (Deterministic swarm: no other thread allocates.) */
    o.stack_size = SWARM_MAX_STACK_SIZE;
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_spawn, SWARM_ENOMEM, swarm_spawn(NULL, quick, NULL, &o));
    swarm__sys_reset();
    swarm_pid_t last;
    CHECK_OK(swarm_spawn(&last, block, NULL, NULL)); /* 3 of 3 */
    API_RET(swarm_spawn, SWARM_EAGAIN, swarm_spawn(NULL, quick, NULL, NULL));
    atomic_store(&spawn_done, 1);
}

TEST(spawn)
{
    API_RET(swarm_spawn, SWARM_ENOTPROC, swarm_spawn(NULL, quick, NULL, NULL));
    swarm_t *sw;
    swarm_config_t c = det_config();
    c.max_procs = 3;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, spawn_calls, NULL, NULL));
    CHECK_EQ(swarm_wait(sw, 60000), SWARM_ETIMEDOUT); /* the blocked ones stay */
    CHECK_EQ(atomic_load(&spawn_done), 1);
    CHECK_OK(swarm_destroy(sw));
}

/* ESHUTDOWN: a process still running while the swarm is destroyed. It
 * spins on a full table (EAGAIN costs no reductions, so it never yields)
 * until destroy marks the swarm as shutting down. */
static atomic_int spinner_started, spinner_done;

static void shutdown_spinner(void *arg)
{
    (void)arg;
    atomic_store(&spinner_started, 1);
    while (swarm_spawn(NULL, quick, NULL, NULL) == SWARM_EAGAIN)
        ;
    /* Shutting down stays: the next call says so again. */
    API_RET(swarm_spawn, SWARM_ESHUTDOWN, swarm_spawn(NULL, quick, NULL, NULL));
    atomic_store(&spinner_done, 1);
}

TEST(spawn_shutdown)
{
    swarm_t *sw;
    swarm_config_t c = one_sched();
    c.max_procs = 2;
    c.quiet = 1; /* the watchdog will see the spinner */
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, block, NULL, NULL));
    CHECK_OK(swarm_spawn_in(sw, NULL, shutdown_spinner, NULL, NULL));
    TEST_POLL(atomic_load(&spinner_started), 60000);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&spinner_done), 1);
}

/* ---- swarm_spawn_in ---- */
static atomic_int hook_checked;

static void spawn_in_from_exit_hook(swarm_t *sw, const swarm_exit_info_t *info, void *ud)
{
    (void)ud;
    if (info->reason != SWARM_EXIT_KILLED)
        return;
    /* Called during destroy: the swarm takes no new process. */
    API_RET(swarm_spawn_in, SWARM_ESHUTDOWN, swarm_spawn_in(sw, NULL, quick, NULL, NULL));
    atomic_fetch_add(&hook_checked, 1);
}

TEST(spawn_in)
{
    swarm_t *sw;
    swarm_config_t c = det_config();
    c.max_procs = 2;
    c.on_exit = spawn_in_from_exit_hook;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    API_RET(swarm_spawn_in, SWARM_EINVAL, swarm_spawn_in(NULL, NULL, quick, NULL, NULL));
    API_RET(swarm_spawn_in, SWARM_EINVAL, swarm_spawn_in(sw, NULL, NULL, NULL, NULL));
    o.scheduler = 3;
    API_RET(swarm_spawn_in, SWARM_EINVAL, swarm_spawn_in(sw, NULL, quick, NULL, &o));
    swarm_spawn_opts_init(&o);
    o.stack_size = SWARM_MAX_STACK_SIZE;
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_spawn_in, SWARM_ENOMEM, swarm_spawn_in(sw, NULL, quick, NULL, &o));
    swarm__sys_reset();
    API_RET(swarm_spawn_in, 0, swarm_spawn_in(sw, NULL, block, NULL, NULL));
    API_RET(swarm_spawn_in, 0, swarm_spawn_in(sw, NULL, block, NULL, &o));
    API_RET(swarm_spawn_in, SWARM_EAGAIN, swarm_spawn_in(sw, NULL, quick, NULL, NULL));
    CHECK_EQ(swarm_wait(sw, 100), SWARM_ETIMEDOUT);
    CHECK_OK(swarm_destroy(sw)); /* kills both: the hook checks twice */
    CHECK_EQ(atomic_load(&hook_checked), 2);
}

/* ---- swarm_send ---- */
TEST(send)
{
    swarm_t *sw;
    swarm_config_t c = det_config();
    c.max_msg_size = 100;
    c.max_procs = 1u << 20; /* below the pid's 24-bit slot field: slots past the table exist */
    CHECK_OK(swarm_create(&sw, &c));
    swarm_pid_t live, dead;
    CHECK_OK(swarm_spawn_in(sw, &dead, quick, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_spawn_in(sw, &live, block, NULL, NULL));
    char buf[101] = {0};
    API_RET(swarm_send, SWARM_ESRCH, swarm_send(dead, 1, buf, 1));
    API_RET(swarm_send, SWARM_EINVAL, swarm_send(SWARM_PID_NONE, 1, buf, 1));
    API_RET(swarm_send, SWARM_EINVAL, swarm_send(live, SWARM_TAG_SYSTEM, buf, 1));
    API_RET(swarm_send, SWARM_EINVAL, swarm_send(live, 1, NULL, 1));
    swarm_pid_t bad_slot = (live & ~(swarm_pid_t)0xFFFFFF) | 0xFFFFFF; /* index past max_procs */
    API_RET(swarm_send, SWARM_EINVAL, swarm_send(bad_slot, 1, buf, 1));
    API_RET(swarm_send, SWARM_EMSGSIZE, swarm_send(live, 1, buf, 101));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_send, SWARM_ENOMEM, swarm_send(live, 1, buf, 100));
    swarm__sys_reset();
    API_RET(swarm_send, 0, swarm_send(live, 1, buf, 100));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    swarm_stats_t st;
    CHECK_OK(swarm_destroy_stats(sw, &st));
    /* Each refused send is a rejection; the one accepted was delivered. */
    CHECK_EQ(st.msgs_rejected, 6); /* all but SWARM_PID_NONE, which names no swarm */
    CHECK_EQ(st.msgs_sent_total, 1);
    CHECK_EQ(st.msgs_delivered, 1);
    CHECK_EQ(st.msgs_dropped, 0);
    /* A pid of a swarm that is gone. */
    API_RET(swarm_send, SWARM_ESRCH, swarm_send(live, 1, buf, 1));
}

/* ---- receive, sleep, yield, pin ---- */
static int want_tag_3(const swarm_msg_t *m, void *ctx)
{
    (void)ctx;
    return swarm_msg_tag(m) == 3;
}

static atomic_int proc_calls_done;

static void proc_calls(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_pid_t me = swarm_self();
    API_RET(swarm_recv, SWARM_ETIMEDOUT, swarm_recv(&m, 0));
    API_RET(swarm_recv, SWARM_ETIMEDOUT, swarm_recv(&m, 2));
    API_RET(swarm_recv, SWARM_EINVAL, swarm_recv(NULL, 0));
    API_RET(swarm_recv, SWARM_EINVAL, swarm_recv(&m, -2));
    API_RET(swarm_recv, SWARM_EINVAL, swarm_recv(&m, INT64_MIN));
    CHECK_OK(swarm_send(me, 3, NULL, 0));
    API_RET(swarm_recv, 0, swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);

    API_RET(swarm_recv_tag, SWARM_ETIMEDOUT, swarm_recv_tag(3, &m, 0));
    API_RET(swarm_recv_tag, SWARM_EINVAL, swarm_recv_tag(3, NULL, 0));
    API_RET(swarm_recv_tag, SWARM_EINVAL, swarm_recv_tag(3, &m, -7));
    CHECK_OK(swarm_send(me, 4, NULL, 0));
    CHECK_OK(swarm_send(me, 3, NULL, 0));
    API_RET(swarm_recv_tag, 0, swarm_recv_tag(3, &m, test_ms(1000)));
    swarm_msg_free(m);

    API_RET(swarm_recv_match, SWARM_ETIMEDOUT, swarm_recv_match(want_tag_3, NULL, &m, 0));
    API_RET(swarm_recv_match, SWARM_EINVAL, swarm_recv_match(NULL, NULL, &m, 0));
    API_RET(swarm_recv_match, SWARM_EINVAL, swarm_recv_match(want_tag_3, NULL, NULL, 0));
    API_RET(swarm_recv_match, SWARM_EINVAL, swarm_recv_match(want_tag_3, NULL, &m, -2));
    CHECK_OK(swarm_send(me, 3, NULL, 0));
    API_RET(swarm_recv_match, 0, swarm_recv_match(want_tag_3, NULL, &m, test_ms(1000)));
    swarm_msg_free(m);
    CHECK_EQ(swarm_mailbox_len(), 1); /* the tag-4 message stayed */

    API_RET(swarm_sleep, 0, swarm_sleep(0));
    API_RET(swarm_sleep, 0, swarm_sleep(1));
    API_RET(swarm_sleep, SWARM_EINVAL, swarm_sleep(-1));
    API_RET(swarm_sleep, SWARM_EINVAL, swarm_sleep(INT64_MIN));
    API_RET(swarm_yield, 0, swarm_yield());
    API_RET(swarm_pin, 0, swarm_pin());
    API_RET(swarm_unpin, 0, swarm_unpin());
    atomic_store(&proc_calls_done, 1);
}

TEST(process_calls)
{
    swarm_msg_t *m = NULL;
    API_RET(swarm_recv, SWARM_ENOTPROC, swarm_recv(&m, 0));
    API_RET(swarm_recv_tag, SWARM_ENOTPROC, swarm_recv_tag(1, &m, 0));
    API_RET(swarm_recv_match, SWARM_ENOTPROC, swarm_recv_match(want_tag_3, NULL, &m, 0));
    API_RET(swarm_sleep, SWARM_ENOTPROC, swarm_sleep(1));
    API_RET(swarm_yield, SWARM_ENOTPROC, swarm_yield());
    API_RET(swarm_pin, SWARM_ENOTPROC, swarm_pin());
    API_RET(swarm_unpin, SWARM_ENOTPROC, swarm_unpin());
    swarm_config_t c = one_sched();
    CHECK_OK(swarm_run(&c, proc_calls, NULL));
    CHECK_EQ(atomic_load(&proc_calls_done), 1);
}

/* ---- swarm_strerror ---- */
TEST(strerror_all)
{
    static const int codes[] = {SWARM_OK,       SWARM_EPERM,     SWARM_ESRCH,    SWARM_EAGAIN,
                                SWARM_ENOMEM,   SWARM_EINVAL,    SWARM_EMSGSIZE, SWARM_ETIMEDOUT,
                                SWARM_ENOSYS,   SWARM_EDEADLK,   SWARM_ENOTPROC, SWARM_ESHUTDOWN,
                                SWARM_EBUSY,    SWARM_EEXIST,    SWARM_ENOENT,   SWARM_ECANCELED,
                                SWARM_EOWNERDEAD,
                                SWARM_EBADF,    SWARM_ECLOSED,   SWARM_ETLS};
    size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = swarm_strerror(12345);
    CHECK(strcmp(unknown, "unknown error") == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = swarm_strerror(codes[i]);
        CHECK(s != NULL && strcmp(s, unknown) != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, swarm_strerror(codes[j])) != 0);
    }
}

TEST_MAIN(TEST_ENTRY(create), TEST_ENTRY(wait_destroy), TEST_ENTRY(destroy_timeout), TEST_ENTRY(run), TEST_ENTRY(info_stats),
          TEST_ENTRY(spawn), TEST_ENTRY(spawn_shutdown), TEST_ENTRY(spawn_in), TEST_ENTRY(send),
          TEST_ENTRY(process_calls), TEST_ENTRY(strerror_all))
