/*
 * tests/signal_test.c - atoms, references, links, monitors and exit
 * signals: one case per Erlang rule, the rule in the case's comment, as
 * OTP 25 behaves (docs/design/semantics-plan.md has each scenario run in
 * erl; its row id is quoted: L1, M3, ...).
 *
 * No case waits for time to pass to learn that something happened: a
 * partner's end is learnt from a monitor's DOWN, which its exit sends
 * after the exit signals to its links, in the same per-sender order, so
 * once the DOWN is in, any EXIT from that partner is in too.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/sys.h"
#include "test.h"

/* ---- harness ---- */

/* The exit hook's record: the last few exits by pid. */
#define EXITS 64
static struct {
    pthread_mutex_t lock;
    swarm_pid_t pid[EXITS];
    int reason[EXITS];
    swarm_atom_t atom[EXITS];
    unsigned n;
} exits = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_exit_hook(swarm_t *sw, const swarm_exit_info_t *info, void *ud)
{
    (void)sw, (void)ud;
    pthread_mutex_lock(&exits.lock);
    unsigned i = exits.n++ % EXITS;
    exits.pid[i] = info->pid;
    exits.reason[i] = info->reason;
    exits.atom[i] = info->why.atom;
    pthread_mutex_unlock(&exits.lock);
}

/* The atom pid ended with, per the exit hook; -1 if not seen. */
static long exit_atom_of(swarm_pid_t pid)
{
    long a = -1;
    pthread_mutex_lock(&exits.lock);
    for (unsigned i = 0; i < exits.n && i < EXITS; i++)
        if (exits.pid[i] == pid)
            a = exits.atom[i];
    pthread_mutex_unlock(&exits.lock);
    return a;
}

static atomic_int driver_done;

/* Run driver in a fresh swarm of n schedulers until every process ends. */
static void run(swarm_fn driver, unsigned n)
{
    swarm_t *sw;
    swarm_config_t c = test_config(n);
    c.quiet = 1; /* the crashes here are on purpose */
    c.on_exit = on_exit_hook;
    atomic_store(&driver_done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&driver_done), 1);
}

static void quick(void *arg) { (void)arg; }

static swarm_atom_t atom_of(const char *s)
{
    swarm_atom_t a = 0;
    CHECK_OK(swarm_atom(s, &a));
    return a;
}

/* Parked until any message comes; then returns. */
static void waiter(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0)
        swarm_msg_free(m);
}

static int is_down_of(const swarm_msg_t *m, void *ctx)
{
    swarm_ref_t r;
    return swarm_msg_down(m, &r, NULL, NULL) && swarm_ref_eq(r, *(const swarm_ref_t *)ctx);
}

/* Receive the DOWN of ref (other DOWNs may come first: DOWNs of different
 * processes have no order); returns its reason atom. */
static swarm_atom_t await_down(swarm_ref_t ref, swarm_pid_t pid)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_match(is_down_of, &ref, &m, test_ms(30000)));
    swarm_ref_t r;
    swarm_pid_t who;
    swarm_reason_t why;
    CHECK(swarm_msg_down(m, &r, &who, &why));
    CHECK(swarm_ref_eq(r, ref));
    CHECK_EQ(who, pid);
    swarm_msg_free(m);
    return why.atom;
}

/* A pid that is certainly dead: spawned, ended, its DOWN received. */
static swarm_pid_t dead_pid(void)
{
    swarm_pid_t p;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_monitor(&p, &r, quick, NULL, NULL));
    CHECK_EQ(await_down(r, p), SWARM_ATOM_NORMAL);
    return p;
}

/* The next message must be an EXIT from `from` with reason atom. */
static void expect_exit(swarm_pid_t from, swarm_atom_t atom)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, test_ms(30000)));
    swarm_pid_t f;
    swarm_reason_t why;
    CHECK(swarm_msg_exit(m, &f, &why));
    CHECK_EQ(f, from);
    CHECK_EQ(why.atom, atom);
    swarm_msg_free(m);
}

/* Nothing is in the mailbox now. */
static void expect_empty(void)
{
    swarm_msg_t *m;
    CHECK_EQ(swarm_recv(&m, 0), SWARM_ETIMEDOUT);
}

static void wait_go_then(void *arg);

/* ---- atoms and references ---- */

TEST(atoms)
{
    swarm_atom_t a, b, c;
    API_RET(swarm_atom_n, 0, swarm_atom_n("boom", 4, &a));
    CHECK_OK(swarm_atom("boom", &b));
    CHECK_EQ(a, b);
    CHECK_OK(swarm_atom("boom2", &c));
    CHECK(c != a);
    CHECK_EQ(strcmp(swarm_atom_name(a), "boom"), 0);
    CHECK_OK(swarm_atom("shutdown", &c)); /* built in: the constant's id */
    CHECK_EQ(c, SWARM_ATOM_SHUTDOWN);
    CHECK_EQ(strcmp(swarm_atom_name(SWARM_ATOM_KILLED), "killed"), 0);
    CHECK_EQ(strcmp(swarm_atom_name(SWARM_ATOM_NOPROC), "noproc"), 0);
    CHECK_OK(swarm_atom("", &c)); /* the empty atom, as Erlang's '' */
    CHECK_EQ(strcmp(swarm_atom_name(c), ""), 0);
    CHECK(swarm_atom_name(1u << 30) == NULL);
    char longname[SWARM_ATOM_MAX_LEN + 2];
    memset(longname, 'x', sizeof longname);
    API_RET(swarm_atom_n, 0, swarm_atom_n(longname, SWARM_ATOM_MAX_LEN, &c));
    API_RET(swarm_atom_n, SWARM_EINVAL, swarm_atom_n(longname, SWARM_ATOM_MAX_LEN + 1, &c));
    API_RET(swarm_atom_n, SWARM_EINVAL, swarm_atom_n("a\0b", 3, &c));
    API_RET(swarm_atom_n, SWARM_EINVAL, swarm_atom_n(NULL, 0, &c));
    API_RET(swarm_atom_n, SWARM_EINVAL, swarm_atom_n("a", 1, NULL));
    API_RET(swarm_atom, SWARM_EINVAL, swarm_atom(NULL, &c));
    longname[SWARM_ATOM_MAX_LEN + 1] = '\0';
    API_RET(swarm_atom, SWARM_EINVAL, swarm_atom(longname, &c));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_atom_n, SWARM_ENOMEM, swarm_atom_n("fresh-name", 10, &c));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_atom, SWARM_ENOMEM, swarm_atom("fresh-name", &c));
    swarm__sys_reset();
    API_RET(swarm_atom, 0, swarm_atom("fresh-name", &c));
}

