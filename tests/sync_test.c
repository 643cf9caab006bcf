/*
 * tests/sync_test.c - mutex, condition variable, semaphore (swarmrt/sync.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/sys.h"
#include "test.h"

static atomic_int done;

static void run_n(swarm_fn driver, void *arg, unsigned nsched)
{
    swarm_config_t c = test_config(nsched);
    test_run_swarm(&c, driver, arg, &done);
}

static swarm_mutex_t *gm;
static swarm_cond_t *gc;
static swarm_sem_t *gs;

/* ---- every documented code ---- */

static void *foreign_codes(void *arg)
{
    (void)arg;
    API_RET(swarm_mutex_lock, SWARM_ENOTPROC, swarm_mutex_lock(gm, 10));
    API_RET(swarm_mutex_unlock, SWARM_ENOTPROC, swarm_mutex_unlock(gm));
    API_RET(swarm_cond_wait, SWARM_ENOTPROC, swarm_cond_wait(gc, gm, 10));
    API_RET(swarm_sem_wait, SWARM_ENOTPROC, swarm_sem_wait(gs, 10));
    API_RET(swarm_sem_post, 0, swarm_sem_post(gs, 1));
    API_RET(swarm_sem_wait, 0, swarm_sem_wait(gs, 0)); /* the try-form: any thread */
    return NULL;
}

static void other_holder(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_mutex_lock(gm, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, test_ms(30000))); /* hold it until told */
    swarm_msg_free(m);
    CHECK_OK(swarm_mutex_unlock(gm));
}

/* Lock (queued behind the caller), then: 0 keep it until told, 1 end holding it. */
static void queued_holder(void *arg)
{
    CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));
    if (arg)
        return;
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, test_ms(30000)));
    swarm_msg_free(m);
    CHECK_OK(swarm_mutex_unlock(gm));
}

static void cond_waiter(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));
    API_RET(swarm_cond_wait, 0, swarm_cond_wait(gc, gm, test_ms(30000)));
    CHECK_OK(swarm_mutex_unlock(gm));
}

static void sem_waiter(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_sem_wait(gs, test_ms(30000)));
}

