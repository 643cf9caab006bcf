/*
 * base/compiler.h - attributes and sanitizer detection used across layers.
 */
#ifndef SWARM_BASE_COMPILER_H
#define SWARM_BASE_COMPILER_H

#define SWARM_LIKELY(x) __builtin_expect(!!(x), 1)
#define SWARM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SWARM_NOINLINE __attribute__((noinline))
#define SWARM_CACHELINE 64
#define SWARM_ALIGNED(n) __attribute__((aligned(n)))

#ifndef __has_feature
#define __has_feature(x) 0
#endif

#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define SWARM_ASAN 1
#else
#define SWARM_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define SWARM_TSAN 1
#else
#define SWARM_TSAN 0
#endif

#if SWARM_ASAN
#define SWARM_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define SWARM_NO_ASAN
#endif

/* A compiler barrier: memory may not be cached in registers across it. */
#define SWARM_BARRIER() __asm__ __volatile__("" ::: "memory")

#define SWARM_CPU_RELAX() __builtin_ia32_pause()

#endif
