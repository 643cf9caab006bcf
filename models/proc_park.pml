/*
 * proc_park.pml - SwarmRT process park/wake protocol combined with the
 * mailbox "was empty" handshake (Spin / Promela, sequentially consistent).
 *
 * What is modelled (docs/design/models.md has the full account):
 *   - one receiving process P, whose code runs on whichever of NSCHED = 2
 *     schedulers took it from the run queue;
 *   - P's mailbox: intrusive Vyukov MPSC queue with a stub node; the low bit
 *     of `head` is the EMPTY mark;
 *   - NPROD producers sending NMSG messages each (send = XCHG head, link,
 *     wake P if the old head carried the EMPTY mark);
 *   - P's state word RUNNING / RUNNING|WAKE_PENDING / WAITING / RUNNABLE and
 *     the park commit that runs on the scheduler's stack after the switch;
 *   - (STRAY) one wake(P) that has nothing to do with the mailbox (a timer,
 *     a stale timer, a future signal path): wake-ups may be spurious.
 * Every shared access is one Spin step (the C code uses seq_cst RMWs and
 * seq_cst loads/stores at these points, so SC is the right model).
 *
 * Two protocols:
 *   default    the specified one: state word with WAKE_PENDING, wake() by
 *              CAS loop, park commit loop, consumer spins through the
 *              producer's XCHG..link window;
 *   MARK_ONLY  the one src/sched/run.c implements (commit 009fd0e): no
 *              WAKE_PENDING; after the switch the scheduler stores WAITING
 *              and marks the mailbox EMPTY (failure: P runs again); the one
 *              push that finds the mark stores RUNNABLE and enqueues P;
 *              timers push a timeout signal instead of waking directly
 *              (STRAY off); the consumer yields instead of spinning.
 *
 * Properties (all safety: run with -DSAFETY, default end-state checking):
 *   A1 no lost wake-up: when nothing can move any more, it is never the case
 *      that all producers are done, messages are undelivered and P is
 *      WAITING off every run queue (monitor, `timeout`);
 *   A2 every message is delivered exactly once, per-producer FIFO;
 *   A3 P is never on a run queue twice;
 *   A4 P never runs on two schedulers at once, and is never made runnable
 *      before it is switched out (invariant 3);
 *   A5 P's receive loop never busy-waits without cause: every retry is
 *      justified by a producer inside its XCHG..link window, or by a push or
 *      link that happened during the attempt (else P would burn a scheduler
 *      with nothing in flight, until some unrelated message arrives);
 *   A6 (MARK_ONLY) the waker always finds P WAITING, so its plain store
 *      overwrites nothing;
 *   A7 (MARK_ONLY) mark_empty's defensive early returns never trigger.
 *
 *
 * SWEEPER (with MARK_ONLY): stack compaction (src/sched/compact.c) adds a
 * thread that takes P's wake token (CAS head stub|EMPTY -> stub), compacts
 * P's stack, and then either parks P again (CAS stub -> stub|EMPTY; if a
 * push came meanwhile that fails and the sweeper wakes P) or, when P was
 * caught in a wait that does not qualify, wakes it at once (a spurious
 * wake-up). Properties on top of A1-A7:
 *   C1 the sweeper compacts only a parked P: WAITING, off every CPU and
 *      every run queue;
 *   C2 P never runs compacted: the scheduler that takes it restores it
 *      first, and nothing compacts it while it runs.
 *
 * Seeded bugs: each models/bugs/park_NAME.pml defines one BUG_ macro and
 * includes this file; each hook below is marked with the macro it tests.
 */

#ifndef NPROD
#define NPROD 2
#endif
#ifndef NMSG
#define NMSG 2
#endif
#ifndef STRAY
#ifdef MARK_ONLY
#define STRAY 0           /* MARK_ONLY: timers wake through the mailbox */
#else
#define STRAY 1
#endif
#endif

#define NSCHED 2
#define TOTAL (NPROD * NMSG)

/* Mailbox nodes: 0 is NULL, 1 the stub, then message i of producer p. */
#define NUL 0
#define STUB 1
#define NODE(p, i) (2 + (p) * NMSG + (i))
#define NNODES (2 + TOTAL)
#define PROD_OF(n) (((n) - 2) / NMSG)
#define SEQ_OF(n) (((n) - 2) % NMSG)

/* `head` holds (node << 1) | EMPTY: one word, as in the C code. */
#define PTR(h) ((h) >> 1)
#define MARKED(h) ((h) & 1)
#define STUB_HEAD 2       /* STUB << 1 */
#define STUB_EMPTY 3      /* STUB << 1 | EMPTY */

