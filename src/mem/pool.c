/*
 * mem/pool.c - the block pool (see pool.h for the tiers and the why).
 *
 * Locks: a class's mutex protects its list and every slab of that class;
 * the heap mutex protects the segment list and each segment's unit masks.
 * The two are never held together, and no mmap or munmap runs under
 * either: a slab is made (slab_new) and given back (slab_release) with no
 * class lock held, a segment is mapped before and unmapped after the heap
 * lock. (Once a scheduler held a class lock across an mmap, the kernel
 * preempted it under load, and the other scheduler slept on the lock for
 * 10 ms: the watchdog reported it.) The one system call under the heap
 * lock is the decommit's madvise (decommit_all), which frees no address
 * space and must not race a slab_new taking those units. Free lists are
 * threaded through the free blocks' first word.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "mem/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>


#define UNIT_SHIFT 16
#define UNITS 64 /* per segment: one bit each in a uint64_t */
#define ALL_UNITS (~(uint64_t)0)
_Static_assert(SWARM__POOL_UNIT == (size_t)1 << UNIT_SHIFT, "unit size");
_Static_assert(SWARM__POOL_SEGMENT == SWARM__POOL_UNIT * UNITS, "segment = 64 units");

/* A slab: a run of units carved into blocks of one class. Its record lives
 * in its segment's header, indexed by its first unit. [class lock] */
typedef struct slab {
    struct slab *next, *prev; /* the class's list of slabs with free blocks */
    void *free;               /* blocks given back */
    char *bump, *end;         /* blocks never handed out: [bump, end) */
    uint32_t used;            /* blocks out: in caches or in use */
    uint32_t cap;
    uint16_t cls;
    uint8_t units;
    uint8_t listed;
} slab_t;

/* A segment: 4 MiB, aligned to its size, so a block's segment is its
 * address rounded down. Its header (this struct) takes the start of unit 0. */
typedef struct segment {
    struct segment *next, *prev; /* [heap lock] */
    uint64_t free_units;         /* not in a slab [heap lock] */
    uint64_t dirty_units;        /* free, maybe committed [heap lock] */
    uint8_t head_of[UNITS];      /* a slab's units: its first unit (set at slab_new) */
    slab_t slabs[UNITS];
} segment_t;

typedef struct pclass {
    pthread_mutex_t lock;
    slab_t *list; /* slabs with a free block, or one empty slab kept */
} SWARM_ALIGNED(SWARM_CACHELINE) pclass_t;

static pclass_t classes[SWARM__POOL_NCLASS] = {
    [0 ... SWARM__POOL_NCLASS - 1] = {.lock = PTHREAD_MUTEX_INITIALIZER},
};

static struct {
    pthread_mutex_t lock;
    segment_t *segs;
    size_t nsegs, nempty, slabs;
    size_t slab_units; /* units in slabs */
    size_t dirty; /* bytes in dirty units */
} heap = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Atomic size_t huge_blocks, huge_bytes;

/* ---- sizes ---- */

/* swarm__pool_class for bytes <= 1 KiB, by (bytes + 15) / 16; the class
 * sizes below 1 KiB are multiples of 16, so each index has one class
 * (pool_test.classes checks the table against the arithmetic). */
const uint8_t swarm__pool_small_class[65] = {
    0,  0,  0,  0,  0,  1,  2,  3,  4,  5,  5,  6,  6,  7,  7,  8,  8,  9,  9,  9,  9,  10,
    10, 10, 10, 11, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14,
    14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15, 16, 16, 16, 16, 16, 16, 16, 16,
};

static inline unsigned class_of(size_t bytes) { return swarm__pool_class(bytes); }

static inline size_t class_size(unsigned k)
{
    if (k == 0)
        return SWARM__POOL_MIN_BLOCK;
    unsigned e = 6 + (k - 1) / 4, idx = (k - 1) % 4 + 1;
    return ((size_t)1 << e) + ((size_t)idx << (e - 2));
}

_Static_assert(SWARM__POOL_NCLASS == (19 - 6) * 4 + 1, "classes up to 2^19 = 512 KiB");

size_t swarm__pool_block_size(size_t bytes) { return class_size(class_of(bytes)); }

