/*
 * tests/stack_test.c - the stack arena (src/stack/).
 *
 * Builds from src/stack/stack.c + src/base/sys.c only. Guard checks fork a
 * child that writes to the guard page and expect SIGSEGV. Syscalls are
 * counted (and failed on demand) through a wrapped swarm__sys table.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "base/sys.h"
#include "base/sanitizer.h"
#include "stack/stack.h"
#include "test.h"

#define KIB ((size_t)1024)
#define MIB (KIB * 1024)

#define OK(expr) CHECK_EQ((expr), 0)

/* Sanitizer runtimes map memory of their own at any time, so whole-process
 * VMA counts are exact only in plain builds; arena-range counts and the
 * mincore "is it unmapped" checks hold everywhere. */
#define EXACT_VMAS (!SWARM_SANITIZED)

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* ------------------------------------------------------------------ */
/* Counting / failing syscall table.                                   */

static swarm__sys_t real_sys;

static struct {
    _Atomic long mmap, munmap, madvise, dontneed, guard, mprotect, malloc;
} calls;

static struct {
    int mmap_errno;     /* nonzero: mmap fails with it */
    int guard_errno;    /* nonzero: madvise(MADV_GUARD_INSTALL) fails */
    int mprotect_errno; /* nonzero: mprotect fails */
} inject;

static void *hook_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    calls.mmap++;
    if (inject.mmap_errno) {
        errno = inject.mmap_errno;
        return MAP_FAILED;
    }
    return real_sys.mmap(addr, len, prot, flags, fd, off);
}

static int hook_munmap(void *addr, size_t len)
{
    calls.munmap++;
    return real_sys.munmap(addr, len);
}

static int hook_madvise(void *addr, size_t len, int advice)
{
    calls.madvise++;
    if (advice == MADV_DONTNEED)
        calls.dontneed++;
    if (advice == MADV_GUARD_INSTALL) {
        calls.guard++;
        if (inject.guard_errno) {
            errno = inject.guard_errno;
            return -1;
        }
    }
    return real_sys.madvise(addr, len, advice);
}

static int hook_mprotect(void *addr, size_t len, int prot)
{
    calls.mprotect++;
    if (inject.mprotect_errno) {
        errno = inject.mprotect_errno;
        return -1;
    }
    return real_sys.mprotect(addr, len, prot);
}

static void *hook_malloc(size_t size)
{
    calls.malloc++;
    return real_sys.malloc(size);
}

static void hook_install(void)
{
    swarm__sys_reset();
    real_sys = swarm__sys;
    memset(&inject, 0, sizeof inject);
    SWARM__SYS_SET(mmap, hook_mmap);
    SWARM__SYS_SET(munmap, hook_munmap);
    SWARM__SYS_SET(madvise, hook_madvise);
    SWARM__SYS_SET(mprotect, hook_mprotect);
    SWARM__SYS_SET(malloc, hook_malloc);
}

static void counts_reset(void)
{
    calls.mmap = calls.munmap = calls.madvise = calls.dontneed = 0;
    calls.guard = calls.mprotect = calls.malloc = 0;
}

static __attribute__((unused)) long syscalls_made(void)
{
    return calls.mmap + calls.munmap + calls.madvise + calls.mprotect;
}

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

static size_t page_size(void)
{
    return swarm__page_size();
}

/* Mappings (lines of /proc/self/maps) that overlap [lo, hi). Read without
 * stdio: no malloc, no new VMA while counting. */
static long vma_count_range(uintptr_t lo, uintptr_t hi)
{
    static char buf[8 << 20];
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    CHECK(len < sizeof buf - 1);
    buf[len] = 0;
    long count = 0;
    for (char *line = buf; *line;) {
        char *end;
        uintptr_t start = (uintptr_t)strtoull(line, &end, 16);
        uintptr_t stop = (uintptr_t)strtoull(end + 1, NULL, 16);
        count += start < hi && stop > lo;
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return count;
}

static long vma_count(void)
{
    return vma_count_range(0, UINTPTR_MAX);
}

/* Nonzero if no page of [p, p + page) is mapped. */
static int unmapped(const void *p)
{
    unsigned char v;
    return mincore((void *)((uintptr_t)p & ~(uintptr_t)(swarm__page_size() - 1)), 1, &v) != 0 &&
           errno == ENOMEM;
}

/* Resident pages of the whole process (/proc/self/statm, 2nd field). */
static long rss_pages(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    CHECK(n > 0);
    buf[n] = 0;
    long size = 0, rss = 0;
    CHECK_EQ(sscanf(buf, "%ld %ld", &size, &rss), 2);
    return rss;
}

/* A "Name:   <n> kB" line of /proc/self/status, in KiB (-1 if absent). */
static long status_kib(const char *name)
{
    static char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    CHECK(n > 0);
    buf[n] = 0;
    const char *p = strstr(buf, name);
    return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

/* Resident pages in [p, p + len) by mincore. */
static long resident(void *p, size_t len)
{
    size_t np = len / page_size();
    unsigned char vec[4096];
    CHECK(np <= sizeof vec);
    OK(mincore(p, len, vec));
    long r = 0;
    for (size_t i = 0; i < np; i++)
        r += vec[i] & 1;
    return r;
}

/* Fork; the child writes one byte at p. Returns the signal that killed the
 * child, 0 if it exited cleanly, or 1000 + its exit status otherwise. */
static int child_write(void *p)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Sanitizer runtimes catch SIGSEGV and exit(1): let the kernel
         * kill the child instead. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        *(volatile char *)p = 1;
        _exit(0);
    }
    int st = 0;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        return WTERMSIG(st);
    return WEXITSTATUS(st) == 0 ? 0 : 1000 + WEXITSTATUS(st);
}

/* Create an arena, or report that the kernel lacks what the mode needs. */
static swarm__stack_arena_t *arena_or_skip(uint32_t max, unsigned ncaches, swarm_guard_mode_t mode)
{
    swarm__stack_arena_t *a = NULL;
    int r = swarm__stack_arena_create(&a, max, ncaches, mode);
    if (r == SWARM_ENOSYS) {
        printf("SKIP: mode %d not supported by this kernel\n", (int)mode);
        return NULL;
    }
    CHECK_EQ(r, 0);
    return a;
}

static swarm__stack_info_t info_of(swarm__stack_arena_t *a)
{
    swarm__stack_info_t i;
    swarm__stack_info(a, &i);
    return i;
}

static __attribute__((unused)) int cmp_lo(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t)((const swarm__stack_t *)x)->lo;
    uintptr_t b = (uintptr_t)((const swarm__stack_t *)y)->lo;
    return a < b ? -1 : a > b;
}

