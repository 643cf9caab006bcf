/*
 * tests/supervisor_test.c - swarmrt/supervisor.h against OTP 25's
 * supervisor (docs/design/semantics-plan.md rows S1-S7), and a crash
 * storm through a three-level tree.
 *
 * How a test knows a restart happened without waiting for time: it
 * monitors the child it ends; the child's exit sends the EXIT to its
 * supervisor before the DOWN to the test, so a call into the supervisor
 * made after the DOWN is handled after the restart.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/sys.h"
#include "test.h"

#define KIDS 8
static atomic_int starts[KIDS];
static atomic_int done;
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;
static int order[64], norder;

/* A worker: counts its start, then waits; a message "crash" makes it
 * fault. If its arg has bit 8 set it traps exits and records the order
 * in which shutdowns reach it; bit 9: it then ignores them (a slow
 * terminate). */
#define W_TRAP 0x100
#define W_STUBBORN 0x200
/* Out of UBSan's and TSan's sight (each process is a TSan fiber: two
 * crashers' stores to address 0 would read as a race). */
#define CRASHES_ON_PURPOSE __attribute__((no_sanitize("undefined", "thread"), noinline))

CRASHES_ON_PURPOSE static void crash_now(void)
{
    volatile int *volatile np = NULL;
    *np = 1;
}

static void worker(void *arg)
{
    int id = (int)(intptr_t)arg & 0xff;
    int flags = (int)(intptr_t)arg;
    atomic_fetch_add(&starts[id], 1);
    if (flags & W_TRAP)
        swarm_trap_exit(1, NULL);
    for (;;) {
        swarm_msg_t *m;
        if (swarm_recv(&m, SWARM_INFINITE) != 0)
            continue;
        if (swarm_msg_exit(m, NULL, NULL)) {
            pthread_mutex_lock(&order_lock);
            if (norder < 64)
                order[norder++] = id;
            pthread_mutex_unlock(&order_lock);
            swarm_msg_free(m);
            if (flags & W_STUBBORN)
                swarm_sleep(1000000); /* never ends by itself: killed */
            swarm_exit_with(swarm_reason(SWARM_ATOM_SHUTDOWN));
        }
        int crash = swarm_msg_size(m) == 5 && memcmp(swarm_msg_data(m), "crash", 5) == 0;
        swarm_msg_free(m);
        if (crash)
            crash_now();
        return; /* any other message: a normal end */
    }
}

static swarm_atom_t atom(const char *s)
{
    swarm_atom_t a;
    CHECK_OK(swarm_atom(s, &a));
    return a;
}

static swarm_child_spec_t spec(const char *id, int arg)
{
    swarm_child_spec_t c;
    memset(&c, 0, sizeof c);
    c.id = atom(id);
    c.fn = worker;
    c.arg = (void *)(intptr_t)arg;
    c.restart = SWARM_PERMANENT;
    return c;
}

static swarm_pid_t child_pid(swarm_pid_t sup, swarm_atom_t id)
{
    swarm_sup_child_t kids[KIDS];
    size_t n;
    API_RET(swarm_sup_which_children, 0, swarm_sup_which_children(sup, kids, KIDS, &n));
    for (size_t i = 0; i < n && i < KIDS; i++)
        if (kids[i].id == id)
            return kids[i].pid;
    return SWARM_PID_NONE;
}

static int is_down_of(const swarm_msg_t *m, void *ctx)
{
    swarm_ref_t r;
    return swarm_msg_down(m, &r, NULL, NULL) && swarm_ref_eq(r, *(const swarm_ref_t *)ctx);
}

/* End child id of sup with "crash" (or an exit signal with reason r when
 * r is not normal) and wait for its DOWN: the supervisor has then seen
 * its EXIT. Returns the DOWN's reason. */
