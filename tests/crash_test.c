/*
 * crash_test.c - crashes stay in their process (invariant 7).
 *
 * While 1,000 processes exchange messages, one process overflows its stack
 * (or dereferences NULL, or divides by zero): only that process ends, with
 * the right reason and a report; every message among the others arrives.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "runtime/swarm.h" /* white-box: the arena's resident pages */
#include "sched/sched.h" /* white-box: the canary case needs the slot's bounds */
#include "test.h"

#define WORKERS 1000

static atomic_long exits_normal, exits_overflow, exits_crash, exits_other;
static swarm_exit_info_t last_crash;
static swarm_pid_t victim_pid;

/* Several schedulers may report crashes at once (overflow_decommits). */
static pthread_mutex_t last_crash_lock = PTHREAD_MUTEX_INITIALIZER;
static void set_last_crash(const swarm_exit_info_t *info)
{
    pthread_mutex_lock(&last_crash_lock);
    last_crash = *info;
    pthread_mutex_unlock(&last_crash_lock);
}

static void on_exit_hook(swarm_t *sw, const swarm_exit_info_t *info, void *ud)
{
    (void)sw;
    (void)ud;
    switch (info->reason) {
    case SWARM_EXIT_NORMAL: atomic_fetch_add(&exits_normal, 1); break;
    /* last_crash first: a reader that sees the count sees it too. */
    case SWARM_EXIT_STACK_OVERFLOW: set_last_crash(info); atomic_fetch_add(&exits_overflow, 1); break;
    case SWARM_EXIT_CRASH: set_last_crash(info); atomic_fetch_add(&exits_crash, 1); break;
    default: atomic_fetch_add(&exits_other, 1); break;
    }
}

static void reset_counts(void)
{
    atomic_store(&exits_normal, 0);
    atomic_store(&exits_overflow, 0);
    atomic_store(&exits_crash, 0);
    atomic_store(&exits_other, 0);
    memset(&last_crash, 0, sizeof last_crash);
}

/* ---- the bystanders: a ring of WORKERS passing tokens ---- */
typedef struct ring {
    swarm_pid_t pids[WORKERS];
    atomic_int ready;
    long rounds;
    atomic_long hops;
} ring_t;
static ring_t ring;

static void ring_worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    while (!atomic_load(&ring.ready))
        swarm_yield();
    swarm_pid_t next = ring.pids[(me + 1) % WORKERS];
    if (me == 0) {
        long tok = 0;
        CHECK_OK(swarm_send(next, 0, &tok, sizeof tok));
    }
    /* Each worker sees the token `rounds` times; worker 0 starts it and
     * takes it out after the last round. */
    for (long r = 0; r < ring.rounds; r++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
        long tok = *(const long *)swarm_msg_data(m) + 1;
        swarm_msg_free(m);
        atomic_fetch_add(&ring.hops, 1);
        if (!(me == 0 && r == ring.rounds - 1))
            CHECK_OK(swarm_send(next, 0, &tok, sizeof tok));
    }
}

/* ---- the victims ---- */
/* Recursion that only stops at an absurd depth the stack cannot hold
 * (the bound keeps the compiler from calling it infinite). */
static volatile int depth_limit = 1 << 30;
static int deep(volatile char *prev, int depth)
{
    volatile char buf[256];
    buf[0] = (char)depth;
    buf[1] = prev ? prev[0] : 0;
    if (depth >= depth_limit)
        return buf[1];
    return deep(buf, depth + 1) + buf[1];
}

static void overflow_proc(void *arg)
{
    (void)arg;
    victim_pid = swarm_self();
    swarm_yield(); /* let the ring get going */
    (void)deep(NULL, 0);
}

/* The victims crash on purpose: UBSan must let the fault happen. */
#define CRASHES_ON_PURPOSE __attribute__((no_sanitize("undefined")))

CRASHES_ON_PURPOSE static void null_proc(void *arg)
{
    (void)arg;
    victim_pid = swarm_self();
    swarm_yield();
    volatile int *p = NULL;
    *p = 42;
}

static volatile int zero = 0, forty_two = 42;
CRASHES_ON_PURPOSE static void fpe_proc(void *arg)
{
    (void)arg;
    victim_pid = swarm_self();
    swarm_yield();
    volatile int x = forty_two / zero;
    (void)x;
}