/* ------------------------------------------------------------------ */
/* Cases.                                                              */

TEST(class_rounding)
{
    CHECK_EQ(swarm__stack_class_size(0), SWARM_DEFAULT_STACK_SIZE);
    CHECK_EQ(swarm__stack_class_size(1), 16 * KIB);
    CHECK_EQ(swarm__stack_class_size(16 * KIB), 16 * KIB);
    CHECK_EQ(swarm__stack_class_size(16 * KIB + 1), 32 * KIB);
    CHECK_EQ(swarm__stack_class_size(64 * KIB - 1), 64 * KIB);
    CHECK_EQ(swarm__stack_class_size(64 * KIB), 64 * KIB);
    CHECK_EQ(swarm__stack_class_size(100 * KIB), 128 * KIB);
    CHECK_EQ(swarm__stack_class_size(5 * MIB), 8 * MIB);
    CHECK_EQ(swarm__stack_class_size(8 * MIB), 8 * MIB);
    CHECK_EQ(swarm__stack_class_size(8 * MIB + 1), 0);
    CHECK_EQ(swarm__stack_class_size((size_t)-1), 0);

    swarm__stack_arena_t *a;
    CHECK_EQ(swarm__stack_arena_create(&a, 0, 1, SWARM_GUARD_AUTO), SWARM_EINVAL);
    CHECK_EQ(swarm__stack_arena_create(&a, 10, 1, (swarm_guard_mode_t)7), SWARM_EINVAL);
    OK(swarm__stack_arena_create(&a, 100, 2, SWARM_GUARD_AUTO));
    swarm__stack_t s;
    CHECK_EQ(swarm__stack_alloc(a, 0, 8 * MIB + 1, &s), SWARM_EINVAL);
    CHECK_EQ(swarm__stack_alloc(a, 2, 0, &s), SWARM_EINVAL); /* no such cache */
    CHECK_EQ(info_of(a).slots_live, 0);

    size_t page = page_size();
    uint8_t cls = 0;
    for (size_t size = 16 * KIB; size <= 8 * MIB; size *= 2, cls++) {
        size_t asks[] = {size / 2 + 1, size};
        for (int k = 0; k < 2; k++) {
            OK(swarm__stack_alloc(a, 0, asks[k], &s));
            CHECK_EQ(s.cls, cls);
            /* The whole class size is usable; the guard lies below it. */
            CHECK_EQ((char *)s.top - (char *)s.base, size);
            CHECK_EQ((char *)s.base - (char *)s.lo, swarm__stack_guard_size(a));
            CHECK_EQ((uintptr_t)s.top % 16, 0);
            CHECK_EQ((uintptr_t)s.lo % page, 0);
            /* The whole usable range is writable. */
            ((volatile char *)s.top)[-1] = 1;
            ((volatile char *)s.base)[16] = 1;
            swarm__stack_free(a, 0, &s);
        }
    }
    OK(swarm__stack_alloc(a, 1, 0, &s));
    CHECK_EQ((char *)s.top - (char *)s.base, SWARM_DEFAULT_STACK_SIZE);
    CHECK_EQ(swarm__stack_guard_size(a), SWARM__STACK_GUARD_SIZE < page ? page : SWARM__STACK_GUARD_SIZE);
    swarm__stack_free(a, 1, &s);
    CHECK_EQ(info_of(a).slots_live, 0);
    swarm__stack_arena_destroy(a);
}

TEST(reuse_warm)
{
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 1000, 2, SWARM_GUARD_AUTO));
    swarm__stack_t s1, s2, s3, t;
    OK(swarm__stack_alloc(a, 0, 0, &s1));
    OK(swarm__stack_alloc(a, 0, 0, &s2));
    CHECK(s1.lo != s2.lo);
    swarm__stack_free(a, 0, &s1);
    swarm__stack_free(a, 0, &s2);
    /* LIFO: the most recently freed (hottest) slot comes back first. */
    OK(swarm__stack_alloc(a, 0, 0, &t));
    CHECK(t.lo == s2.lo);
    CHECK_EQ(t.slot, s2.slot);
    OK(swarm__stack_alloc(a, 0, 0, &s3));
    CHECK(s3.lo == s1.lo);
    /* Another cache does not see cache 0's warm slots (sanitizer builds
     * have no warm tier: the slot goes through the shared cold list). */
    swarm__stack_free(a, 0, &t);
    OK(swarm__stack_alloc(a, 1, 0, &s2));
#if !SWARM_SANITIZED
    CHECK(s2.lo != t.lo && s2.lo != s1.lo);
#else
    CHECK(s2.lo == t.lo);
#endif
    /* A stack may be freed to another cache than it came from (the
     * process migrated); the other class's lists are separate. */
    swarm__stack_free(a, 1, &s3);
    OK(swarm__stack_alloc(a, 1, 16 * KIB, &t));
    CHECK(t.lo != s3.lo);
    swarm__stack_free(a, 1, &t);
    OK(swarm__stack_alloc(a, 1, 0, &t));
    CHECK(t.lo == s3.lo);
    swarm__stack_free(a, 1, &t);
    swarm__stack_free(a, 1, &s2);
    swarm__stack_info_t i = info_of(a);
    CHECK_EQ(i.slots_live, 0);
#if !SWARM_SANITIZED
    CHECK_EQ(i.slots_created, 4);
    CHECK_EQ(i.slots_warm, 4);
    CHECK_EQ(i.slots_cold, 0);
#else
    CHECK_EQ(i.slots_created, 3);
    CHECK_EQ(i.slots_warm, 0);
    CHECK_EQ(i.slots_cold, 3);
#endif
    swarm__stack_arena_destroy(a);
}

/* Guarded modes: the guard page faults, the page above does not; the
 * guard survives reuse from the warm cache and from the cold list. */