/* The table holds SWARM_ATOM_LIMIT atoms; then SWARM_EAGAIN, and every
 * existing name still resolves. */
TEST(atom_limit)
{
    char name[32];
    swarm_atom_t a = 0, first;
    CHECK_OK(swarm_atom("first", &first));
    int rc = 0;
    for (unsigned i = 0; rc == 0; i++) {
        int n = snprintf(name, sizeof name, "a%u", i);
        rc = swarm_atom_n(name, (size_t)n, &a);
    }
    API_RET(swarm_atom, SWARM_EAGAIN, swarm_atom("one-more", &a));
    API_RET(swarm_atom_n, SWARM_EAGAIN, swarm_atom_n("one-more", 8, &a));
    CHECK(swarm_atom_name(SWARM_ATOM_LIMIT - 1) != NULL);
    CHECK(swarm_atom_name(SWARM_ATOM_LIMIT) == NULL); /* the refused one was not added */
    CHECK_OK(swarm_atom("first", &a));
    CHECK_EQ(a, first);
}

TEST(refs)
{
    swarm_ref_t a = swarm_make_ref(), b = swarm_make_ref();
    CHECK(swarm_ref_eq(a, a));
    CHECK(!swarm_ref_eq(a, b));
    CHECK(!swarm_ref_is_none(a));
    swarm_ref_t none = {{0, 0, 0}};
    CHECK(swarm_ref_is_none(none));
}

/* ---- exit reasons ---- */

static void exit_int(void *arg) { swarm_exit((int)(intptr_t)arg); }
static void exit_shutdown_bye(void *arg)
{
    (void)arg;
    swarm_reason_t r = {SWARM_ATOM_SHUTDOWN, 3, "bye"};
    swarm_exit_with(r);
}
static void exit_bad_reason(void *arg)
{
    (void)arg;
    swarm_reason_t r = {SWARM_ATOM_SHUTDOWN, SWARM_REASON_MAX + 1, "x"};
    swarm_exit_with(r);
}

/* Reasons as watchers see them (M6: {shutdown, bye}); int reasons map. */
static void reasons_driver(void *arg)
{
    (void)arg;
    swarm_pid_t p;
    swarm_ref_t r;
    swarm_msg_t *m;
    swarm_reason_t why;
    CHECK_OK(swarm_spawn_monitor(&p, &r, exit_shutdown_bye, NULL, NULL));
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
    CHECK(swarm_msg_down(m, NULL, NULL, &why));
    CHECK_EQ(why.atom, SWARM_ATOM_SHUTDOWN);
    CHECK_EQ(why.size, 3);
    CHECK_EQ(memcmp(why.data, "bye", 3), 0);
    swarm_msg_free(m);
    CHECK_OK(swarm_spawn_monitor(&p, &r, exit_int, (void *)(intptr_t)1000, NULL));
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
    CHECK(swarm_msg_down(m, NULL, NULL, &why));
    CHECK_EQ(why.atom, SWARM_ATOM_EXIT);
    CHECK_EQ(why.size, 8);
    int64_t v;
    memcpy(&v, why.data, 8);
    CHECK_EQ(v, 1000);
    swarm_msg_free(m);
    CHECK_OK(swarm_spawn_monitor(&p, &r, exit_int, (void *)(intptr_t)SWARM_EXIT_NOMEM, NULL));
    CHECK_EQ(await_down(r, p), SWARM_ATOM_NOMEM);
    CHECK_OK(swarm_spawn_monitor(&p, &r, exit_bad_reason, NULL, NULL));
    CHECK_EQ(await_down(r, p), SWARM_ATOM_UNDEFINED);
    atomic_store(&driver_done, 1);
}

TEST(reasons)
{
    run(reasons_driver, 2);
    /* The exit hook has the int form: 1000 and the atom's number. */
    pthread_mutex_lock(&exits.lock);
    int saw_1000 = 0, saw_atom = 0;
    for (unsigned i = 0; i < exits.n && i < EXITS; i++) {
        saw_1000 += exits.reason[i] == 1000 && exits.atom[i] == SWARM_ATOM_EXIT;
        saw_atom += exits.reason[i] == SWARM_EXIT_ATOM && exits.atom[i] == SWARM_ATOM_SHUTDOWN;
    }
    pthread_mutex_unlock(&exits.lock);
    CHECK_EQ(saw_1000, 1);
    CHECK_EQ(saw_atom, 1);
}

/* ---- links ---- */

/* L1: link to a dead pid, not trapping: an error for the caller
 * (Erlang raises noproc), no message. L2: trapping: 0 and an EXIT
 * noproc from that pid. L17: that EXIT stays though unlinked at once. */
static void link_dead_driver(void *arg)
{
    (void)arg;
    swarm_pid_t d = dead_pid();
    API_RET(swarm_link, SWARM_ESRCH, swarm_link(d));
    expect_empty();
    API_RET(swarm_trap_exit, 0, swarm_trap_exit(1, NULL));
    API_RET(swarm_link, 0, swarm_link(d));
    API_RET(swarm_unlink, 0, swarm_unlink(d));
    expect_exit(d, SWARM_ATOM_NOPROC);
    expect_empty();
    atomic_store(&driver_done, 1);
}
TEST(link_dead_pid) { run(link_dead_driver, 2); }

/* L3: exit(P, normal) to a process not trapping: ignored. L4: to one
 * trapping, unlinked: an EXIT message with normal. */
static void trap_then_wait(void *arg)
{
    swarm_trap_exit(1, NULL);
    CHECK_OK(swarm_send((swarm_pid_t)(uintptr_t)arg, 7, "ready", 5));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_pid_t from;
    swarm_reason_t why;
    CHECK(swarm_msg_exit(m, &from, &why));
    CHECK_EQ(why.atom, SWARM_ATOM_NORMAL);
    swarm_msg_free(m);
}
static void exit_normal_driver(void *arg)
{
    (void)arg;
    swarm_pid_t p;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_monitor(&p, &r, waiter, NULL, NULL));
    API_RET(swarm_exit_pid, 0, swarm_exit_pid(p, swarm_reason(SWARM_ATOM_NORMAL)));
    CHECK_OK(swarm_send(p, 1, "x", 1)); /* still alive: the message ends it normally */
    CHECK_EQ(await_down(r, p), SWARM_ATOM_NORMAL);
    CHECK_OK(swarm_spawn_monitor(&p, &r, trap_then_wait, (void *)(uintptr_t)swarm_self(), NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(7, &m, test_ms(30000))); /* it traps exits now */
    swarm_msg_free(m);
    CHECK_OK(swarm_exit_pid(p, swarm_reason(SWARM_ATOM_NORMAL)));
    CHECK_EQ(await_down(r, p), SWARM_ATOM_NORMAL); /* it returned after the EXIT message */
    atomic_store(&driver_done, 1);
}
TEST(exit_normal) { run(exit_normal_driver, 2); }