static void run_with_victim(swarm_fn victim, swarm_guard_mode_t guard)
{
    reset_counts();
    memset(&ring, 0, sizeof ring);
    ring.rounds = test_scale(200);
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.on_exit = on_exit_hook;
    c.guard_mode = guard;
    CHECK_OK(swarm_create(&sw, &c));
    for (int i = 0; i < WORKERS; i++)
        CHECK_OK(swarm_spawn_in(sw, &ring.pids[i], ring_worker, (void *)(intptr_t)i, NULL));
    swarm_pid_t vp;
    CHECK_OK(swarm_spawn_in(sw, &vp, victim, NULL, NULL));
    atomic_store(&ring.ready, 1);
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_EQ(atomic_load(&ring.hops), (long)WORKERS * ring.rounds);
    CHECK_EQ(atomic_load(&exits_normal), WORKERS);
    CHECK_EQ(atomic_load(&exits_other), 0);
    CHECK_EQ(last_crash.pid, vp);
    CHECK_EQ(victim_pid, vp);
    swarm_stats_t st;
    swarm_stats(sw, &st);
    CHECK_EQ(st.total.crashes, 1);
    CHECK_EQ(st.procs_live, 0);
    CHECK_OK(swarm_destroy(sw));
}

TEST(stack_overflow)
{
    run_with_victim(overflow_proc, SWARM_GUARD_AUTO);
    CHECK_EQ(atomic_load(&exits_overflow), 1);
    CHECK_EQ(atomic_load(&exits_crash), 0);
    CHECK(last_crash.signo == SIGSEGV || last_crash.signo == SIGBUS);
}

TEST(null_deref)
{
    run_with_victim(null_proc, SWARM_GUARD_AUTO);
    CHECK_EQ(atomic_load(&exits_crash), 1);
    CHECK_EQ(atomic_load(&exits_overflow), 0);
    CHECK_EQ(last_crash.signo, SIGSEGV);
    CHECK_EQ(last_crash.fault_addr, 0);
    CHECK(last_crash.fault_pc != 0);
}

TEST(fpe)
{
    run_with_victim(fpe_proc, SWARM_GUARD_AUTO);
    CHECK_EQ(atomic_load(&exits_crash), 1);
    CHECK_EQ(last_crash.signo, SIGFPE);
}

TEST(mprotect_mode)
{
    run_with_victim(overflow_proc, SWARM_GUARD_MPROTECT);
    CHECK_EQ(atomic_load(&exits_overflow), 1);
}

/* Canary mode has no fault to catch: an overflow that stays within the
 * slot's unprotected guard page is seen at the next switch. */
static uintptr_t canary_debug[3];
static void canary_proc(void *arg)
{
    (void)arg;
    victim_pid = swarm_self();
    /* A frame reaching just below the usable bottom of the stack (into the
     * unprotected guard page, not beyond the slot), written over the canary. */
    char *base = swarm__sched_current()->stack.base;
    char *here = __builtin_frame_address(0); /* the real stack, not ASan's fake one */
    size_t dist = (size_t)(here - base);
    volatile char *big = __builtin_alloca(dist + 64);
    for (int i = 0; i < 1024; i++) /* from below the canary to well above it */
        big[i] = (char)0xAB;
    if (getenv("CANARY_DEBUG"))
        canary_debug[0] = (uintptr_t)base, canary_debug[1] = (uintptr_t)here, canary_debug[2] = (uintptr_t)big;
    swarm_yield();
}