/* Units per slab: one up to 16 KiB blocks, else room for four blocks. */
static inline unsigned units_for(size_t block)
{
    if (block <= SWARM__POOL_UNIT / 4)
        return 1;
    return (unsigned)((4 * block + SWARM__POOL_UNIT - 1) >> UNIT_SHIFT);
}

/* max(2, SWARM__POOL_CACHE_CLASS_BYTES / class_size(k)), precomputed:
 * the inline free path must not divide. */
const uint16_t swarm__pool_cache_max[SWARM__POOL_NCLASS] = {
    1024, 819, 682, 585, 512, 409, 341, 292, 256, 204, 170, 146, 128, 102, 85, 73, 64, 51,
    42,   36,  32,  25,  21,  18,  16,  12,  10,  9,   8,   6,   5,   4,   4,   3,  2,  2,
    2,    2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,
};

static inline unsigned cache_max(unsigned k) { return swarm__pool_cache_max[k]; }

static inline unsigned batch_of(unsigned k) { return cache_max(k) / 2; }

/* The segment header rounded up to pages: unit 0's blocks start there. */
static size_t header_bytes(void)
{
    size_t page = swarm__page_size();
    return (sizeof(segment_t) + page - 1) & ~(page - 1);
}

/* Units a slab may use (with 64 KiB pages the header takes all of unit 0). */
static uint64_t usable_units(void) { return header_bytes() >= SWARM__POOL_UNIT ? ALL_UNITS << 1 : ALL_UNITS; }

static inline uint64_t run_mask(unsigned first, unsigned n)
{
    return (n == UNITS ? ALL_UNITS : (((uint64_t)1 << n) - 1)) << first;
}

static inline char *unit_lo(segment_t *g, unsigned u)
{
    return (char *)g + (u ? (size_t)u << UNIT_SHIFT : header_bytes());
}

static inline segment_t *segment_of(const void *p)
{
    return (segment_t *)((uintptr_t)p & ~(uintptr_t)(SWARM__POOL_SEGMENT - 1));
}

static inline slab_t *slab_of(const void *blk)
{
    segment_t *g = segment_of(blk);
    unsigned u = (unsigned)(((uintptr_t)blk - (uintptr_t)g) >> UNIT_SHIFT);
    return &g->slabs[g->head_of[u]];
}

/* The first unit of a run of n free units in mask at or after from, or -1. */
static int find_run(uint64_t mask, unsigned n, unsigned from)
{
    uint64_t r = from ? mask & (ALL_UNITS << from) : mask;
    for (unsigned have = 1; have < n && r;) {
        unsigned sh = have < n - have ? have : n - have;
        r &= r >> sh; /* bit j: units j .. j + have + sh - 1 are all free */
        have += sh;
    }
    return r ? __builtin_ctzll(r) : -1;
}

/* Free-list links live in free blocks, which ASan builds keep poisoned. */
SWARM_NO_ASAN static inline void *link_get(void *blk) { return *(void **)blk; }
SWARM_NO_ASAN static inline void link_set(void *blk, void *next) { *(void **)blk = next; }

/* ---- segments ---- */

/* A fresh segment, not linked yet (no lock: system calls only). */
static segment_t *segment_map(void)
{
    size_t len = 2 * SWARM__POOL_SEGMENT;
    char *p = SWARM__SYS(mmap)(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + SWARM__POOL_SEGMENT - 1) & ~(uintptr_t)(SWARM__POOL_SEGMENT - 1);
    size_t head = a - (uintptr_t)p, tail = len - head - SWARM__POOL_SEGMENT;
    if (head)
        SWARM__SYS(munmap)(p, head);
    if (tail)
        SWARM__SYS(munmap)((char *)a + SWARM__POOL_SEGMENT, tail);
    segment_t *g = (segment_t *)a;
    /* Whole units are decommitted at a time: no huge page may span them. */
    SWARM__SYS(madvise)(g, SWARM__POOL_SEGMENT, MADV_NOHUGEPAGE);
    swarm__san_unpoison(g, SWARM__POOL_SEGMENT);
    g->free_units = usable_units();
    g->dirty_units = 0;
    return g;
}

/* [heap lock] */
static void segment_link(segment_t *g)
{
    g->prev = NULL;
    g->next = heap.segs;
    if (heap.segs)
        heap.segs->prev = g;
    heap.segs = g;
    heap.nsegs++;
    heap.nempty++;
}