/* Process state word. */
#define RUNNING 1
#define RUNNING_WP 2      /* RUNNING | WAKE_PENDING */
#define WAITING 3
#define RUNNABLE 4
#define EXITED 5

bit compacted = 0;         /* SWEEPER: P's stack is compacted (C1, C2) */
byte state = RUNNABLE;    /* P starts runnable ...            */
byte runq = 1;            /* ... and on a run queue (A3: <= 1) */
byte oncpu = 0;           /* schedulers executing P's code (A4: <= 1) */
bit exited = 0;

byte next[NNODES];        /* all NUL */
byte head = STUB_HEAD;
byte tail = STUB;         /* consumer-private */

byte nrecv = 0;           /* P's bookkeeping (private to P) */
byte delivered[NNODES];
byte expect[NPROD];       /* next sequence number expected from producer p */
byte pdone = 0;           /* producers that finished (sends and wakes) */

/* Ghosts for A5. */
byte inwin = 0;           /* producers between their XCHG and their link */
bit moved = 0;            /* a producer XCHG or link happened since P cleared it */

/* Put P on a run queue. */
inline enqueue() {
  atomic {
    assert(runq == 0);    /* A3 */
    assert(oncpu == 0);   /* A4: nobody may resume P before it is switched out */
    runq++
  }
}

/* wake(P), from any thread. Uses the caller's locals s, ok. */
inline wake() {
#ifdef MARK_ONLY
  /* swarm__sched_wake: the one push that found the mark is the only waker,
   * so a load (for the generation) and a plain store suffice. */
  s = state;
  assert(s == WAITING);                       /* A6: nothing to overwrite */
  state = RUNNABLE;
  enqueue()
#else
  do
  :: s = state;
     if
     :: s == WAITING ->
#ifdef BUG_WAKE_STORE_NOT_CAS
        state = RUNNABLE;                     /* BUG: plain store, no CAS */
        enqueue();
        break
#else
        atomic {                              /* CAS WAITING -> RUNNABLE */
          if
          :: state == WAITING -> state = RUNNABLE; ok = 1
          :: else -> ok = 0
          fi
        };
        if
        :: ok -> enqueue(); break
        :: else -> skip                       /* state moved: retry */
        fi
#endif
     :: s == RUNNING ->
#ifdef BUG_WAKE_IGNORES_RUNNING
        break                                 /* BUG: "it is running, it will see the message" */
#else
        atomic {                              /* CAS RUNNING -> RUNNING|WAKE_PENDING */
          if
          :: state == RUNNING -> state = RUNNING_WP; ok = 1
          :: else -> ok = 0
          fi
        };
        if
        :: ok -> break
        :: else -> skip
        fi
#endif
     :: else -> break                         /* RUNNABLE, RUNNING|WP, EXITED */
     fi
  od
#endif
}

/* The park commit, on the scheduler's stack. Uses locals s, ok. */
inline commit() {
#ifdef BUG_COMMIT_IGNORES_WAKE_PENDING
  state = WAITING                             /* BUG: blind store */
#else
  do
  :: s = state;
     assert(s == RUNNING || s == RUNNING_WP);
     if
     :: s == RUNNING_WP -> state = RUNNABLE; enqueue(); break
     :: else ->
        atomic {                              /* CAS RUNNING -> WAITING */
          if
          :: state == RUNNING -> state = WAITING; ok = 1
          :: else -> ok = 0
          fi
        };
        if
        :: ok -> break
        :: else -> skip                       /* a waker set WAKE_PENDING */
        fi
     fi
  od
#endif
}

/* Consumer pop (P only). m := node taken, or NUL. Locals t, nx, h, prev, k.
 * `tail` and next[STUB] while the stub is out of the queue are P-private, so
 * each atomic block below holds exactly one shared access plus private work. */
