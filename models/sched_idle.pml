/*
 * sched_idle.pml - SwarmRT scheduler idle parking and wake-up (Go-style
 * spinning protocol), Spin / Promela, sequentially consistent.
 *
 * What is modelled (docs/design/models.md has the full account):
 *   - NSCHED (2, or 3) scheduler threads; `work` abstracts every run queue
 *     plus the global injector (any scheduler may take any item: stealing);
 *   - the idle list (idle[], npidle) under the idle-list lock (one atomic
 *     block per critical section), nspinning, one futex word per scheduler;
 *   - NSUBMITTERS (2) independent threads that enqueue NSUB (3) items in
 *     all (foreign threads sending or spawning, or processes running on
 *     other schedulers), each enqueue followed by wakep();
 *   - a scheduler that takes an item either runs it and comes back, or
 *     (FOREVER) never comes back: a process that does not yield (the case
 *     the watchdog reports). This is what makes work conservation visible.
 * Every shared access is one Spin step (seq_cst in the C code).
 *
 * The idle path drops the spinning state after announcing itself idle, as
 * specified; -DDROP_FIRST drops it before, as src/sched/idle.c does (both
 * are clean). Two corrections with respect to both the first spec and
 * src/sched/idle.c (sched.c at commit 009fd0e): wakep() gives the token back inside
 * the idle-list critical section, and a scheduler whose re-check finds
 * work spins again (see docs/design/models.md, divergences A and B).
 *
 * Property (safety, -DSAFETY): when nothing can move any more, there is no
 * queued work while a scheduler sleeps on its futex. Without FOREVER this
 * is exactly "never work queued, nobody awake or spinning, all idle
 * schedulers asleep"; with FOREVER it also says that a runnable item never
 * waits for a busy scheduler while another one sleeps (work conservation).
 *
 * Seeded bugs: each models/bugs/sched_NAME.pml defines one BUG_ macro and
 * includes this file; each hook below is marked with the macro it tests.
 */

#ifndef NSUB
#define NSUB 3            /* 3 is the least that needs the re-spin rule */
#endif
#ifndef FOREVER
#define FOREVER 1
#endif
#ifndef NSUBMITTERS
#define NSUBMITTERS 2     /* independent submitting threads */
#endif

#ifndef NSCHED
#define NSCHED 2                  /* 2 or 3 */
#endif
#define NONE 255

byte work = 0;            /* runnable items queued anywhere */
byte npidle = 0;          /* schedulers on the idle list */
byte nspinning = 0;       /* schedulers looking for work */
bit idle[NSCHED];         /* on the idle list */
bit futex[NSCHED];        /* per-scheduler futex word: 1 = woken */
bit asleep[NSCHED];       /* ghost: blocked in futex_wait */

/* Give back one unit of nspinning (never below zero). */
inline drop_token() {
  assert(nspinning > 0); nspinning = nspinning - 1
}

/* wakep(): if a scheduler sleeps and nobody is spinning, make one spin.
 * Locals of the caller: ok, w. */
inline wakep() {
  if
  :: npidle > 0 ->
     if
     :: nspinning == 0 ->
        atomic {                              /* CAS nspinning 0 -> 1 */
          if
          :: nspinning == 0 -> nspinning = 1; ok = 1
          :: else -> ok = 0
          fi
        };
        if
        :: ok ->
           atomic {                           /* lock; pop an idle scheduler; unlock */
             if
             :: idle[0] -> idle[0] = 0; npidle--; w = 0
             :: idle[1] -> idle[1] = 0; npidle--; w = 1
#if NSCHED > 2
             :: idle[2] -> idle[2] = 0; npidle--; w = 2
#endif
             :: else ->                       /* nobody idle: give the token back, */
                w = NONE;                     /* still under the lock              */
#if !defined(BUG_WAKEP_KEEPS_TOKEN) && !defined(BUG_UNDO_AFTER_UNLOCK)
                drop_token()
#else
                skip
#endif
             fi
           };
#ifdef BUG_UNDO_AFTER_UNLOCK
           if
           :: w == NONE -> drop_token()        /* BUG: the token comes back after the unlock */
           :: else -> skip
           fi;
#endif
           if
           :: w != NONE -> futex[w] = 1       /* futex_wake: it starts spinning */
           :: else -> skip
           fi;
           w = 0
        :: else -> skip
        fi;
        ok = 0
     :: else -> skip
     fi
  :: else -> skip
  fi
}