/* Take an empty segment off the list [heap lock]; the caller unmaps it
 * once it has let the lock go (segment_unmap). */
static void segment_unlink(segment_t *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        heap.segs = g->next;
    if (g->next)
        g->next->prev = g->prev;
    heap.nsegs--;
    heap.nempty--;
    heap.dirty -= (size_t)__builtin_popcountll(g->dirty_units) << UNIT_SHIFT;
}

/* (no lock) */
static void segment_unmap(segment_t *g)
{
    swarm__san_unpoison(g, SWARM__POOL_SEGMENT); /* the address may be mapped again by anyone */
    SWARM__SYS(munmap)(g, SWARM__POOL_SEGMENT);
}

/* Decommit a segment's dirty units, a run per madvise. A unit that cannot
 * be decommitted stays dirty (tried again at the next trim). */
static void segment_decommit(segment_t *g)
{
    uint64_t d = g->dirty_units;
    while (d) {
        unsigned first = (unsigned)__builtin_ctzll(d);
        uint64_t run = d >> first;
        unsigned n = ~run ? (unsigned)__builtin_ctzll(~run) : UNITS - first;
        uint64_t mask = run_mask(first, n);
        char *lo = unit_lo(g, first), *hi = (char *)g + ((size_t)(first + n) << UNIT_SHIFT);
        if (SWARM__SYS(madvise)(lo, (size_t)(hi - lo), MADV_DONTNEED) == 0) {
            g->dirty_units &= ~mask;
            heap.dirty -= (size_t)n << UNIT_SHIFT;
        }
        d &= ~mask;
    }
}

static void decommit_all(void)
{
    for (segment_t *g = heap.segs; g && heap.dirty; g = g->next)
        segment_decommit(g);
}

/* ---- slabs (no class lock held) ---- */

static int slab_fits(segment_t *g, unsigned n, size_t block)
{
    /* A slab at unit 0 shares it with the header: it needs room for one. */
    unsigned from = ((size_t)n << UNIT_SHIFT) - header_bytes() < block ? 1 : 0;
    return find_run(g->free_units, n, from);
}

static slab_t *slab_new(unsigned k)
{
    size_t block = class_size(k);
    unsigned n = units_for(block);
    int first = -1;
    pthread_mutex_lock(&heap.lock);
    segment_t *g;
    for (;;) {
        for (g = heap.segs; g; g = g->next)
            if ((first = slab_fits(g, n, block)) >= 0)
                break;
        if (g)
            break;
        /* No room: map a segment with the lock let go, then look again
         * (another thread may have made room meanwhile; the new segment
         * then stays empty until a trim). */
        pthread_mutex_unlock(&heap.lock);
        segment_t *fresh = segment_map();
        pthread_mutex_lock(&heap.lock);
        if (!fresh) {
            pthread_mutex_unlock(&heap.lock);
            return NULL;
        }
        segment_link(fresh);
    }
    uint64_t mask = run_mask((unsigned)first, n);
    if (g->free_units == usable_units())
        heap.nempty--;
    g->free_units &= ~mask;
    heap.dirty -= (size_t)__builtin_popcountll(g->dirty_units & mask) << UNIT_SHIFT;
    g->dirty_units &= ~mask;
    for (unsigned u = (unsigned)first; u < (unsigned)first + n; u++)
        g->head_of[u] = (uint8_t)first;
    heap.slabs++;
    heap.slab_units += n;
    pthread_mutex_unlock(&heap.lock);

    slab_t *s = &g->slabs[first];
    char *lo = unit_lo(g, (unsigned)first), *hi = (char *)g + ((size_t)(first + (int)n) << UNIT_SHIFT);
    s->cap = (uint32_t)((size_t)(hi - lo) / block);
    s->bump = lo;
    s->end = lo + (size_t)s->cap * block;
    s->free = NULL;
    s->used = 0;
    s->cls = (uint16_t)k;
    s->units = (uint8_t)n;
    s->listed = 0;
    s->next = s->prev = NULL;
    return s;
}

/* Every block of s is back (and s is off its class's list): its units go
 * back to the segment. */
