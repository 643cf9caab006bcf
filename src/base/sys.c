/*
 * base/sys.c - default syscall table, allocation countdown, clock, futex.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "base/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(addr, len, prot, flags, fd, off);
}

#define DEFAULT_SYS                                                                           \
    {                                                                                         \
        .mmap = sys_mmap, .munmap = munmap, .madvise = madvise, .mprotect = mprotect,         \
        .thread_create = pthread_create, .malloc = malloc, .free = free,                      \
        .epoll_ctl = epoll_ctl, .epoll_wait = epoll_wait, .socket = socket,                   \
        .accept4 = accept4, .connect = connect, .read = read, .write = write,                 \
        .readv = readv, .writev = writev, .recvfrom = recvfrom, .sendto = sendto,             \
        .sendfile = sendfile,                                                                 \
    }

static const swarm__sys_t default_sys = DEFAULT_SYS;
swarm__sys_t swarm__sys = DEFAULT_SYS;
_Atomic long swarm__alloc_fail_at;

void swarm__sys_reset(void)
{
    SWARM__SYS_SET(mmap, default_sys.mmap);
    SWARM__SYS_SET(munmap, default_sys.munmap);
    SWARM__SYS_SET(madvise, default_sys.madvise);
    SWARM__SYS_SET(mprotect, default_sys.mprotect);
    SWARM__SYS_SET(thread_create, default_sys.thread_create);
    SWARM__SYS_SET(malloc, default_sys.malloc);
    SWARM__SYS_SET(free, default_sys.free);
    SWARM__SYS_SET(epoll_ctl, default_sys.epoll_ctl);
    SWARM__SYS_SET(epoll_wait, default_sys.epoll_wait);
    SWARM__SYS_SET(socket, default_sys.socket);
    SWARM__SYS_SET(accept4, default_sys.accept4);
    SWARM__SYS_SET(connect, default_sys.connect);
    SWARM__SYS_SET(read, default_sys.read);
    SWARM__SYS_SET(write, default_sys.write);
    SWARM__SYS_SET(readv, default_sys.readv);
    SWARM__SYS_SET(writev, default_sys.writev);
    SWARM__SYS_SET(recvfrom, default_sys.recvfrom);
    SWARM__SYS_SET(sendto, default_sys.sendto);
    SWARM__SYS_SET(sendfile, default_sys.sendfile);
    atomic_store(&swarm__alloc_fail_at, 0);
}

/* The countdown is checked with one relaxed load on the fast path; only an
 * armed countdown pays for the read-modify-write. */
int swarm__alloc_fault(void)
{
    long n = atomic_load_explicit(&swarm__alloc_fail_at, memory_order_relaxed);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&swarm__alloc_fail_at, &n, n - 1))
            return n == 1;
    }
    return 0;
}

void *swarm__malloc(size_t size)
{
    if (swarm__alloc_fault())
        return NULL;
    return SWARM__SYS(malloc)(size);
}

void *swarm__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = swarm__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void swarm__free(void *p)
{
    if (p)
        SWARM__SYS(free)(p);
}

size_t swarm__page_size(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

size_t swarm__resident_pages(const void *p, size_t len)
{
    if (!p || !len)
        return 0;
    size_t page = swarm__page_size();
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)p + len + page - 1) & ~(uintptr_t)(page - 1);
    size_t pages = 0;
    unsigned char vec[4096];
    while (lo < hi) {
        size_t n = (hi - lo) / page < sizeof vec ? (hi - lo) / page : sizeof vec;
        if (mincore((void *)lo, n * page, vec) == 0)
            for (size_t i = 0; i < n; i++)
                pages += vec[i] & 1;
        lo += n * page;
    }
    return pages;
}

long swarm__read_proc_long(const char *path, long dflt)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dflt;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return dflt;
    buf[n] = 0;
    char *end;
    long v = strtol(buf, &end, 10);
    return end == buf ? dflt : v;
}

int swarm__overcommit_strict(void)
{
    return swarm__read_proc_long("/proc/sys/vm/overcommit_memory", 0) == 2;
}

int64_t swarm__clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int swarm__futex_wait(_Atomic uint32_t *word, uint32_t expect, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expect, tsp, NULL, 0);
    if (r == -1 && errno == ETIMEDOUT)
        return -ETIMEDOUT;
    return 0;
}

void swarm__futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* glibc puts a thread's static TLS block (and its descriptor) at the top
 * of a stack given with pthread_attr_setstack, taking it from the stack
 * (for a stack it allocates itself it adds the room). The block holds the
 * PT_TLS segments of every module loaded at start-up: the program, libc,
 * and a sanitizer runtime's (TSan's is about 900 KiB). Sum them once. */
static int tls_phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    size_t *sum = data;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_TLS) {
            size_t align = ph->p_align ? ph->p_align : 1;
            *sum += (ph->p_memsz + align - 1) / align * align;
        }
    }
    return 0;
}

static size_t static_tls_size(void)
{
    static _Atomic size_t cached;
    size_t v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!v) {
        size_t sum = 0;
        dl_iterate_phdr(tls_phdr_cb, &sum);
        /* The thread descriptor, glibc's TLS surplus for modules opened
         * later, and alignment: a generous fixed margin. */
        v = sum + 64 * 1024;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

int swarm__thread_start(swarm__thread_t *t, size_t stack_size, void *(*fn)(void *), void *arg)
{
    size_t page = swarm__page_size();
    if (stack_size < (size_t)PTHREAD_STACK_MIN)
        stack_size = (size_t)PTHREAD_STACK_MIN;
    stack_size += static_tls_size(); /* the caller's stack_size stays usable */
    stack_size = (stack_size + page - 1) & ~(page - 1);
    size_t len = stack_size + page; /* the guard page below */
    t->map = NULL;
    t->map_len = 0;
    char *m = SWARM__SYS(mmap)(NULL, len, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return ENOMEM;
    /* Best effort, like glibc's own guard: without it the thread still
     * runs, an overflow of the runtime's own stack is just not caught. */
    (void)SWARM__SYS(mprotect)(m, page, PROT_NONE);
    pthread_attr_t attr;
    int r = pthread_attr_init(&attr);
    if (r == 0) {
        r = pthread_attr_setstack(&attr, m + page, stack_size);
        if (r == 0)
            r = SWARM__SYS(thread_create)(&t->id, &attr, fn, arg);
        pthread_attr_destroy(&attr);
    }
    if (r != 0) {
        (void)SWARM__SYS(munmap)(m, len);
        return r;
    }
    t->map = m;
    t->map_len = len;
    return 0;
}

void swarm__thread_join(swarm__thread_t *t)
{
    if (!t->map)
        return;
    pthread_join(t->id, NULL);
    /* After the join the kernel has cleared the thread id glibc keeps on
     * this stack and glibc has released the thread's descriptor: nothing
     * refers to the mapping any more. */
    (void)SWARM__SYS(munmap)(t->map, t->map_len);
    t->map = NULL;
    t->map_len = 0;
}