/* L5, L6: exit(V, kill) ends V with killed even when it traps exits; a
 * trapper linked to V gets EXIT killed. */
static void trapping_victim(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    for (;;) {
        swarm_msg_t *m;
        if (swarm_recv(&m, SWARM_INFINITE) == 0)
            swarm_msg_free(m); /* traps everything but kill */
    }
}
static void linked_trapper(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg;
    swarm_trap_exit(1, NULL);
    swarm_pid_t v;
    CHECK_OK(swarm_spawn_link(&v, trapping_victim, NULL, NULL));
    CHECK_OK(swarm_send(parent, 2, &v, sizeof v));
    expect_exit(v, SWARM_ATOM_KILLED);
}
static void kill_driver(void *arg)
{
    (void)arg;
    swarm_pid_t t;
    swarm_ref_t rt, rv;
    CHECK_OK(swarm_spawn_monitor(&t, &rt, linked_trapper, (void *)(uintptr_t)swarm_self(), NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(2, &m, test_ms(30000)));
    swarm_pid_t v;
    memcpy(&v, swarm_msg_data(m), sizeof v);
    swarm_msg_free(m);
    CHECK_OK(swarm_monitor(v, &rv));
    CHECK_OK(swarm_send(v, 1, "a", 1)); /* trapped or not, messages are just eaten */
    API_RET(swarm_exit_pid, 0, swarm_exit_pid(v, swarm_reason(SWARM_ATOM_SHUTDOWN))); /* trapped */
    API_RET(swarm_exit_pid, 0, swarm_exit_pid(v, swarm_reason(SWARM_ATOM_KILL)));
    CHECK_EQ(await_down(rv, v), SWARM_ATOM_KILLED);
    CHECK_EQ(await_down(rt, t), SWARM_ATOM_NORMAL); /* the trapper got EXIT killed and returned */
    atomic_store(&driver_done, 1);
}
TEST(kill_is_untrappable) { run(kill_driver, 2); }

/* L7: a process that exits with reason kill (exit/1) sends kill through
 * its links: trappable, arrives as kill, not killed. */
static void exit_kill_self(void *arg)
{
    (void)arg;
    swarm_exit_with(swarm_reason(SWARM_ATOM_KILL));
}
static void exit_kill_via_link_driver(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    swarm_pid_t c;
    CHECK_OK(swarm_spawn_link(&c, exit_kill_self, NULL, NULL));
    expect_exit(c, SWARM_ATOM_KILL);
    atomic_store(&driver_done, 1);
}
TEST(exit_kill_via_link) { run(exit_kill_via_link_driver, 2); }

/* L8: exit(self(), normal) not trapping: it ends (normal). L9: trapping:
 * an EXIT message from itself. L10: exit(self(), kill) trapping: ends
 * killed. L11: exit(self(), boom) trapping: a message, it lives. */
static atomic_int survived;
static void self_normal(void *arg)
{
    (void)arg;
    swarm_exit_pid(swarm_self(), swarm_reason(SWARM_ATOM_NORMAL));
    atomic_store(&survived, 1);
}
static void self_kill_trapping(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    swarm_exit_pid(swarm_self(), swarm_reason(SWARM_ATOM_KILL));
    atomic_store(&survived, 1);
}
static void self_exit_driver(void *arg)
{
    (void)arg;
    swarm_pid_t p;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_monitor(&p, &r, self_normal, NULL, NULL));
    CHECK_EQ(await_down(r, p), SWARM_ATOM_NORMAL);
    CHECK_OK(swarm_spawn_monitor(&p, &r, self_kill_trapping, NULL, NULL));
    CHECK_EQ(await_down(r, p), SWARM_ATOM_KILLED);
    CHECK_EQ(atomic_load(&survived), 0);
    swarm_trap_exit(1, NULL);
    swarm_pid_t me = swarm_self();
    CHECK_OK(swarm_exit_pid(me, swarm_reason(SWARM_ATOM_NORMAL)));
    expect_exit(me, SWARM_ATOM_NORMAL);
    swarm_atom_t boom;
    CHECK_OK(swarm_atom("boom", &boom));
    CHECK_OK(swarm_exit_pid(me, swarm_reason(boom)));
    expect_exit(me, boom);
    atomic_store(&driver_done, 1);
}
TEST(exit_to_self) { run(self_exit_driver, 2); }

/* L12, L23: a linked partner ends abnormally (a crash, a stack overflow,
 * exit(boom)): a process not trapping ends with the same reason. L13: a
 * partner's normal end is ignored. L14, L22: trapping, an EXIT message. */
/* Victims that crash on purpose opt out of UBSan (the fault, not UBSan's
 * report, is what is tested), as in crash_test.c. */
/* (Also out of TSan's sight: each process is a TSan fiber, and two
 * crashers' stores to address 0 would read as a race.) */
#define CRASHES_ON_PURPOSE __attribute__((no_sanitize("undefined", "thread")))

CRASHES_ON_PURPOSE static void crasher(void *arg)
{
    (void)arg;
    volatile int *volatile np = NULL;
    *np = 1;
}
static void spawn_link_then_wait(void *arg)
{
    swarm_fn child = (swarm_fn)arg;
    CHECK_OK(swarm_spawn_link(NULL, child, NULL, NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE)); /* ended by the link, or a message from the driver */
    swarm_msg_free(m);
}
/* Links a child that returns, learns it has ended (its EXIT normal is
 * queued before the DOWN), tells the driver, and lives until a message. */
static void link_normal_child(void *arg)
{
    swarm_pid_t c;
    CHECK_OK(swarm_spawn_link(&c, wait_go_then, NULL, NULL));
    swarm_ref_t r;
    CHECK_OK(swarm_monitor(c, &r));
    CHECK_OK(swarm_send(c, 1, "go", 2));
    CHECK_EQ(await_down(r, c), SWARM_ATOM_NORMAL);
    CHECK_OK(swarm_send((swarm_pid_t)(uintptr_t)arg, 8, "gone", 4));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(1, &m, SWARM_INFINITE));
    swarm_msg_free(m);
}

