/*
 * stack/stack.c - the stack arena (see stack.h and docs/design/stack.md).
 *
 * Three tiers of free slots, fastest first:
 *   warm  - per scheduler and class, a small LIFO array, pages still
 *           committed; owned by one thread, so no lock and no atomic RMW;
 *   cold  - per class, a linked list of decommitted slots (links live in a
 *           side array, never in the slot: writing a link would commit a
 *           page), under the arena lock;
 *   fresh - per class, a bump index into the newest chunk, under the lock.
 * A slot's guard is installed once, the first time it is handed out, and
 * stays until the arena is destroyed (guards survive MADV_DONTNEED).
 *
 * Every mmap/munmap/madvise/mprotect and heap allocation goes through
 * swarm__sys / swarm__malloc so that tests can count and fail them.
 */
#include "stack/stack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/sanitizer.h"
#include "base/sys.h"
#include "swarmrt/error.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux >= 6.13; older headers lack it */
#endif


/* Size classes: 1 << (CLASS_MIN_SHIFT + cls) bytes, 16 KiB .. 8 MiB. */
#define CLASS_MIN_SHIFT 14
#define NCLASSES 10
_Static_assert(((size_t)1 << CLASS_MIN_SHIFT) == SWARM_MIN_STACK_SIZE, "smallest class");
_Static_assert(((size_t)1 << (CLASS_MIN_SHIFT + NCLASSES - 1)) == SWARM_MAX_STACK_SIZE,
               "largest class");

/* Slot ids: chunk index in the high bits, slot index within the chunk in
 * the low SLOT_BITS. A chunk holds at most 1 << SLOT_BITS slots and at most
 * CHUNK_MAX_BYTES; the chunk table is fixed so that swarm__stack_is_guard()
 * can walk it without a lock. 4096 chunks of up to 1 GiB = 4 TiB per arena. */
#define SLOT_BITS 16
#define MAX_CHUNKS 4096
#define CHUNK_MAX_BYTES ((size_t)1 << 30)
#define CHUNK_FIRST_SLOTS 64 /* a class's first chunk; each next one doubles */
#define NO_ID UINT32_MAX

/* Warm cache: at most WARM_MAX slots per class per cache, and no more than
 * about WARM_BYTES of slot address space, so a cache of 8 MiB stacks does
 * not pin hundreds of MiB of touched pages. At least WARM_MIN.
 * 1024 default-size slots: a spawn storm with ~1,000 processes in flight
 * per scheduler reuses committed stacks instead of faulting pages in and
 * out (measured: 64 warm slots cost ~5 us per spawn+exit in page faults and
 * TLB flushes; 1024 keep it under 0.3 us). A warm slot keeps the pages its
 * last owner touched, typically one or two. */
#define WARM_MAX 1024
/* Free slots kept committed beyond the warm tiers, arena-wide, until a
 * scheduler goes idle (swarm__stack_scavenge): 128K slots, typically one or
 * two touched pages each (0.5-1 GiB at most), like the stack memory Go's
 * runtime keeps until its scavenger returns it. Measured on fib(27) (113K
 * processes alive at the peak) at 2 schedulers: decommit at once 1.30 s,
 * limit 64K 0.85 s, no limit 0.49 s. */
#define DIRTY_LIMIT (128u * 1024)
#define WARM_MIN 4
#define WARM_BYTES ((size_t)64 << 20)

/* MPROTECT budget: this share of vm.max_map_count, two VMAs per guarded
 * slot, minus a margin (in slots) for the rest of the program. */
#define BUDGET_PERCENT 40
#define BUDGET_MARGIN_SLOTS 64
#define DEFAULT_MAX_MAP_COUNT 65530

typedef struct warm_entry {
    uintptr_t lo;
    uint32_t id;
    uint8_t guard;
} warm_entry_t;

typedef struct warm_list {
    /* Written only by the owning thread; atomic so that swarm__stack_info()
     * may read it from another thread (relaxed: it is a statistic). */
    _Atomic uint32_t n;
    warm_entry_t e[WARM_MAX];
} warm_list_t;

typedef struct cache {
    warm_list_t cls[NCLASSES];
} __attribute__((aligned(64))) cache_t;

/* Per-slot state byte: 0 = not set up (fresh, or a set-up step failed), or
 * the swarm_guard_mode_t installed on the slot.
 *
 * Chunk layout: a floor guard of a->guard bytes, then nslots slots of
 * stride = a->guard + class size each:
 *   base            slots = base + guard
 *   | floor guard   | slot 0: guard | stack | slot 1: guard | stack | ...  */
typedef struct chunk {
    uintptr_t base;  /* the mapping (starts with the floor guard) */
    size_t bytes;    /* of the mapping */
    uintptr_t slots; /* lo of slot 0 */
    size_t stride;   /* guard + class size */
    uint32_t nslots;
    uint8_t cls;
    uint8_t strict; /* mapped PROT_NONE; slots committed when set up */
    uint8_t floor;  /* the floor guard is installed (it traps) */
    _Atomic uint8_t *state;
    uint32_t *next; /* dirty/cold-list links, by slot index */
} chunk_t;

typedef struct class_state {
    uint32_t chunk;     /* chunk being bumped, or NO_ID */
    uint32_t bump;      /* next fresh slot index in it */
    uint32_t nchunks;   /* chunks of this class so far (sets the next size) */
    uint32_t cold_head; /* slot id, or NO_ID: decommitted free slots */
    uint64_t cold_n;
    uint32_t dirty_head; /* slot id, or NO_ID: free slots still committed */
    uint64_t dirty_n;
} class_state_t;