static swarm_atom_t end_child(swarm_pid_t sup, const char *id, swarm_atom_t r)
{
    swarm_pid_t c = child_pid(sup, atom(id));
    CHECK(c != SWARM_PID_NONE);
    swarm_ref_t mon;
    CHECK_OK(swarm_monitor(c, &mon));
    if (r == SWARM_ATOM_NORMAL)
        CHECK_OK(swarm_send(c, 1, "crash", 5));
    else
        CHECK_OK(swarm_exit_pid(c, swarm_reason(r)));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_match(is_down_of, &mon, &m, test_ms(30000)));
    swarm_reason_t why;
    CHECK(swarm_msg_down(m, NULL, NULL, &why));
    swarm_atom_t a = why.atom;
    swarm_msg_free(m);
    return a;
}

/* Wait until workers [0, n) have each run (a spawn returns before its
 * process first runs). */
static void await_started(int n)
{
    for (int i = 0; i < n; i++)
        while (atomic_load(&starts[i]) < 1)
            swarm_yield();
}

static void reset(void)
{
    for (int i = 0; i < KIDS; i++)
        atomic_store(&starts[i], 0);
    norder = 0;
    atomic_store(&done, 0);
}

static void run(swarm_fn driver, unsigned n)
{
    swarm_t *sw;
    swarm_config_t c = test_config(n);
    c.quiet = 1;
    reset();
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    swarm_stats_t st;
    CHECK_OK(swarm_stats(sw, &st));
    CHECK_EQ(st.procs_live, 0); /* every child of every tree ended with it */
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
}

/* Monitor sup and stop it; returns its DOWN reason. */
static swarm_atom_t stop_sup(swarm_pid_t sup)
{
    swarm_ref_t r;
    CHECK_OK(swarm_monitor(sup, &r));
    CHECK_OK(swarm_gs_stop(sup, swarm_reason(SWARM_ATOM_SHUTDOWN), test_ms(30000)));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_match(is_down_of, &r, &m, test_ms(30000)));
    swarm_reason_t why;
    CHECK(swarm_msg_down(m, NULL, NULL, &why));
    swarm_msg_free(m);
    return why.atom;
}

/* S2, S3, S4: one_for_one restarts the one; one_for_all stops the others
 * (reverse start order) and restarts all; rest_for_one the ones after. */
static void strategy_case(swarm_strategy_t st, const int want[3], const int want_order[], int n_order)
{
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.strategy = st;
    swarm_child_spec_t kids[3] = {spec("a", 0 | W_TRAP), spec("b", 1 | W_TRAP), spec("c", 2 | W_TRAP)};
    swarm_pid_t sup;
    API_RET(swarm_sup_start, 0, swarm_sup_start(&sup, &f, kids, 3, NULL));
    await_started(3);
    reset();
    const char *ids[3] = {"a", "b", "c"};
    swarm_pid_t before[3];
    for (int i = 0; i < 3; i++)
        before[i] = child_pid(sup, atom(ids[i]));
    CHECK_EQ(end_child(sup, "b", SWARM_ATOM_NORMAL), SWARM_ATOM_CRASH);
    /* (This call is handled after the restart: a restarted child has a
     * new pid, the others their old one.) */
    for (int i = 0; i < 3; i++) {
        swarm_pid_t now = child_pid(sup, atom(ids[i]));
        CHECK(now != SWARM_PID_NONE);
        CHECK_EQ(now != before[i], want[i]);
    }
    CHECK_EQ(norder, n_order);
    for (int i = 0; i < n_order; i++)
        CHECK_EQ(order[i], want_order[i]);
    norder = 0;
    CHECK_EQ(stop_sup(sup), SWARM_ATOM_SHUTDOWN);
    /* The supervisor's own end stops all three, last started first. */
    CHECK_EQ(norder, 3);
    CHECK_EQ(order[0], 2);
    CHECK_EQ(order[1], 1);
    CHECK_EQ(order[2], 0);
}

static void strategies_driver(void *arg)
{
    (void)arg;
    strategy_case(SWARM_ONE_FOR_ONE, (const int[]){0, 1, 0}, NULL, 0);
    strategy_case(SWARM_ONE_FOR_ALL, (const int[]){1, 1, 1}, (const int[]){2, 0}, 2);
    strategy_case(SWARM_REST_FOR_ONE, (const int[]){0, 1, 1}, (const int[]){2}, 1);
    atomic_store(&done, 1);
}
TEST(strategies) { run(strategies_driver, 2); }