static void link_propagation_driver(void *arg)
{
    (void)arg;
    swarm_pid_t a;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_monitor(&a, &r, spawn_link_then_wait, (void *)crasher, NULL));
    CHECK_EQ(await_down(r, a), SWARM_ATOM_CRASH);
    CHECK_OK(swarm_spawn_monitor(&a, &r, spawn_link_then_wait, (void *)exit_shutdown_bye, NULL));
    swarm_msg_t *m;
    swarm_reason_t why;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
    CHECK(swarm_msg_down(m, NULL, NULL, &why));
    CHECK_EQ(why.atom, SWARM_ATOM_SHUTDOWN); /* the payload travels on */
    CHECK_EQ(why.size, 3);
    CHECK_EQ(memcmp(why.data, "bye", 3), 0);
    swarm_msg_free(m);
    /* L13: the child's normal end leaves a alive; then we end it. */
    CHECK_OK(swarm_spawn_monitor(&a, &r, link_normal_child, (void *)(uintptr_t)swarm_self(), NULL));
    CHECK_OK(swarm_recv_tag(8, &m, test_ms(30000))); /* its child is gone */
    swarm_msg_free(m);
    CHECK_OK(swarm_send(a, 1, "x", 1));
    CHECK_EQ(await_down(r, a), SWARM_ATOM_NORMAL);
    /* L14, L22: trapping. */
    swarm_trap_exit(1, NULL);
    swarm_pid_t c;
    CHECK_OK(swarm_spawn_link(&c, quick, NULL, NULL));
    expect_exit(c, SWARM_ATOM_NORMAL);
    CHECK_OK(swarm_spawn_link(&c, crasher, NULL, NULL));
    expect_exit(c, SWARM_ATOM_CRASH);
    atomic_store(&driver_done, 1);
}
TEST(link_propagation) { run(link_propagation_driver, 2); }

/* A stack overflow travels through a link as stack_overflow. */
static volatile int forever = 1;
CRASHES_ON_PURPOSE static void dive(void *arg)
{
    volatile char buf[4096];
    buf[0] = (char)(uintptr_t)arg;
    if (forever)
        dive((void *)(uintptr_t)(buf[0] + 1));
    buf[1] = 0;
}
static void overflow_driver(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    swarm_pid_t c;
    CHECK_OK(swarm_spawn_link(&c, dive, NULL, NULL));
    expect_exit(c, SWARM_ATOM_STACK_OVERFLOW);
    atomic_store(&driver_done, 1);
}
TEST(link_stack_overflow)
{
    swarm_info_t info;
    swarm_t *sw;
    CHECK_OK(swarm_create(&sw, NULL));
    CHECK_OK(swarm_info(sw, &info));
    CHECK_OK(swarm_destroy(sw));
    if (info.guard_mode == SWARM_GUARD_CANARY) {
        printf("canary guard: a dive is not caught in every case; skipped\n");
        return;
    }
    run(overflow_driver, 2);
}

/* L15: unlink after the EXIT was made a message: it stays. L16: unlink,
 * then the partner ends: no EXIT. L18: link twice, unlink once: no link;
 * link to itself is 0. */
static void wait_go_then(void *arg)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);
    if (arg)
        exit_shutdown_bye(NULL);
}
/* Busy (never receives, so a LINK or UNLINK sent to it stays unhandled)
 * until the flag is set; then ends with shutdown. */
static atomic_int release_busy;
static void busy_then_shutdown(void *arg)
{
    (void)arg;
    while (!atomic_load(&release_busy))
        SWARM_CHECK();
    exit_shutdown_bye(NULL);
}

static void unlink_driver(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    /* L15 */
    swarm_pid_t c;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_link(&c, wait_go_then, (void *)1, NULL));
    CHECK_OK(swarm_monitor(c, &r));
    CHECK_OK(swarm_send(c, 1, "go", 2));
    CHECK_EQ(await_down(r, c), SWARM_ATOM_SHUTDOWN); /* the EXIT is in (made a message on the way) */
    CHECK_OK(swarm_unlink(c));
    expect_exit(c, SWARM_ATOM_SHUTDOWN);
    /* L16 */
    CHECK_OK(swarm_spawn_link(&c, wait_go_then, (void *)1, NULL));
    CHECK_OK(swarm_monitor(c, &r));
    CHECK_OK(swarm_unlink(c));
    CHECK_OK(swarm_send(c, 1, "go", 2));
    CHECK_EQ(await_down(r, c), SWARM_ATOM_SHUTDOWN);
    expect_empty();
    /* L16, the race: the partner ends before it has handled the unlink,
     * so its exit still signals this process, which is no longer linked:
     * the signal is dropped. */
    atomic_store(&release_busy, 0);
    CHECK_OK(swarm_spawn_link(&c, busy_then_shutdown, NULL, NULL));
    CHECK_OK(swarm_monitor(c, &r));
    CHECK_OK(swarm_unlink(c));
    atomic_store(&release_busy, 1);
    CHECK_EQ(await_down(r, c), SWARM_ATOM_SHUTDOWN);
    expect_empty();
    /* L18 */
    CHECK_OK(swarm_spawn_monitor(&c, &r, wait_go_then, (void *)1, NULL));
    CHECK_OK(swarm_link(c));
    CHECK_OK(swarm_link(c));
    CHECK_OK(swarm_unlink(c));
    CHECK_OK(swarm_send(c, 1, "go", 2));
    CHECK_EQ(await_down(r, c), SWARM_ATOM_SHUTDOWN);
    expect_empty();
    API_RET(swarm_link, 0, swarm_link(swarm_self()));
    API_RET(swarm_unlink, 0, swarm_unlink(swarm_self()));
    atomic_store(&driver_done, 1);
}
TEST(unlink) { run(unlink_driver, 2); }

/* L19: messages, an exit signal, a message from one sender to a trapping
 * receiver arrive in that order. L20: a receiver not trapping ends with
 * the reason; the message left queued is dropped. Repeated across two
 * schedulers. */