static void check_guarded(swarm_guard_mode_t mode)
{
    swarm__stack_arena_t *a = arena_or_skip(100, 1, mode);
    if (!a)
        return;
    CHECK_EQ(info_of(a).mode, mode);
    size_t page = page_size();
    size_t sizes[] = {16 * KIB, 64 * KIB, 1 * MIB};
    for (int k = 0; k < 3; k++) {
        swarm__stack_t s, t;
        OK(swarm__stack_alloc(a, 0, sizes[k], &s));
        CHECK_EQ(s.guard, mode);
        CHECK_EQ(swarm__stack_check(&s), 0);
        CHECK_EQ(child_write(s.lo), SIGSEGV);
        CHECK_EQ(child_write((char *)s.lo + page - 1), SIGSEGV);
        CHECK_EQ(child_write(s.base), 0);
        CHECK_EQ(child_write((char *)s.top - 1), 0);
        /* Warm reuse. */
        swarm__stack_free(a, 0, &s);
        OK(swarm__stack_alloc(a, 0, sizes[k], &t));
        CHECK(t.lo == s.lo);
        CHECK_EQ(child_write(t.lo), SIGSEGV);
        /* Cold reuse: decommitted with MADV_DONTNEED, guard still there. */
        memset((char *)t.top - 4096, 0xab, 4096);
        swarm__stack_free(a, 0, &t);
        swarm__stack_trim(a, 0);
        OK(swarm__stack_alloc(a, 0, sizes[k], &t));
        CHECK(t.lo == s.lo);
        CHECK_EQ(t.guard, mode);
        CHECK_EQ(((volatile char *)t.top)[-1], 0); /* really decommitted */
        CHECK_EQ(child_write(t.lo), SIGSEGV);
        CHECK_EQ(child_write(t.base), 0);
        swarm__stack_free(a, 0, &t);
    }
    swarm__stack_arena_destroy(a);
}

TEST(guard_madvise)
{
    check_guarded(SWARM_GUARD_MADVISE);
}

TEST(guard_mprotect)
{
    check_guarded(SWARM_GUARD_MPROTECT);
}

TEST(guard_canary)
{
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 100, 1, SWARM_GUARD_CANARY));
    CHECK_EQ(info_of(a).mode, SWARM_GUARD_CANARY);
    swarm__stack_t s, t;
    OK(swarm__stack_alloc(a, 0, 0, &s));
    CHECK_EQ(s.guard, SWARM_GUARD_CANARY);
    CHECK_EQ(*(uint64_t *)s.base, SWARM__STACK_CANARY);
    CHECK_EQ(swarm__stack_check(&s), 0);
    /* Usable space starts 16 bytes above base. */
    memset((char *)s.base + 16, 0x5a, (size_t)((char *)s.top - (char *)s.base) - 16);
    CHECK_EQ(swarm__stack_check(&s), 0);
    /* The page below base is dead space, not protected. */
    CHECK_EQ(child_write(s.lo), 0);
    CHECK(!swarm__stack_is_guard(a, (uintptr_t)s.lo));
    /* An overflow that reaches the canary is detected... */
    ((volatile char *)s.base)[3] = 0;
    CHECK_EQ(swarm__stack_check(&s), -1);
    /* ...and the canary is rewritten when the slot is handed out again. */
    swarm__stack_free(a, 0, &s);
    OK(swarm__stack_alloc(a, 0, 0, &t));
    CHECK(t.lo == s.lo);
    CHECK_EQ(swarm__stack_check(&t), 0);
    swarm__stack_free(a, 0, &t);
    swarm__stack_trim(a, 0);
    OK(swarm__stack_alloc(a, 0, 0, &t));
    CHECK(t.lo == s.lo);
    CHECK_EQ(swarm__stack_check(&t), 0);
    swarm__stack_free(a, 0, &t);
    swarm__stack_arena_destroy(a);
}

static void check_is_guard(swarm_guard_mode_t mode)
{
    swarm__stack_arena_t *a = arena_or_skip(1000, 1, mode);
    if (!a)
        return;
    size_t g = swarm__stack_guard_size(a);
    swarm__stack_t s[3];
    for (int i = 0; i < 3; i++)
        OK(swarm__stack_alloc(a, 0, 0, &s[i]));
    for (int i = 0; i < 3; i++) {
        uintptr_t lo = (uintptr_t)s[i].lo;
        CHECK(swarm__stack_is_guard(a, lo));
        CHECK(swarm__stack_is_guard(a, lo + 1));
        CHECK(swarm__stack_is_guard(a, lo + g - 1));
        CHECK(!swarm__stack_is_guard(a, lo + g));
        CHECK(swarm__stack_arena_contains(a, lo));
        CHECK(swarm__stack_arena_contains(a, (uintptr_t)s[i].top - 1));
        CHECK(!swarm__stack_is_guard(a, (uintptr_t)s[i].top - 1));
        CHECK(!swarm__stack_is_guard(a, (uintptr_t)s[i].base + 100));
    }
    /* The slot after the last one handed out has no guard yet. */
    uintptr_t next = (uintptr_t)s[2].top;
    CHECK(!swarm__stack_is_guard(a, next));
    CHECK(swarm__stack_arena_contains(a, next));
    /* The first slot of the chunk sits on the chunk's floor guard. */
    uintptr_t floor = (uintptr_t)s[0].lo - 1;
    CHECK(swarm__stack_is_guard(a, floor));
    CHECK(swarm__stack_arena_contains(a, floor));
    CHECK(swarm__stack_arena_contains(a, floor - g + 1));
    CHECK(!swarm__stack_arena_contains(a, floor - g));
    CHECK_EQ(child_write((char *)floor), SIGSEGV);
    int local = 0;
    CHECK(!swarm__stack_arena_contains(a, (uintptr_t)&local));
    CHECK(!swarm__stack_is_guard(a, (uintptr_t)&local));
    CHECK(!swarm__stack_is_guard(a, 0));
    CHECK(!swarm__stack_is_guard(a, UINTPTR_MAX));
    /* A freed slot keeps its guard. */
    swarm__stack_free(a, 0, &s[1]);
    CHECK(swarm__stack_is_guard(a, (uintptr_t)s[1].lo));
    swarm__stack_free(a, 0, &s[0]);
    swarm__stack_free(a, 0, &s[2]);
    swarm__stack_arena_destroy(a);
}

TEST(is_guard)
{
    check_is_guard(SWARM_GUARD_MADVISE);
    check_is_guard(SWARM_GUARD_MPROTECT);
}

