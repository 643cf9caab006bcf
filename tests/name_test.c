/*
 * tests/name_test.c - registered names (swarmrt/name.h), as OTP 25 does
 * them (docs/design/semantics-plan.md rows N1-N4).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/sys.h"
#include "test.h"

static atomic_int done;

static void waiter(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    if (swarm_recv(&m, SWARM_INFINITE) == 0)
        swarm_msg_free(m);
}

static void quick(void *arg) { (void)arg; }

static swarm_atom_t atom(const char *s)
{
    swarm_atom_t a;
    CHECK_OK(swarm_atom(s, &a));
    return a;
}

/* N1: register, a taken name, a pid that has a name, whereis, unregister,
 * unregister of a free name, send to an unknown name, the name undefined:
 * all refused (Erlang: badarg). N4: a send by name reaches the process. */
static void n1_driver(void *arg)
{
    (void)arg;
    swarm_atom_t foo = atom("foo"), bar = atom("bar");
    swarm_pid_t p, q;
    CHECK_OK(swarm_spawn(&p, waiter, NULL, NULL));
    CHECK_OK(swarm_spawn(&q, waiter, NULL, NULL));
    API_RET(swarm_register, 0, swarm_register(foo, p));
    API_RET(swarm_register, SWARM_EEXIST, swarm_register(foo, q));  /* name taken */
    API_RET(swarm_register, SWARM_EEXIST, swarm_register(bar, p));  /* p is named */
    API_RET(swarm_register, SWARM_EINVAL, swarm_register(SWARM_ATOM_UNDEFINED, q));
    API_RET(swarm_register, SWARM_EINVAL, swarm_register(1u << 30, q)); /* not an atom */
    API_RET(swarm_register, SWARM_EINVAL, swarm_register(bar, SWARM_PID_NONE));
    CHECK_EQ(swarm_whereis(NULL, foo), p);
    CHECK_EQ(swarm_whereis(NULL, bar), SWARM_PID_NONE);
    API_RET(swarm_unregister, 0, swarm_unregister(NULL, foo));
    API_RET(swarm_unregister, SWARM_ENOENT, swarm_unregister(NULL, foo));
    API_RET(swarm_send_name, SWARM_ENOENT, swarm_send_name(NULL, foo, 1, "hi", 2));
    CHECK_EQ(swarm_whereis(NULL, foo), SWARM_PID_NONE);
    /* Free again: q takes it, p can take another. */
    CHECK_OK(swarm_register(foo, q));
    CHECK_OK(swarm_register(bar, p));
    swarm_ref_t rp, rq;
    CHECK_OK(swarm_monitor(p, &rp));
    CHECK_OK(swarm_monitor(q, &rq));
    API_RET(swarm_send_name, 0, swarm_send_name(NULL, foo, 1, "hi", 2)); /* q ends */
    API_RET(swarm_send_name, SWARM_EINVAL, swarm_send_name(NULL, bar, SWARM_TAG_SYSTEM, "", 0));
    CHECK_OK(swarm_send_name(NULL, bar, 1, "hi", 2)); /* p ends */
    for (int i = 0; i < 2; i++) {
        swarm_msg_t *m;
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
        swarm_msg_free(m);
    }
    atomic_store(&done, 1);
}

TEST(register_rules)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    atomic_store(&done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, n1_driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    /* From a thread: the swarm is named; NULL means none. */
    swarm_atom_t foo = atom("foo");
    CHECK_EQ(swarm_whereis(sw, foo), SWARM_PID_NONE);
    CHECK_EQ(swarm_whereis(NULL, foo), SWARM_PID_NONE);
    API_RET(swarm_unregister, SWARM_EINVAL, swarm_unregister(NULL, foo));
    API_RET(swarm_send_name, SWARM_EINVAL, swarm_send_name(NULL, foo, 1, "", 0));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
}

/* N2: a dead pid cannot be registered. N3: a name is free when the DOWN
 * of its process arrives. */
static void n3_driver(void *arg)
{
    (void)arg;
    swarm_atom_t foo = atom("foo");
    swarm_pid_t p;
    swarm_ref_t r;
    CHECK_OK(swarm_spawn_monitor(&p, &r, quick, NULL, NULL));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
    swarm_msg_free(m);
    API_RET(swarm_register, SWARM_ESRCH, swarm_register(foo, p));
    for (int round = 0; round < 200; round++) {
        CHECK_OK(swarm_spawn_monitor(&p, &r, waiter, NULL, NULL));
        CHECK_OK(swarm_register(foo, p));
        CHECK_OK(swarm_send(p, 1, "x", 1));
        CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
        swarm_msg_free(m);
        CHECK_EQ(swarm_whereis(NULL, foo), SWARM_PID_NONE);
    }
    CHECK_OK(swarm_register(foo, swarm_self()));
    atomic_store(&done, 1);
}

TEST(name_freed_before_down)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    atomic_store(&done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, n3_driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
}

/* Registering races the process's end, from threads outside the swarm:
 * every register either fails with SWARM_ESRCH or leaves a name that the
 * end then frees; no name ever outlives its process. */