static void codes_main(void *arg)
{
    (void)arg;
    swarm_mutex_t *m;
    swarm_cond_t *c;
    swarm_sem_t *s;
    API_RET(swarm_mutex_create, SWARM_EINVAL, swarm_mutex_create(NULL));
    API_RET(swarm_cond_create, SWARM_EINVAL, swarm_cond_create(NULL));
    API_RET(swarm_sem_create, SWARM_EINVAL, swarm_sem_create(NULL, 0));
    API_RET(swarm_sem_create, SWARM_EINVAL, swarm_sem_create(&s, SWARM_SEM_MAX + 1u));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_mutex_create, SWARM_ENOMEM, swarm_mutex_create(&m));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_cond_create, SWARM_ENOMEM, swarm_cond_create(&c));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_sem_create, SWARM_ENOMEM, swarm_sem_create(&s, 0));
    swarm__sys_reset();
    API_RET(swarm_mutex_create, 0, swarm_mutex_create(&gm));
    API_RET(swarm_cond_create, 0, swarm_cond_create(&gc));
    API_RET(swarm_sem_create, 0, swarm_sem_create(&gs, 0));

    /* mutex */
    API_RET(swarm_mutex_lock, SWARM_EINVAL, swarm_mutex_lock(NULL, 10));
    API_RET(swarm_mutex_lock, SWARM_EINVAL, swarm_mutex_lock(gm, SWARM_INFINITE));
    API_RET(swarm_mutex_unlock, SWARM_EINVAL, swarm_mutex_unlock(NULL));
    API_RET(swarm_mutex_unlock, SWARM_EPERM, swarm_mutex_unlock(gm));
    API_RET(swarm_mutex_lock, 0, swarm_mutex_lock(gm, 10));
    API_RET(swarm_mutex_lock, SWARM_EDEADLK, swarm_mutex_lock(gm, 10));
    API_RET(swarm_mutex_destroy, SWARM_EBUSY, swarm_mutex_destroy(gm));
    API_RET(swarm_mutex_unlock, 0, swarm_mutex_unlock(gm));
    swarm_pid_t other;
    CHECK_OK(swarm_spawn(&other, other_holder, NULL, NULL));
    while (swarm_mutex_lock(gm, 0) == 0) { /* until the other process has it */
        CHECK_OK(swarm_mutex_unlock(gm));
        swarm_yield();
    }
    API_RET(swarm_mutex_lock, SWARM_EAGAIN, swarm_mutex_lock(gm, 0));
    int64_t t0 = swarm_now_ms();
    API_RET(swarm_mutex_lock, SWARM_ETIMEDOUT, swarm_mutex_lock(gm, 30));
    CHECK_CMP(swarm_now_ms() - t0, >=, 30);
    API_RET(swarm_mutex_unlock, SWARM_EPERM, swarm_mutex_unlock(gm)); /* not the owner */

    /* cond */
    API_RET(swarm_cond_wait, SWARM_EINVAL, swarm_cond_wait(NULL, gm, 10));
    API_RET(swarm_cond_wait, SWARM_EINVAL, swarm_cond_wait(gc, gm, -7));
    API_RET(swarm_cond_wait, SWARM_EPERM, swarm_cond_wait(gc, gm, 10));
    API_RET(swarm_cond_signal, SWARM_EINVAL, swarm_cond_signal(NULL));
    API_RET(swarm_cond_broadcast, SWARM_EINVAL, swarm_cond_broadcast(NULL));
    API_RET(swarm_cond_signal, 0, swarm_cond_signal(gc));
    API_RET(swarm_cond_broadcast, 0, swarm_cond_broadcast(gc));
    CHECK_OK(swarm_send(other, 1, NULL, 0)); /* let it go */
    API_RET(swarm_mutex_lock, 0, swarm_mutex_lock(gm, test_ms(30000)));
    API_RET(swarm_cond_wait, SWARM_ETIMEDOUT, swarm_cond_wait(gc, gm, 20));
    /* The relock misses the deadline: a queued locker takes the mutex at
     * our unlock and keeps it. */
    CHECK_OK(swarm_spawn(&other, queued_holder, (void *)(intptr_t)0, NULL));
    swarm_yield(); /* one scheduler: it queues behind us */
    API_RET(swarm_cond_wait, SWARM_EBUSY, swarm_cond_wait(gc, gm, 20));
    API_RET(swarm_mutex_unlock, SWARM_EPERM, swarm_mutex_unlock(gm)); /* not held */
    CHECK_OK(swarm_send(other, 1, NULL, 0));
    CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));
    /* The relock finds the mutex left by a process that ended holding it. */
    CHECK_OK(swarm_spawn(&other, queued_holder, (void *)(intptr_t)1, NULL));
    swarm_yield();
    API_RET(swarm_cond_wait, SWARM_EOWNERDEAD, swarm_cond_wait(gc, gm, 20));
    /* Destroying what is waited on. */
    CHECK_OK(swarm_spawn(NULL, cond_waiter, NULL, NULL));
    CHECK_OK(swarm_mutex_unlock(gm));
    swarm_yield(); /* it waits on gc */
    API_RET(swarm_cond_destroy, SWARM_EBUSY, swarm_cond_destroy(gc));
    CHECK_OK(swarm_cond_signal(gc));
    CHECK_OK(swarm_spawn(NULL, sem_waiter, NULL, NULL));
    swarm_yield(); /* it waits on gs */
    API_RET(swarm_sem_destroy, SWARM_EBUSY, swarm_sem_destroy(gs));
    CHECK_OK(swarm_sem_post(gs, 1));
    swarm_yield();
    CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));

    /* sem */
    API_RET(swarm_sem_wait, SWARM_EINVAL, swarm_sem_wait(NULL, 0));
    API_RET(swarm_sem_wait, SWARM_EINVAL, swarm_sem_wait(gs, -9));
    API_RET(swarm_sem_post, SWARM_EINVAL, swarm_sem_post(NULL, 1));
    API_RET(swarm_sem_post, SWARM_EINVAL, swarm_sem_post(gs, 0));
    CHECK_OK(swarm_sem_post(gs, 1));
    API_RET(swarm_sem_post, SWARM_EINVAL, swarm_sem_post(gs, SWARM_SEM_MAX)); /* would pass the max */
    CHECK_OK(swarm_sem_wait(gs, 0));
    CHECK_EQ(swarm_sem_value(gs), 0);
    API_RET(swarm_sem_wait, SWARM_EAGAIN, swarm_sem_wait(gs, 0));
    API_RET(swarm_sem_wait, SWARM_ETIMEDOUT, swarm_sem_wait(gs, 20));
    API_RET(swarm_sem_post, 0, swarm_sem_post(gs, 2));
    API_RET(swarm_sem_wait, 0, swarm_sem_wait(gs, 0));
    API_RET(swarm_sem_wait, 0, swarm_sem_wait(gs, 10));
    CHECK_OK(swarm_mutex_unlock(gm));

    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, foreign_codes, NULL), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);

    API_RET(swarm_mutex_destroy, SWARM_EINVAL, swarm_mutex_destroy(NULL));
    API_RET(swarm_cond_destroy, SWARM_EINVAL, swarm_cond_destroy(NULL));
    API_RET(swarm_sem_destroy, SWARM_EINVAL, swarm_sem_destroy(NULL));
    API_RET(swarm_mutex_destroy, 0, swarm_mutex_destroy(gm));
    API_RET(swarm_cond_destroy, 0, swarm_cond_destroy(gc));
    API_RET(swarm_sem_destroy, 0, swarm_sem_destroy(gs));
    atomic_store(&done, 1);
}

