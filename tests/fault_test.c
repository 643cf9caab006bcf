/*
 * fault_test.c - fault injection: every allocation a path makes may fail,
 * and so may the syscalls behind it. Each failure must give a clean error
 * code, leave the swarm usable, and leak nothing (the ASan build's leak
 * checker runs at exit of every case).
 *
 * The allocation countdown (base/sys.h: swarm__alloc_fail_at = N fails the
 * N-th allocation from now) is walked from 1 upward until a run passes
 * without the countdown firing: then every allocation of the path has been
 * failed once.
 */
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "base/sys.h"
#include "test.h"

static swarm_config_t config(unsigned schedulers)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = schedulers;
    c.max_procs = 4096;
    c.quiet = 1;
    return c;
}

static int countdown_fired(void)
{
    return atomic_load(&swarm__alloc_fail_at) == 0;
}

static void arm(long n)
{
    atomic_store(&swarm__alloc_fail_at, n);
}

static int thread_count(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Mappings the runtime holds: successful mmaps minus munmaps through the
 * syscall table (exact, whatever glibc or the sanitizers map for
 * themselves). */
static atomic_long live_maps;
static atomic_int mmaps_left = 1 << 30;
static void *counting_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (atomic_fetch_sub(&mmaps_left, 1) <= 0)
        return MAP_FAILED;
    void *p = mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED)
        atomic_fetch_add(&live_maps, 1);
    return p;
}
static int counting_munmap(void *addr, size_t len)
{
    atomic_fetch_sub(&live_maps, 1);
    return munmap(addr, len);
}
static void count_maps(void)
{
    atomic_store(&live_maps, 0);
    atomic_store(&mmaps_left, 1 << 30);
    SWARM__SYS_SET(mmap, counting_mmap);
    SWARM__SYS_SET(munmap, counting_munmap);
}

/* ---- swarm_create ----
 * Mappings are compared between a first and a second pass of the same
 * walk: the first pass also warms up what glibc and the sanitizers map
 * for themselves; a leak shows as growth in the second. */
static int walk_create_pass(int check_threads)
{
    int threads0 = thread_count();
    long n;
    int failures = 0;
    for (n = 1; n < 200; n++) {
        swarm_t *sw = NULL;
        swarm_config_t c = config(2);
        arm(n);
        int r = swarm_create(&sw, &c);
        int fired = countdown_fired();
        arm(0);
        if (r == 0) {
            CHECK(sw != NULL);
            CHECK_OK(swarm_destroy(sw));
            if (!fired)
                break; /* every allocation of create has been failed once */
        } else {
            CHECK_EQ(r, SWARM_ENOMEM);
            CHECK(sw == NULL);
            failures++;
        }
        if (check_threads)
            CHECK_EQ(thread_count(), threads0);
    }
    CHECK_CMP(n, <, 200);
    return failures;
}

TEST(walk_create)
{
    walk_create_pass(0); /* also lets sanitizer runtimes start their threads */
    count_maps();
    int failures = walk_create_pass(1);
    printf("swarm_create: %d allocation failures walked\n", failures);
    CHECK_CMP(failures, >=, 1);
    CHECK_EQ(atomic_load(&live_maps), 0);
    swarm__sys_reset();
}

/* ---- spawn, send and timers, from inside a process ---- */
typedef struct walk {
    long n;
    int result;
    int fired;
} walk_t;

static void child(void *arg)
{
    (void)arg;
}

static void do_spawn(void *arg)
{
    walk_t *w = arg;
    /* A stack class nobody used yet: its first chunk is reserved now. */
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.stack_size = 256 * 1024;
    arm(w->n);
    w->result = swarm_spawn(NULL, child, NULL, &o);
    w->fired = countdown_fired();
    arm(0);
}

static void do_send(void *arg)
{
    walk_t *w = arg;
    long big[64] = {1}; /* larger than the small-message cache's blocks */
    arm(w->n);
    w->result = swarm_send(swarm_self(), 1, big, sizeof big);
    w->fired = countdown_fired();
    arm(0);
    if (w->result == 0) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, 0));
        CHECK_EQ(((const long *)swarm_msg_data(m))[0], 1);
        swarm_msg_free(m);
    }
}

static void do_timer(void *arg)
{
    walk_t *w = arg;
    swarm_msg_t *m;
    int64_t t0 = swarm_now_ms();
    arm(w->n);
    /* Without memory for a timer or its signal a timed receive still ends
     * at its deadline (it polls instead of sleeping). */
    w->result = swarm_recv(&m, 5);
    w->fired = countdown_fired();
    arm(0);
    int64_t took = swarm_now_ms() - t0;
    CHECK_CMP(took, >=, 5);
    CHECK_CMP(took, <, test_ms(2000));
}