TEST(canary_mode)
{
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.on_exit = on_exit_hook;
    c.guard_mode = SWARM_GUARD_CANARY;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_info_t info;
    swarm_info(sw, &info);
    CHECK_EQ(info.guard_mode, SWARM_GUARD_CANARY);
    swarm_pid_t vp;
    CHECK_OK(swarm_spawn_in(sw, &vp, canary_proc, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    if (getenv("CANARY_DEBUG"))
        printf("base %#lx frame %#lx block %#lx\n", (unsigned long)canary_debug[0], (unsigned long)canary_debug[1],
               (unsigned long)canary_debug[2]);
    CHECK_EQ(atomic_load(&exits_overflow), 1);
    CHECK_EQ(last_crash.pid, vp);
    CHECK_EQ(last_crash.signo, 0);
    CHECK_OK(swarm_destroy(sw));
}

/* ---- Issue 7 item 1: built without -fstack-clash-protection (FLAGS in
 * tests.cmake), as Debian's gcc does by default. ---- */
#define NO_ASAN_FRAME __attribute__((no_sanitize("address", "undefined")))

/* A 20 KB frame in a 16 KiB stack: its lowest byte lies below the stack,
 * inside the 64 KiB guard region. Written lowest first, as a loop filling
 * the array would. */
NO_ASAN_FRAME static void big_frame_proc(void *arg)
{
    (void)arg;
    victim_pid = swarm_self();
    volatile char buf[20 * 1024];
    buf[0] = 1;      /* MADVISE/MPROTECT: faults in the guard */
    swarm_yield();   /* CANARY: sp below the stack is seen at this switch */
    buf[sizeof buf - 1] = buf[0];
}

static void big_frame_in(swarm_guard_mode_t mode)
{
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.on_exit = on_exit_hook;
    c.guard_mode = mode;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.stack_size = 16 * 1024;
    swarm_pid_t vp;
    CHECK_OK(swarm_spawn_in(sw, &vp, big_frame_proc, NULL, &o));
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    CHECK_EQ(atomic_load(&exits_overflow), 1);
    CHECK_EQ(last_crash.pid, vp);
    /* Guarded modes catch the write itself; CANARY only the switch. */
    CHECK_EQ(last_crash.signo, mode == SWARM_GUARD_CANARY ? 0 : SIGSEGV);
    CHECK_OK(swarm_destroy(sw));
}

TEST(big_frame)
{
    big_frame_in(SWARM_GUARD_AUTO); /* MADVISE where the kernel has it */
    big_frame_in(SWARM_GUARD_MPROTECT);
    big_frame_in(SWARM_GUARD_CANARY);
}

/* What is NOT caught (issue 7 item 1d): one frame reaching more than the
 * 64 KiB guard below its stack, in code built without clash protection,
 * written and returned from before any switch: the write lands in the
 * slot below (another process's stack, or a free one) and nothing
 * notices. The process ends normally. Three parked processes are spawned
 * first so the victim is not in a chunk's lowest slot (below which the
 * floor guard would catch it). The parked ones are never resumed: their
 * stacks may be what was overwritten. */
NO_ASAN_FRAME __attribute__((noinline)) static void huge_frame(void)
{
    volatile char buf[16 * 1024 + 64 * 1024 + 4 * 1024];
    buf[0] = 0x5a; /* about 68 KiB below a 16 KiB stack: past the guard */
    buf[sizeof buf - 1] = buf[0];
}

static void parked_proc(void *arg);

static void huge_frame_proc(void *arg)
{
    (void)arg;
    huge_frame();
}

static void huge_frame_in(swarm_guard_mode_t mode)
{
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.on_exit = on_exit_hook;
    c.guard_mode = mode;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.stack_size = 16 * 1024;
    for (int i = 0; i < 3; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, parked_proc, NULL, &o));
    CHECK_OK(swarm_spawn_in(sw, NULL, huge_frame_proc, NULL, &o));
    TEST_POLL(atomic_load(&exits_normal) + atomic_load(&exits_overflow) + atomic_load(&exits_crash) >= 1, 10000);
    CHECK_EQ(atomic_load(&exits_overflow), 0); /* not caught: */
    CHECK_EQ(atomic_load(&exits_crash), 0);
    CHECK_EQ(atomic_load(&exits_normal), 1);   /* it ended normally */
    CHECK_OK(swarm_destroy(sw));
}

TEST(huge_frame_not_caught)
{
    huge_frame_in(SWARM_GUARD_AUTO);
    huge_frame_in(SWARM_GUARD_MPROTECT);
    huge_frame_in(SWARM_GUARD_CANARY);
}

/* CANARY: a runaway recursion has no guard to stop it in its own slot; it
 * runs through its dead gap and the parked neighbours below it (their
 * stacks are overwritten: not caught) down to the chunk's floor guard,
 * where it faults inside the arena: the process ends with stack_overflow
 * and the node lives. The overrun neighbours are never resumed here. */
static void parked_proc(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    (void)swarm_recv(&m, SWARM_INFINITE);
}

TEST(canary_runaway)
{
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.on_exit = on_exit_hook;
    c.guard_mode = SWARM_GUARD_CANARY;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    for (int i = 0; i < 3; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, parked_proc, NULL, NULL));
    swarm_pid_t vp;
    CHECK_OK(swarm_spawn_in(sw, &vp, overflow_proc, NULL, NULL));
    for (long i = 0; i < test_ms(10000) / 5 && atomic_load(&exits_overflow) == 0; i++)
        usleep(5000); /* bounded wait for the victim's end; checked below */
    CHECK_EQ(atomic_load(&exits_overflow), 1);
    CHECK_EQ(last_crash.pid, vp);
    CHECK_EQ(last_crash.signo, SIGSEGV);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&exits_other), 3); /* the parked ones: killed at destroy */
}