#define RACERS 400
static swarm_pid_t racer_pid[RACERS];
static atomic_int racer_rc[RACERS];
static atomic_int race_go;

static void *register_thread(void *arg)
{
    int base = (int)(intptr_t)arg;
    while (!atomic_load(&race_go))
        ;
    for (int i = base; i < RACERS; i += 2) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        swarm_atom_t a;
        CHECK_OK(swarm_atom(name, &a));
        atomic_store(&racer_rc[i], swarm_register(a, racer_pid[i]));
    }
    return NULL;
}

TEST(register_races_exit)
{
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    for (int i = 0; i < RACERS; i++)
        CHECK_OK(swarm_spawn_in(sw, &racer_pid[i], quick, NULL, NULL));
    pthread_t t[2];
    for (intptr_t i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, register_thread, (void *)i), 0);
    atomic_store(&race_go, 1);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    int ok = 0, gone = 0;
    for (int i = 0; i < RACERS; i++) {
        int rc = atomic_load(&racer_rc[i]);
        if (rc != 0 && rc != SWARM_ESRCH)
            TEST_FAIL("register of r%d returned %d (%s)", i, rc, swarm_strerror(rc));
        ok += rc == 0;
        gone += rc == SWARM_ESRCH;
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        swarm_atom_t a;
        CHECK_OK(swarm_atom(name, &a));
        CHECK_EQ(swarm_whereis(sw, a), SWARM_PID_NONE); /* every process ended: no name left */
    }
    printf("registered before the end: %d, too late: %d\n", ok, gone);
    CHECK_EQ(ok + gone, RACERS);
    CHECK_OK(swarm_destroy(sw));
}

TEST(register_nomem)
{
    swarm_t *sw;
    swarm_config_t c = test_config(1);
    c.max_msg_size = 64;
    CHECK_OK(swarm_create(&sw, &c));
    swarm_pid_t p;
    CHECK_OK(swarm_spawn_in(sw, &p, waiter, NULL, NULL));
    swarm_atom_t foo = atom("foo");
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_register, SWARM_ENOMEM, swarm_register(foo, p));
    swarm__sys_reset();
    CHECK_EQ(swarm_whereis(sw, atom("foo")), SWARM_PID_NONE);
    CHECK_OK(swarm_register(foo, p));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_send_name, SWARM_ENOMEM, swarm_send_name(sw, foo, 1, "x", 1));
    swarm__sys_reset();
    static char big[100];
    API_RET(swarm_send_name, SWARM_EMSGSIZE, swarm_send_name(sw, foo, 1, big, sizeof big));
    API_RET(swarm_send_name, 0, swarm_send_name(sw, foo, 1, "x", 1));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    API_RET(swarm_register, SWARM_ESRCH, swarm_register(atom("foo"), p)); /* its swarm is gone */
}

/* M5: monitor by name; an unknown name: DOWN noproc at once. */
static void m5_driver(void *arg)
{
    (void)arg;
    swarm_atom_t foo = atom("foo");
    swarm_ref_t r;
    swarm_msg_t *m;
    swarm_reason_t why;
    swarm_pid_t who;
    API_RET(swarm_monitor_name, 0, swarm_monitor_name(atom("nosuch"), &r));
    CHECK_OK(swarm_recv(&m, 0));
    CHECK(swarm_msg_down(m, NULL, &who, &why));
    CHECK_EQ(why.atom, SWARM_ATOM_NOPROC);
    CHECK_EQ(who, SWARM_PID_NONE);
    swarm_msg_free(m);
    swarm_pid_t p;
    CHECK_OK(swarm_spawn(&p, waiter, NULL, NULL));
    CHECK_OK(swarm_register(foo, p));
    CHECK_OK(swarm_monitor_name(foo, &r));
    CHECK_OK(swarm_send(p, 1, "x", 1));
    CHECK_OK(swarm_recv_tag(SWARM_TAG_DOWN, &m, test_ms(30000)));
    CHECK(swarm_msg_down(m, NULL, &who, &why));
    CHECK_EQ(who, p);
    CHECK_EQ(why.atom, SWARM_ATOM_NORMAL);
    swarm_msg_free(m);
    API_RET(swarm_monitor_name, SWARM_EINVAL, swarm_monitor_name(foo, NULL));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_monitor_name, SWARM_ENOMEM, swarm_monitor_name(atom("nosuch"), &r));
    swarm__sys_reset();
    atomic_store(&done, 1);
}

TEST(monitor_by_name)
{
    swarm_ref_t r;
    API_RET(swarm_monitor_name, SWARM_ENOTPROC, swarm_monitor_name(SWARM_ATOM_SHUTDOWN, &r));
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    atomic_store(&done, 0);
    CHECK_OK(swarm_create(&sw, &c));
    CHECK_OK(swarm_spawn_in(sw, NULL, m5_driver, NULL, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
}

TEST_MAIN(TEST_ENTRY(register_rules, TEST_DET), TEST_ENTRY(name_freed_before_down, TEST_DET),
          TEST_ENTRY(register_races_exit, TEST_CONCURRENCY), TEST_ENTRY(register_nomem), TEST_ENTRY(monitor_by_name, TEST_DET))