struct swarm__stack_arena {
    /* Read-only after create. */
    uint32_t max_slots;
    unsigned ncaches;
    swarm_guard_mode_t mode;
    size_t page;
    size_t guard;        /* bytes of guard below every stack (and under every chunk) */
    uint8_t verified;    /* the start-up probe saw the mode's guard trap */
    uint8_t rejected;    /* 1 << mode for each mode AUTO tried and dropped */
    uint8_t no_trap;     /* of which: the call succeeded but the guard did not trap */
    uint32_t warm_limit[NCLASSES];
    int min_cls; /* smallest class with room for guard + stack (big pages) */
    cache_t *caches; /* ncaches + 1: the last is shared, under the lock */
    void *caches_raw;
    chunk_t *chunks; /* MAX_CHUNKS entries */

    /* Published with release after the chunk entry is filled (chunk_reserve);
     * swarm__stack_is_guard reads it with acquire. */
    _Atomic uint32_t nchunks;
    _Atomic uint64_t decommit_calls;

    /* Live slots over all classes: the one shared word of the fast path,
     * padded away from its neighbours (the struct comes from malloc, so
     * padding rather than _Alignas). Relaxed: it only counts, nothing is
     * published through it. */
    char pad_live[64];
    _Atomic uint32_t live;
    char pad_lock[64];

    pthread_mutex_t lock;
    /* Everything below is under lock. */
    class_state_t cls[NCLASSES];
    int strict;     /* reserve new chunks strict */
    uint32_t mprotect_budget;
    uint32_t mprotect_used;
    uint64_t reserved;

    uint32_t dirty_limit;      /* free committed slots kept before decommitting */
    _Atomic uint64_t dirty_total; /* over all classes (read without the lock) */

    _Atomic uint64_t created;          /* slots set up for the first time */
    _Atomic uint64_t canary_fallbacks; /* of which MPROTECT mode gave a canary */
};

/* --------------------------------------------------------------------- */
/* Process-wide facts read from /proc once.                               */

/* The mprotect guards of all arenas share one pool, because
 * vm.max_map_count limits the whole OS process. -1 = not read yet. An
 * arena takes credits as it guards fresh slots and returns them when it is
 * destroyed (munmap removes the VMAs). */
static _Atomic int64_t mprotect_pool = -1;
static _Atomic int64_t mprotect_default = -1;

static uint32_t mprotect_default_budget(void)
{
    int64_t d = atomic_load(&mprotect_default);
    if (d < 0) {
        long maps = swarm__read_proc_long("/proc/sys/vm/max_map_count", DEFAULT_MAX_MAP_COUNT);
        if (maps <= 0)
            maps = DEFAULT_MAX_MAP_COUNT;
        d = (int64_t)maps * BUDGET_PERCENT / 100 / 2 - BUDGET_MARGIN_SLOTS;
        if (d < 0)
            d = 0;
        if (d > UINT32_MAX)
            d = UINT32_MAX;
        int64_t unset = -1;
        /* First reader wins; later ones see the same value. */
        atomic_compare_exchange_strong(&mprotect_default, &unset, d);
        unset = -1;
        atomic_compare_exchange_strong(&mprotect_pool, &unset, atomic_load(&mprotect_default));
        d = atomic_load(&mprotect_default);
    }
    return (uint32_t)d;
}

static int pool_take(void)
{
    int64_t n = atomic_load(&mprotect_pool);
    while (n > 0) {
        if (atomic_compare_exchange_weak(&mprotect_pool, &n, n - 1))
            return 1;
    }
    return 0;
}

static void pool_give(int64_t n)
{
    if (n > 0)
        atomic_fetch_add(&mprotect_pool, n);
}

/* --------------------------------------------------------------------- */
/* Classes.                                                               */

static int class_of(size_t size)
{
    if (size == 0)
        size = SWARM_DEFAULT_STACK_SIZE;
    if (size > SWARM_MAX_STACK_SIZE)
        return -1;
    if (size <= SWARM_MIN_STACK_SIZE)
        return 0;
    /* ceil(log2(size)) - CLASS_MIN_SHIFT */
    int bits = 64 - __builtin_clzll((unsigned long long)(size - 1));
    return bits - CLASS_MIN_SHIFT;
}

size_t swarm__stack_class_size(size_t size)
{
    int c = class_of(size);
    return c < 0 ? 0 : (size_t)1 << (CLASS_MIN_SHIFT + c);
}

/* --------------------------------------------------------------------- */
/* Chunks.                                                                */

static inline chunk_t *chunk_of_id(swarm__stack_arena_t *a, uint32_t id)
{
    return &a->chunks[id >> SLOT_BITS];
}

static inline uint32_t idx_of_id(uint32_t id)
{
    return id & (((uint32_t)1 << SLOT_BITS) - 1);
}

static inline uintptr_t slot_lo(const chunk_t *c, uint32_t idx)
{
    return c->slots + (uintptr_t)idx * c->stride;
}

/* Reserve the next chunk of class cls and make it the bump chunk. Called
 * with the lock held (rare: chunks grow geometrically). */
