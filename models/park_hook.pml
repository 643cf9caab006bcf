/*
 * park_hook.pml - the park primitive with a commit hook (Go's
 * gopark(unlockf)), as channels, mutexes, fd waits and join groups use it
 * (Spin / Promela, sequentially consistent; docs/design/models.md).
 *
 * What is modelled: one process P on NSCHED = 2 schedulers, a wait queue
 * guarded by a lock L, and NW wakers. The wait queue is a counting
 * semaphore: a waker adds a token under L and, if P is queued as a waiter,
 * dequeues it and wakes it. P takes NW tokens, one per round:
 *
 *   P:       lock L; if tokens > 0: take one, unlock L, next round
 *            else: queue itself as the waiter and park with commit = unlock L
 *   park:    P switches to its scheduler (ACT_PARK); on the scheduler's own
 *            stack the scheduler stores WAITING, then runs the commit hook
 *            (here: unlock L). A hook may refuse (return 0: the wait is
 *            already satisfied) and P runs again; a lock-releasing hook
 *            never refuses.
 *   waker:   lock L; tokens++; if P is the waiter: dequeue it, unlock L,
 *            wake P (store RUNNABLE, enqueue) else unlock L.
 *
 * The one rule that makes it safe (invariant 3): nothing that lets a
 * waker find P (here: releasing L) happens before P is switched out and
 * WAITING is stored. Then the waker that dequeues P is the only one that
 * can wake it, finds it WAITING, and needs no CAS.
 *
 * Properties (safety; run with -DSAFETY):
 *   H1 no lost wake-up: when nothing can move, it is never the case that
 *      every waker is done, P has not taken every token and P is WAITING
 *      off every run queue (monitor, at `timeout`); and P ends;
 *   H2 P is never on a run queue twice, never runs on two schedulers at
 *      once, and is never made runnable before it is switched out;
 *   H3 the waker always finds P WAITING (its plain store overwrites
 *      nothing).
 *
 * Seeded bugs: models/bugs/park_hook_*.pml each define one BUG_HOOK_ macro.
 */

#ifndef NW
#define NW 2
#endif
#define NSCHED 2

#define RUNNING 1
#define WAITING 3
#define RUNNABLE 4
#define EXITED 5

byte state = RUNNABLE;
byte runq = 1;            /* P starts on a run queue (H2: <= 1) */
byte oncpu = 0;           /* schedulers executing P (H2: <= 1) */
bit exited = 0;

bit L = 0;                /* the wait queue's lock */
byte tokens = 0;          /* protected by L */
bit waiter = 0;           /* P is queued on the wait queue; protected by L */
byte got = 0;             /* P's private count */
byte wdone = 0;           /* wakers finished */

inline lock() { atomic { L == 0 -> L = 1 } }
inline unlock() { L = 0 }

inline enqueue() {
  atomic {
    assert(runq == 0);    /* H2 */
    assert(oncpu == 0);   /* H2: not before P is switched out */
    runq++
  }
}

/* swarm__sched_wake: the waker that dequeued P is its only waker. */
inline wake() {
  s = state;
  assert(s == WAITING);   /* H3 */
  state = RUNNABLE;
  enqueue()
}

/* P's code on the scheduler that took it; returns when P parks or ends. */
inline run_p() {
  do
  :: got == NW ->
     atomic { state = EXITED; oncpu--; exited = 1 };
     break
  :: else ->
     lock();
     if
     :: tokens > 0 ->
        atomic { tokens--; got++ };
        unlock()
     :: else ->
        waiter = 1;
#if defined(BUG_HOOK_COMMIT_BEFORE_SWITCH)
        state = WAITING;          /* BUG: the commit runs on P's stack ... */
        unlock();
        oncpu--;                  /* ... before the switch */
#elif defined(BUG_HOOK_WAITING_AFTER_COMMIT)
        oncpu--;
        unlock();                 /* BUG: the hook first ...                */
        state = WAITING;          /* ... then WAITING (a waker may be first) */
#else
        oncpu--;                  /* switch to the scheduler's stack */
        state = WAITING;          /* park: WAITING, then the commit hook */
        unlock();
#endif
        break
     fi
  od
}

proctype scheduler(byte id) {
  byte s;
  do
  :: atomic { runq > 0 -> runq-- };
     atomic {
       assert(state == RUNNABLE);
       state = RUNNING;
       assert(oncpu == 0); oncpu++     /* H2 */
     };
     run_p()
  :: exited -> break
  od
}

proctype waker(byte w) {
  byte s;
  bit found;
#ifdef BUG_HOOK_WAKER_SKIPS_LOCK
  /* BUG: "a token count is atomic, no lock needed" */
  atomic { tokens++ };
  found = waiter;
  if
  :: found -> lock(); waiter = 0; unlock(); wake()
  :: else -> skip
  fi;
#else
  lock();
  tokens++;
  found = waiter;
  waiter = 0;
  unlock();
  if
  :: found -> wake()
  :: else -> skip
  fi;
#endif
  wdone++
}

active proctype monitor() {
end_watch:
  timeout ->
    assert(!(wdone == NW && got < NW && state == WAITING && runq == 0));   /* H1 */
    assert(exited)
}

init {
  byte i;
  atomic {
    for (i : 0 .. NSCHED - 1) { run scheduler(i) };
    for (i : 0 .. NW - 1) { run waker(i) }
  }
}