#define ORDER_ROUNDS 300
static void ordered_receiver(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    swarm_pid_t parent;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(9, &m, SWARM_INFINITE));
    memcpy(&parent, swarm_msg_data(m), sizeof parent);
    swarm_msg_free(m);
    int got[4];
    for (int i = 0; i < 4; i++) {
        CHECK_OK(swarm_recv(&m, test_ms(30000)));
        got[i] = swarm_msg_tag(m) == SWARM_TAG_EXIT ? 0 : (int)swarm_msg_tag(m);
        swarm_msg_free(m);
    }
    CHECK_EQ(got[0], 1);
    CHECK_EQ(got[1], 2);
    CHECK_EQ(got[2], 0);
    CHECK_EQ(got[3], 3);
}
static void sender(void *arg)
{
    swarm_pid_t v = (swarm_pid_t)(uintptr_t)arg;
    swarm_atom_t reason;
    CHECK_OK(swarm_atom("reason", &reason));
    CHECK_OK(swarm_send(v, 1, "m1", 2));
    CHECK_OK(swarm_send(v, 2, "m2", 2));
    CHECK_OK(swarm_exit_pid(v, swarm_reason(reason)));
    CHECK_OK(swarm_send(v, 3, "m3", 2));
}
static void order_driver(void *arg)
{
    (void)arg;
    for (int round = 0; round < ORDER_ROUNDS; round++) {
        swarm_pid_t v, me = swarm_self();
        swarm_ref_t r;
        CHECK_OK(swarm_spawn_monitor(&v, &r, ordered_receiver, NULL, NULL));
        CHECK_OK(swarm_spawn(NULL, sender, (void *)(uintptr_t)v, NULL));
        CHECK_OK(swarm_send(v, 9, &me, sizeof me));
        CHECK_EQ(await_down(r, v), SWARM_ATOM_NORMAL);
    }
    /* L20 */
    swarm_pid_t v;
    swarm_ref_t r;
    swarm_atom_t reason;
    CHECK_OK(swarm_atom("reason", &reason));
    CHECK_OK(swarm_spawn_monitor(&v, &r, waiter, NULL, NULL));
    CHECK_OK(swarm_exit_pid(v, swarm_reason(reason)));
    CHECK_EQ(await_down(r, v), reason);
    atomic_store(&driver_done, 1);
}
TEST(order_msg_exit_msg)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.quiet = 1;
    atomic_store(&driver_done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, order_driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    swarm_stats_t st;
    CHECK_OK(swarm_stats(sw, &st));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&driver_done), 1);
    /* Exit signals are not messages: the counts are the sends alone. */
    CHECK_EQ(st.msgs_sent_total, (uint64_t)ORDER_ROUNDS * 4);
    CHECK_EQ(st.msgs_sent_total, st.msgs_delivered + st.msgs_dropped);
}

/* L21: trap_exit switched on after the signal was sent but before it was
 * handled: the setting in force when it is handled decides. */
static void trap_later(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    /* Wait for "go" only: the exit signal behind it stays unhandled. */
    CHECK_OK(swarm_recv_tag(5, &m, SWARM_INFINITE));
    swarm_msg_free(m);
    swarm_trap_exit(1, NULL);
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    CHECK(swarm_msg_exit(m, NULL, NULL));
    swarm_msg_free(m);
}
static void trap_mid_stream_driver(void *arg)
{
    (void)arg;
    swarm_pid_t v;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_monitor(&v, &r, trap_later, NULL, NULL));
    CHECK_OK(swarm_send(v, 5, "go", 2));
    CHECK_OK(swarm_exit_pid(v, swarm_reason(SWARM_ATOM_SHUTDOWN)));
    CHECK_EQ(await_down(r, v), SWARM_ATOM_NORMAL);
    atomic_store(&driver_done, 1);
}
TEST(trap_mid_stream) { run(trap_mid_stream_driver, 2); }

/* A process parked in a receive with no timeout is killed: it never runs
 * its next line, and its exit says killed. A process looping on
 * SWARM_CHECK is ended at a check, from a thread outside the swarm. */
static atomic_int ran_after;
static void parked_forever(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE);
    atomic_store(&ran_after, 1);
}
static atomic_int spinning;
static void spinner(void *arg)
{
    (void)arg;
    atomic_store(&spinning, 1);
    for (;;)
        SWARM_CHECK();
}
TEST(kill_parked_and_running)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.quiet = 1;
    c.on_exit = on_exit_hook;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_pid_t a, b;
    CHECK_OK(swarm_spawn_in(sw, &a, parked_forever, NULL, NULL));
    CHECK_OK(swarm_spawn_in(sw, &b, spinner, NULL, NULL));
    TEST_POLL(atomic_load(&spinning), 30000);
    API_RET(swarm_exit_pid, 0, swarm_exit_pid(a, swarm_reason(SWARM_ATOM_KILL)));
    CHECK_OK(swarm_exit_pid(b, swarm_reason(SWARM_ATOM_KILL)));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&ran_after), 0);
    CHECK_EQ(exit_atom_of(a), SWARM_ATOM_KILLED);
    CHECK_EQ(exit_atom_of(b), SWARM_ATOM_KILLED);
    /* Gone: a second signal is no error. */
    API_RET(swarm_exit_pid, 0, swarm_exit_pid(a, swarm_reason(SWARM_ATOM_KILL)));
}

/* ---- monitors ---- */

/* M1, M2: a monitor on a dead pid: DOWN noproc at once, seen by a
 * receive that does not wait. M4: two monitors, two DOWNs. */
static void monitor_driver(void *arg)
{
    (void)arg;
    swarm_pid_t d = dead_pid();
    swarm_ref_t r, r2;
    API_RET(swarm_monitor, 0, swarm_monitor(d, &r));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0));
    swarm_ref_t got;
    swarm_pid_t who;
    swarm_reason_t why;
    CHECK(swarm_msg_down(m, &got, &who, &why));
    CHECK(swarm_ref_eq(got, r));
    CHECK_EQ(who, d);
    CHECK_EQ(why.atom, SWARM_ATOM_NOPROC);
    CHECK(!swarm_msg_exit(m, NULL, NULL));
    swarm_msg_free(m);
    swarm_pid_t p;
    CHECK_OK(swarm_spawn(&p, waiter, NULL, NULL));
    CHECK_OK(swarm_monitor(p, &r));
    CHECK_OK(swarm_monitor(p, &r2));
    CHECK(!swarm_ref_eq(r, r2));
    CHECK_OK(swarm_send(p, 1, "x", 1));
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
        CHECK(swarm_msg_down(m, &got, NULL, &why));
        seen |= swarm_ref_eq(got, r) ? 1 : swarm_ref_eq(got, r2) ? 2 : 4;
        CHECK_EQ(why.atom, SWARM_ATOM_NORMAL);
        swarm_msg_free(m);
    }
    CHECK_EQ(seen, 3);
    expect_empty();
    atomic_store(&driver_done, 1);
}
TEST(monitor) { run(monitor_driver, 2); }