static int chunk_reserve(swarm__stack_arena_t *a, int cls)
{
    uint32_t ci = atomic_load_explicit(&a->nchunks, memory_order_relaxed);
    if (ci >= MAX_CHUNKS)
        return SWARM_ENOMEM;
    size_t stride = a->guard + ((size_t)1 << (CLASS_MIN_SHIFT + cls));
    class_state_t *cs = &a->cls[cls];

    uint64_t n = (uint64_t)CHUNK_FIRST_SLOTS << (cs->nchunks < 20 ? cs->nchunks : 20);
    uint64_t cap = (CHUNK_MAX_BYTES - a->guard) / stride;
    if (cap > ((uint64_t)1 << SLOT_BITS))
        cap = (uint64_t)1 << SLOT_BITS;
    if (n > cap)
        n = cap;
    if (n > a->max_slots) /* no point reserving more than can ever be live */
        n = a->max_slots;
    size_t bytes = a->guard + (size_t)n * stride;

    _Atomic uint8_t *state = swarm__calloc(n, sizeof *state);
    uint32_t *next = swarm__malloc(n * sizeof *next);
    if (!state || !next) {
        swarm__free((void *)state);
        swarm__free(next);
        return SWARM_ENOMEM;
    }
    /* MAP_NORESERVE: only touched pages are charged. Overcommit mode 2
     * ignores it and would charge the whole chunk, so strict chunks start
     * PROT_NONE (never charged) and slots are made writable one by one. */
    int prot = a->strict ? PROT_NONE : PROT_READ | PROT_WRITE;
    void *p = SWARM__SYS(mmap)(NULL, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        swarm__free((void *)state);
        swarm__free(next);
        return SWARM_ENOMEM;
    }
    /* Huge pages would turn every nearly idle stack into 2 MiB of RSS.
     * Advisory: a kernel without THP says EINVAL, which is fine. */
    (void)SWARM__SYS(madvise)(p, bytes, MADV_NOHUGEPAGE);
    /* The floor: a guard under slot 0, so that an overflow running down
     * through the chunk (CANARY slots have no guard of their own) faults
     * inside the arena instead of writing into whatever lies below the
     * mapping. MADVISE: a guard marker, free. Otherwise PROT_NONE: up to
     * two VMAs per chunk, not per slot (a strict chunk is PROT_NONE
     * already). Best effort: without it the chunk is no worse than
     * before. */
    int floor = 0;
    if (a->mode == SWARM_GUARD_MADVISE)
        floor = SWARM__SYS(madvise)(p, a->guard, MADV_GUARD_INSTALL) == 0;
    else
        floor = a->strict || SWARM__SYS(mprotect)(p, a->guard, PROT_NONE) == 0;

    chunk_t *c = &a->chunks[ci];
    c->base = (uintptr_t)p;
    c->bytes = bytes;
    c->slots = (uintptr_t)p + a->guard;
    c->stride = stride;
    c->nslots = (uint32_t)n;
    c->cls = (uint8_t)cls;
    c->floor = (uint8_t)floor;
    c->strict = (uint8_t)a->strict;
    c->state = state;
    c->next = next;
    /* Pairs with the acquire load in swarm__stack_is_guard: the entry is
     * complete before a signal handler can see it. */
    atomic_store_explicit(&a->nchunks, ci + 1, memory_order_release);

    cs->chunk = ci;
    cs->bump = 0;
    cs->nchunks++;
    a->reserved += bytes;
    return 0;
}

/* --------------------------------------------------------------------- */
/* Setting up a slot: commit (strict chunks) and guard.                   */

/* Decide the guard of a fresh slot in MPROTECT mode. Under the lock. */
static int mprotect_credit(swarm__stack_arena_t *a)
{
    if (a->mprotect_used >= a->mprotect_budget || !pool_take())
        return 0;
    a->mprotect_used++;
    return 1;
}

/* Give a credit back. If mprotect itself failed (most likely
 * vm.max_map_count is reached, and further tries would fail too), also
 * close the budget. */
static void mprotect_uncredit(swarm__stack_arena_t *a, int close_budget)
{
    pthread_mutex_lock(&a->lock);
    a->mprotect_used--;
    pool_give(1);
    if (close_budget)
        a->mprotect_budget = a->mprotect_used;
    pthread_mutex_unlock(&a->lock);
}

/* Install what slot id needs before its first use. Runs without the lock
 * (the slot belongs to the caller). Returns the guard mode now in force, or
 * a negative error; on error the slot is left "not set up" and can be set
 * up again later (every step is idempotent). */
static int slot_setup(swarm__stack_arena_t *a, uint32_t id)
{
    chunk_t *c = chunk_of_id(a, id);
    uint32_t idx = idx_of_id(id);
    size_t size = c->stride;
    char *lo = (char *)slot_lo(c, idx);
    size_t gsize = a->guard;
    int guard = a->mode;

    if (guard == SWARM_GUARD_MPROTECT) {
        pthread_mutex_lock(&a->lock);
        int ok = mprotect_credit(a);
        pthread_mutex_unlock(&a->lock);
        if (!ok)
            guard = SWARM_GUARD_CANARY;
    }

    if (c->strict) {
        /* An mprotect guard in a strict chunk is simply the page we leave
         * PROT_NONE: no extra syscall. */
        char *from = guard == SWARM_GUARD_MPROTECT ? lo + gsize : lo;
        if (SWARM__SYS(mprotect)(from, (size_t)(lo + size - from), PROT_READ | PROT_WRITE) != 0) {
            if (guard == SWARM_GUARD_MPROTECT)
                mprotect_uncredit(a, 0);
            return SWARM_ENOMEM;
        }
    }

    if (guard == SWARM_GUARD_MADVISE) {
        if (SWARM__SYS(madvise)(lo, gsize, MADV_GUARD_INSTALL) != 0)
            return SWARM_ENOMEM;
    } else if (guard == SWARM_GUARD_MPROTECT && !c->strict) {
        if (SWARM__SYS(mprotect)(lo, gsize, PROT_NONE) != 0) {
            /* ENOMEM here means the VMA limit is reached (perhaps by other
             * code in the program): this slot and all later ones fall back
             * to a canary rather than failing the spawn. */
            mprotect_uncredit(a, 1);
            guard = SWARM_GUARD_CANARY;
        }
    }
    /* Relaxed: swarm__stack_is_guard only needs to see it eventually, and
     * other threads get the slot through the lock or the owner's cache. */
    atomic_store_explicit(&c->state[idx], (uint8_t)guard, memory_order_relaxed);
    atomic_fetch_add_explicit(&a->created, 1, memory_order_relaxed);
    if (a->mode == SWARM_GUARD_MPROTECT && guard == SWARM_GUARD_CANARY)
        atomic_fetch_add_explicit(&a->canary_fallbacks, 1, memory_order_relaxed);
    return guard;
}

