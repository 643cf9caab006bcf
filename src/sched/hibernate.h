/*
 * sched/hibernate.h - the scheduler's side of swarm_hibernate: dropping
 * the stacks of hibernating processes, in batches.
 *
 * A process that hibernates (sched.h: swarm__sched_hibernate) has nothing
 * live on its stack, but giving its pages back costs a madvise and, with
 * more than one scheduler, a TLB shootdown on every CPU the swarm runs
 * on: a few microseconds each, more than the rest of a hibernation. So
 * its scheduler only notes it (swarm__hib_note, after the park's commit)
 * and drops the stacks it noted when it has SWARM__HIB_BATCH of them or
 * runs out of work (swarm__hib_flush): one madvise per run of adjacent
 * slots, which a spawn storm's processes mostly are.
 *
 * To drop a stack the flush must own the process: it takes its wake
 * token (mbox/: swarm__mbox_claim, as the compaction sweeper does), so
 * nothing can run it meanwhile, and checks that it still hibernates in
 * the generation noted (it may have woken, ended, or its slot may have a
 * new owner since). Then it parks it again, or wakes it if something was
 * pushed meanwhile (models/proc_park.pml, SWEEPER). A process woken
 * before its flush simply keeps its pages.
 */
#ifndef SWARM_SCHED_HIBERNATE_H
#define SWARM_SCHED_HIBERNATE_H

#include "state/state.h"

/* After p (generation gen) hibernated on s and its park committed. */
void swarm__hib_note(swarm__sched_t *s, swarm__proc_t *p, uint32_t gen);

/* Drop the stacks s noted that still hibernate. Scheduler thread, no
 * process running. */
void swarm__hib_flush(swarm__sched_t *s);

#endif