TEST(mprotect_budget)
{
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 1000, 1, SWARM_GUARD_MPROTECT));
    swarm__stack_info_t i = info_of(a);
    CHECK_EQ(i.mode, SWARM_GUARD_MPROTECT);
    printf("default mprotect budget: %u slots\n", i.mprotect_budget);
    CHECK(i.mprotect_budget > 1000);
    swarm__stack_set_mprotect_budget(a, 3);

    long v0 = vma_count();
    swarm__stack_t s[6];
    for (int k = 0; k < 6; k++)
        OK(swarm__stack_alloc(a, 0, 0, &s[k]));
    long v1 = vma_count();
    printf("VMAs: +%ld for 3 mprotect + 3 canary slots\n", v1 - v0);
    CHECK_CMP(v1 - v0, >=, 6); /* two per mprotect guard (the chunk was one) */
    for (int k = 0; k < 6; k++) {
        int want = k < 3 ? SWARM_GUARD_MPROTECT : SWARM_GUARD_CANARY;
        CHECK_EQ(s[k].guard, want);
        CHECK_EQ(swarm__stack_is_guard(a, (uintptr_t)s[k].lo), k < 3);
        CHECK_EQ(swarm__stack_check(&s[k]), 0);
    }
    CHECK_EQ(child_write(s[0].lo), SIGSEGV);
    CHECK_EQ(child_write(s[4].lo), 0);
    ((volatile char *)s[4].base)[0] = 0;
    CHECK_EQ(swarm__stack_check(&s[4]), -1);
    i = info_of(a);
    CHECK_EQ(i.mprotect_budget, 3);
    CHECK_EQ(i.mprotect_used, 3);
    CHECK_EQ(i.canary_fallbacks, 3);
    /* Reused slots keep the guard they were given. */
    void *guarded[3] = {s[0].lo, s[1].lo, s[2].lo};
    for (int k = 0; k < 6; k++)
        swarm__stack_free(a, 0, &s[k]);
    swarm__stack_trim(a, 0);
    for (int k = 0; k < 6; k++) {
        OK(swarm__stack_alloc(a, 0, 0, &s[k]));
        int g = s[k].lo == guarded[0] || s[k].lo == guarded[1] || s[k].lo == guarded[2];
        CHECK_EQ(s[k].guard, g ? SWARM_GUARD_MPROTECT : SWARM_GUARD_CANARY);
        CHECK_EQ(swarm__stack_check(&s[k]), 0);
    }
    for (int k = 0; k < 6; k++)
        swarm__stack_free(a, 0, &s[k]);
    CHECK_EQ(info_of(a).mprotect_used, 3);
    swarm__stack_arena_destroy(a);
}

/* mprotect failing (as at the vm.max_map_count limit) degrades to a
 * canary and closes the budget; the spawn still succeeds. */
TEST(mprotect_failure)
{
    hook_install();
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 100, 1, SWARM_GUARD_MPROTECT));
    inject.mprotect_errno = ENOMEM;
    counts_reset();
    swarm__stack_t s, t;
    OK(swarm__stack_alloc(a, 0, 0, &s));
    CHECK_EQ(s.guard, SWARM_GUARD_CANARY);
    CHECK_EQ(calls.mprotect, 2); /* the chunk's floor (best effort), then the slot */
    inject.mprotect_errno = 0;
    OK(swarm__stack_alloc(a, 0, 0, &t));
    CHECK_EQ(t.guard, SWARM_GUARD_CANARY);
    CHECK_EQ(calls.mprotect, 2); /* budget closed: not tried again */
    swarm__stack_info_t i = info_of(a);
    CHECK_EQ(i.mprotect_used, 0);
    CHECK_EQ(i.mprotect_budget, 0);
    CHECK_EQ(i.canary_fallbacks, 2);
    swarm__stack_free(a, 0, &s);
    swarm__stack_free(a, 0, &t);
    swarm__stack_arena_destroy(a);
    swarm__sys_reset();
}

/* All arenas of the OS process share one mprotect budget. */
TEST(mprotect_pool)
{
    swarm__stack_arena_t *a, *b;
    OK(swarm__stack_arena_create(&a, 1u << 20, 1, SWARM_GUARD_MPROTECT));
    OK(swarm__stack_arena_create(&b, 100, 1, SWARM_GUARD_MPROTECT));
    uint32_t budget = info_of(a).mprotect_budget;
    long v0 = vma_count();
    uint32_t n = budget + 5;
    swarm__stack_t *s = calloc(n, sizeof *s);
    CHECK(s);
    int64_t t0 = swarm__clock_ns();
    for (uint32_t k = 0; k < n; k++) {
        OK(swarm__stack_alloc(a, 0, 16 * KIB, &s[k]));
        CHECK_EQ(s[k].guard, k < budget ? SWARM_GUARD_MPROTECT : SWARM_GUARD_CANARY);
    }
    int64_t t1 = swarm__clock_ns();
    long v1 = vma_count();
    printf("%u mprotect-guarded slots: %.2f us each, VMAs +%ld (max_map_count budget %u)\n", budget,
           (double)(t1 - t0) / n / 1000.0, v1 - v0, budget);
    swarm__stack_t x;
    OK(swarm__stack_alloc(b, 0, 0, &x));
    CHECK_EQ(x.guard, SWARM_GUARD_CANARY); /* pool empty */
    for (uint32_t k = 0; k < n; k++)
        swarm__stack_free(a, 0, &s[k]);
    swarm__stack_arena_destroy(a);
    if (EXACT_VMAS) /* b's chunk (floor + slots) and the array s */
        CHECK_CMP(vma_count(), <=, v0 + 3);
    CHECK(unmapped(s[0].lo) && unmapped(s[n - 1].lo));
    OK(swarm__stack_alloc(b, 0, 0, &s[0]));
    CHECK_EQ(s[0].guard, SWARM_GUARD_MPROTECT); /* credits came back */
    swarm__stack_free(b, 0, &s[0]);
    swarm__stack_free(b, 0, &x);
    swarm__stack_arena_destroy(b);
    free(s);
}

TEST(auto_fallback)
{
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 10, 1, SWARM_GUARD_AUTO));
    swarm_guard_mode_t m = info_of(a).mode;
    printf("AUTO chose %s on this kernel\n", m == SWARM_GUARD_MADVISE ? "MADVISE" : "MPROTECT");
    CHECK(m == SWARM_GUARD_MADVISE || m == SWARM_GUARD_MPROTECT);
    swarm__stack_arena_destroy(a);

    hook_install();
    inject.guard_errno = EINVAL; /* a kernel before 6.13 */
    OK(swarm__stack_arena_create(&a, 10, 1, SWARM_GUARD_AUTO));
    CHECK_EQ(info_of(a).mode, SWARM_GUARD_MPROTECT);
    swarm__stack_t s;
    OK(swarm__stack_alloc(a, 0, 0, &s));
    CHECK_EQ(s.guard, SWARM_GUARD_MPROTECT);
    CHECK_EQ(child_write(s.lo), SIGSEGV);
    swarm__stack_free(a, 0, &s);
    swarm__stack_arena_destroy(a);
    CHECK_EQ(swarm__stack_arena_create(&a, 10, 1, SWARM_GUARD_MADVISE), SWARM_ENOSYS);
    CHECK(a == NULL);
    inject.guard_errno = ENOMEM;
    CHECK_EQ(swarm__stack_arena_create(&a, 10, 1, SWARM_GUARD_AUTO), SWARM_ENOMEM);
    swarm__sys_reset();
}