static void slab_release(slab_t *s)
{
    segment_t *g = segment_of(s), *gone = NULL;
    unsigned first = (unsigned)(s - g->slabs);
    pthread_mutex_lock(&heap.lock);
    uint64_t mask = run_mask(first, s->units);
    g->free_units |= mask;
    heap.dirty += (size_t)__builtin_popcountll(mask & ~g->dirty_units) << UNIT_SHIFT;
    g->dirty_units |= mask;
    heap.slabs--;
    heap.slab_units -= s->units;
    if (g->free_units == usable_units() && ++heap.nempty > 1) {
        segment_unlink(g);
        gone = g;
    }
    if (heap.dirty > SWARM__POOL_DIRTY_MAX)
        decommit_all();
    pthread_mutex_unlock(&heap.lock);
    if (gone)
        segment_unmap(gone);
}

/* Release the slabs chained through ->next (each off its list). */
static void slab_release_all(slab_t *s)
{
    while (s) {
        slab_t *next = s->next;
        s->next = NULL;
        slab_release(s);
        s = next;
    }
}

static void list_push(pclass_t *cl, slab_t *s)
{
    s->prev = NULL;
    s->next = cl->list;
    if (cl->list)
        cl->list->prev = s;
    cl->list = s;
    s->listed = 1;
}

static void list_remove(pclass_t *cl, slab_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        cl->list = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->listed = 0;
}

/* ---- central lists ---- */

/* Up to want blocks of class k, linked; returns how many (0: no memory). */
static unsigned central_take(unsigned k, unsigned want, void **out)
{
    pclass_t *cl = &classes[k];
    size_t block = class_size(k);
    void *head = NULL;
    unsigned got = 0;
    pthread_mutex_lock(&cl->lock);
    while (got < want) {
        slab_t *s = cl->list;
        if (!s) {
            pthread_mutex_unlock(&cl->lock); /* (no system call under a class lock) */
            s = slab_new(k);
            pthread_mutex_lock(&cl->lock);
            if (!s)
                break;
            list_push(cl, s);
        }
        while (got < want) {
            void *blk;
            if (s->free) {
                blk = s->free;
                s->free = link_get(blk);
            } else if (s->bump < s->end) {
                blk = s->bump;
                s->bump += block;
            } else {
                break;
            }
            link_set(blk, head);
            head = blk;
            got++;
            s->used++;
        }
        if (!s->free && s->bump == s->end)
            list_remove(cl, s);
    }
    pthread_mutex_unlock(&cl->lock);
    *out = head;
    return got;
}

/* Give back a NULL-terminated list of class-k blocks. A slab whose blocks
 * are all back is released, unless it is the class's only listed slab
 * (kept until a trim, so one message in flight does not map and unmap). */
static void central_give(unsigned k, void *head)
{
    pclass_t *cl = &classes[k];
    slab_t *empty = NULL; /* released once the lock is let go */
    pthread_mutex_lock(&cl->lock);
    while (head) {
        void *blk = head;
        head = link_get(blk);
        slab_t *s = slab_of(blk);
        link_set(blk, s->free);
        s->free = blk;
        s->used--;
        if (!s->listed)
            list_push(cl, s);
        if (s->used == 0 && (cl->list != s || s->next)) {
            list_remove(cl, s); /* no block of it is out: it is ours alone */
            s->next = empty;
            empty = s;
        }
    }
    pthread_mutex_unlock(&cl->lock);
    slab_release_all(empty);
}

/* ---- blocks with a mapping of their own ---- */