/* M3: demonitor with the DOWN already there: plain leaves it, FLUSH
 * removes it, INFO says 0; INFO on an active monitor says 1, and no DOWN
 * comes after; an unknown ref with INFO: 0. */
static void demonitor_driver(void *arg)
{
    (void)arg;
    swarm_pid_t d = dead_pid();
    swarm_ref_t r;
    CHECK_OK(swarm_monitor(d, &r));
    API_RET(swarm_demonitor, 0, swarm_demonitor(r, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, 0)); /* plain demonitor left the DOWN */
    CHECK(swarm_msg_down(m, NULL, NULL, NULL));
    swarm_msg_free(m);
    CHECK_OK(swarm_monitor(d, &r));
    API_RET(swarm_demonitor, 0, swarm_demonitor(r, SWARM_DEMONITOR_FLUSH));
    expect_empty();
    CHECK_OK(swarm_monitor(d, &r));
    CHECK_EQ(swarm_demonitor(r, SWARM_DEMONITOR_INFO), 0); /* its DOWN had come */
    CHECK_OK(swarm_recv(&m, 0));
    swarm_msg_free(m);
    CHECK_EQ(swarm_demonitor(swarm_make_ref(), SWARM_DEMONITOR_INFO), 0);
    swarm_pid_t p;
    swarm_ref_t rp;
    CHECK_OK(swarm_spawn_monitor(&p, &rp, waiter, NULL, NULL));
    CHECK_OK(swarm_monitor(p, &r));
    CHECK_EQ(swarm_demonitor(r, SWARM_DEMONITOR_INFO | SWARM_DEMONITOR_FLUSH), 1);
    CHECK_OK(swarm_send(p, 1, "x", 1));
    CHECK_EQ(await_down(rp, p), SWARM_ATOM_NORMAL); /* the other monitor still fires */
    expect_empty();                                  /* the removed one did not */
    API_RET(swarm_demonitor, SWARM_EINVAL, swarm_demonitor(r, 4));
    atomic_store(&driver_done, 1);
}
TEST(demonitor) { run(demonitor_driver, 2); }

/* A monitor's DOWN and a link's EXIT for the same end of a partner. */
static void spawn_both_driver(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    swarm_pid_t c;
    swarm_ref_t r;
    API_RET(swarm_spawn_monitor, 0, swarm_spawn_monitor(&c, &r, crasher, NULL, NULL));
    CHECK_EQ(await_down(r, c), SWARM_ATOM_CRASH);
    API_RET(swarm_spawn_link, 0, swarm_spawn_link(&c, crasher, NULL, NULL));
    expect_exit(c, SWARM_ATOM_CRASH);
    atomic_store(&driver_done, 1);
}
TEST(spawn_link_monitor) { run(spawn_both_driver, 2); }

/* ---- process info (issue 9 part 8) ----
 * Another process answers for itself: parked in a receive at once, busy
 * at its next SWARM_CHECK; one that reaches no switch point cannot. */
static atomic_int info_stop;
static void described(void *arg)
{
    swarm_pid_t parent = (swarm_pid_t)(uintptr_t)arg;
    CHECK_OK(swarm_set_label("the described one"));
    swarm_trap_exit(1, NULL);
    CHECK_OK(swarm_link(parent));
    void *a = swarm_alloc(1000);
    CHECK(a != NULL);
    CHECK_OK(swarm_register(atom_of("described"), swarm_self()));
    for (int i = 0; i < 3; i++)
        CHECK_OK(swarm_send(swarm_self(), 77, "x", 1)); /* left queued */
    CHECK_OK(swarm_send(parent, 1, "ready", 5));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(5, &m, SWARM_INFINITE)); /* parked here while asked */
    swarm_msg_free(m);
    while (!atomic_load(&info_stop))
        SWARM_CHECK(); /* busy: answers at its checks */
}
static void info_driver(void *arg)
{
    (void)arg;
    swarm_process_info_t info;
    atomic_store(&swarm__alloc_fail_at, 1); /* (no signal state yet: the label needs one) */
    API_RET(swarm_set_label, SWARM_ENOMEM, swarm_set_label("driver"));
    swarm__sys_reset();
    API_RET(swarm_set_label, 0, swarm_set_label("driver"));
    API_RET(swarm_process_info, 0, swarm_process_info(swarm_self(), &info, 0));
    CHECK_EQ(strcmp(info.label, "driver"), 0);
    CHECK_EQ(info.name, SWARM_ATOM_UNDEFINED);
    swarm_pid_t p;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_monitor(&p, &r, described, (void *)(uintptr_t)swarm_self(), NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(1, &m, test_ms(30000)));
    swarm_msg_free(m);
    CHECK_OK(swarm_process_info(p, &info, test_ms(30000)));
    CHECK_EQ(strcmp(info.label, "the described one"), 0);
    CHECK_EQ(info.mailbox_len, 3);
    CHECK_EQ(info.links, 1);
    CHECK_EQ(info.monitored_by, 2); /* ours, and the one the asking itself holds */
    CHECK_EQ(info.monitors, 0);
    CHECK_EQ(info.heap_bytes, 1000);
    CHECK_EQ(info.name, atom_of("described"));
    CHECK_EQ(info.trap_exit, 1);
    CHECK_OK(swarm_send(p, 5, "go", 2));
    CHECK_OK(swarm_process_info(p, &info, test_ms(30000))); /* now busy */
    CHECK_EQ(info.mailbox_len, 3);
    atomic_store(&info_stop, 1);
    CHECK_EQ(await_down(r, p), SWARM_ATOM_NORMAL);
    API_RET(swarm_process_info, SWARM_ESRCH, swarm_process_info(p, &info, test_ms(30000)));
    API_RET(swarm_process_info, SWARM_EINVAL, swarm_process_info(p, NULL, 0));
    API_RET(swarm_process_info, SWARM_EINVAL, swarm_process_info(SWARM_PID_NONE, &info, 0));
    API_RET(swarm_set_label, SWARM_EINVAL, swarm_set_label(NULL));
    CHECK_OK(swarm_spawn(&p, waiter, NULL, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_process_info, SWARM_ENOMEM, swarm_process_info(p, &info, 1000));
    swarm__sys_reset();
    CHECK_OK(swarm_send(p, 1, "x", 1));
    atomic_store(&driver_done, 1);
}

static atomic_int hog_started, hog_stop;
static void hog(void *arg)
{
    (void)arg;
    atomic_store(&hog_started, 1);
    while (!atomic_load(&hog_stop))
        ; /* no switch point */
}
static void info_timeout_driver(void *arg)
{
    (void)arg;
    swarm_pid_t p;
    CHECK_OK(swarm_spawn(&p, hog, NULL, NULL));
    while (!atomic_load(&hog_started))
        swarm_yield();
    swarm_process_info_t info;
    API_RET(swarm_process_info, SWARM_ETIMEDOUT, swarm_process_info(p, &info, 50));
    atomic_store(&hog_stop, 1);
    atomic_store(&driver_done, 1);
}

TEST(process_info)
{
    swarm_process_info_t info;
    API_RET(swarm_process_info, SWARM_ENOTPROC, swarm_process_info(1, &info, 0));
    API_RET(swarm_set_label, SWARM_ENOTPROC, swarm_set_label("x"));
    run(info_driver, 2);
    /* A process that reaches no switch point cannot answer (two
     * schedulers: the asker runs beside it). */
    swarm_t *sw;
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 2;
    c.quiet = 1;
    atomic_store(&driver_done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, info_timeout_driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&driver_done), 1);
}