TEST(codes) { run_n(codes_main, NULL, 1); }

/* ---- FIFO hand-off ---- */

enum { NW = 8 };
static int order[NW];
static atomic_int norder, nqueued;

static void fifo_waiter(void *arg)
{
    int id = (int)(intptr_t)arg;
    atomic_fetch_add(&nqueued, 1);
    CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));
    order[atomic_fetch_add(&norder, 1)] = id;
    swarm_yield(); /* holding it: the others stay queued */
    CHECK_OK(swarm_mutex_unlock(gm));
}

static void fifo_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_mutex_create(&gm));
    atomic_store(&norder, 0);
    atomic_store(&nqueued, 0);
    CHECK_OK(swarm_mutex_lock(gm, 0));
    swarm_ref_t refs[NW];
    for (int i = 0; i < NW; i++) {
        CHECK_OK(swarm_spawn_monitor(NULL, &refs[i], fifo_waiter, (void *)(intptr_t)i, NULL));
        /* One scheduler: the child runs until it parks in the lock before
         * this process runs again, so the queue is in spawn order. */
        while (atomic_load(&nqueued) != i + 1)
            swarm_yield();
        swarm_yield();
    }
    CHECK_OK(swarm_mutex_unlock(gm));
    for (int i = 0; i < NW; i++)
        CHECK_EQ(test_await_down(refs[i]), SWARM_ATOM_NORMAL);
    for (int i = 0; i < NW; i++)
        CHECK_EQ(order[i], i);
    CHECK_OK(swarm_mutex_destroy(gm));
    atomic_store(&done, 1);
}

TEST(mutex_fifo) { run_n(fifo_main, NULL, 1); }

/* ---- barging, then the hand-over once a waiter starves ---- */

static atomic_int starved_got; /* the waiter's lock: 0 not yet, 1 got it */

static void starving_waiter(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));
    atomic_store(&starved_got, 1);
    CHECK_OK(swarm_mutex_unlock(gm));
}