/* Fill *out for a set-up slot. */
static inline void fill(swarm__stack_arena_t *a, int cls, uintptr_t lo, uint32_t id, int guard,
                        swarm__stack_t *out)
{
    size_t size = (size_t)1 << (CLASS_MIN_SHIFT + cls);
    out->lo = (void *)lo;
    out->base = (void *)(lo + a->guard);
    out->top = (void *)(lo + a->guard + size);
    out->cls = (uint8_t)cls;
    out->guard = (uint8_t)guard;
    out->slow = 1; /* alloc's fast path clears it */
    out->slot = id;
    if (guard == SWARM_GUARD_CANARY) {
        /* Rewritten on every hand-out: the last user may have broken it. */
        uint64_t *w = out->base;
        w[0] = SWARM__STACK_CANARY;
        w[1] = 0;
    }
}

/* ASan: a process that was killed never unwinds, so the redzones its frames
 * poisoned stay poisoned in shadow memory. Clear them when a used slot is
 * handed out again. (Fresh slots have clean shadow; skipping them keeps a
 * million fresh stacks from touching gigabytes of shadow.) */
static inline void reuse_unpoison(const swarm__stack_t *s)
{
    swarm__san_unpoison(s->base, (size_t)((char *)s->top - (char *)s->base));
}

/* --------------------------------------------------------------------- */
/* Cold list and batched decommit.                                        */

static void cold_push(swarm__stack_arena_t *a, int cls, uint32_t id)
{
    chunk_t *c = chunk_of_id(a, id);
    class_state_t *cs = &a->cls[cls];
    c->next[idx_of_id(id)] = cs->cold_head;
    cs->cold_head = id;
    cs->cold_n++;
}

static uint32_t cold_pop(swarm__stack_arena_t *a, int cls)
{
    class_state_t *cs = &a->cls[cls];
    uint32_t id = cs->cold_head;
    if (id != NO_ID) {
        cs->cold_head = chunk_of_id(a, id)->next[idx_of_id(id)];
        cs->cold_n--;
    }
    return id;
}

/* The dirty list: free slots whose pages are still committed. Under lock. */
static void dirty_push(swarm__stack_arena_t *a, int cls, uint32_t id)
{
    chunk_t *c = chunk_of_id(a, id);
    class_state_t *cs = &a->cls[cls];
    c->next[idx_of_id(id)] = cs->dirty_head;
    cs->dirty_head = id;
    cs->dirty_n++;
    atomic_fetch_add_explicit(&a->dirty_total, 1, memory_order_relaxed);
}

static uint32_t dirty_pop(swarm__stack_arena_t *a, int cls)
{
    class_state_t *cs = &a->cls[cls];
    uint32_t id = cs->dirty_head;
    if (id != NO_ID) {
        cs->dirty_head = chunk_of_id(a, id)->next[idx_of_id(id)];
        cs->dirty_n--;
        atomic_fetch_sub_explicit(&a->dirty_total, 1, memory_order_relaxed);
    }
    return id;
}

static void sort_by_addr(warm_entry_t *e, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        warm_entry_t x = e[i];
        unsigned j = i;
        while (j > 0 && e[j - 1].lo > x.lo) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
}

/* Decommit n slots of class cls and put them on the cold list. One
 * madvise(MADV_DONTNEED) per run of address-contiguous slots; the guard
 * pages inside a run are unaffected (guard markers and PROT_NONE pages
 * survive DONTNEED). Called without the lock; the entries belong to the
 * caller. Reorders e[]. */
static void decommit_batch(swarm__stack_arena_t *a, int cls, warm_entry_t *e, unsigned n)
{
    if (n == 0)
        return;
    size_t size = a->guard + ((size_t)1 << (CLASS_MIN_SHIFT + cls)); /* the stride */
    sort_by_addr(e, n);
    uint64_t calls = 0;
    for (unsigned i = 0; i < n;) {
        unsigned j = i + 1;
        while (j < n && e[j].lo == e[j - 1].lo + size)
            j++;
        /* A failure leaves the pages committed: wasted memory, not a bug. */
        (void)SWARM__SYS(madvise)((void *)e[i].lo, (size_t)(j - i) * size, MADV_DONTNEED);
        calls++;
        i = j;
    }
    atomic_fetch_add_explicit(&a->decommit_calls, calls, memory_order_relaxed);

    pthread_mutex_lock(&a->lock);
    for (unsigned i = 0; i < n; i++)
        cold_push(a, cls, e[i].id);
    pthread_mutex_unlock(&a->lock);
}

/* Slots that overflowed the warm tiers. They go to the dirty list, still
 * committed, while it holds fewer than dirty_limit slots: decommitting
 * costs a syscall, a TLB shootdown that stalls every scheduler thread, and
 * a page fault on the next use (measured: fib(27) at 2 schedulers ran 2.2x
 * slower decommitting at once). swarm__stack_scavenge() decommits them
 * when a scheduler is about to sleep. Beyond the limit, decommit now. */
static void release_batch(swarm__stack_arena_t *a, int cls, warm_entry_t *e, unsigned n)
{
    if (n == 0)
        return;
    if (atomic_load_explicit(&a->dirty_total, memory_order_relaxed) + n <= a->dirty_limit) {
        pthread_mutex_lock(&a->lock);
        for (unsigned i = 0; i < n; i++)
            dirty_push(a, cls, e[i].id);
        pthread_mutex_unlock(&a->lock);
        return;
    }
    decommit_batch(a, cls, e, n);
}

