/*
 * tests/compact_test.c - stack compaction of long-parked processes
 * (spawn option compact_after_ms; sched/compact.h).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sched/sched.h"
#include "state/state.h"
#include "stack/stack.h"
#include "stack_pages.h"
#include "test.h"

static atomic_int done;

enum { TAG_GO = 1, TAG_OK, TAG_BAD };

#define AFTER_MS 20
#define KEEP 256

static swarm_t *self_swarm(void) { return swarm__sched_self()->swarm; }

static uint64_t compactions(swarm_t *sw) { return atomic_load(&sw->compactions); }

/* Touch about 12 KiB of stack below the caller, then return: pages a
 * parked process no longer uses but still holds. */
__attribute__((noinline)) static unsigned deep(int depth)
{
    volatile unsigned char buf[4000];
    for (size_t i = 0; i < sizeof buf; i += 64)
        buf[i] = (unsigned char)(i + depth);
    return buf[depth * 64] + (depth ? deep(depth - 1) : 0u);
}

static void fill(unsigned char *keep, unsigned seed)
{
    for (int i = 0; i < KEEP; i++)
        keep[i] = (unsigned char)(seed * 31 + (unsigned)i * 7);
}

static int intact(const unsigned char *keep, unsigned seed)
{
    for (int i = 0; i < KEEP; i++)
        if (keep[i] != (unsigned char)(seed * 31 + (unsigned)i * 7))
            return 0;
    return 1;
}

/* What the compactee waits in (arg). */
enum { IN_RECV, IN_READ, IN_CHAN };
typedef struct {
    int how;
    int fd;              /* IN_READ: a pipe's read end */
    swarm_chan_t *ch;    /* IN_CHAN */
    swarm_pid_t parent;
} wait_t;

/* Live bytes on its stack across a long wait; after it, they must be as
 * they were. */
static void compactee(void *arg)
{
    const wait_t w = *(const wait_t *)arg; /* copied: the parent's stack is its own */
    unsigned char keep[KEEP];
    fill(keep, 7);
    CHECK_CMP(deep(2), >, 0u);
    swarm_msg_t *m;
    char b[8];
    int64_t v;
    switch (w.how) {
    case IN_RECV:
        CHECK_OK(swarm_recv_tag(TAG_GO, &m, SWARM_INFINITE));
        swarm_msg_free(m);
        break;
    case IN_READ:
        CHECK_EQ(swarm_read(w.fd, b, sizeof b, SWARM_INFINITE), 2);
        break;
    default:
        CHECK_OK(swarm_chan_recv(w.ch, &v, SWARM_INFINITE));
        CHECK_EQ(v, 42);
        break;
    }
    CHECK_OK(swarm_send(w.parent, intact(keep, 7) ? TAG_OK : TAG_BAD, NULL, 0));
}

static swarm_pid_t spawn_compactee(wait_t *w, swarm_ref_t *ref)
{
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.compact_after_ms = AFTER_MS;
    swarm_pid_t pid;
    CHECK_OK(swarm_spawn_monitor(&pid, ref, compactee, w, &o));
    return pid;
}

/* Until the swarm has compacted n stacks in all (the sweeps run on idle
 * schedulers: this process's sleeps make them idle). */
static void await_compactions(swarm_t *sw, uint64_t n)
{
    int64_t waited = 0;
    while (compactions(sw) < n) {
        CHECK_CMP(waited, <, test_ms(10000));
        CHECK_OK(swarm_sleep(5));
        waited += 5;
    }
}

static void expect_ok(swarm_ref_t ref)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, test_ms(10000)));
    CHECK_EQ(swarm_msg_tag(m), (uint32_t)TAG_OK);
    swarm_msg_free(m);
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_NORMAL);
}

/* A receive and an fd wait are compacted: the stack's pages go back to
 * the kernel, a few hundred bytes are kept aside, and the live bytes are
 * back when the process runs again. */
static void waits_driver(void *arg)
{
    (void)arg;
    swarm_t *sw = self_swarm();
    uint64_t base = compactions(sw);

    wait_t w = {.how = IN_RECV, .parent = swarm_self()};
    swarm_ref_t ref;
    swarm_pid_t pid = spawn_compactee(&w, &ref);
    await_compactions(sw, base + 1);
    uint64_t saved = atomic_load(&sw->compact_saved);
    CHECK_CMP(saved, >=, (uint64_t)KEEP);
    CHECK_CMP(saved, <, (uint64_t)4096); /* the live part only */
    /* Its touched pages (about 4: deep() went 12 KiB down) are gone; a
     * canary-guarded stack keeps the canary's page. */
    swarm_guard_mode_t mode = (swarm_guard_mode_t)sw->ptable.procs[swarm__pid_index(pid)].stack.guard;
    CHECK_CMP(test_stack_pages(sw, pid), <=, mode == SWARM_GUARD_CANARY ? 1u : 0u);
    CHECK_OK(swarm_send(pid, TAG_GO, NULL, 0));
    expect_ok(ref);
    CHECK_EQ(atomic_load(&sw->compact_saved), 0u); /* restored, stash freed */

    int p[2];
    CHECK_OK(swarm_pipe(p));
    w = (wait_t){.how = IN_READ, .fd = p[0], .parent = swarm_self()};
    spawn_compactee(&w, &ref);
    await_compactions(sw, base + 2);
    CHECK_EQ(swarm_write(p[1], "hi", 2, test_ms(10000)), 2);
    expect_ok(ref);
    CHECK_OK(swarm_close(p[0]));
    CHECK_OK(swarm_close(p[1]));
    atomic_store(&done, 1);
}

