/*
 * base/sanitizer.h - the one place that knows about ASan and TSan.
 *
 * SWARM_ASAN / SWARM_TSAN are 1 in builds with that sanitizer (detected the
 * same way for gcc and clang), SWARM_SANITIZED in either. Processes run on
 * stacks the sanitizers did not allocate, so every switch between stacks is
 * announced (fiber annotations), and a stack slot handed to a new process
 * is unpoisoned first. In other builds every helper compiles to nothing.
 */
#ifndef SWARM_BASE_SANITIZER_H
#define SWARM_BASE_SANITIZER_H

#include <pthread.h>
#include <stddef.h>

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

#define SWARM_SANITIZED (SWARM_ASAN || SWARM_TSAN)

#if SWARM_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define SWARM_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define SWARM_NO_ASAN
#endif
#if SWARM_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Forget ASan's poison on [base, base + len): a dead process's frames, or
 * a previous owner's, leave it in the shadow of a reused stack. */
static inline void swarm__san_unpoison(const void *base, size_t len)
{
#if SWARM_ASAN
    __asan_unpoison_memory_region(base, len);
#else
    (void)base;
    (void)len;
#endif
}

/* Mark [base, base + len) as not to be touched: ASan reports any access
 * until it is unpoisoned (a free block of mem/pool.h). */
static inline void swarm__san_poison(const void *base, size_t len)
{
#if SWARM_ASAN
    __asan_poison_memory_region(base, len);
#else
    (void)base;
    (void)len;
#endif
}

/* Switching stacks: call begin just before the switch (fake: where ASan
 * keeps the current stack's fake frames, NULL if it never comes back;
 * bottom/size: the stack switched to) and end just after control returns
 * to this stack (fake: what begin stored for this stack). */
static inline void swarm__san_switch_begin(void **fake, const void *bottom, size_t size)
{
#if SWARM_ASAN
    __sanitizer_start_switch_fiber(fake, bottom, size);
#else
    (void)fake;
    (void)bottom;
    (void)size;
#endif
}
static inline void swarm__san_switch_end(void *fake)
{
#if SWARM_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    (void)fake;
#endif
}

/* ASan: the bounds of the calling thread's own stack, which a process
 * switches back to (left alone in other builds). */
static inline void swarm__san_thread_stack(const void **bottom, size_t *size)
{
#if SWARM_ASAN
    pthread_attr_t attr;
    void *addr;
    size_t len;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &len) == 0) {
            *bottom = addr;
            *size = len;
        }
        pthread_attr_destroy(&attr);
    }
#else
    (void)bottom;
    (void)size;
#endif
}

/* TSan fibers: one per stack a process runs on. */
static inline void *swarm__san_fiber_create(void)
{
#if SWARM_TSAN
    return __tsan_create_fiber(0);
#else
    return NULL;
#endif
}
static inline void *swarm__san_fiber_current(void)
{
#if SWARM_TSAN
    return __tsan_get_current_fiber();
#else
    return NULL;
#endif
}
static inline void swarm__san_fiber_switch(void *fiber)
{
#if SWARM_TSAN
    __tsan_switch_to_fiber(fiber, 0);
#else
    (void)fiber;
#endif
}
static inline void swarm__san_fiber_destroy(void *fiber)
{
#if SWARM_TSAN
    if (fiber)
        __tsan_destroy_fiber(fiber);
#else
    (void)fiber;
#endif
}

#endif