/* S1: intensity 2 in 5 s: two restarts pass, the third crash ends the
 * supervisor with shutdown. A crash after the period has passed does not
 * count against the earlier ones. */
static void intensity_driver(void *arg)
{
    (void)arg;
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.intensity = 2;
    f.period_s = 5;
    swarm_child_spec_t kids[1] = {spec("a", 0)};
    swarm_pid_t sup;
    CHECK_OK(swarm_sup_start(&sup, &f, kids, 1, NULL));
    swarm_ref_t r;
    CHECK_OK(swarm_monitor(sup, &r));
    for (int round = 0; round < 2; round++) {
        if (round)
            swarm_sleep(5100); /* the first two fall out of the period */
        for (int i = 0; i < 2; i++) {
            swarm_pid_t old = child_pid(sup, atom("a"));
            end_child(sup, "a", SWARM_ATOM_NORMAL);
            swarm_pid_t now = child_pid(sup, atom("a"));
            CHECK(now != SWARM_PID_NONE && now != old); /* restarted */
        }
    }
    swarm_pid_t c = child_pid(sup, atom("a"));
    CHECK_OK(swarm_send(c, 1, "crash", 5)); /* the third within 5 s */
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
    swarm_reason_t why;
    swarm_pid_t who;
    CHECK(swarm_msg_down(m, NULL, &who, &why));
    CHECK_EQ(who, sup);
    CHECK_EQ(why.atom, SWARM_ATOM_SHUTDOWN);
    swarm_msg_free(m);
    atomic_store(&done, 1);
}
TEST(intensity) { run(intensity_driver, 2); }

/* S5: shutdown one at a time in reverse order; a child that ignores the
 * shutdown is killed when its time runs out; brutal_kill kills at once. */
static void shutdown_driver(void *arg)
{
    (void)arg;
    swarm_child_spec_t kids[3] = {spec("a", 0 | W_TRAP), spec("b", 1 | W_TRAP | W_STUBBORN), spec("c", 2)};
    kids[1].shutdown = 100;
    kids[2].shutdown = SWARM_SHUTDOWN_BRUTAL_KILL;
    swarm_pid_t sup;
    CHECK_OK(swarm_sup_start(&sup, NULL, kids, 3, NULL));
    swarm_ref_t ra, rb, rc;
    CHECK_OK(swarm_monitor(child_pid(sup, atom("a")), &ra));
    CHECK_OK(swarm_monitor(child_pid(sup, atom("b")), &rb));
    CHECK_OK(swarm_monitor(child_pid(sup, atom("c")), &rc));
    swarm_sup_counts_t cnt;
    API_RET(swarm_sup_count_children, 0, swarm_sup_count_children(sup, &cnt));
    CHECK_EQ(cnt.specs, 3);
    CHECK_EQ(cnt.active, 3);
    CHECK_EQ(cnt.workers, 3);
    CHECK_EQ(cnt.supervisors, 0);
    swarm_sup_child_t list[3];
    size_t n;
    CHECK_OK(swarm_sup_which_children(sup, list, 3, &n));
    CHECK_EQ(n, 3);
    CHECK_EQ(list[0].id, atom("c")); /* newest first */
    CHECK_EQ(list[2].id, atom("a"));
    int64_t t0 = swarm_now_ms();
    CHECK_EQ(stop_sup(sup), SWARM_ATOM_SHUTDOWN);
    CHECK_CMP(swarm_now_ms() - t0, >=, 100); /* b's 100 ms ran out */
    swarm_atom_t got[3];
    for (int i = 0; i < 3; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, 0));
        swarm_ref_t r;
        swarm_reason_t why;
        CHECK(swarm_msg_down(m, &r, NULL, &why));
        int k = swarm_ref_eq(r, ra) ? 0 : swarm_ref_eq(r, rb) ? 1 : 2;
        got[k] = why.atom;
        swarm_msg_free(m);
    }
    CHECK_EQ(got[2], SWARM_ATOM_KILLED);   /* brutal kill */
    CHECK_EQ(got[1], SWARM_ATOM_KILLED);   /* did not end in 100 ms */
    CHECK_EQ(got[0], SWARM_ATOM_SHUTDOWN); /* ended when asked */
    CHECK_EQ(norder, 2);                   /* b, then a (c never saw it) */
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 0);
    atomic_store(&done, 1);
}
TEST(shutdown_order) { run(shutdown_driver, 2); }