inline pop(m) {
  atomic {
    moved = 0;                                         /* ghost, for A5 */
    m = NUL; t = tail; nx = next[t];
    if
    :: t == STUB && nx == NUL -> k = 0                 /* nothing */
    :: t == STUB && nx != NUL -> tail = nx; t = nx; k = 1   /* step over the stub */
    :: t != STUB && nx != NUL -> tail = nx; m = t; k = 0
    :: t != STUB && nx == NUL -> k = 2                 /* t may be the last node */
    fi
  };
  if
  :: k == 1 ->
     atomic {
       nx = next[t];
       if
       :: nx != NUL -> tail = nx; m = t; k = 0
       :: else -> k = 2
       fi
     }
  :: else -> skip
  fi;
  if
  :: k == 2 ->
     atomic {
       h = head;
       if
       :: PTR(h) != t -> k = 0                         /* a push is between XCHG and link */
       :: else -> next[STUB] = NUL                     /* t is the last node: re-push the stub */
       fi
     };
     if
     :: k == 2 ->
        atomic { prev = head; head = STUB_HEAD; assert(!MARKED(prev)) };  /* XCHG */
        next[PTR(prev)] = STUB;                                             /* link */
        atomic {
          nx = next[t];
          if
          :: nx != NUL -> tail = nx; m = t
          :: else -> skip
          fi;
          k = 0
        }
     :: else -> skip
     fi
  :: else -> skip
  fi
}

/* mark_empty: CAS(head, stub -> stub|EMPTY). ok := success. */
inline mark_empty() {
#ifdef BUG_MARK_WITHOUT_CAS
  if
  :: head == STUB_HEAD ->                     /* BUG: a load ...                 */
     head = STUB_EMPTY; ok = 1                /* ... then a separate store       */
  :: head == STUB_EMPTY -> ok = 1
  :: else -> ok = 0
  fi
#else
  atomic {
    if
    :: head == STUB_HEAD -> head = STUB_EMPTY; ok = 1
#ifndef BUG_REMARK_FAILS
    :: head == STUB_EMPTY -> ok = 1           /* already marked (after a spurious wake) */
#endif
    :: else -> ok = 0
    fi
  }
#endif
}

/* MARK_ONLY: swarm__mbox_mark_empty, called by the scheduler after the
 * switch. The C code first returns 0 if tail is not the stub and 1 if head
 * is already stub|EMPTY (a relaxed load), then CASes head stub ->
 * stub|EMPTY. Both early returns are defensive: the model asserts that
 * they never trigger (swarm__mbox_busy was false just before, and every
 * wake-up goes through a push that clears the mark), which also keeps the
 * vacuity check of models/check.sh meaningful. */
inline mark_empty_mo() {
  atomic {
    assert(tail == STUB);                     /* A7: "tail != stub" never seen */
    h = head;
    assert(h != STUB_EMPTY)                   /* A7: never already marked */
  };
  atomic {
    if
    :: head == STUB_HEAD -> head = STUB_EMPTY; ok = 1
    :: else -> ok = 0
    fi
  }
}

/* P's code, run by the scheduler that took P: receive until TOTAL
 * messages arrived, then exit. Returns when P parks or exits. When P is
 * resumed it re-enters here, i.e. re-checks its mailbox. */
inline run_p() {
  do
  :: nrecv == TOTAL ->
     atomic { state = EXITED; oncpu--; exited = 1 };
     break
  :: else ->
     pop(m);
     if
     :: m != NUL ->
        d_step {
          delivered[m]++;
          assert(delivered[m] == 1);          /* A2: not twice */
          assert(expect[PROD_OF(m)] == SEQ_OF(m));  /* A2: FIFO, no gap */
          expect[PROD_OF(m)]++;
          nrecv++
        }
     :: else ->
#ifdef MARK_ONLY
        /* swarm__mbox_busy: head moved past tail, or tail got a successor */
        atomic { h = head; k = (PTR(h) != tail) };
        if
        :: k == 0 -> atomic { k = (next[tail] != NUL) }
        :: else -> skip
        fi;
        if
        :: k ->                               /* a sender is linking: yield */
           assert(moved || inwin > 0);        /* A5 */
           atomic { oncpu--; k = 0 };         /* switch out (ACT_YIELD) ...   */
           state = RUNNABLE;                  /* ... then re-queue P          */
           enqueue();
           atomic { t = 0; nx = 0; h = 0; prev = 0; m = 0; s = 0; ok = 0 };
           break
        :: else ->                            /* ACT_PARK */
#ifdef BUG_PUBLISH_BEFORE_SWITCH
           state = WAITING;                   /* BUG: commit on P's stack ... */
           mark_empty_mo();
           oncpu--;                           /* ... then switch out */
#elif defined(BUG_MO_WAITING_AFTER_MARK)
           oncpu--;
           mark_empty_mo();                   /* BUG: mark first ...          */
           if
           :: ok -> state = WAITING           /* ... then publish WAITING     */
           :: else -> skip
           fi;
#else
           oncpu--;                           /* switch to the scheduler's stack */
           state = WAITING;                   /* park_commit: WAITING, then mark */
           mark_empty_mo();
#endif
           if
           :: ok ->
              atomic { t = 0; nx = 0; h = 0; prev = 0; m = 0; k = 0; s = 0; ok = 0 };
              break
           :: else ->                         /* something arrived: run P again */
              assert(moved || inwin > 0);     /* A5 */
              state = RUNNING;
              atomic { assert(oncpu == 0); oncpu++ }   /* A4 */
           fi
        fi
#else
        h = head;
        if
        :: PTR(h) != tail ->                  /* inconsistent window: spin */
           assert(moved || inwin > 0)   /* A5 */
        :: else ->
           mark_empty();
           if
           :: ok ->                           /* park */
#ifdef BUG_PUBLISH_BEFORE_SWITCH
              commit();                       /* BUG: publish first ... */
              oncpu--;                        /* ... then switch out */
#else
              oncpu--;                        /* switch to the scheduler's stack */
              commit();                       /* then publish */
#endif
              atomic { t = 0; nx = 0; h = 0; prev = 0; m = 0; k = 0; s = 0; ok = 0 };
              break
           :: else ->                         /* a producer pushed: pop again */
              assert(moved || inwin > 0)   /* A5 */
           fi
        fi
#endif
     fi
  od
}