void swarm__stack_scavenge(swarm__stack_arena_t *a)
{
    if (!atomic_load_explicit(&a->dirty_total, memory_order_relaxed))
        return;
    for (int cls = 0; cls < NCLASSES; cls++) {
        for (;;) {
            warm_entry_t batch[256];
            unsigned n = 0;
            pthread_mutex_lock(&a->lock);
            uint32_t id;
            while (n < 256 && (id = dirty_pop(a, cls)) != NO_ID) {
                chunk_t *c = chunk_of_id(a, id);
                batch[n].lo = slot_lo(c, idx_of_id(id));
                batch[n].id = id;
                batch[n].guard = atomic_load_explicit(&c->state[idx_of_id(id)], memory_order_relaxed);
                n++;
            }
            pthread_mutex_unlock(&a->lock);
            if (!n)
                break;
            decommit_batch(a, cls, batch, n);
        }
    }
}

/* Move the oldest half of a full warm list into buf; returns how many. The
 * caller owns the list (owner thread, or the lock for the shared cache). */
static unsigned spill_half(swarm__stack_arena_t *a, int cls, warm_list_t *w, warm_entry_t *buf)
{
    uint32_t n = atomic_load_explicit(&w->n, memory_order_relaxed);
    unsigned half = a->warm_limit[cls] / 2; /* >= WARM_MIN / 2 */
    /* The bottom of the LIFO is the least recently freed: coldest caches. */
    memcpy(buf, w->e, half * sizeof *buf);
    memmove(w->e, w->e + half, (n - half) * sizeof *buf);
    atomic_store_explicit(&w->n, n - half, memory_order_relaxed);
    return half;
}

/* --------------------------------------------------------------------- */
/* Create / destroy.                                                      */

/* Does memory at p trap on access? Asked of the kernel without touching
 * it from user space: write(2) from p into a pipe copies from p in the
 * kernel, which takes the same page-fault path as a user access; a guard
 * marker or a PROT_NONE page makes it fail with EFAULT instead of raising
 * SIGSEGV. So the probe needs no signal handler (the process may have its
 * own, and other threads may be running), no fork, and is the same under
 * ASan and TSan. An emulator that ignores madvise (qemu-user returns 0 for
 * MADV_GUARD_INSTALL and installs nothing) lets the write succeed.
 * control must be readable. Returns 1 traps, 0 does not, -1 the probe
 * itself does not work here (no pipe, or the control write fails). */
static int probe_traps(const void *p, const void *control)
{
    int fd[2];
    if (pipe2(fd, O_CLOEXEC) != 0)
        return -1;
    int r = -1;
    if (write(fd[1], control, 1) == 1) {
        ssize_t w = write(fd[1], p, 1);
        r = w < 0 && errno == EFAULT ? 1 : w == 1 ? 0 : -1;
    }
    close(fd[0]);
    close(fd[1]);
    return r;
}

/* Install mode's guard on the first page of a two-page scratch mapping and
 * check that it traps. Returns 1 verified, 0 the kernel refused the call
 * (EINVAL: unsupported), 2 the call succeeded but the page does not trap,
 * 3 the call succeeded and the probe could not tell (trusted, unverified),
 * or SWARM_ENOMEM. */