/* A crashed process's messages, timer and stack are released. */
CRASHES_ON_PURPOSE static void hoarder(void *arg)
{
    (void)arg;
    swarm_pid_t me = swarm_self();
    long v = 1;
    for (int i = 0; i < 100; i++)
        CHECK_OK(swarm_send(me, 0, &v, sizeof v));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0)); /* held, never freed */
    CHECK_EQ(swarm_recv_tag(7, &m, 1), SWARM_ETIMEDOUT); /* 99 set aside, a timer used */
    volatile int *p = NULL;
    *p = 1;
}

TEST(crash_frees_resources)
{
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.on_exit = on_exit_hook;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    for (int i = 0; i < 50; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, hoarder, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    CHECK_EQ(atomic_load(&exits_crash), 50);
    swarm_stats_t st;
    CHECK_OK(swarm_destroy_stats(sw, &st));
    CHECK_EQ(st.msgs_sent_total, 5000);
    CHECK_EQ(st.msgs_delivered, 50);
    CHECK_EQ(st.msgs_dropped, 4950);
    /* LeakSanitizer (asan build) checks that nothing else was left. */
}

TEST(exit_hook_reasons)
{
    CHECK(strcmp(swarm_exit_reason_str(SWARM_EXIT_CRASH), "crash") == 0);
    CHECK(strcmp(swarm_exit_reason_str(SWARM_EXIT_KILLED), "killed") == 0);
    CHECK(strcmp(swarm_exit_reason_str(SWARM_EXIT_USER + 1), "user") == 0);
    /* Processes alive at destroy are reported as killed. */
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.on_exit = on_exit_hook;
    CHECK_OK(swarm_create(&sw, &c));
    for (int i = 0; i < 10; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, hoarder, NULL, NULL) == 0 ? 0 : -1);
    CHECK_OK(swarm_wait(sw, test_ms(10000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&exits_crash), 10);
}

/* An overflowed stack has every page committed. Freed into a warm cache it
 * stayed that way, and reused LIFO it never shrank: the soak's RSS grew
 * with each overflow until the caches were full of such slots. Now it is
 * decommitted at free. N processes live at once (so N distinct slots)
 * first end normally, then three times overflow: the arena's resident
 * pages stay where the normal round left them. */
static void wait_go(void *arg)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);
    if (arg)
        (void)deep(NULL, 0);
}

static uint64_t run_round(swarm_t *sw, int n, int overflow)
{
    swarm_pid_t *pids = malloc((size_t)n * sizeof *pids);
    CHECK(pids);
    for (int i = 0; i < n; i++)
        CHECK_OK(swarm_spawn_in(sw, &pids[i], wait_go, overflow ? (void *)1 : NULL, NULL));
    for (int i = 0; i < n; i++)
        CHECK_OK(swarm_send(pids[i], 0, NULL, 0));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    free(pids);
    return swarm__stack_resident_pages(sw->stacks);
}

/* Many processes overflow at once here, on both schedulers: on_exit_hook
 * takes last_crash_lock for its copy. */