/* S6: permanent, transient, temporary ending normally: only permanent is
 * restarted; temporary's spec is dropped; a transient ending with
 * shutdown is not restarted, with crash it is. S7: an exit signal
 * shutdown from a process that is not its parent does not stop it. */
static void restart_types_driver(void *arg)
{
    (void)arg;
    swarm_child_spec_t kids[3] = {spec("perm", 0), spec("trans", 1), spec("temp", 2)};
    kids[1].restart = SWARM_TRANSIENT;
    kids[2].restart = SWARM_TEMPORARY;
    swarm_pid_t sup;
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.intensity = 10;
    CHECK_OK(swarm_sup_start(&sup, &f, kids, 3, NULL));
    await_started(3);
    reset();
    const char *ids[3] = {"perm", "trans", "temp"};
    swarm_pid_t perm0 = child_pid(sup, atom("perm"));
    for (int i = 0; i < 3; i++) {
        swarm_pid_t c = child_pid(sup, atom(ids[i]));
        swarm_ref_t r;
        CHECK_OK(swarm_monitor(c, &r));
        CHECK_OK(swarm_send(c, 1, "bye", 3)); /* a normal end */
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
        swarm_msg_free(m);
    }
    swarm_sup_counts_t cnt;
    CHECK_OK(swarm_sup_count_children(sup, &cnt));
    CHECK_EQ(cnt.specs, 2);  /* temp is gone */
    CHECK_EQ(cnt.active, 1); /* only perm runs, restarted */
    CHECK(child_pid(sup, atom("perm")) != perm0);
    CHECK_EQ(child_pid(sup, atom("trans")), SWARM_PID_NONE);
    API_RET(swarm_sup_terminate_child, 0, swarm_sup_terminate_child(sup, atom("trans")));
    API_RET(swarm_sup_terminate_child, SWARM_ENOENT, swarm_sup_terminate_child(sup, atom("trans")));
    swarm_child_spec_t t2 = spec("trans", 1);
    t2.restart = SWARM_TRANSIENT;
    swarm_pid_t p;
    API_RET(swarm_sup_start_child, 0, swarm_sup_start_child(sup, &t2, &p));
    API_RET(swarm_sup_start_child, SWARM_EEXIST, swarm_sup_start_child(sup, &t2, &p));
    CHECK_EQ(end_child(sup, "trans", SWARM_ATOM_SHUTDOWN), SWARM_ATOM_SHUTDOWN);
    CHECK_EQ(child_pid(sup, atom("trans")), SWARM_PID_NONE); /* not restarted */
    CHECK_OK(swarm_sup_terminate_child(sup, atom("trans")));
    CHECK_OK(swarm_sup_start_child(sup, &t2, &p));
    CHECK_EQ(end_child(sup, "trans", SWARM_ATOM_NORMAL), SWARM_ATOM_CRASH);
    CHECK(child_pid(sup, atom("trans")) != SWARM_PID_NONE); /* restarted */
    /* S7 */
    CHECK_OK(swarm_exit_pid(sup, swarm_reason(SWARM_ATOM_SHUTDOWN)));
    CHECK_OK(swarm_sup_count_children(sup, &cnt)); /* still answers */
    CHECK_EQ(cnt.active, 2);
    CHECK_EQ(stop_sup(sup), SWARM_ATOM_SHUTDOWN);
    atomic_store(&done, 1);
}
TEST(restart_types) { run(restart_types_driver, 2); }