/* One scheduler, so the order below is the only one. */
static void starve_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_mutex_create(&gm));
    atomic_store(&starved_got, 0);
    CHECK_OK(swarm_mutex_lock(gm, 0));
    swarm_ref_t ref;
    CHECK_OK(swarm_spawn_monitor(NULL, &ref, starving_waiter, NULL, NULL));
    CHECK_OK(swarm_yield()); /* it queues */
    CHECK_OK(swarm_sleep(5)); /* holding m: the waiter has now waited 5 ms */
    /* Barging: the unlock wakes the waiter, but this process, still
     * running, takes m again first. */
    CHECK_OK(swarm_mutex_unlock(gm));
    CHECK_OK(swarm_mutex_lock(gm, 0));
    CHECK_OK(swarm_sleep(1)); /* the waiter runs, loses, keeps the head, starves */
    CHECK_EQ(atomic_load(&starved_got), 0);
    /* Starving: the unlock hands m to the waiter, which has not run yet:
     * no barging now. */
    CHECK_OK(swarm_mutex_unlock(gm));
    API_RET(swarm_mutex_lock, SWARM_EAGAIN, swarm_mutex_lock(gm, 0));
    CHECK_EQ(atomic_load(&starved_got), 0);
    CHECK_EQ(test_await_down(ref), SWARM_ATOM_NORMAL);
    CHECK_EQ(atomic_load(&starved_got), 1);
    /* The queue drained: back to the normal mode, m free. */
    CHECK_OK(swarm_mutex_lock(gm, 0));
    CHECK_OK(swarm_mutex_unlock(gm));
    CHECK_OK(swarm_mutex_destroy(gm));
    atomic_store(&done, 1);
}

TEST(mutex_starve) { run_n(starve_main, NULL, 1); }

/* ---- the owner dies holding it: crash and kill ---- */

#define CRASHES_ON_PURPOSE __attribute__((no_sanitize("undefined", "thread"), noinline))

CRASHES_ON_PURPOSE static void crash_now(void)
{
    volatile int *volatile np = NULL;
    *np = 1;
}

static void owner_proc(void *arg)
{
    int how = (int)(intptr_t)arg;
    CHECK_OK(swarm_mutex_lock(gm, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv(&m, test_ms(30000))); /* parked holding it */
    swarm_msg_free(m);
    if (how == 0)
        crash_now();
    /* how 1: killed while parked in the receive (never gets here) */
    TEST_FAIL("owner_proc went on");
}

static void dead_waiter(void *arg)
{
    (void)arg;
    API_RET(swarm_mutex_lock, SWARM_EOWNERDEAD, swarm_mutex_lock(gm, test_ms(30000)));
    CHECK_OK(swarm_mutex_unlock(gm));
}

static void death_main(void *arg)
{
    int how = (int)(intptr_t)arg;
    CHECK_OK(swarm_mutex_create(&gm));
    for (int waiter = 0; waiter < 2; waiter++) {
        swarm_pid_t owner;
        swarm_ref_t oref, wref;
        CHECK_OK(swarm_spawn_monitor(&owner, &oref, owner_proc, (void *)(intptr_t)how, NULL));
        while (swarm_mutex_lock(gm, 0) == 0) { /* until the owner has it */
            CHECK_OK(swarm_mutex_unlock(gm));
            swarm_yield();
        }
        if (waiter) {
            CHECK_OK(swarm_spawn_monitor(NULL, &wref, dead_waiter, NULL, NULL));
            swarm_yield(); /* one scheduler: it parks in the lock */
        }
        if (how == 0)
            CHECK_OK(swarm_send(owner, 1, NULL, 0));
        else
            CHECK_OK(swarm_exit_pid(owner, swarm_reason(SWARM_ATOM_KILL)));
        CHECK_EQ(test_await_down(oref), how == 0 ? SWARM_ATOM_CRASH : SWARM_ATOM_KILLED);
        if (waiter) {
            CHECK_EQ(test_await_down(wref), SWARM_ATOM_NORMAL); /* it got EOWNERDEAD */
        } else {
            /* nobody waited: the next locker is told */
            CHECK_EQ(swarm_mutex_lock(gm, 0), SWARM_EOWNERDEAD);
            CHECK_OK(swarm_mutex_unlock(gm));
        }
        CHECK_OK(swarm_mutex_lock(gm, 0)); /* repaired: plain 0 from now on */
        CHECK_OK(swarm_mutex_unlock(gm));
    }
    CHECK_OK(swarm_mutex_destroy(gm));
    atomic_store(&done, 1);
}

static void quiet_crash(int how)
{
    test_capture_start(); /* the crash report */
    run_n(death_main, (void *)(intptr_t)how, 1);
    free(test_capture_stop());
}

TEST(owner_crash) { quiet_crash(0); }
TEST(owner_kill) { quiet_crash(1); }

/* ---- condition variable: a bounded queue of producers and consumers ---- */

static swarm_cond_t *nonempty;
static long cv_items, cv_taken, cv_total;
static atomic_int cv_left;

static void cv_consumer(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));
    for (;;) {
        while (cv_items == 0 && cv_taken < cv_total)
            CHECK_OK(swarm_cond_wait(nonempty, gm, test_ms(30000)));
        if (cv_taken == cv_total)
            break;
        cv_items--;
        cv_taken++;
        if (cv_taken == cv_total)
            CHECK_OK(swarm_cond_broadcast(nonempty));
    }
    CHECK_OK(swarm_mutex_unlock(gm));
    atomic_fetch_sub(&cv_left, 1);
}