/* The later fields: reductions, priority, memory, the current wait. */
enum { W_RECV, W_TAG, W_MATCH, W_SLEEP, W_CALL, W_MARKED, W_N };

static int never(const swarm_msg_t *m, void *ctx)
{
    (void)m, (void)ctx;
    return 0;
}

/* Waits as arg says until killed; W_CALL calls a process that never
 * answers (it sleeps). */
static void waits_so(void *arg)
{
    swarm_msg_t *m;
    swarm_recv_mark_t mk;
    swarm_pid_t mute;
    switch ((int)(intptr_t)arg) {
    case W_RECV: swarm_recv(&m, SWARM_INFINITE); break;
    case W_TAG: swarm_recv_tag(77, &m, 600000); break;
    case W_MATCH: swarm_recv_match(never, NULL, &m, SWARM_INFINITE); break;
    case W_SLEEP: swarm_sleep(600000); break;
    case W_CALL:
        CHECK_OK(swarm_spawn_link(&mute, waits_so, (void *)(intptr_t)W_SLEEP, NULL)); /* ends with us */
        swarm_gs_call(mute, 1, NULL, 0, &m, SWARM_INFINITE, NULL);
        break;
    case W_MARKED:
        CHECK_OK(swarm_recv_mark(&mk));
        swarm_recv_marked(&mk, never, NULL, &m, 600000);
        break;
    }
}

/* Ask pid until it answers from inside its wait (it may still be on its
 * way there when first asked). */
static void info_waiting(swarm_pid_t pid, swarm_process_info_t *info)
{
    for (;;) {
        CHECK_OK(swarm_process_info(pid, info, test_ms(30000)));
        if (info->wait != SWARM_WAIT_NONE)
            return;
        swarm_sleep(1);
    }
}

static void info_more_driver(void *arg)
{
    (void)arg;
    swarm_process_info_t a, b;
    /* Reductions: one per SWARM_CHECK (asking about itself costs none). */
    CHECK_OK(swarm_process_info(swarm_self(), &a, 0));
    for (int i = 0; i < 1000; i++)
        SWARM_CHECK();
    CHECK_OK(swarm_process_info(swarm_self(), &b, 0));
    CHECK_EQ(b.reductions - a.reductions, 1000);
    CHECK_EQ(b.priority, SWARM_PRIO_NORMAL);
    CHECK_EQ(b.wait, SWARM_WAIT_NONE); /* it runs */
    CHECK_EQ(b.wait_deadline_ms, SWARM_INFINITE);
    /* Memory: the stack it uses, and its queued messages with headers. */
    CHECK_CMP(b.stack_used, >, 0);
    CHECK_CMP(b.stack_used, <, b.stack_size);
    CHECK_EQ(b.mailbox_bytes, 0);
    char big[100] = {0};
    CHECK_OK(swarm_send(swarm_self(), 3, big, sizeof big));
    CHECK_OK(swarm_send(swarm_self(), 3, big, sizeof big));
    CHECK_OK(swarm_process_info(swarm_self(), &a, 0));
    CHECK_EQ(a.mailbox_bytes, 2 * (64 + sizeof big)); /* (a header is 64 bytes) */
    CHECK_CMP(a.memory, >=, 256 + 4096 + a.mailbox_bytes);
    CHECK(swarm_alloc(5000) != NULL);
    CHECK_OK(swarm_process_info(swarm_self(), &b, 0));
    CHECK_CMP(b.memory, >=, a.memory + 5000);
    swarm_msg_t *m;
    while (swarm_recv(&m, 0) == 0)
        swarm_msg_free(m);
    /* What other processes wait for, and until when. */
    static const int want[W_N] = {SWARM_WAIT_RECV, SWARM_WAIT_RECV_TAG, SWARM_WAIT_RECV_MATCH,
                                  SWARM_WAIT_SLEEP, SWARM_WAIT_CALL, SWARM_WAIT_RECV_MARKED};
    static const int timed[W_N] = {0, 1, 0, 1, 0, 1};
    for (int w = 0; w < W_N; w++) {
        swarm_pid_t p;
        swarm_spawn_opts_t o;
        swarm_spawn_opts_init(&o);
        o.priority = w == W_SLEEP ? SWARM_PRIO_LOW : SWARM_PRIO_NORMAL;
        CHECK_OK(swarm_spawn(&p, waits_so, (void *)(intptr_t)w, &o));
        info_waiting(p, &a);
        CHECK_EQ(a.wait, want[w]);
        CHECK_EQ(a.wait_tag, w == W_TAG ? 77 : 0);
        CHECK_EQ(a.priority, o.priority);
        if (timed[w]) {
            int64_t left = a.wait_deadline_ms - swarm_now_ms();
            CHECK_CMP(left, >, 0);
            CHECK_CMP(left, <=, 600000 + 2); /* (rounded up to the next tick) */
        } else {
            CHECK_EQ(a.wait_deadline_ms, SWARM_INFINITE);
        }
        CHECK_OK(swarm_exit_pid(p, swarm_reason(SWARM_ATOM_KILL)));
    }
    atomic_store(&driver_done, 1);
}

TEST(process_info_more) { run(info_more_driver, 2); }

/* ---- every documented code ---- */

