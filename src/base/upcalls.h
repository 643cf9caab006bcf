/*
 * base/upcalls.h - the calls a lower layer makes into a higher one.
 *
 * The layers of src/ include only downward (scripts/layer_check.py has the
 * order, bottom-up: base, arch, stack, mbox, ptable, proc, timer, msg,
 * sched, runtime). When a lower layer must call up (for example the
 * scheduler asking msg to post a timeout signal, or freeing an exiting
 * process's messages), the callee is declared here, not reached by
 * including the higher layer's header: this file is the complete list of
 * upcalls, and the only header every layer may include.
 *
 * Empty for now: today's upward includes are listed, to be removed, in
 * scripts/layer_exceptions.txt (the layer check fails on any new one).
 */
#ifndef SWARM_BASE_UPCALLS_H
#define SWARM_BASE_UPCALLS_H

#endif