TEST(overflow_decommits)
{
    enum { N = 512 };
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.on_exit = on_exit_hook;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t stack_pages = swarm__stack_class_size(0) / page;
    uint64_t base = run_round(sw, N, 0);
    uint64_t after = base;
    for (int r = 0; r < 3; r++) {
        after = run_round(sw, N, 1);
        printf("round %d: arena resident pages %llu (after the normal round %llu)\n", r,
               (unsigned long long)after, (unsigned long long)base);
    }
    CHECK_EQ(atomic_load(&exits_overflow), 3 * N);
    CHECK_EQ(atomic_load(&exits_normal), N);
    CHECK_EQ(atomic_load(&exits_crash), 0);
    CHECK_EQ(atomic_load(&exits_other), 0);
    /* Kept: 16 pages per slot of a 64 KiB stack, N * 16 in all. A bound of
     * a quarter of that leaves room for noise and still fails by 4x. */
    CHECK_CMP(after, <=, base + N * stack_pages / 4);
    CHECK_OK(swarm_destroy(sw));
}

/* With abort_on_fault the OS process dies by the signal (core dump). */
TEST(abort_on_fault)
{
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        signal(SIGSEGV, SIG_DFL);
        swarm_config_t c;
        swarm_config_init(&c);
        c.schedulers = 1;
        c.abort_on_fault = 1;
        swarm_run(&c, null_proc, NULL);
        _exit(0); /* not reached */
    }
    int status;
    CHECK_EQ(waitpid(child, &status, 0), child);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGSEGV);
}

/* ---- a fault in the runtime's code or in libc is not a process crash ----
 * (issue 7 item 3) The process would be ended with whatever lock that code
 * held; the node reports the fault and aborts instead. A forked child runs
 * the swarm; the parent reads its stderr and expects SIGABRT. */
static void runtime_fault_proc(void *arg)
{
    (void)arg;
    /* A bad message pointer: the fault is inside swarm_msg_tag. */
    const swarm_msg_t *volatile bad = (const swarm_msg_t *)(uintptr_t)64;
    printf("tag %u\n", swarm_msg_tag(bad));
}

/* A bad pointer handed to the C library. strverscmp: a libc function the
 * sanitizers do not replace with their own (strlen would fault in ASan's or
 * TSan's wrapper there, not in libc), so this case runs in every build. */
static void libc_fault_proc(void *arg)
{
    (void)arg;
    int (*volatile cmp)(const char *, const char *) = strverscmp;
    const char *volatile bad = (const char *)(uintptr_t)64;
    printf("cmp %d\n", cmp(bad, "a"));
}

/* Run fn as the only process of a swarm in a child; return its stderr
 * (malloc'ed) and its wait status. */