static void codes_proc(void *arg)
{
    (void)arg;
    swarm_ref_t r;
    API_RET(swarm_link, SWARM_EINVAL, swarm_link(SWARM_PID_NONE));
    API_RET(swarm_unlink, SWARM_EINVAL, swarm_unlink(SWARM_PID_NONE));
    API_RET(swarm_monitor, SWARM_EINVAL, swarm_monitor(SWARM_PID_NONE, &r));
    API_RET(swarm_monitor, SWARM_EINVAL, swarm_monitor(swarm_self(), NULL));
    API_RET(swarm_exit_pid, SWARM_EINVAL, swarm_exit_pid(SWARM_PID_NONE, swarm_reason(SWARM_ATOM_KILL)));
    swarm_reason_t bad = {SWARM_ATOM_SHUTDOWN, 1, NULL};
    API_RET(swarm_exit_pid, SWARM_EINVAL, swarm_exit_pid(swarm_self(), bad));
    bad = swarm_reason(1u << 30);
    API_RET(swarm_exit_pid, SWARM_EINVAL, swarm_exit_pid(swarm_self(), bad));
    API_RET(swarm_spawn_monitor, SWARM_EINVAL, swarm_spawn_monitor(NULL, NULL, quick, NULL, NULL));
    API_RET(swarm_spawn_link, SWARM_EINVAL, swarm_spawn_link(NULL, NULL, NULL, NULL));
    API_RET(swarm_spawn_monitor, SWARM_EINVAL, swarm_spawn_monitor(NULL, &r, NULL, NULL, NULL));
    /* Out of memory: the first allocation of each call fails. */
    swarm_pid_t p;
    CHECK_OK(swarm_spawn(&p, waiter, NULL, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_link, SWARM_ENOMEM, swarm_link(p));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_monitor, SWARM_ENOMEM, swarm_monitor(p, &r));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_exit_pid, SWARM_ENOMEM, swarm_exit_pid(p, swarm_reason(SWARM_ATOM_KILL)));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_spawn_link, SWARM_ENOMEM, swarm_spawn_link(NULL, quick, NULL, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_spawn_monitor, SWARM_ENOMEM, swarm_spawn_monitor(NULL, &r, quick, NULL, NULL));
    swarm__sys_reset();
    /* Nothing was half made: the link and the monitor work now, and the
     * failed spawns left no process behind (the table holds 3: this one,
     * p, and one more). */
    CHECK_OK(swarm_link(p));
    CHECK_OK(swarm_unlink(p));
    CHECK_OK(swarm_monitor(p, &r));
    swarm_pid_t q;
    CHECK_OK(swarm_spawn(&q, waiter, NULL, NULL)); /* the table (3) is full now */
    API_RET(swarm_spawn_link, SWARM_EAGAIN, swarm_spawn_link(NULL, quick, NULL, NULL));
    API_RET(swarm_spawn_monitor, SWARM_EAGAIN, swarm_spawn_monitor(NULL, &r, quick, NULL, NULL));
    CHECK_OK(swarm_send(p, 1, "x", 1));
    CHECK_OK(swarm_send(q, 1, "x", 1));
    int old = -1;
    API_RET(swarm_trap_exit, 0, swarm_trap_exit(1, &old));
    CHECK_EQ(old, 0);
    CHECK_OK(swarm_trap_exit(0, &old));
    CHECK_EQ(old, 1);
    atomic_store(&driver_done, 1);
}

static atomic_int shut_started, shut_done;
static void shutdown_spinner(void *arg)
{
    (void)arg;
    swarm_ref_t r;
    atomic_store(&shut_started, 1);
    while (swarm_spawn_link(NULL, quick, NULL, NULL) == SWARM_EAGAIN)
        ;
    API_RET(swarm_spawn_link, SWARM_ESHUTDOWN, swarm_spawn_link(NULL, quick, NULL, NULL));
    API_RET(swarm_spawn_monitor, SWARM_ESHUTDOWN, swarm_spawn_monitor(NULL, &r, quick, NULL, NULL));
    atomic_store(&shut_done, 1);
}

TEST(codes)
{
    swarm_ref_t r;
    API_RET(swarm_link, SWARM_ENOTPROC, swarm_link(1));
    API_RET(swarm_unlink, SWARM_ENOTPROC, swarm_unlink(1));
    API_RET(swarm_trap_exit, SWARM_ENOTPROC, swarm_trap_exit(1, NULL));
    API_RET(swarm_monitor, SWARM_ENOTPROC, swarm_monitor(1, &r));
    API_RET(swarm_demonitor, SWARM_ENOTPROC, swarm_demonitor(r, 0));
    API_RET(swarm_spawn_link, SWARM_ENOTPROC, swarm_spawn_link(NULL, quick, NULL, NULL));
    API_RET(swarm_spawn_monitor, SWARM_ENOTPROC, swarm_spawn_monitor(NULL, &r, quick, NULL, NULL));
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.max_procs = 3;
    atomic_store(&driver_done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, codes_proc, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_EQ(atomic_load(&driver_done), 1);
    CHECK_OK(swarm_destroy(sw));

    c = test_config(1);
    c.max_procs = 2;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, waiter, NULL, NULL));
    CHECK_OK(swarm_spawn_in(sw, NULL, shutdown_spinner, NULL, NULL));
    TEST_POLL(atomic_load(&shut_started), 60000);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&shut_done), 1);
}

TEST_MAIN(TEST_ENTRY(atoms), TEST_ENTRY(atom_limit, TEST_TIMEOUT(300)), TEST_ENTRY(refs), TEST_ENTRY(reasons, TEST_DET),
          TEST_ENTRY(link_dead_pid, TEST_DET), TEST_ENTRY(exit_normal, TEST_DET),
          TEST_ENTRY(kill_is_untrappable, TEST_DET), TEST_ENTRY(exit_kill_via_link, TEST_DET),
          TEST_ENTRY(exit_to_self, TEST_DET), TEST_ENTRY(link_propagation, TEST_DET),
          TEST_ENTRY(link_stack_overflow), TEST_ENTRY(unlink, TEST_DET),
          TEST_ENTRY(order_msg_exit_msg, TEST_DET, TEST_CONCURRENCY), TEST_ENTRY(trap_mid_stream, TEST_DET),
          TEST_ENTRY(kill_parked_and_running, TEST_CONCURRENCY), TEST_ENTRY(monitor, TEST_DET),
          TEST_ENTRY(demonitor, TEST_DET), TEST_ENTRY(spawn_link_monitor, TEST_DET), TEST_ENTRY(codes),
          TEST_ENTRY(process_info), TEST_ENTRY(process_info_more, TEST_DET))