static int probe_guard(swarm_guard_mode_t mode, size_t page)
{
    char *p = SWARM__SYS(mmap)(NULL, 2 * page, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return SWARM_ENOMEM;
    p[page] = 1; /* the control page: committed, readable */
    int r = mode == SWARM_GUARD_MADVISE ? SWARM__SYS(madvise)(p, page, MADV_GUARD_INSTALL)
                                        : SWARM__SYS(mprotect)(p, page, PROT_NONE);
    int err = r ? errno : 0;
    int res;
    if (r != 0) {
        res = err == EINVAL || err == ENOSYS ? 0 : SWARM_ENOMEM;
    } else {
        int t = probe_traps(p, p + page);
        res = t == 1 ? 1 : t == 0 ? 2 : 3;
    }
    (void)SWARM__SYS(munmap)(p, 2 * page);
    return res;
}

int swarm__stack_arena_create(swarm__stack_arena_t **out, uint32_t max_slots, unsigned ncaches,
                              swarm_guard_mode_t mode)
{
    *out = NULL;
    if (max_slots == 0 || ncaches > 4096 || (unsigned)mode > SWARM_GUARD_CANARY)
        return SWARM_EINVAL;
    size_t page = swarm__page_size();

    /* The ladder: each guarded mode is installed on a scratch page and must
     * trap there before it is chosen (a kernel or emulator may accept the
     * call and install nothing). An explicit MADVISE or MPROTECT request
     * that fails the probe returns SWARM_ENOSYS; AUTO steps down. */
    uint8_t verified = 0, rejected = 0, no_trap = 0;
    int want_auto = mode == SWARM_GUARD_AUTO;
    if (want_auto)
        mode = SWARM_GUARD_MADVISE;
    while (mode != SWARM_GUARD_CANARY) {
        int r = probe_guard(mode, page);
        if (r < 0)
            return r;
        if (r == 1 || r == 3) {
            verified = r == 1;
            break;
        }
        if (!want_auto)
            return SWARM_ENOSYS;
        rejected |= (uint8_t)(1u << mode);
        if (r == 2)
            no_trap |= (uint8_t)(1u << mode);
        mode = mode == SWARM_GUARD_MADVISE ? SWARM_GUARD_MPROTECT : SWARM_GUARD_CANARY;
    }

    swarm__stack_arena_t *a = swarm__calloc(1, sizeof *a);
    if (!a)
        return SWARM_ENOMEM;
    /* Over-allocate and align by hand: caches are written by different
     * threads and must not share cache lines (aligned_alloc is not behind
     * swarm__malloc). Only the counts need zeroing. */
    a->caches_raw = swarm__malloc((ncaches + 1) * sizeof(cache_t) + 63);
    a->chunks = swarm__calloc(MAX_CHUNKS, sizeof *a->chunks);
    if (!a->caches_raw || !a->chunks || pthread_mutex_init(&a->lock, NULL) != 0) {
        swarm__free(a->caches_raw);
        swarm__free(a->chunks);
        swarm__free(a);
        return SWARM_ENOMEM;
    }
    a->caches = (cache_t *)(((uintptr_t)a->caches_raw + 63) & ~(uintptr_t)63);
    for (unsigned i = 0; i <= ncaches; i++)
        for (int c = 0; c < NCLASSES; c++)
            atomic_init(&a->caches[i].cls[c].n, 0);
    a->max_slots = max_slots;
    a->ncaches = ncaches;
    a->mode = mode;
    a->page = page;
    a->guard = SWARM__STACK_GUARD_SIZE < page ? page : (SWARM__STACK_GUARD_SIZE + page - 1) & ~(page - 1);
    a->verified = verified;
    a->rejected = rejected;
    a->no_trap = no_trap;
    /* A stack must hold at least four pages; with 4 KiB pages every class
     * does. */
    while (a->min_cls < NCLASSES - 1 && ((size_t)1 << (CLASS_MIN_SHIFT + a->min_cls)) < 4 * page)
        a->min_cls++;
    a->strict = swarm__overcommit_strict();
    for (int c = 0; c < NCLASSES; c++) {
#if SWARM_SANITIZED
        /* Sanitizer builds: no warm tier, every free is decommitted and
         * every reuse goes through the cold list, so tools see it. */
        a->warm_limit[c] = 0;
#else
        size_t lim = WARM_BYTES >> (CLASS_MIN_SHIFT + c);
        a->warm_limit[c] = lim > WARM_MAX ? WARM_MAX : lim < WARM_MIN ? WARM_MIN : (uint32_t)lim;
#endif
        a->cls[c].chunk = NO_ID;
        a->cls[c].cold_head = NO_ID;
        a->cls[c].dirty_head = NO_ID;
    }
#if SWARM_SANITIZED
    a->dirty_limit = 0; /* every reuse of a freed slot goes through a fault */
#else
    a->dirty_limit = DIRTY_LIMIT;
#endif
    if (mode == SWARM_GUARD_MPROTECT)
        a->mprotect_budget = mprotect_default_budget();
    *out = a;
    return 0;
}

void swarm__stack_arena_destroy(swarm__stack_arena_t *a)
{
    if (!a)
        return;
    uint32_t n = atomic_load(&a->nchunks);
    for (uint32_t i = 0; i < n; i++) {
        chunk_t *c = &a->chunks[i];
        (void)SWARM__SYS(munmap)((void *)c->base, c->bytes);
        swarm__free((void *)c->state);
        swarm__free(c->next);
    }
    pool_give(a->mprotect_used);
    pthread_mutex_destroy(&a->lock);
    swarm__free(a->caches_raw);
    swarm__free(a->chunks);
    swarm__free(a);
}

/* --------------------------------------------------------------------- */
/* Alloc / free.                                                          */

/* Everything but the owner's warm list: the shared warm list (a batch of
 * up to half a cache moves to the owner's list, own may be NULL), then the
 * cold list, then a fresh slot (reserving a chunk when the class runs out).
 * Syscalls (guard install, strict commit) happen outside the lock. */
static int alloc_slow(swarm__stack_arena_t *a, int cls, warm_list_t *own, swarm__stack_t *out)
{
    warm_list_t *sw = &a->caches[a->ncaches].cls[cls];
    pthread_mutex_lock(&a->lock);
    uint32_t n = atomic_load_explicit(&sw->n, memory_order_relaxed);
    if (n) {
        warm_entry_t e = sw->e[--n];
        if (own) {
            uint32_t take = a->warm_limit[cls] / 2;
            uint32_t have = atomic_load_explicit(&own->n, memory_order_relaxed);
            if (take > n)
                take = n;
            memcpy(own->e + have, sw->e + n - take, take * sizeof *own->e);
            n -= take;
            atomic_store_explicit(&own->n, have + take, memory_order_relaxed);
        }
        atomic_store_explicit(&sw->n, n, memory_order_relaxed);
        pthread_mutex_unlock(&a->lock);
        fill(a, cls, e.lo, e.id, e.guard, out);
        reuse_unpoison(out);
        return 0;
    }
    int fresh = 0;
    uint32_t id = dirty_pop(a, cls);
    if (id == NO_ID)
        id = cold_pop(a, cls);
    if (id == NO_ID) {
        class_state_t *cs = &a->cls[cls];
        if (cs->chunk == NO_ID || cs->bump == a->chunks[cs->chunk].nslots) {
            int r = chunk_reserve(a, cls);
            if (r != 0) {
                pthread_mutex_unlock(&a->lock);
                return r;
            }
        }
        id = (cs->chunk << SLOT_BITS) | cs->bump++;
        fresh = 1;
    }
    pthread_mutex_unlock(&a->lock);

    chunk_t *c = chunk_of_id(a, id);
    uint32_t idx = idx_of_id(id);
    int guard = atomic_load_explicit(&c->state[idx], memory_order_relaxed);
    if (guard == 0) {
        guard = slot_setup(a, id);
        if (guard < 0) {
            /* Keep the slot: it goes back to the cold list still marked
             * "not set up", and the next taker retries the setup. */
            pthread_mutex_lock(&a->lock);
            cold_push(a, cls, id);
            pthread_mutex_unlock(&a->lock);
            return guard;
        }
    }
    fill(a, cls, slot_lo(c, idx), id, guard, out);
    if (!fresh)
        reuse_unpoison(out);
    return 0;
}

int swarm__stack_alloc(swarm__stack_arena_t *a, unsigned cache, size_t size, swarm__stack_t *out)
{
    int cls = class_of(size);
    if (cls < 0 || (cache >= a->ncaches && cache != SWARM__STACK_NO_CACHE))
        return SWARM_EINVAL;
    if (cls < a->min_cls)
        cls = a->min_cls;
    if (atomic_fetch_add_explicit(&a->live, 1, memory_order_relaxed) >= a->max_slots) {
        atomic_fetch_sub_explicit(&a->live, 1, memory_order_relaxed);
        return SWARM_EAGAIN;
    }
    warm_list_t *w = NULL;
    if (cache != SWARM__STACK_NO_CACHE) {
        /* The fast path: the owner's LIFO, no lock, no syscall. */
        w = &a->caches[cache].cls[cls];
        uint32_t n = atomic_load_explicit(&w->n, memory_order_relaxed);
        if (n) {
            warm_entry_t e = w->e[n - 1];
            atomic_store_explicit(&w->n, n - 1, memory_order_relaxed);
            fill(a, cls, e.lo, e.id, e.guard, out);
            out->slow = 0;
            reuse_unpoison(out);
            return 0;
        }
    }
    int r = alloc_slow(a, cls, w, out);
    if (r != 0)
        atomic_fetch_sub_explicit(&a->live, 1, memory_order_relaxed);
    return r;
}

void swarm__stack_free(swarm__stack_arena_t *a, unsigned cache, const swarm__stack_t *s)
{
    int cls = s->cls;
    warm_entry_t e = {(uintptr_t)s->lo, s->slot, s->guard};
    uint32_t lim = a->warm_limit[cls];
    int shared = cache >= a->ncaches; /* SWARM__STACK_NO_CACHE */
    warm_list_t *w = &a->caches[shared ? a->ncaches : cache].cls[cls];
    warm_entry_t buf[WARM_MAX];
    unsigned nbuf = 0;

    if (shared)
        pthread_mutex_lock(&a->lock);
    uint32_t n = atomic_load_explicit(&w->n, memory_order_relaxed);
    if (lim == 0) {
        buf[nbuf++] = e; /* no warm tier: decommit right away */
    } else {
        if (n >= lim) {
            nbuf = spill_half(a, cls, w, buf);
            n = atomic_load_explicit(&w->n, memory_order_relaxed);
        }
        w->e[n] = e;
        atomic_store_explicit(&w->n, n + 1, memory_order_relaxed);
    }
    if (shared)
        pthread_mutex_unlock(&a->lock);
    if (nbuf && !shared && lim) {
        /* A scheduler that frees more than it allocates (it runs what
         * another one spawns) hands its surplus to the shared warm list,
         * still committed; only what overflows that is decommitted. */
        warm_list_t *sw = &a->caches[a->ncaches].cls[cls];
        pthread_mutex_lock(&a->lock);
        uint32_t sn = atomic_load_explicit(&sw->n, memory_order_relaxed);
        unsigned fit = lim - sn < nbuf ? lim - sn : nbuf;
        memcpy(sw->e + sn, buf + nbuf - fit, fit * sizeof *buf);
        atomic_store_explicit(&sw->n, sn + fit, memory_order_relaxed);
        pthread_mutex_unlock(&a->lock);
        nbuf -= fit;
    }
    release_batch(a, cls, buf, nbuf);
    atomic_fetch_sub_explicit(&a->live, 1, memory_order_relaxed);
}

void swarm__stack_free_deep(swarm__stack_arena_t *a, const swarm__stack_t *s)
{
    warm_entry_t e = {(uintptr_t)s->lo, s->slot, s->guard};
    decommit_batch(a, s->cls, &e, 1);
    atomic_fetch_sub_explicit(&a->live, 1, memory_order_relaxed);
}

/* madvise(DONTNEED) from lo (rounded up to a page; the canary's page of a
 * CANARY slot kept) to the top of s: lo is s's base, or the base of the
 * first of a run of adjacent MADVISE-guarded slots ending with s.
 * Returns 0, or -1 if the kernel refused. */
static int drop_to_top(const swarm__stack_t *s, const void *lo)
{
    uintptr_t from = (uintptr_t)lo, top = (uintptr_t)s->top;
    size_t page = swarm__page_size();
    if (s->guard == SWARM_GUARD_CANARY && from < (uintptr_t)s->base + page)
        from = (uintptr_t)s->base + page; /* the canary's page stays */
    from = (from + page - 1) & ~(uintptr_t)(page - 1);
    if (from >= top)
        return 0;
    return SWARM__SYS(madvise)((void *)from, top - from, MADV_DONTNEED) == 0 ? 0 : -1;
}

/* Can one madvise cover a's stack and b's (b the slot right above a)? */
static int drop_joinable(const swarm__stack_t *a, const swarm__stack_t *b)
{
    return a->guard == SWARM_GUARD_MADVISE && b->guard == SWARM_GUARD_MADVISE && b->lo == a->top;
}

void swarm__stack_drop_many(const swarm__stack_t **st, unsigned n, unsigned char *ok)
{
    for (unsigned i = 1; i < n; i++) { /* insertion sort: small, often sorted */
        const swarm__stack_t *s = st[i];
        unsigned j = i;
        for (; j > 0 && (uintptr_t)st[j - 1]->base > (uintptr_t)s->base; j--)
            st[j] = st[j - 1];
        st[j] = s;
    }
    for (unsigned i = 0; i < n;) {
        unsigned j = i + 1;
        while (j < n && drop_joinable(st[j - 1], st[j]))
            j++;
        /* From the first stack of the run to the top of the last. */
        unsigned char r = drop_to_top(st[j - 1], st[i]->base) == 0;
        for (; i < j; i++)
            if (ok)
                ok[i] = r;
    }
}

/* --------------------------------------------------------------------- */
/* Trim, info, guard lookup, knobs.                                       */

static void trim_cache(swarm__stack_arena_t *a, cache_t *ch, int locked)
{
    for (int cls = 0; cls < NCLASSES; cls++) {
        warm_list_t *w = &ch->cls[cls];
        warm_entry_t buf[WARM_MAX];
        if (locked)
            pthread_mutex_lock(&a->lock);
        uint32_t n = atomic_load_explicit(&w->n, memory_order_relaxed);
        memcpy(buf, w->e, n * sizeof *buf);
        atomic_store_explicit(&w->n, 0, memory_order_relaxed);
        if (locked)
            pthread_mutex_unlock(&a->lock);
        release_batch(a, cls, buf, n);
    }
}

void swarm__stack_trim(swarm__stack_arena_t *a, unsigned cache)
{
    if (cache == SWARM__STACK_NO_CACHE) {
        for (unsigned i = 0; i < a->ncaches; i++)
            trim_cache(a, &a->caches[i], 0);
        trim_cache(a, &a->caches[a->ncaches], 1);
    } else if (cache < a->ncaches) {
        trim_cache(a, &a->caches[cache], 0);
    }
    swarm__stack_scavenge(a);
}

void swarm__stack_set_dirty_limit(swarm__stack_arena_t *a, uint32_t n)
{
    a->dirty_limit = n;
}

void swarm__stack_info(swarm__stack_arena_t *a, swarm__stack_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->mode = a->mode;
    out->guard_size = a->guard;
    out->guard_verified = a->verified;
    out->guard_rejected = a->rejected;
    out->guard_no_trap = a->no_trap;
    pthread_mutex_lock(&a->lock);
    out->mprotect_budget = a->mprotect_budget;
    out->mprotect_used = a->mprotect_used;
    out->reserved_bytes = a->reserved;
    out->strict_commit = (uint8_t)a->strict;
    for (int c = 0; c < NCLASSES; c++) {
        out->slots_cold += a->cls[c].cold_n;
        out->slots_dirty += a->cls[c].dirty_n;
    }
    /* Other caches are read racily: a snapshot per counter. */
    for (unsigned i = 0; i <= a->ncaches; i++)
        for (int c = 0; c < NCLASSES; c++)
            out->slots_warm += atomic_load_explicit(&a->caches[i].cls[c].n, memory_order_relaxed);
    pthread_mutex_unlock(&a->lock);
    out->slots_created = atomic_load_explicit(&a->created, memory_order_relaxed);
    out->canary_fallbacks = atomic_load_explicit(&a->canary_fallbacks, memory_order_relaxed);
    out->slots_live = atomic_load_explicit(&a->live, memory_order_relaxed);
    out->decommit_calls = atomic_load_explicit(&a->decommit_calls, memory_order_relaxed);
    out->chunks = atomic_load_explicit(&a->nchunks, memory_order_relaxed);
}

uint64_t swarm__stack_resident_pages(swarm__stack_arena_t *a)
{
    uint32_t n = atomic_load_explicit(&a->nchunks, memory_order_acquire);
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += swarm__resident_pages((const void *)a->chunks[i].base, a->chunks[i].bytes);
    return total;
}

/* Async-signal-safe: no lock, no allocation; chunk entries are immutable
 * once published. */
int swarm__stack_is_guard(swarm__stack_arena_t *a, uintptr_t addr)
{
    /* Pairs with the release store in chunk_reserve. */
    uint32_t n = atomic_load_explicit(&a->nchunks, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        const chunk_t *c = &a->chunks[i];
        if (addr < c->base || addr - c->base >= c->bytes)
            continue;
        if (addr < c->slots)
            return c->floor;
        uintptr_t off = addr - c->slots;
        if (off % c->stride >= a->guard)
            return 0;
        int g = atomic_load_explicit(&c->state[off / c->stride], memory_order_relaxed);
        return g == SWARM_GUARD_MADVISE || g == SWARM_GUARD_MPROTECT;
    }
    return 0;
}

/* Async-signal-safe, like swarm__stack_is_guard. */
int swarm__stack_arena_contains(swarm__stack_arena_t *a, uintptr_t addr)
{
    uint32_t n = atomic_load_explicit(&a->nchunks, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        const chunk_t *c = &a->chunks[i];
        if (addr >= c->base && addr - c->base < c->bytes)
            return 1;
    }
    return 0;
}

size_t swarm__stack_guard_size(swarm__stack_arena_t *a)
{
    return a->guard;
}

void swarm__stack_set_warm_limit(swarm__stack_arena_t *a, uint32_t n)
{
    if (n < WARM_MIN)
        n = WARM_MIN;
    if (n > WARM_MAX)
        n = WARM_MAX;
    for (int c = 0; c < NCLASSES; c++)
        a->warm_limit[c] = n; /* also in sanitizer builds, which have none by default */
}

void swarm__stack_set_mprotect_budget(swarm__stack_arena_t *a, uint32_t n)
{
    pthread_mutex_lock(&a->lock);
    a->mprotect_budget = n;
    pthread_mutex_unlock(&a->lock);
}

void swarm__stack_set_strict_commit(swarm__stack_arena_t *a, int on)
{
    pthread_mutex_lock(&a->lock);
    a->strict = on < 0 ? swarm__overcommit_strict() : on != 0;
    pthread_mutex_unlock(&a->lock);
}