proctype scheduler(byte id) {
  byte t, nx, h, prev, m, s, k;
  bit ok;
  do
  :: atomic { runq > 0 -> runq-- };           /* take P from a run queue */
     atomic {
       assert(state == RUNNABLE);
       state = RUNNING;
       compacted = 0;                         /* C2: restored before it runs */
       assert(oncpu == 0); oncpu++            /* A4: switch to P */
     };
     run_p()
  :: exited -> break
  od
}

proctype producer(byte p) {
  byte i = 0, n, prev, s;
  bit ok;
#ifdef BUG_PRODUCER_PEEKS_MARK
  bit peek;
#endif
  do
  :: i < NMSG ->
     n = NODE(p, i);
#ifdef BUG_PRODUCER_PEEKS_MARK
     peek = MARKED(head);                     /* BUG: decides from a load before the XCHG */
#endif
     atomic { next[n] = NUL; prev = head; head = n << 1; moved = 1; inwin++ };  /* XCHG */
     atomic { next[PTR(prev)] = n; moved = 1; inwin-- };      /* link */
#ifdef BUG_PRODUCER_PEEKS_MARK
     if
     :: peek -> wake()
     :: else -> skip
     fi;
#else
     if
     :: MARKED(prev) -> wake()                /* we made the mailbox non-empty */
     :: else -> skip
     fi;
#endif
     i++
  :: else -> break
  od;
  pdone++
}

#if STRAY
active proctype stray() {
  byte s;
  bit ok;
  wake()
}
#endif

#ifdef SWEEPER
/* sched/compact.c's swarm__compact_sweep, for P: twice, so that it can
 * also find P parked again after its own wake. */
active proctype sweeper() {
  byte s, tries = 0;
  bit ok;
  do
  :: tries < 2 ->
     tries++;
     atomic {                                 /* swarm__mbox_claim */
       if
       :: head == STUB_EMPTY -> head = STUB_HEAD; ok = 1
       :: else -> ok = 0
       fi
     };
     if
     :: ok ->
        atomic {                              /* C1: only a parked P */
          assert(state == WAITING && oncpu == 0 && runq == 0);
          compacted = 1
        };
        if
        :: skip ->                            /* park it again */
#ifdef BUG_SWEEPER_STORE_MARK
           head = STUB_EMPTY; ok = 1          /* BUG: a store, not a CAS */
#else
           atomic {                           /* swarm__mbox_mark_empty */
             if
             :: head == STUB_HEAD -> head = STUB_EMPTY; ok = 1
             :: else -> ok = 0
             fi
           }
#endif
        :: skip -> ok = 0                     /* not the wait it looked for: wake */
        fi;
        if
        :: ok -> skip
        :: else -> wake()                     /* we hold the token: we are its waker */
        fi
     :: else -> skip
     fi
  :: else -> break
  od
}
#endif

/* A1: evaluated when nothing else can move. */
active proctype monitor() {
end_watch:
  timeout ->
    assert(!(pdone == NPROD && nrecv < TOTAL && state == WAITING && runq == 0));
    assert(exited)            /* P got every message and ended */
}

init {
  byte i;
  atomic {
    for (i : 0 .. NSCHED - 1) { run scheduler(i) };
    for (i : 0 .. NPROD - 1) { run producer(i) }
  }
}