static void cv_main(void *arg)
{
    (void)arg;
    CHECK_OK(swarm_mutex_create(&gm));
    CHECK_OK(swarm_cond_create(&nonempty));
    cv_items = cv_taken = 0;
    cv_total = test_scale(20000);
    atomic_store(&cv_left, 4);
    for (int i = 0; i < 4; i++)
        CHECK_OK(swarm_spawn(NULL, cv_consumer, NULL, NULL));
    for (long k = 0; k < cv_total; k++) {
        CHECK_OK(swarm_mutex_lock(gm, test_ms(30000)));
        cv_items++;
        CHECK_OK(swarm_cond_signal(nonempty));
        CHECK_OK(swarm_mutex_unlock(gm));
        if (k % 16 == 0)
            swarm_yield();
    }
    while (atomic_load(&cv_left))
        swarm_yield();
    CHECK_EQ(cv_taken, cv_total);
    CHECK_EQ(cv_items, 0);
    CHECK_OK(swarm_cond_destroy(nonempty));
    CHECK_OK(swarm_mutex_destroy(gm));
    atomic_store(&done, 1);
}

TEST(cond_queue) { run_n(cv_main, NULL, 2); }

/* ---- semaphore: units posted from a foreign thread wake processes ---- */

static atomic_long sem_got;

static void sem_taker(void *arg)
{
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++) {
        CHECK_OK(swarm_sem_wait(gs, test_ms(60000)));
        atomic_fetch_add(&sem_got, 1);
    }
}

static void *sem_poster(void *arg)
{
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++)
        CHECK_OK(swarm_sem_post(gs, 1));
    return NULL;
}

TEST(sem_foreign)
{
    long per = test_scale(5000);
    CHECK_OK(swarm_sem_create(&gs, 0));
    atomic_store(&sem_got, 0);
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    c.deterministic_seed = 0; /* fed by a foreign thread */
    CHECK_OK(swarm_create(&sw, &c));
    for (int i = 0; i < 4; i++)
        CHECK_OK(swarm_spawn_in(sw, NULL, sem_taker, (void *)(intptr_t)per, NULL));
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, sem_poster, (void *)(intptr_t)(4 * per)), 0);
    CHECK_OK(swarm_wait(sw, test_ms(120000)));
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&sem_got), 4 * per);
    CHECK_EQ(swarm_sem_value(gs), 0);
    CHECK_OK(swarm_sem_destroy(gs));
}

TEST_MAIN(TEST_ENTRY(codes),
          TEST_ENTRY(mutex_fifo, TEST_DET),
          TEST_ENTRY(mutex_starve, TEST_DET),
          TEST_ENTRY(owner_crash, TEST_DET),
          TEST_ENTRY(owner_kill, TEST_DET),
          TEST_ENTRY(cond_queue, TEST_DET, TEST_CONCURRENCY),
          TEST_ENTRY(sem_foreign, TEST_CONCURRENCY))