static void *huge_alloc(size_t bytes)
{
    size_t page = swarm__page_size();
    if (bytes > SIZE_MAX - page)
        return NULL;
    size_t len = (bytes + page - 1) & ~(page - 1);
    void *p = SWARM__SYS(mmap)(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    atomic_fetch_add_explicit(&huge_blocks, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&huge_bytes, len, memory_order_relaxed);
    return p;
}

static void huge_free(void *p, size_t bytes)
{
    size_t page = swarm__page_size();
    size_t len = (bytes + page - 1) & ~(page - 1);
    SWARM__SYS(munmap)(p, len);
    atomic_fetch_sub_explicit(&huge_blocks, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&huge_bytes, len, memory_order_relaxed);
}

/* ---- the API ---- */

void *swarm__pool_alloc_slow(swarm__pool_cache_t *c, size_t bytes)
{
    if (swarm__alloc_fault())
        return NULL;
    if (bytes > SWARM__POOL_MAX_BLOCK)
        return huge_alloc(bytes);
    unsigned k = class_of(bytes);
    swarm__pool_bin_t *bin = c ? &c->bin[k] : NULL;
    void *blk = bin ? bin->head : NULL;
    if (SWARM_LIKELY(blk)) {
        bin->head = link_get(blk);
        bin->n--;
    } else {
        unsigned got = central_take(k, bin ? batch_of(k) : 1, &blk);
        if (!got)
            return NULL;
        if (bin) {
            bin->head = link_get(blk);
            bin->n = got - 1;
            bin->max = cache_max(k);
        }
    }
    /* ASan: the block's tail past bytes stays poisoned. */
    swarm__san_poison(blk, class_size(k));
    swarm__san_unpoison(blk, bytes);
    return blk;
}

void swarm__pool_free_slow(swarm__pool_cache_t *c, void *p, size_t bytes)
{
    if (!p)
        return;
    if (bytes > SWARM__POOL_MAX_BLOCK) {
        huge_free(p, bytes);
        return;
    }
    unsigned k = class_of(bytes);
    swarm__san_poison(p, class_size(k));
    if (!c) {
        link_set(p, NULL);
        central_give(k, p);
        return;
    }
    swarm__pool_bin_t *bin = &c->bin[k];
    bin->max = cache_max(k); /* (0 until the first slow call) */
    link_set(p, bin->head);
    bin->head = p;
    if (SWARM_UNLIKELY(++bin->n > bin->max)) {
        /* Give back half the cache at once: the next overflow is far. */
        unsigned n = batch_of(k);
        void *first = bin->head, *last = first;
        for (unsigned i = 1; i < n; i++)
            last = link_get(last);
        bin->head = link_get(last);
        link_set(last, NULL);
        bin->n -= n;
        central_give(k, first);
    }
}

void swarm__pool_flush(swarm__pool_cache_t *c)
{
    for (unsigned k = 0; k < SWARM__POOL_NCLASS; k++) {
        if (c->bin[k].head)
            central_give(k, c->bin[k].head);
        c->bin[k].head = NULL;
        c->bin[k].n = 0;
    }
}

void swarm__pool_trim(int all)
{
    for (unsigned k = 0; all && k < SWARM__POOL_NCLASS; k++) {
        pclass_t *cl = &classes[k];
        slab_t *empty = NULL;
        pthread_mutex_lock(&cl->lock);
        for (slab_t *s = cl->list, *next; s; s = next) {
            next = s->next;
            if (s->used == 0) {
                list_remove(cl, s);
                s->next = empty;
                empty = s;
            }
        }
        pthread_mutex_unlock(&cl->lock);
        slab_release_all(empty);
    }
    segment_t *gone = NULL; /* unlinked, chained through ->next */
    pthread_mutex_lock(&heap.lock);
    for (segment_t *g = heap.segs, *next; g && heap.nempty; g = next) {
        next = g->next;
        if (g->free_units == usable_units()) {
            segment_unlink(g);
            g->next = gone;
            gone = g;
        }
    }
    decommit_all();
    pthread_mutex_unlock(&heap.lock);
    while (gone) {
        segment_t *next = gone->next;
        segment_unmap(gone);
        gone = next;
    }
}

void swarm__pool_idle(swarm__pool_cache_t *c, int64_t now_ns, int last)
{
    if (!last && now_ns - c->trimmed_ns < SWARM__POOL_IDLE_TRIM_NS)
        return;
    c->trimmed_ns = now_ns;
    swarm__pool_flush(c);
    swarm__pool_trim(0);
}

void swarm__pool_stats(swarm__pool_stats_t *out)
{
    pthread_mutex_lock(&heap.lock);
    out->segments = heap.nsegs;
    out->slabs = heap.slabs;
    out->slab_bytes = heap.slab_units << UNIT_SHIFT;
    out->dirty_bytes = heap.dirty;
    pthread_mutex_unlock(&heap.lock);
    out->huge_blocks = atomic_load_explicit(&huge_blocks, memory_order_relaxed);
    out->huge_bytes = atomic_load_explicit(&huge_bytes, memory_order_relaxed);
}
