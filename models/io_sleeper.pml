/*
 * io_sleeper.pml - how an idle scheduler sleeps in the netpoller and how
 * a waker reaches it (src/io/poller.c: swarm__poller_sleep / _wake), in
 * Spin / Promela, sequentially consistent (the C code uses seq_cst for
 * every access below; docs/design/models.md).
 *
 * What is modelled: one idle scheduler S that has moved its park_word to
 * SLEEPING (sched/idle.c, models/sched_idle.pml covers how it got there),
 * one waker W that hands it work, and NBUSY busy schedulers that now and
 * then take the poll lock to poll without blocking.
 *
 *   S:  loop until park_word != SLEEPING:
 *         if it takes the poll lock:   io_sleeper = S;
 *                                      if park_word == SLEEPING: epoll_wait
 *                                        (returns on the eventfd; with
 *                                        -DSPURIOUS also at any time, for
 *                                        I/O or a deadline);
 *                                      io_sleeper = none; drop the lock
 *         else (someone polls):        futex_wait(park_word, SLEEPING)
 *   W:  park_word = TOKEN (exchange); if io_sleeper == S: write the
 *       eventfd, else futex_wake(park_word)
 *
 * The eventfd is level-triggered: a write stays pending until S drains it
 * after an epoll_wait, so a write that lands before S blocks still ends
 * the wait. futex_wait compares and blocks atomically; futex_wake wakes a
 * blocked S only.
 *
 * Property (safety, -DSAFETY): W1 no lost wake-up: when nothing can move,
 * S has seen the token and left (monitor, at `timeout`).
 *
 * Seeded bugs (models/bugs/io_*.pml): the sleeper checking park_word
 * before it publishes io_sleeper; the waker looking at io_sleeper before
 * it moves park_word.
 */

#ifndef NBUSY
#define NBUSY 1
#endif

#define SLEEPING 2
#define TOKEN 1

byte park_word = SLEEPING;
bit io_sleeper = 0;       /* S is (about to be) blocked in epoll_wait */
bit evfd = 0;             /* the eventfd's counter is nonzero */
bit poll_lock = 0;
bit fasleep = 0;          /* S is blocked in futex_wait */
bit left = 0;             /* S saw the token */
bit wdone = 0;

/* With no deadline and no I/O, only the eventfd ends it; -DSPURIOUS lets
 * it also return at any time (I/O readiness, a deadline). */
inline epoll_wait() {
    if
    :: evfd == 1 -> evfd = 0        /* the wake-up: drained */
#ifdef SPURIOUS
    :: skip
#endif
    fi
}

active proctype sleeper() {
    do
    :: park_word != SLEEPING -> break
    :: else ->
        if
        :: atomic { poll_lock == 0 -> poll_lock = 1 } ->
#ifdef BUG_IO_CHECK_FIRST
            if
            :: park_word == SLEEPING -> io_sleeper = 1; epoll_wait()
            :: else -> skip
            fi;
#else
            io_sleeper = 1;
            if
            :: park_word == SLEEPING -> epoll_wait()
            :: else -> skip
            fi;
#endif
            io_sleeper = 0;
            poll_lock = 0
        :: atomic { poll_lock == 1 ->
                if
                :: park_word == SLEEPING -> fasleep = 1
                :: else -> skip
                fi };
            fasleep == 0                /* woken (or never blocked) */
        fi
    od;
    left = 1
}

active proctype waker() {
#ifdef BUG_IO_WAKER_LOOKS_FIRST
    if
    :: io_sleeper == 1 -> park_word = TOKEN; evfd = 1
    :: else -> park_word = TOKEN; atomic { if :: fasleep -> fasleep = 0 :: else -> skip fi }
    fi;
#else
    park_word = TOKEN;
    if
    :: io_sleeper == 1 -> evfd = 1
    :: else -> atomic { if :: fasleep -> fasleep = 0 :: else -> skip fi }
    fi;
#endif
    wdone = 1
}

active [NBUSY] proctype busy() {
    do
    :: atomic { poll_lock == 0 -> poll_lock = 1 }; poll_lock = 0   /* epoll_wait(0) */
    :: break
    od
}

active proctype monitor() {
    timeout -> assert(!(wdone && !left))
}
