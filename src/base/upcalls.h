/*
 * base/upcalls.h - the calls a lower layer makes into a higher one.
 *
 * The layers of src/ include only downward (docs/design/layers.md;
 * scripts/layer_check.py has the order). When a lower layer must call up,
 * the callee is declared here, not reached by including the higher layer's
 * header: this file is the complete list of upcalls, and the one header
 * every layer may include. (A function a higher layer hands down at run
 * time, such as a timer's fire function or a park's commit hook, is not an
 * upcall.)
 */
#ifndef SWARM_BASE_UPCALLS_H
#define SWARM_BASE_UPCALLS_H

struct swarm;
struct swarm__sched;
struct swarm__proc;
struct swarm__crash;

/* sched/ -> proc/spawn.c: the first code of process p (a struct
 * swarm__proc *), run on its own stack by the scheduler's first switch to
 * it (swarm__ctx_enter). Calls the process's function, then exits it. */
void swarm__proc_main(void *p);

/* sched/ -> proc/exit.c: process p has switched out for good (it
 * returned, called swarm_exit, crashed or overflowed its stack) or, with
 * s NULL, is being ended by destroy on a thread outside the swarm. Walks
 * its resource list, frees its slot, reports a crash, runs the exit hook. */
void swarm__proc_cleanup(struct swarm *sw, struct swarm__sched *s, struct swarm__proc *p, int reason,
                         const struct swarm__crash *crash);

/* sched/ -> io/poller.c: a scheduler with work looks at the fds without
 * blocking, when nobody has for a millisecond (force: now, as it runs out
 * of work). Processes made ready go on its queues; returns how many. */
unsigned swarm__io_poll_busy(struct swarm__sched *s, int force);

/* sched/det.c -> io/poller.c: deterministic mode's poll, waiting up to
 * timeout_ms (0: not at all). Returns how many processes it woke. */
int swarm__io_poll_det(struct swarm *sw, int timeout_ms);

#endif
