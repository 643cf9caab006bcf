/*
 * arch/switch.h - the machine context switch (one implementation per ISA,
 * chosen by CMake: src/arch/<isa>/switch.S).
 *
 * A context is just a saved stack pointer: swarm__ctx_switch pushes the
 * callee-saved state of the running code onto its own stack, stores the
 * stack pointer in *save_sp, loads to_sp and pops the state saved there.
 * A context that has not run yet has no saved stack pointer: the first
 * switch to it is swarm__ctx_enter.
 *
 * x86-64 SysV saved state: rbx, rbp, r12-r15, MXCSR control bits and the x87
 * control word (both callee-saved under the ABI), and the return address.
 */
#ifndef SWARM_ARCH_SWITCH_H
#define SWARM_ARCH_SWITCH_H

#include <stddef.h>

/* Save the current context into *save_sp and resume the one at to_sp.
 * Returns when something switches back to *save_sp. */
void swarm__ctx_switch(void **save_sp, void *to_sp);

/* Save the current context into *save_sp (as swarm__ctx_switch does) and
 * start a fresh one: entry(arg) on the stack whose highest usable address
 * is stack_top (exclusive, rounded down to 16 here), with the ABI's entry
 * alignment ((rsp+8) % 16 == 0), a zeroed frame pointer (so unwinders
 * stop), default MXCSR (0x1F80) and x87 control word (0x037F). entry must
 * never return; it leaves with swarm__ctx_switch like any context. The new
 * stack is first touched here, by the thread that will run it, so a fresh
 * stack's page faults fall to the context itself, not to whoever created
 * it (a spawning process). */
void swarm__ctx_enter(void **save_sp, void *stack_top, void (*entry)(void *), void *arg);

#endif