/* A linked supervisor ends when its parent's exit signal comes. */
static void parent_proc(void *arg)
{
    swarm_pid_t driver = (swarm_pid_t)(uintptr_t)arg, sup;
    swarm_child_spec_t kids[1] = {spec("a", 0)};
    swarm_gs_opts_t o;
    swarm_gs_opts_init(&o);
    o.link = 1;
    CHECK_OK(swarm_sup_start(&sup, NULL, kids, 1, &o));
    CHECK_OK(swarm_send(driver, 3, &sup, sizeof sup));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, SWARM_INFINITE));
    swarm_msg_free(m);
    swarm_exit_with(swarm_reason(atom("parent_gone")));
}
static void parent_driver(void *arg)
{
    (void)arg;
    swarm_pid_t parent, sup;
    CHECK_OK(swarm_spawn(&parent, parent_proc, (void *)(uintptr_t)swarm_self(), NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(3, &m, test_ms(30000)));
    memcpy(&sup, swarm_msg_data(m), sizeof sup);
    swarm_msg_free(m);
    swarm_ref_t r;
    CHECK_OK(swarm_monitor(sup, &r));
    CHECK_OK(swarm_send(parent, 1, "go", 2));
    CHECK_OK(swarm_recv_match(is_down_of, &r, &m, test_ms(30000)));
    swarm_reason_t why;
    CHECK(swarm_msg_down(m, NULL, NULL, &why));
    CHECK_EQ(why.atom, atom("parent_gone"));
    swarm_msg_free(m);
    atomic_store(&done, 1);
}
TEST(parent_exit_stops_it) { run(parent_driver, 2); }

/* ---- the crash storm: a three-level tree ----
 * top (one_for_one) -> 2 mid supervisors (one_for_one) -> 4 workers each.
 * Workers are ended at random, by a crash, an exit signal kill, or a
 * stack-safe exit; each end is followed by exactly one restart of that
 * worker (counted); at the end the top is stopped and every process of
 * the tree is gone (the swarm's live count is 0). */
#define MIDS 2
#define LEAVES 4
static int mid_start(void *arg, swarm_pid_t *out)
{
    int m = (int)(intptr_t)arg;
    swarm_child_spec_t kids[LEAVES];
    char id[8];
    for (int i = 0; i < LEAVES; i++) {
        snprintf(id, sizeof id, "w%d", i);
        kids[i] = spec(id, m * LEAVES + i);
    }
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.intensity = 1000000;
    swarm_gs_opts_t o;
    swarm_gs_opts_init(&o);
    o.link = 1;
    return swarm_sup_start(out, &f, kids, LEAVES, &o);
}

static void storm_driver(void *arg)
{
    (void)arg;
    uint64_t rng = test_seed();
    swarm_child_spec_t mids[MIDS];
    for (int i = 0; i < MIDS; i++) {
        char id[8];
        snprintf(id, sizeof id, "m%d", i);
        memset(&mids[i], 0, sizeof mids[i]);
        mids[i].id = atom(id);
        mids[i].start = mid_start;
        mids[i].arg = (void *)(intptr_t)i;
        mids[i].supervisor = 1;
    }
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.intensity = 10;
    swarm_pid_t top;
    CHECK_OK(swarm_sup_start(&top, &f, mids, MIDS, NULL));
    swarm_sup_counts_t cnt;
    CHECK_OK(swarm_sup_count_children(top, &cnt));
    CHECK_EQ(cnt.supervisors, MIDS);
    int ends[MIDS * LEAVES] = {0};
    long rounds = test_scale(300);
    for (long r = 0; r < rounds; r++) {
        int mi = (int)(test_rand(&rng) % MIDS), wi = (int)(test_rand(&rng) % LEAVES);
        char mid_id[8], w_id[8];
        snprintf(mid_id, sizeof mid_id, "m%d", mi);
        snprintf(w_id, sizeof w_id, "w%d", wi);
        swarm_pid_t mid = child_pid(top, atom(mid_id));
        CHECK(mid != SWARM_PID_NONE);
        uint64_t how = test_rand(&rng) % 3;
        swarm_atom_t want = how == 0 ? SWARM_ATOM_CRASH : how == 1 ? SWARM_ATOM_KILLED : atom("boom");
        swarm_atom_t got = end_child(mid, w_id, how == 0 ? SWARM_ATOM_NORMAL : how == 1 ? SWARM_ATOM_KILL : want);
        CHECK_EQ(got, want);
        ends[mi * LEAVES + wi]++;
        CHECK(child_pid(mid, atom(w_id)) != SWARM_PID_NONE); /* healed */
    }
    CHECK_OK(swarm_sup_count_children(top, &cnt));
    CHECK_EQ(cnt.active, MIDS);
    CHECK_EQ(stop_sup(top), SWARM_ATOM_SHUTDOWN);
    /* The whole tree is down: every worker ever spawned has run its
     * first line. Exactly one start per end, plus the first. */
    for (int i = 0; i < MIDS * LEAVES; i++)
        CHECK_EQ(atomic_load(&starts[i]), 1 + ends[i]);
    printf("storm: %ld ends, every one restarted once\n", rounds);
    atomic_store(&done, 1);
}
TEST(crash_storm) { run(storm_driver, 2); }

static int failing_start(void *arg, swarm_pid_t *out)
{
    (void)arg, (void)out;
    return SWARM_ENOMEM;
}

/* simple_one_for_one: children from a template, each restarted alone, the
 * same id for all, stopped by pid. */
static void simple_driver(void *arg)
{
    (void)arg;
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.strategy = SWARM_SIMPLE_ONE_FOR_ONE;
    f.intensity = 10;
    swarm_child_spec_t t = spec("w", 0);
    swarm_pid_t sup, kid[5];
    API_RET(swarm_sup_start, SWARM_EINVAL, swarm_sup_start(&sup, &f, NULL, 0, NULL)); /* no template */
    CHECK_OK(swarm_sup_start(&sup, &f, &t, 1, NULL));
    swarm_sup_counts_t cnt;
    CHECK_OK(swarm_sup_count_children(sup, &cnt));
    CHECK_EQ(cnt.specs, 0);
    for (int i = 0; i < 5; i++)
        API_RET(swarm_sup_start_simple, 0, swarm_sup_start_simple(sup, (void *)(intptr_t)(i + 1), &kid[i]));
    for (int i = 1; i <= 5; i++)
        while (atomic_load(&starts[i]) < 1)
            swarm_yield(); /* each has run (its arg is its index) */
    swarm_sup_child_t list[8];
    size_t n;
    CHECK_OK(swarm_sup_which_children(sup, list, 8, &n));
    CHECK_EQ(n, 5);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(list[i].id, atom("w"));
    /* kid[2] crashes: only it is restarted, with its own arg (3). */
    swarm_ref_t r;
    CHECK_OK(swarm_monitor(kid[2], &r));
    CHECK_OK(swarm_send(kid[2], 1, "crash", 5));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_match(is_down_of, &r, &m, test_ms(30000)));
    swarm_msg_free(m);
    CHECK_OK(swarm_sup_which_children(sup, list, 8, &n));
    CHECK_EQ(n, 5);
    int found_old = 0;
    for (size_t i = 0; i < n; i++)
        found_old += list[i].pid == kid[2];
    CHECK_EQ(found_old, 0);
    while (atomic_load(&starts[3]) < 2)
        swarm_yield(); /* (its restart runs with arg 3) */
    API_RET(swarm_sup_terminate_pid, 0, swarm_sup_terminate_pid(sup, kid[0]));
    API_RET(swarm_sup_terminate_pid, SWARM_ENOENT, swarm_sup_terminate_pid(sup, kid[0]));
    CHECK_OK(swarm_sup_count_children(sup, &cnt));
    CHECK_EQ(cnt.active, 4);
    API_RET(swarm_sup_start_child, SWARM_EINVAL, swarm_sup_start_child(sup, &t, NULL)); /* the wrong call */
    CHECK_EQ(swarm_sup_terminate_child(sup, atom("w")), SWARM_ENOENT);              /* ids are not unique */
    swarm_pid_t other;
    swarm_child_spec_t one = spec("x", 7);
    CHECK_OK(swarm_sup_start(&other, NULL, &one, 1, NULL));
    API_RET(swarm_sup_start_simple, SWARM_EINVAL, swarm_sup_start_simple(other, NULL, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sup_start_simple, SWARM_ENOMEM, swarm_sup_start_simple(sup, NULL, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sup_terminate_pid, SWARM_ENOMEM, swarm_sup_terminate_pid(sup, kid[1]));
    swarm__sys_reset();
    CHECK_EQ(stop_sup(other), SWARM_ATOM_SHUTDOWN);
    CHECK_EQ(stop_sup(sup), SWARM_ATOM_SHUTDOWN);
    API_RET(swarm_sup_start_simple, SWARM_ESRCH, swarm_sup_start_simple(sup, NULL, NULL));
    API_RET(swarm_sup_terminate_pid, SWARM_ESRCH, swarm_sup_terminate_pid(sup, kid[1]));
    /* A template whose start fails. */
    swarm_child_spec_t bad = spec("b", 0);
    bad.fn = NULL;
    bad.start = failing_start;
    CHECK_OK(swarm_sup_start(&sup, &f, &bad, 1, NULL));
    API_RET(swarm_sup_start_simple, SWARM_ECANCELED, swarm_sup_start_simple(sup, NULL, NULL));
    CHECK_EQ(stop_sup(sup), SWARM_ATOM_SHUTDOWN);
    atomic_store(&done, 1);
}
TEST(simple_one_for_one) { run(simple_driver, 2); }

/* Codes not seen above. */
static void codes_driver(void *arg)
{
    (void)arg;
    swarm_child_spec_t kids[2] = {spec("a", 0), spec("a", 1)};
    API_RET(swarm_sup_start, SWARM_EINVAL, swarm_sup_start(NULL, NULL, kids, 2, NULL)); /* duplicate id */
    kids[1] = spec("b", 1);
    kids[1].start = failing_start; /* both fn and start */
    API_RET(swarm_sup_start, SWARM_EINVAL, swarm_sup_start(NULL, NULL, kids, 2, NULL));
    kids[1].fn = NULL;
    API_RET(swarm_sup_start, SWARM_ECANCELED, swarm_sup_start(NULL, NULL, kids, 2, NULL));
    CHECK_EQ(atomic_load(&starts[0]), 1); /* a started, then stopped again */
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.strategy = (swarm_strategy_t)7;
    API_RET(swarm_sup_start, SWARM_EINVAL, swarm_sup_start(NULL, &f, kids, 1, NULL));
    swarm_pid_t sup;
    swarm_gs_opts_t o;
    swarm_gs_opts_init(&o);
    o.name = atom("the_sup");
    CHECK_OK(swarm_sup_start(&sup, NULL, kids, 1, &o));
    API_RET(swarm_sup_start, SWARM_EEXIST, swarm_sup_start(NULL, NULL, kids, 1, &o));
    API_RET(swarm_sup_start_child, SWARM_ECANCELED, swarm_sup_start_child(sup, &kids[1], NULL));
    API_RET(swarm_sup_start_child, SWARM_EINVAL, swarm_sup_start_child(sup, NULL, NULL));
    swarm_sup_child_t list[1];
    size_t n;
    API_RET(swarm_sup_which_children, SWARM_EINVAL, swarm_sup_which_children(sup, list, 1, NULL));
    API_RET(swarm_sup_count_children, SWARM_EINVAL, swarm_sup_count_children(sup, NULL));
    CHECK_EQ(stop_sup(sup), SWARM_ATOM_SHUTDOWN);
    swarm_sup_counts_t cnt;
    API_RET(swarm_sup_count_children, SWARM_ESRCH, swarm_sup_count_children(sup, &cnt));
    API_RET(swarm_sup_which_children, SWARM_ESRCH, swarm_sup_which_children(sup, list, 1, &n));
    API_RET(swarm_sup_start_child, SWARM_ESRCH, swarm_sup_start_child(sup, &kids[0], NULL));
    API_RET(swarm_sup_terminate_child, SWARM_ESRCH, swarm_sup_terminate_child(sup, atom("a")));
    /* Out of memory: the first allocation of each fails. */
    CHECK_OK(swarm_sup_start(&sup, NULL, kids, 1, NULL));
    swarm_atom_t a = atom("a");
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sup_count_children, SWARM_ENOMEM, swarm_sup_count_children(sup, &cnt));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sup_which_children, SWARM_ENOMEM, swarm_sup_which_children(sup, list, 1, &n));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sup_start_child, SWARM_ENOMEM, swarm_sup_start_child(sup, &kids[0], NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sup_terminate_child, SWARM_ENOMEM, swarm_sup_terminate_child(sup, a));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sup_start, SWARM_ENOMEM, swarm_sup_start(NULL, NULL, kids, 1, NULL));
    swarm__sys_reset();
    /* The table is full (max_procs 4: this, sup, its child, one more). */
    swarm_pid_t extra;
    CHECK_OK(swarm_spawn(&extra, worker, (void *)(intptr_t)7, NULL));
    API_RET(swarm_sup_start, SWARM_EAGAIN, swarm_sup_start(NULL, NULL, kids, 1, NULL));
    CHECK_OK(swarm_send(extra, 1, "bye", 3));
    CHECK_EQ(stop_sup(sup), SWARM_ATOM_SHUTDOWN);
    atomic_store(&done, 1);
}