TEST(receive_and_fd_wait)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, waits_driver, NULL, &done);
}

/* Many neighbours at once: the sweep gives their pages back in batches
 * (one madvise per run of adjacent slots), and each resumes intact. */
static void many_driver(void *arg)
{
    (void)arg;
    swarm_t *sw = self_swarm();
    enum { N = 200 };
    uint64_t base = compactions(sw);
    wait_t w = {.how = IN_RECV, .parent = swarm_self()};
    static swarm_pid_t pids[N];
    swarm_ref_t ref;
    for (int i = 0; i < N; i++)
        pids[i] = spawn_compactee(&w, &ref);
    await_compactions(sw, base + N);
    swarm_guard_mode_t mode = (swarm_guard_mode_t)sw->ptable.procs[swarm__pid_index(pids[0])].stack.guard;
    for (int i = 0; i < N; i++)
        CHECK_CMP(test_stack_pages(sw, pids[i]), <=, mode == SWARM_GUARD_CANARY ? 1u : 0u);
    for (int i = 0; i < N; i++)
        CHECK_OK(swarm_send(pids[i], TAG_GO, NULL, 0));
    int oks = 0, downs = 0; /* each sends OK (or BAD) and then ends: exactly N of each */
    while (oks < N || downs < N) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv(&m, test_ms(10000)));
        if (swarm_msg_tag(m) == SWARM_TAG_DOWN) {
            swarm_reason_t why;
            CHECK_EQ(swarm_msg_down(m, NULL, NULL, &why), 1);
            CHECK_EQ(why.atom, SWARM_ATOM_NORMAL);
            downs++;
        } else {
            CHECK_EQ(swarm_msg_tag(m), (uint32_t)TAG_OK);
            oks++;
        }
        swarm_msg_free(m);
    }
    CHECK_EQ(oks, N);
    CHECK_EQ(downs, N);
    CHECK_EQ(atomic_load(&sw->compact_saved), 0u);
    atomic_store(&done, 1);
}

TEST(many_neighbours)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, many_driver, NULL, &done);
}

/* A channel wait queues a node on the stack that a sender writes to: it is
 * never compacted, however long it waits (here: through 8 sweeps' time). */
static void chan_driver(void *arg)
{
    (void)arg;
    swarm_t *sw = self_swarm();
    uint64_t base = compactions(sw);
    swarm_chan_t *ch;
    CHECK_OK(swarm_chan_create(&ch, sizeof(int64_t), 0));
    wait_t w = {.how = IN_CHAN, .ch = ch, .parent = swarm_self()};
    swarm_ref_t ref;
    spawn_compactee(&w, &ref);
    CHECK_OK(swarm_sleep(AFTER_MS + 400));
    CHECK_EQ(compactions(sw), base);
    int64_t v = 42;
    CHECK_OK(swarm_chan_send(ch, &v, test_ms(10000)));
    expect_ok(ref);
    swarm_chan_release(ch);
    atomic_store(&done, 1);
}

TEST(chan_wait_not_compacted)
{
    swarm_config_t c = test_config(2);
    test_run_swarm(&c, chan_driver, NULL, &done);
}

/* Killed while compacted: its stack comes back first, then its exit runs
 * the resource list (the fd wait's node lives on that stack). */
static void kill_driver(void *arg)
{
    (void)arg;
    swarm_t *sw = self_swarm();
    uint64_t base = compactions(sw);
    int p[2];
    CHECK_OK(swarm_pipe(p));
    wait_t w = {.how = IN_READ, .fd = p[0], .parent = swarm_self()};
    swarm_ref_t ref;
    swarm_pid_t pid = spawn_compactee(&w, &ref);
    await_compactions(sw, base + 1);
    CHECK_OK(swarm_exit_pid(pid, swarm_reason(SWARM_ATOM_KILL)));
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_KILLED);
    CHECK_EQ(atomic_load(&sw->compact_saved), 0u);
    /* The fd is free for another waiter: the dead one's wait is gone. */
    CHECK_EQ(swarm_fd_wait(p[0], SWARM_IO_READ, 0), SWARM_ETIMEDOUT);
    CHECK_OK(swarm_close(p[0]));
    CHECK_OK(swarm_close(p[1]));
    atomic_store(&done, 1);
}

TEST(killed_while_compacted)
{
    swarm_config_t c = test_config(1);
    test_run_swarm(&c, kill_driver, NULL, &done);
}

/* Destroyed while compacted: the stack is restored before the process's
 * resources are released (ASan sees any use of the stash or the stack). */
TEST(destroy_while_compacted)
{
    swarm_config_t c = test_config(1);
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, &c));
    wait_t w = {.how = IN_RECV, .parent = SWARM_PID_NONE};
    swarm_spawn_opts_t o;
    swarm_spawn_opts_init(&o);
    o.compact_after_ms = AFTER_MS;
    CHECK_OK(swarm_spawn_in(sw, NULL, compactee, &w, &o));
    int64_t waited = 0;
    while (compactions(sw) < 1) { /* the idle scheduler sweeps on its own */
        CHECK_CMP(waited, <, test_ms(10000));
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited += 5;
    }
    CHECK_OK(swarm_destroy(sw));
}

TEST_MAIN(TEST_ENTRY(receive_and_fd_wait, TEST_CONCURRENCY), TEST_ENTRY(many_neighbours, TEST_CONCURRENCY), TEST_ENTRY(chan_wait_not_compacted, TEST_CONCURRENCY),
          TEST_ENTRY(killed_while_compacted), TEST_ENTRY(destroy_while_compacted))