static char *run_child(swarm_fn fn, int *status)
{
    int fds[2];
    CHECK_EQ(pipe(fds), 0);
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        swarm_config_t c;
        swarm_config_init(&c);
        c.schedulers = 1;
        swarm_run(&c, fn, NULL);
        _exit(0); /* only if the fault was taken for a process crash */
    }
    close(fds[1]);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    CHECK(buf != NULL);
    ssize_t r;
    while (n < cap - 1 && (r = read(fds[0], buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    close(fds[0]);
    CHECK_EQ(waitpid(child, status, 0), child);
    printf("child said:\n%s", buf);
    return buf;
}

/* fn faults where a lock may be held: the node aborts with a report that
 * says so (both texts appear), and the fault is not taken for a crash of
 * the process. */
static void expect_abort(swarm_fn fn, const char *report, const char *detail)
{
    int status;
    char *err = run_child(fn, &status);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGABRT);
    CHECK(strstr(err, report) != NULL);
    CHECK(strstr(err, detail) != NULL);
    CHECK(strstr(err, "ended: crash") == NULL);
    free(err);
}

TEST(runtime_fault_aborts)
{
    expect_abort(runtime_fault_proc, "swarmrt: internal fault in runtime code: SIGSEGV", "This is a bug in SwarmRT");
}

TEST(libc_fault_aborts)
{
    expect_abort(libc_fault_proc, "swarmrt: fault inside the C library: SIGSEGV", "libc.so");
}

/* ---- the crash report names the functions (issue 7 item 17) ----
 * Two chains of named functions crash: one at the build's optimisation
 * level, one at -O2 without frame pointers (where a frame-pointer walk
 * finds nothing). The exit info's frames, looked up with dladdr (the test
 * is linked with -rdynamic), and the stderr report name each function. */
#if defined(__GNUC__) && !defined(__clang__)
#define NAMED __attribute__((noipa, used)) CRASHES_ON_PURPOSE
#define NAMED_O2 __attribute__((noipa, used, optimize("O2", "omit-frame-pointer"))) CRASHES_ON_PURPOSE
#else
#define NAMED __attribute__((noinline, used)) CRASHES_ON_PURPOSE
#define NAMED_O2 NAMED
#endif
static int *volatile null_target;
void crash_named_leaf(int v);
void crash_named_middle(int v);
void crash_named_proc(void *arg);
void crash_o2_leaf(int v);
void crash_o2_middle(int v);
void crash_o2_proc(void *arg);
/* The empty asm after each call keeps it from becoming a tail call, which
 * would leave the caller out of the stack. */
NAMED void crash_named_leaf(int v)
{
    *null_target = v;
    __asm__ volatile("");
}
NAMED void crash_named_middle(int v)
{
    crash_named_leaf(v + 1);
    __asm__ volatile("");
}
NAMED void crash_named_proc(void *arg)
{
    (void)arg;
    crash_named_middle(1);
    __asm__ volatile("");
}
NAMED_O2 void crash_o2_leaf(int v)
{
    *null_target = v;
    __asm__ volatile("");
}
NAMED_O2 void crash_o2_middle(int v)
{
    crash_o2_leaf(v * 3);
    __asm__ volatile("");
}
NAMED_O2 void crash_o2_proc(void *arg)
{
    (void)arg;
    crash_o2_middle(2);
    __asm__ volatile("");
}

static const char *frame_name(uintptr_t pc, int is_return)
{
    Dl_info di;
    if (!dladdr((void *)(is_return ? pc - 1 : pc), &di) || !di.dli_sname)
        return "?";
    return di.dli_sname;
}

static void check_named(swarm_fn proc, const char *const names[3])
{
    reset_counts();
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.on_exit = on_exit_hook;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, proc, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&exits_crash), 1);
    CHECK_EQ(last_crash.fault_pc, last_crash.frames[0]);
    CHECK_CMP(last_crash.nframes, >=, 3);
    CHECK_CMP(last_crash.nframes, <=, SWARM_EXIT_FRAMES);
    for (unsigned i = 0; i < last_crash.nframes; i++)
        printf("  frame %u %#lx %s\n", i, (unsigned long)last_crash.frames[i], frame_name(last_crash.frames[i], i > 0));
    for (int i = 0; i < 3; i++)
        CHECK(strcmp(frame_name(last_crash.frames[i], i > 0), names[i]) == 0);

    /* The same crash reported on stderr (in a child, to read it). */
    int status;
    char *err = run_child(proc, &status);
    CHECK(WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    char want[128];
    snprintf(want, sizeof want, "ended: crash (signal 11, Segmentation fault, address 0, pc 0x");
    CHECK(strstr(err, want) != NULL);
    snprintf(want, sizeof want, " in %s+0x", names[0]);
    CHECK(strstr(err, want) != NULL);
    snprintf(want, sizeof want, "    #1 0x");
    CHECK(strstr(err, want) != NULL);
    for (int i = 1; i < 3; i++) {
        snprintf(want, sizeof want, " %s+0x", names[i]);
        CHECK(strstr(err, want) != NULL);
    }
    free(err);
}

TEST(crash_names_function)
{
    const char *const plain[3] = {"crash_named_leaf", "crash_named_middle", "crash_named_proc"};
    check_named(crash_named_proc, plain);
    const char *const o2[3] = {"crash_o2_leaf", "crash_o2_middle", "crash_o2_proc"};
    check_named(crash_o2_proc, o2);
}

TEST_MAIN(TEST_ENTRY(stack_overflow, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(null_deref, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(fpe),
          TEST_ENTRY(mprotect_mode),
          TEST_ENTRY(canary_mode),
          TEST_ENTRY(crash_frees_resources),
          TEST_ENTRY(exit_hook_reasons),
          TEST_ENTRY(abort_on_fault),
          TEST_ENTRY(big_frame),
          TEST_ENTRY(huge_frame_not_caught),
          TEST_ENTRY(canary_runaway),
          TEST_ENTRY(overflow_decommits),
          TEST_ENTRY(runtime_fault_aborts),
          TEST_ENTRY(libc_fault_aborts),
          TEST_ENTRY(crash_names_function))