static atomic_int spin_started, spin_done;
static void shutdown_spinner(void *arg)
{
    (void)arg;
    atomic_store(&spin_started, 1);
    while (swarm_sup_start(NULL, NULL, NULL, 0, NULL) == SWARM_EAGAIN)
        ;
    API_RET(swarm_sup_start, SWARM_ESHUTDOWN, swarm_sup_start(NULL, NULL, NULL, 0, NULL));
    atomic_store(&spin_done, 1);
}
TEST(codes)
{
    swarm_sup_counts_t cnt;
    swarm_sup_child_t list[1];
    size_t n;
    swarm_child_spec_t k = spec("a", 0);
    API_RET(swarm_sup_start, SWARM_ENOTPROC, swarm_sup_start(NULL, NULL, NULL, 0, NULL));
    API_RET(swarm_sup_count_children, SWARM_ENOTPROC, swarm_sup_count_children(1, &cnt));
    API_RET(swarm_sup_which_children, SWARM_ENOTPROC, swarm_sup_which_children(1, list, 1, &n));
    API_RET(swarm_sup_start_child, SWARM_ENOTPROC, swarm_sup_start_child(1, &k, NULL));
    API_RET(swarm_sup_terminate_child, SWARM_ENOTPROC, swarm_sup_terminate_child(1, k.id));
    API_RET(swarm_sup_start_simple, SWARM_ENOTPROC, swarm_sup_start_simple(1, NULL, NULL));
    API_RET(swarm_sup_terminate_pid, SWARM_ENOTPROC, swarm_sup_terminate_pid(1, 1));
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.quiet = 1;
    c.max_procs = 4;
    reset();
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, codes_driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);

    c = test_config(1);
    c.max_procs = 2;
    c.quiet = 1;
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, worker, (void *)(intptr_t)6, NULL));
    CHECK_OK(swarm_spawn_in(sw, NULL, shutdown_spinner, NULL, NULL));
    TEST_POLL(atomic_load(&spin_started), 60000);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&spin_done), 1);
}

TEST_MAIN(TEST_ENTRY(strategies, TEST_DET), TEST_ENTRY(intensity, TEST_DET), TEST_ENTRY(shutdown_order, TEST_DET),
          TEST_ENTRY(restart_types, TEST_DET), TEST_ENTRY(parent_exit_stops_it, TEST_DET),
          TEST_ENTRY(crash_storm, TEST_DET, TEST_CONCURRENCY), TEST_ENTRY(codes),
          TEST_ENTRY(simple_one_for_one, TEST_DET))
