/*
 * arch/x86_64/cpu.h - what the layers above need from the CPU, for x86-64
 * Linux: a spin-wait hint and access to an interrupted context (the
 * ucontext a fault handler receives). A port adds arch/<isa>/cpu.h with the
 * same names; src/arch/cpu.h picks the file for the build's ISA.
 */
#ifndef SWARM_ARCH_X86_64_CPU_H
#define SWARM_ARCH_X86_64_CPU_H

#include <stdint.h>
#include <ucontext.h>

/* Spin-wait hint: lets the sibling hyperthread run and saves power. */
#define SWARM_CPU_RELAX() __builtin_ia32_pause()

/* The interrupted stack pointer and program counter. */
static inline uintptr_t swarm__arch_ctx_sp(const ucontext_t *uc)
{
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
}
static inline uintptr_t swarm__arch_ctx_pc(const ucontext_t *uc)
{
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
}
/* The interrupted frame pointer (a backtrace starts from it). */
static inline uintptr_t swarm__arch_ctx_fp(const ucontext_t *uc)
{
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
}

/* Make the interrupted thread continue, when the signal handler returns,
 * in fn() as if fn had just been called on a fresh stack whose highest
 * usable address is top (exclusive): the ABI's entry alignment, (rsp + 8)
 * % 16 == 0, and no frame pointer chain behind it. fn must never return.
 * `room` bytes below top are left alone (they may hold live data). */
static inline void swarm__arch_ctx_redirect(ucontext_t *uc, void (*fn)(void), uintptr_t top, uintptr_t room)
{
    uintptr_t sp = ((top - room) & ~(uintptr_t)15) - 8;
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
    uc->uc_mcontext.gregs[REG_RBP] = 0;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)fn;
}

#endif
