/*
 * base/sys.h - the runtime's only doors to the kernel and the allocator.
 *
 * Every mmap, madvise, futex, thread creation, heap allocation and I/O call the
 * runtime makes goes through swarm__sys, a table of function pointers that
 * tests replace to fail or delay a call (fault injection, see
 * tests/fault_test.c). Allocation also has a countdown: when
 * swarm__alloc_fail_at reaches 1 the allocation fails, so a test can walk
 * every allocation index of a code path.
 */
#ifndef SWARM_BASE_SYS_H
#define SWARM_BASE_SYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct swarm__sys {
    void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
    int (*munmap)(void *addr, size_t len);
    int (*madvise)(void *addr, size_t len, int advice);
    int (*mprotect)(void *addr, size_t len, int prot);
    int (*thread_create)(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
    void *(*malloc)(size_t size);
    void (*free)(void *p);
    /* I/O (io/): every call the netpoller and the sockets make. */
    int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
    int (*epoll_wait)(int epfd, struct epoll_event *evs, int n, int timeout_ms);
    int (*socket)(int domain, int type, int proto);
    int (*accept4)(int fd, struct sockaddr *addr, socklen_t *len, int flags);
    int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
    ssize_t (*read)(int fd, void *buf, size_t len);
    ssize_t (*write)(int fd, const void *buf, size_t len);
    ssize_t (*readv)(int fd, const struct iovec *iov, int n);
    ssize_t (*writev)(int fd, const struct iovec *iov, int n);
    ssize_t (*recvfrom)(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen);
    ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen);
    ssize_t (*sendfile)(int out, int in, off_t *off, size_t count);
} swarm__sys_t;

/* The table in force. Read an entry with SWARM__SYS(name)(args...); tests
 * replace one with SWARM__SYS_SET(name, fn), also while swarms run (both
 * are relaxed atomic accesses: TSan sees no race, x86 sees plain moves). */
extern swarm__sys_t swarm__sys;
#define SWARM__SYS(name) __atomic_load_n(&swarm__sys.name, __ATOMIC_RELAXED)
#define SWARM__SYS_SET(name, fn) __atomic_store_n(&swarm__sys.name, (fn), __ATOMIC_RELAXED)

/* Restore the default table and disarm the allocation countdown. */
void swarm__sys_reset(void);

/* Allocation countdown: 0 = off; N = the N-th allocation from now fails
 * (returns NULL) and the countdown turns off. */
extern _Atomic long swarm__alloc_fail_at;

/* One tick of the countdown: 1 when this allocation is to fail. Every
 * allocator of the runtime calls it once per allocation (swarm__malloc,
 * the message pool in mem/pool.h). */
int swarm__alloc_fault(void);

/* Is the countdown armed? One relaxed load: an allocator's fast path
 * takes its slow path (which ticks it) when it is. */
static inline int swarm__alloc_armed(void)
{
    return atomic_load_explicit(&swarm__alloc_fail_at, memory_order_relaxed) != 0;
}

/* Heap allocation for the runtime. Returns NULL on failure (including an
 * injected one). Never touches errno's meaning for callers. */
void *swarm__malloc(size_t size);
void *swarm__calloc(size_t n, size_t size);
void swarm__free(void *p);

/* Page size, cached. */
size_t swarm__page_size(void);

/* Resident pages of [p, p + len), rounded out to pages, asked of the
 * kernel with mincore() a window at a time (no allocation); a window the
 * kernel will not answer for counts 0. For diagnostics and tests. */
size_t swarm__resident_pages(const void *p, size_t len);

/* The number a small /proc file (a sysctl) holds, or dflt if it cannot be
 * read. */
long swarm__read_proc_long(const char *path, long dflt);

/* Nonzero if the kernel's overcommit is strict (vm.overcommit_memory = 2):
 * then reserved address space counts as used memory, MAP_NORESERVE or not. */
int swarm__overcommit_strict(void);

/* Monotonic clock in nanoseconds. */
int64_t swarm__clock_ns(void);

/* Futex wait/wake on a 32-bit word. wait returns 0 when woken (or the value
 * differed), -ETIMEDOUT on timeout; timeout_ns < 0 waits forever. */
int swarm__futex_wait(_Atomic uint32_t *word, uint32_t expect, int64_t timeout_ns);
void swarm__futex_wake(_Atomic uint32_t *word, int n);

/* A thread the runtime starts and joins (schedulers, the watchdog), on a
 * stack the runtime maps itself: stack_size bytes plus room for the
 * static TLS block glibc carves from its top, with a PROT_NONE guard page
 * below, mapped through swarm__sys.mmap so
 * fault injection sees it. glibc keeps the stacks it allocates in a cache
 * after the join (they stay mapped until the OS process ends); a stack
 * given with pthread_attr_setstack is the caller's, so swarm__thread_join
 * unmaps it and a destroyed swarm leaves no thread stack behind. */
typedef struct swarm__thread {
    pthread_t id;
    void *map;      /* the mapping (guard page first), NULL when not started */
    size_t map_len;
} swarm__thread_t;

/* Start fn(arg) on a new thread. Returns 0, or an errno value (ENOMEM:
 * the stack could not be mapped; else what thread_create returned), with
 * nothing left mapped. */
int swarm__thread_start(swarm__thread_t *t, size_t stack_size, void *(*fn)(void *), void *arg);

/* Join a thread started by swarm__thread_start and unmap its stack. */
void swarm__thread_join(swarm__thread_t *t);

#endif