TEST(steady_state)
{
    hook_install();
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 1000, 1, SWARM_GUARD_AUTO));
    swarm__stack_t s[16];
    /* Warm up: 16 slots made once. */
    for (int k = 0; k < 16; k++)
        OK(swarm__stack_alloc(a, 0, 0, &s[k]));
    for (int k = 0; k < 16; k++)
        swarm__stack_free(a, 0, &s[k]);
    counts_reset();
    long iters = test_scale(2000000);
    int64_t t0 = swarm__clock_ns();
    for (long i = 0; i < iters; i++) {
        OK(swarm__stack_alloc(a, 0, 0, &s[0]));
        swarm__stack_free(a, 0, &s[0]);
    }
    int64_t t1 = swarm__clock_ns();
    for (long i = 0; i < iters / 16; i++) {
        for (int k = 0; k < 16; k++)
            OK(swarm__stack_alloc(a, 0, 0, &s[k]));
        for (int k = 0; k < 16; k++)
            swarm__stack_free(a, 0, &s[k]);
    }
    int64_t t2 = swarm__clock_ns();
    printf("warm alloc+free pair: %.1f ns (1 deep), %.1f ns (16 deep)\n", (double)(t1 - t0) / iters,
           (double)(t2 - t1) / (iters / 16 * 16));
    printf("syscalls in steady state: mmap %ld madvise %ld mprotect %ld munmap %ld malloc %ld\n",
           (long)calls.mmap, (long)calls.madvise, (long)calls.mprotect, (long)calls.munmap,
           (long)calls.malloc);
#if !SWARM_SANITIZED
    CHECK_EQ(syscalls_made(), 0);
    CHECK_EQ(calls.malloc, 0);
#else
    printf("(sanitizer build: no warm cache, so every free decommits)\n");
#endif
    CHECK_EQ(info_of(a).slots_created, 16);
    swarm__stack_arena_destroy(a);
    swarm__sys_reset();
}

TEST(decommit_merge)
{
    hook_install();
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 1000, 1, SWARM_GUARD_AUTO));
    size_t size = 64 * KIB, page = page_size();
    enum { N = 128, WARM = 64, HALF = 32 };
    /* The shared warm list (what cache-less frees use) decommits its
     * oldest half when it overflows. */
    swarm__stack_set_warm_limit(a, WARM);
    swarm__stack_set_dirty_limit(a, 0); /* decommit on overflow at once */
    swarm__stack_t s[N];
    for (int k = 0; k < N; k++) {
        OK(swarm__stack_alloc(a, 0, size, &s[k]));
        memset(s[k].base, 0x77, size); /* commit every page */
    }
    qsort(s, N, sizeof s[0], cmp_lo);
    /* Free first: two address runs of 16 (shuffled), which become the
     * oldest half of the warm list; then fill the list. */
    swarm__stack_t order[WARM + 1];
    int no = 0;
    for (int k = 0; k < 16; k++) {
        order[no++] = s[(k * 7) % 16];
        order[no++] = s[64 + (k * 5) % 16];
    }
    for (int k = 16; k < 48; k++)
        order[no++] = s[k];
    order[no++] = s[100];
    CHECK_EQ(no, WARM + 1);
    /* Runs expected among the first HALF freed, by address. */
    swarm__stack_t first[HALF];
    memcpy(first, order, sizeof first);
    qsort(first, HALF, sizeof first[0], cmp_lo);
    long runs = 1;
    for (int k = 1; k < HALF; k++)
        runs += (char *)first[k].lo != (char *)first[k - 1].lo + size + swarm__stack_guard_size(a);
    printf("expected runs: %ld (2 unless a chunk boundary splits one)\n", runs);
    CHECK_CMP(runs, <=, 4);

    for (int k = 0; k < WARM; k++)
        swarm__stack_free(a, SWARM__STACK_NO_CACHE, &order[k]);
    CHECK_EQ(calls.dontneed, 0);
    long rss0 = rss_pages();
    swarm__stack_free(a, SWARM__STACK_NO_CACHE, &order[WARM]); /* overflow: spill the oldest half */
    long rss1 = rss_pages();
    CHECK_EQ(calls.dontneed, runs);
    swarm__stack_info_t i = info_of(a);
    CHECK_EQ(i.decommit_calls, runs);
    CHECK_EQ(i.slots_warm, WARM - HALF + 1);
    CHECK_EQ(i.slots_cold, HALF);
    long slot_pages = (long)(size / page);
    printf("RSS %ld -> %ld pages (spilled %d slots x %ld pages)\n", rss0, rss1, HALF, slot_pages);
    CHECK_CMP(rss0 - rss1, >=, HALF * slot_pages * 9 / 10);
    for (int k = 0; k < HALF; k++)
        CHECK_EQ(resident(first[k].base, size), 0);
    for (int k = HALF; k < WARM; k++)
        CHECK_EQ(resident(order[k].base, size), slot_pages);
    /* Remaining live stacks are untouched. */
    CHECK_EQ(((unsigned char *)s[60].base)[5], 0x77);
    for (int k = 48; k < N; k++)
        if (k != 100 && !(k >= 64 && k < 80))
            swarm__stack_free(a, 0, &s[k]);
    CHECK_EQ(info_of(a).slots_live, 0);
    swarm__stack_arena_destroy(a);
    swarm__sys_reset();
}

TEST(trim)
{
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 1000, 2, SWARM_GUARD_AUTO));
    size_t size = 64 * KIB, page = page_size();
    swarm__stack_t s[10];
    for (int k = 0; k < 10; k++) {
        OK(swarm__stack_alloc(a, k & 1, size, &s[k]));
        memset(s[k].base, 1, size - page);
    }
    for (int k = 0; k < 10; k++)
        swarm__stack_free(a, k & 1, &s[k]);
    swarm__stack_trim(a, 0);
    swarm__stack_info_t i = info_of(a);
#if !SWARM_SANITIZED
    CHECK_EQ(i.slots_warm, 5);
    CHECK_EQ(i.slots_cold, 5);
#endif
    swarm__stack_trim(a, SWARM__STACK_NO_CACHE);
    i = info_of(a);
    CHECK_EQ(i.slots_warm, 0);
    CHECK_EQ(i.slots_cold, 10);
    CHECK_CMP(i.decommit_calls, >=, 1);
    for (int k = 0; k < 10; k++)
        CHECK_EQ(resident(s[k].base, size - page), 0);
    swarm__stack_arena_destroy(a);
}