static void walk(const char *what, swarm_fn fn, int expect_ok, int expect_fail)
{
    int failures = 0;
    long n;
    for (n = 1; n < 100; n++) {
        swarm_t *sw;
        swarm_config_t c = config(1);
        CHECK_OK(swarm_create(&sw, &c));
        walk_t w = {.n = n};
        CHECK_OK(swarm_spawn_in(sw, NULL, fn, &w, NULL));
        CHECK_OK(swarm_wait(sw, test_ms(10000)));
        swarm_stats_t st;
        CHECK_OK(swarm_destroy_stats(sw, &st));
        CHECK_EQ(st.procs_live, 0);
        CHECK_EQ(st.msgs_sent_total, st.msgs_delivered + st.msgs_dropped);
        if (w.fired) {
            CHECK(w.result == expect_ok || w.result == expect_fail);
            failures++;
        } else {
            CHECK_EQ(w.result, expect_ok);
        }
        if (!w.fired)
            break;
    }
    printf("%s: %d allocation failures walked (%ld allocations)\n", what, failures, n - 1);
    CHECK_CMP(n, <, 100);
}

TEST(walk_spawn)
{
    walk("swarm_spawn", do_spawn, 0, SWARM_ENOMEM);
}

TEST(walk_send)
{
    walk("swarm_send", do_send, 0, SWARM_ENOMEM);
}

TEST(walk_timer)
{
    walk("timed receive", do_timer, SWARM_ETIMEDOUT, SWARM_ETIMEDOUT);
}

/* ---- syscalls ---- */
static atomic_int threads_left;
static int failing_thread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (atomic_fetch_sub(&threads_left, 1) <= 0)
        return EAGAIN;
    return pthread_create(t, a, fn, arg);
}

TEST(thread_create_fails)
{
    /* Sanitizer runtimes start helper threads lazily: settle first. */
    swarm_t *warm;
    swarm_config_t wc = config(2);
    CHECK_OK(swarm_create(&warm, &wc));
    CHECK_OK(swarm_destroy(warm));
    int threads0 = thread_count();
    for (int ok_threads = 0; ok_threads < 3; ok_threads++) {
        SWARM__SYS_SET(thread_create, failing_thread_create);
        atomic_store(&threads_left, ok_threads);
        swarm_t *sw = NULL;
        swarm_config_t c = config(2); /* 2 schedulers + 1 watchdog thread */
        CHECK_EQ(swarm_create(&sw, &c), SWARM_EAGAIN);
        CHECK(sw == NULL);
        swarm__sys_reset();
        CHECK_EQ(thread_count(), threads0); /* the threads that started were joined */
    }
}

static int mmap_fails_pass(void)
{
    int failures = 0;
    for (int ok = 0; ok < 20; ok++) {
        count_maps();
        atomic_store(&mmaps_left, ok);
        swarm_t *sw = NULL;
        swarm_config_t c = config(1);
        int r = swarm_create(&sw, &c);
        if (r == 0) {
            /* Create got all it needed; spawning may need more mappings. */
            int s = swarm_spawn_in(sw, NULL, child, NULL, NULL);
            CHECK(s == 0 || s == SWARM_ENOMEM);
            failures += s != 0;
            atomic_store(&mmaps_left, 1 << 30);
            CHECK_OK(swarm_spawn_in(sw, NULL, child, NULL, NULL)); /* usable again */
            CHECK_OK(swarm_wait(sw, test_ms(10000)));
            CHECK_OK(swarm_destroy(sw));
        } else {
            CHECK_EQ(r, SWARM_ENOMEM);
            failures++;
        }
        CHECK_EQ(atomic_load(&live_maps), 0); /* every mapping made was unmapped */
        swarm__sys_reset();
    }
    return failures;
}

TEST(mmap_fails)
{
    int failures = mmap_fails_pass();
    printf("mmap failures injected: %d\n", failures);
    CHECK_CMP(failures, >=, 2);
}

/* Guard installation (madvise) failing makes spawn fail cleanly; slow
 * syscalls (an injected delay) change nothing but time. */
static atomic_int madvise_mode; /* 0 pass, 1 fail guard installs, 2 delay */
static int odd_madvise(void *addr, size_t len, int advice)
{
    int mode = atomic_load(&madvise_mode);
    if (mode == 1 && advice != MADV_DONTNEED && advice != MADV_NOHUGEPAGE) {
        errno = ENOMEM;
        return -1;
    }
    if (mode == 2)
        usleep(200);
    return madvise(addr, len, advice);
}

