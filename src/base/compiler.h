/*
 * base/compiler.h - attributes used across layers (sanitizers: base/sanitizer.h;
 * CPU hints: arch/cpu.h).
 */
#ifndef SWARM_BASE_COMPILER_H
#define SWARM_BASE_COMPILER_H

#include <stddef.h>

#define SWARM_LIKELY(x) __builtin_expect(!!(x), 1)
#define SWARM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SWARM_NOINLINE __attribute__((noinline))
#define SWARM_CACHELINE 64
#define SWARM_ALIGNED(n) __attribute__((aligned(n)))

/* The struct of type that holds member field at ptr. */
#define SWARM_CONTAINER_OF(ptr, type, field) ((type *)(void *)((char *)(ptr) - offsetof(type, field)))

/* A compiler barrier: memory may not be cached in registers across it. */
#define SWARM_BARRIER() __asm__ __volatile__("" ::: "memory")

#endif