proctype scheduler(byte id) {
  bit spinning = 0;       /* this scheduler holds one unit of nspinning */
  bit was = 0;            /* it was spinning when it went idle */
  bit found = 0;
  bit ok = 0;
  byte w = 0;
  do
  :: atomic {                                 /* look in every queue */
       if
       :: work > 0 -> work--; found = 1
       :: else -> found = 0
       fi
     };
     if
     :: found ->
        found = 0;
        if
        :: spinning ->                        /* stop spinning; the last spinner wakes another */
           atomic { spinning = 0; drop_token(); ok = (nspinning == 0) };
#ifndef BUG_LAST_SPINNER_NO_WAKE
           if
           :: ok -> ok = 0; wakep()
           :: else -> skip
           fi
#else
           ok = 0                             /* BUG: never wakes another */
#endif
        :: else -> skip
        fi;
        if
        :: skip                               /* run it; it yields or ends */
#if FOREVER
        :: true ->                            /* it never yields */
end_forever:
           false
#endif
        fi
     :: else ->                               /* nothing: go idle */
#ifdef BUG_CHECK_BEFORE_ANNOUNCE
        if
        :: work > 0 -> goto again             /* BUG: re-check before announcing */
        :: else -> skip
        fi;
#endif
        was = spinning;
#ifdef DROP_FIRST                             /* the C code's order: drop spinning, then announce */
        if
        :: spinning -> atomic { spinning = 0; drop_token() }
        :: else -> skip
        fi;
#endif
        atomic { idle[id] = 1; npidle++ };    /* lock; push self; npidle++ (seq_cst); unlock */
#if !defined(BUG_DROP_SPINNING_AFTER_RECHECK) && !defined(DROP_FIRST)
        if
        :: spinning -> atomic { spinning = 0; drop_token() }
        :: else -> skip
        fi;
#endif
#ifndef BUG_CHECK_BEFORE_ANNOUNCE
        if                                    /* StoreLoad, then re-check every queue */
        :: work > 0 ->
           atomic {                           /* lock; take self off the idle list */
             if
             :: idle[id] -> idle[id] = 0; npidle--; ok = 1
             :: else -> ok = 0                /* a waker popped us: its futex wake is coming */
             fi
           };
#ifdef BUG_DROP_SPINNING_AFTER_RECHECK
           if
           :: spinning -> atomic { spinning = 0; drop_token() }
           :: else -> skip
           fi;
#endif
           if
           :: ok ->
              ok = 0;
#ifndef BUG_NO_RESPIN
              if                              /* it gave up spinning before the re-check: */
              :: was -> atomic { spinning = 1; nspinning++ }   /* spin again (Go's findrunnable) */
              :: else -> skip
              fi;
#endif
              was = 0;
              goto again
           :: else -> skip
           fi
        :: else ->
#ifdef BUG_DROP_SPINNING_AFTER_RECHECK
           if
           :: spinning -> atomic { spinning = 0; drop_token() }   /* BUG: drop spinning after the re-check */
           :: else -> skip
           fi;
#endif
           skip
        fi;
#endif
        was = 0;
        asleep[id] = 1;
end_sleep:
        atomic { futex[id] == 1 -> futex[id] = 0; asleep[id] = 0 };   /* futex_wait */
        spinning = 1;                         /* the waker counted us in nspinning */
again:
        skip
     fi
  od
}

/* Submitter threads (a foreign thread sending, or a process on a busy
 * scheduler): enqueue, then wakep(). Thread k makes its share of NSUB. */
proctype submitter(byte k) {
  byte i = 0;
  byte n = (NSUB / NSUBMITTERS) + (k < NSUB % NSUBMITTERS -> 1 : 0);
  bit ok = 0;
  byte w = 0;
  do
  :: i < n ->
     work++;                                  /* enqueue (seq_cst) */
     wakep();
     i++
  :: else -> break
  od
}

/* Evaluated when nothing else can move (every scheduler asleep or stuck in
 * a process that never yields, the submitter done). */
active proctype monitor() {
  byte i, n = 0;
end_watch:
  timeout ->
#if NSCHED > 2
    assert(!(work > 0 && (asleep[0] || asleep[1] || asleep[2])));
#else
    assert(!(work > 0 && (asleep[0] || asleep[1])));
#endif
    /* Bookkeeping at rest: no spinner left, the idle list is exactly the
     * sleepers. */
    assert(nspinning == 0);
    for (i : 0 .. NSCHED - 1) {
      assert(asleep[i] == idle[i]);
      n = n + idle[i]
    };
    assert(npidle == n)
}

init {
  byte i;
  atomic {
    for (i : 0 .. NSCHED - 1) { run scheduler(i) };
    for (i : 0 .. NSUBMITTERS - 1) { run submitter(i) }
  }
}