typedef struct spawner {
    int mode;
    int result;
} spawner_t;

static void spawn_many(void *arg)
{
    spawner_t *sp = arg;
    int *result = &sp->result;
    atomic_store(&madvise_mode, sp->mode); /* this process already has its stack */
    for (int i = 0; i < 300; i++) {
        int r = swarm_spawn(NULL, child, NULL, NULL);
        if (r != 0) {
            *result = r;
            return;
        }
    }
    *result = 0;
}

TEST(madvise_fails_or_stalls)
{
    swarm_t *sw;
    swarm_config_t c = config(1);
    c.guard_mode = SWARM_GUARD_MADVISE;
    if (swarm_create(&sw, &c) == SWARM_ENOSYS) {
        printf("kernel without MADV_GUARD_INSTALL: the MPROTECT path is tested in crash_test\n");
        c.guard_mode = SWARM_GUARD_AUTO;
        CHECK_OK(swarm_create(&sw, &c));
    }
    SWARM__SYS_SET(madvise, odd_madvise);
    spawner_t sp = {.mode = 1, .result = 1};
    CHECK_OK(swarm_spawn_in(sw, NULL, spawn_many, &sp, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    swarm_info_t info;
    swarm_info(sw, &info);
    if (info.guard_mode == SWARM_GUARD_MADVISE)
        CHECK_EQ(sp.result, SWARM_ENOMEM); /* fresh slots need a guard: refused */
    atomic_store(&madvise_mode, 0);
    sp.mode = 2;
    CHECK_OK(swarm_spawn_in(sw, NULL, spawn_many, &sp, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(30000)));
    CHECK_EQ(sp.result, 0);
    swarm__sys_reset();
    CHECK_OK(swarm_destroy(sw));
}

/* Issue 7 item 2: a kernel (or qemu-user) that accepts MADV_GUARD_INSTALL
 * and installs nothing. AUTO must see that the guard does not trap and
 * step down; swarm_info says what was verified. Likewise for mprotect. */
static int lying_madvise(void *addr, size_t len, int advice)
{
    if (advice == 102 /* MADV_GUARD_INSTALL */)
        return 0;
    return madvise(addr, len, advice);
}
static int lying_mprotect(void *addr, size_t len, int prot)
{
    if (prot == PROT_NONE)
        return 0;
    return mprotect(addr, len, prot);
}

TEST(guard_that_does_not_trap)
{
    swarm_t *sw;
    swarm_info_t info;
    swarm_config_t c = config(1);
    CHECK_OK(swarm_create(&sw, &c));
    swarm_info(sw, &info);
    printf("real kernel: mode %d verified %d rejected %#x no_trap %#x guard %zu\n", (int)info.guard_mode,
           info.guard_verified, info.guard_rejected, info.guard_no_trap, info.guard_size);
    CHECK_EQ(info.guard_no_trap, 0);
    CHECK_EQ(info.guard_verified, info.guard_mode != SWARM_GUARD_CANARY);
    CHECK_OK(swarm_destroy(sw));

    SWARM__SYS_SET(madvise, lying_madvise);
    c.guard_mode = SWARM_GUARD_MADVISE;
    CHECK_EQ(swarm_create(&sw, &c), SWARM_ENOSYS);
    c.guard_mode = SWARM_GUARD_AUTO;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_info(sw, &info);
    CHECK_EQ(info.guard_mode, SWARM_GUARD_MPROTECT);
    CHECK_EQ(info.guard_verified, 1);
    CHECK(info.guard_rejected & (1u << SWARM_GUARD_MADVISE));
    CHECK(info.guard_no_trap & (1u << SWARM_GUARD_MADVISE));
    CHECK_OK(swarm_destroy(sw));

    SWARM__SYS_SET(mprotect, lying_mprotect);
    CHECK_OK(swarm_create(&sw, &c));
    swarm_info(sw, &info);
    CHECK_EQ(info.guard_mode, SWARM_GUARD_CANARY);
    CHECK_EQ(info.guard_verified, 0);
    CHECK_EQ(info.guard_no_trap, (1u << SWARM_GUARD_MADVISE) | (1u << SWARM_GUARD_MPROTECT));
    CHECK_OK(swarm_destroy(sw));
    swarm__sys_reset();
}

TEST_MAIN(TEST_ENTRY(walk_create), TEST_ENTRY(walk_spawn), TEST_ENTRY(walk_send), TEST_ENTRY(walk_timer),
          TEST_ENTRY(thread_create_fails), TEST_ENTRY(mmap_fails), TEST_ENTRY(madvise_fails_or_stalls),
          TEST_ENTRY(guard_that_does_not_trap))