TEST(fault_mmap)
{
    hook_install();
    swarm__stack_arena_t *a;
    inject.mmap_errno = ENOMEM;
    CHECK_EQ(swarm__stack_arena_create(&a, 1000, 1, SWARM_GUARD_AUTO), SWARM_ENOMEM);
    inject.mmap_errno = 0;
    OK(swarm__stack_arena_create(&a, 1000, 1, SWARM_GUARD_AUTO));

    swarm__stack_t s, t;
    inject.mmap_errno = ENOMEM;
    CHECK_EQ(swarm__stack_alloc(a, 0, 0, &s), SWARM_ENOMEM);
    CHECK_EQ(info_of(a).slots_live, 0);
    inject.mmap_errno = 0;
    OK(swarm__stack_alloc(a, 0, 0, &s));
    CHECK_EQ(child_write(s.lo), SIGSEGV);

    /* Use up the first chunk of the class; the next fresh slot needs a new
     * chunk, which fails; freed slots still circulate. */
    swarm__stack_info_t i = info_of(a);
    swarm__stack_t more[64];
    int n = 0;
    inject.mmap_errno = ENOMEM;
    while (n < 64 && swarm__stack_alloc(a, 0, 0, &more[n]) == 0)
        n++;
    CHECK_CMP(n, <, 64);
    CHECK_EQ(info_of(a).chunks, i.chunks);
    CHECK_EQ(info_of(a).slots_live, (uint64_t)n + 1);
    swarm__stack_free(a, 0, &s);
    OK(swarm__stack_alloc(a, 0, 0, &t)); /* warm: no mmap needed */
    CHECK(t.lo == s.lo);
    inject.mmap_errno = 0;
    OK(swarm__stack_alloc(a, 0, 0, &s));
    CHECK_EQ(child_write(s.lo), SIGSEGV);
    swarm__stack_free(a, 0, &s);
    swarm__stack_free(a, 0, &t);
    for (int k = 0; k < n; k++)
        swarm__stack_free(a, 0, &more[k]);
    CHECK_EQ(info_of(a).slots_live, 0);
    swarm__stack_arena_destroy(a);
    swarm__sys_reset();
}

TEST(fault_guard)
{
    hook_install();
    swarm__stack_arena_t *a = arena_or_skip(1000, 1, SWARM_GUARD_MADVISE);
    if (!a)
        return;
    swarm__stack_t s, t;
    inject.guard_errno = ENOMEM;
    CHECK_EQ(swarm__stack_alloc(a, 0, 0, &s), SWARM_ENOMEM);
    CHECK_EQ(swarm__stack_alloc(a, 0, 0, &s), SWARM_ENOMEM);
    swarm__stack_info_t i = info_of(a);
    CHECK_EQ(i.slots_live, 0);
    CHECK_EQ(i.slots_created, 0);
    CHECK_EQ(i.slots_cold, 1); /* the slot waits, not set up, for a retry */
    inject.guard_errno = 0;
    OK(swarm__stack_alloc(a, 0, 0, &s));
    OK(swarm__stack_alloc(a, 0, 0, &t));
    CHECK_EQ(s.guard, SWARM_GUARD_MADVISE);
    CHECK_EQ(child_write(s.lo), SIGSEGV);
    CHECK_EQ(child_write(t.lo), SIGSEGV);
    CHECK(swarm__stack_is_guard(a, (uintptr_t)s.lo));
    i = info_of(a);
    CHECK_EQ(i.slots_created, 2);
    CHECK_EQ(i.slots_cold, 0);
    swarm__stack_free(a, 0, &s);
    swarm__stack_free(a, 0, &t);
    swarm__stack_arena_destroy(a);
    swarm__sys_reset();
}

/* Walk every heap allocation of create and of a chunk reservation. */
TEST(fault_malloc)
{
    swarm__stack_arena_t *a = NULL;
    int k;
    for (k = 1; k < 100; k++) {
        atomic_store(&swarm__alloc_fail_at, k);
        int r = swarm__stack_arena_create(&a, 100, 2, SWARM_GUARD_AUTO);
        long left = atomic_load(&swarm__alloc_fail_at);
        atomic_store(&swarm__alloc_fail_at, 0);
        if (r == 0) {
            CHECK(left > 0); /* succeeded without reaching the failure */
            break;
        }
        CHECK_EQ(r, SWARM_ENOMEM);
        CHECK(a == NULL);
    }
    printf("create makes %d allocations\n", k - 1);
    CHECK(a != NULL);
    swarm__stack_t s;
    for (k = 1; k < 100; k++) {
        atomic_store(&swarm__alloc_fail_at, k);
        int r = swarm__stack_alloc(a, 0, 128 * KIB, &s);
        long left = atomic_load(&swarm__alloc_fail_at);
        atomic_store(&swarm__alloc_fail_at, 0);
        if (r == 0) {
            CHECK(left > 0);
            break;
        }
        CHECK_EQ(r, SWARM_ENOMEM);
        CHECK_EQ(info_of(a).slots_live, 0);
        CHECK_EQ(info_of(a).chunks, 0);
    }
    printf("a first alloc makes %d allocations\n", k - 1);
    CHECK_EQ(info_of(a).chunks, 1);
    swarm__stack_free(a, 0, &s);
    swarm__stack_arena_destroy(a);
}

TEST(max_slots)
{
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 5, 1, SWARM_GUARD_AUTO));
    swarm__stack_t s[6];
    OK(swarm__stack_alloc(a, 0, 16 * KIB, &s[0]));
    OK(swarm__stack_alloc(a, 0, 16 * KIB, &s[1]));
    OK(swarm__stack_alloc(a, 0, 1 * MIB, &s[2]));
    OK(swarm__stack_alloc(a, SWARM__STACK_NO_CACHE, 1 * MIB, &s[3]));
    OK(swarm__stack_alloc(a, 0, 0, &s[4]));
    CHECK_EQ(swarm__stack_alloc(a, 0, 0, &s[5]), SWARM_EAGAIN);
    CHECK_EQ(swarm__stack_alloc(a, 0, 16 * KIB, &s[5]), SWARM_EAGAIN);
    CHECK_EQ(swarm__stack_alloc(a, SWARM__STACK_NO_CACHE, 8 * MIB, &s[5]), SWARM_EAGAIN);
    CHECK_EQ(info_of(a).slots_live, 5);
    swarm__stack_free(a, SWARM__STACK_NO_CACHE, &s[2]);
    OK(swarm__stack_alloc(a, 0, 8 * MIB, &s[5]));
    CHECK_EQ(swarm__stack_alloc(a, 0, 0, &s[2]), SWARM_EAGAIN);
    /* Chunks are never bigger than max_slots slots. */
    uint64_t g = swarm__stack_guard_size(a);
    CHECK_CMP(info_of(a).reserved_bytes, <=, (uint64_t)5 * (16 + 1024 + 64 + 8192) * KIB + 4 * (5 + 1) * g);
    for (int k = 0; k < 6; k++)
        if (k != 2)
            swarm__stack_free(a, 0, &s[k]);
    CHECK_EQ(info_of(a).slots_live, 0);
    swarm__stack_arena_destroy(a);
}

/* Several threads: two own a cache each, two use SWARM__STACK_NO_CACHE.
 * Every live stack carries its owner's tag; a slot handed to two owners
 * at once would show up as a wrong tag. */
typedef struct worker {
    swarm__stack_arena_t *a;
    unsigned cache;
    uint64_t tag;
    long ops;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    enum { HOLD = 100 };
    swarm__stack_t held[HOLD];
    uint64_t stamp[HOLD];
    int n = 0;
    uint64_t rng = w->tag * 0x9E3779B97F4A7C15ull + 1;
    for (long i = 0; i < w->ops; i++) {
        uint64_t r = test_rand(&rng);
        if (n == 0 || (n < HOLD && (r & 1))) {
            size_t size = (size_t)16 * KIB << (r >> 8) % 4;
            int rc = swarm__stack_alloc(w->a, w->cache, size, &held[n]);
            if (rc == SWARM_EAGAIN)
                continue;
            CHECK_EQ(rc, 0);
            stamp[n] = w->tag << 40 | (uint64_t)i;
            ((uint64_t *)held[n].top)[-1] = stamp[n];
            ((uint64_t *)held[n].base)[2] = stamp[n];
            n++;
        } else {
            int k = (int)((r >> 16) % (uint64_t)n);
            CHECK_EQ(((uint64_t *)held[k].top)[-1], stamp[k]);
            CHECK_EQ(((uint64_t *)held[k].base)[2], stamp[k]);
            CHECK_EQ(swarm__stack_check(&held[k]), 0);
            swarm__stack_free(w->a, w->cache, &held[k]);
            held[k] = held[--n];
            stamp[k] = stamp[n];
        }
    }
    while (n > 0)
        swarm__stack_free(w->a, w->cache, &held[--n]);
    return NULL;
}

TEST(threads)
{
    swarm__stack_arena_t *a;
    OK(swarm__stack_arena_create(&a, 350, 2, SWARM_GUARD_AUTO));
    swarm__stack_set_mprotect_budget(a, 100);
    worker_t w[4];
    pthread_t t[4];
    for (int k = 0; k < 4; k++) {
        w[k] = (worker_t){a, k < 2 ? (unsigned)k : SWARM__STACK_NO_CACHE, (uint64_t)k + 1,
                          test_scale(200000)};
        CHECK_EQ(pthread_create(&t[k], NULL, worker_main, &w[k]), 0);
    }
    for (int k = 0; k < 4; k++)
        CHECK_EQ(pthread_join(t[k], NULL), 0);
    swarm__stack_info_t i = info_of(a);
    printf("created %" PRIu64 " warm %" PRIu64 " cold %" PRIu64 " decommits %" PRIu64 "\n",
           i.slots_created, i.slots_warm, i.slots_cold, i.decommit_calls);
    CHECK_EQ(i.slots_live, 0);
    CHECK_EQ(i.slots_warm + i.slots_cold, i.slots_created);
    swarm__stack_arena_destroy(a);
}

/* vm.overcommit_memory == 2: chunks are PROT_NONE and each slot is made
 * writable when first handed out. Forced here through the test knob. */
static void check_strict(swarm_guard_mode_t mode)
{
    hook_install();
    swarm__stack_arena_t *a = arena_or_skip(1000, 1, mode);
    if (!a)
        return;
    swarm__stack_set_strict_commit(a, 1);
    size_t page = page_size(), size = 64 * KIB;
    long v0 = vma_count();
    counts_reset();
    enum { N = 40 };
    swarm__stack_t s[N];
    for (int k = 0; k < N; k++)
        OK(swarm__stack_alloc(a, 0, size, &s[k]));
    /* One chunk: the first chunk of a class has 64 slots. */
    CHECK_EQ(info_of(a).chunks, 1);
    uintptr_t clo = (uintptr_t)s[0].lo, chi = clo + (size_t)64 * (size + swarm__stack_guard_size(a));
    long v1 = vma_count_range(clo, chi);
    swarm__stack_info_t i = info_of(a);
    CHECK_EQ(i.strict_commit, 1);
    printf("mode %d strict: %d slots, chunk VMAs %ld, mprotect %ld, guard madvise %ld\n", (int)mode,
           N, v1, (long)calls.mprotect, (long)calls.guard);
    /* One commit per slot; an mprotect guard is just the page left alone. */
    CHECK_EQ(calls.mprotect, N);
    CHECK_EQ(calls.guard, mode == SWARM_GUARD_MADVISE ? N + 1 : 0); /* + the chunk's floor */
    if (mode != SWARM_GUARD_MPROTECT)
        CHECK_EQ(v1, 2); /* committed slots merge: RW prefix + PROT_NONE rest */
    else
        CHECK_EQ(v1, 2 * N + 1); /* guard, usable per slot + the rest */
    for (int k = 0; k < N; k++)
        CHECK_EQ(s[k].guard, mode);
    CHECK_EQ(child_write((char *)s[0].base + 1), 0);
    CHECK_EQ(child_write((char *)s[N - 1].top - 1), 0);
    if (mode != SWARM_GUARD_CANARY)
        CHECK_EQ(child_write(s[1].lo), SIGSEGV);
    /* The slot above the last one handed out is not committed yet. */
    CHECK_EQ(child_write((char *)s[N - 1].top + page), SIGSEGV);

    /* A failed commit is a clean ENOMEM; the slot is retried later. */
    swarm__stack_t x;
    inject.mprotect_errno = ENOMEM;
    CHECK_EQ(swarm__stack_alloc(a, 0, size, &x), SWARM_ENOMEM);
    inject.mprotect_errno = 0;
    OK(swarm__stack_alloc(a, 0, size, &x));
    CHECK_EQ(child_write((char *)x.top - 1), 0);
    swarm__stack_free(a, 0, &x);
    for (int k = 0; k < N; k++)
        swarm__stack_free(a, 0, &s[k]);
    swarm__stack_arena_destroy(a);
    if (EXACT_VMAS)
        CHECK_EQ(vma_count(), v0);
    CHECK(unmapped((void *)clo) && unmapped((void *)(chi - 1)));
    swarm__sys_reset();
}

TEST(strict_commit)
{
    check_strict(SWARM_GUARD_MADVISE);
    check_strict(SWARM_GUARD_MPROTECT);
    check_strict(SWARM_GUARD_CANARY);
}

/* One million live 64 KiB stacks with MADV_GUARD_INSTALL guards, at the
 * default vm.max_map_count. */
TEST(million)
{
    long n = test_scale(1000000);
    swarm__stack_t *s = malloc((size_t)n * sizeof *s);
    CHECK(s);
    memset(s, 0xff, (size_t)n * sizeof *s); /* fault it in now, not during the count */
    long v0 = vma_count();
    long rss0 = rss_pages(), pte0 = status_kib("VmPTE:");
    swarm__stack_arena_t *a = arena_or_skip((uint32_t)n, 1, SWARM_GUARD_MADVISE);
    if (!a) {
        free(s);
        return;
    }
    int64_t t0 = swarm__clock_ns();
    for (long k = 0; k < n; k++) {
        int r = swarm__stack_alloc(a, 0, 64 * KIB, &s[k]);
        if (r != 0)
            TEST_FAIL("alloc %ld of %ld: %d", k, n, r);
    }
    int64_t t1 = swarm__clock_ns();
    for (long k = 0; k < n; k += 1000)
        ((volatile char *)s[k].top)[-64] = 1;
    long v1 = vma_count();
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (long k = 0; k < n; k++) {
        lo = (uintptr_t)s[k].lo < lo ? (uintptr_t)s[k].lo : lo;
        hi = (uintptr_t)s[k].top > hi ? (uintptr_t)s[k].top : hi;
    }
    long varena = vma_count_range(lo, hi);
    long rss1 = rss_pages(), pte1 = status_kib("VmPTE:");
    swarm__stack_info_t i = info_of(a);
    printf("%ld live 64 KiB stacks: %.0f ns per fresh alloc (incl. guard install), "
           "VMAs %ld -> %ld (+%ld; %ld in the arena's span), chunks %u, reserved %.1f GiB, RSS +%ld KiB, "
           "page tables +%ld KiB\n",
           n, (double)(t1 - t0) / n, v0, v1, v1 - v0, varena, i.chunks,
           (double)i.reserved_bytes / (1 << 30), (rss1 - rss0) * (long)(page_size() / 1024),
           pte1 - pte0);
    CHECK_EQ(i.slots_live, (uint64_t)n);
    CHECK_CMP(varena, <, 100);
    if (EXACT_VMAS)
        CHECK_CMP(v1 - v0, <, 100);
    CHECK_EQ(child_write(s[n / 2].lo), SIGSEGV);
    CHECK(swarm__stack_is_guard(a, (uintptr_t)s[n - 1].lo));
    swarm__stack_t extra;
    CHECK_EQ(swarm__stack_alloc(a, 0, 0, &extra), SWARM_EAGAIN);
    int64_t t2 = swarm__clock_ns();
    for (long k = n - 1; k >= 0; k--)
        swarm__stack_free(a, 0, &s[k]);
    int64_t t3 = swarm__clock_ns();
    i = info_of(a);
    printf("freed in %.0f ns each; decommit calls %" PRIu64 " for %" PRIu64 " cold slots\n",
           (double)(t3 - t2) / n, i.decommit_calls, i.slots_cold);
    CHECK_EQ(i.slots_live, 0);
    swarm__stack_arena_destroy(a);
    int64_t t4 = swarm__clock_ns();
    printf("destroy: %.1f ms\n", (double)(t4 - t3) / 1e6);
    if (EXACT_VMAS)
        CHECK_EQ(vma_count(), v0);
    for (long k = 0; k < n; k += 997)
        CHECK(unmapped(s[k].lo));
    CHECK(unmapped(s[n - 1].lo));
    free(s);
}

static void churn(swarm_guard_mode_t mode, int strict)
{
    swarm__stack_arena_t *a = arena_or_skip(5000, 2, mode);
    if (!a)
        return;
    if (strict)
        swarm__stack_set_strict_commit(a, 1);
    swarm__stack_set_mprotect_budget(a, 200);
    static swarm__stack_t s[600];
    for (int k = 0; k < 600; k++) {
        OK(swarm__stack_alloc(a, k % 2, (size_t)16 * KIB << (k % 5), &s[k]));
        ((volatile char *)s[k].top)[-1] = 1;
    }
    for (int k = 0; k < 600; k += 2)
        swarm__stack_free(a, k % 3 == 0 ? SWARM__STACK_NO_CACHE : 0, &s[k]);
    swarm__stack_trim(a, 0);
    for (int k = 1; k < 600; k += 2)
        swarm__stack_free(a, 1, &s[k]);
    swarm__stack_arena_destroy(a);
    for (int k = 0; k < 600; k++)
        CHECK(unmapped(s[k].lo) && unmapped((char *)s[k].top - 1));
}

TEST(destroy_unmaps)
{
    churn(SWARM_GUARD_AUTO, 0); /* warm up malloc and stdio */
    swarm_guard_mode_t modes[] = {SWARM_GUARD_MADVISE, SWARM_GUARD_MPROTECT, SWARM_GUARD_CANARY};
    for (int strict = 0; strict < 2; strict++)
        for (int m = 0; m < 3; m++) {
            long v0 = vma_count();
            churn(modes[m], strict);
            long v1 = vma_count();
            printf("mode %d strict %d: VMAs %ld -> %ld after destroy\n", (int)modes[m], strict, v0, v1);
            if (EXACT_VMAS)
                CHECK_EQ(v1, v0);
        }
}

TEST_MAIN(TEST_ENTRY(class_rounding), TEST_ENTRY(reuse_warm), TEST_ENTRY(guard_madvise),
          TEST_ENTRY(guard_mprotect), TEST_ENTRY(guard_canary), TEST_ENTRY(is_guard),
          TEST_ENTRY(mprotect_budget), TEST_ENTRY(mprotect_failure), TEST_ENTRY(mprotect_pool),
          TEST_ENTRY(auto_fallback), TEST_ENTRY(steady_state), TEST_ENTRY(decommit_merge),
          TEST_ENTRY(trim), TEST_ENTRY(fault_mmap), TEST_ENTRY(fault_guard),
          TEST_ENTRY(fault_malloc), TEST_ENTRY(max_slots), TEST_ENTRY(threads),
          TEST_ENTRY(strict_commit), TEST_ENTRY(million), TEST_ENTRY(destroy_unmaps))
