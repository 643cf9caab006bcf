/*
 * mem/pool.h - the block pool: the runtime's own memory for messages,
 * which it gives back to the kernel when a burst is over.
 *
 * Sized allocation (the caller passes the size back to free, as a message
 * knows its own): 53 size classes from 64 B to 512 KiB, four per doubling
 * (at most 25 % rounding; pages of a block that are never written are
 * never resident). Blocks come from slabs, a slab being a run of 64 KiB
 * units of a 4 MiB segment mapped from the kernel; larger requests get a
 * mapping of their own, unmapped at free.
 *
 * Three tiers, as in tcmalloc and Go's mcache/mcentral/mheap:
 *  - a cache per scheduler (swarm__pool_cache_t, owner thread only, no
 *    atomics): a LIFO list per class, bounded by bytes; a miss takes, and
 *    an overflow gives back, half a cache's worth at once;
 *  - the central lists, one mutex per class: slabs with free blocks;
 *  - the segments, under one mutex: a slab whose blocks are all back is
 *    released to its segment, its units marked dirty (committed but free);
 *    dirty units are decommitted (MADV_DONTNEED) at swarm__pool_trim or
 *    once more than SWARM__POOL_DIRTY_MAX of them pile up, and a segment
 *    with nothing in it is unmapped (one is kept until the next trim).
 *
 * Why not malloc: glibc keeps a heap at its high-water mark after a burst
 * (a chunk live near the top pins everything below it), which the soak
 * measured as RSS that rises at every new peak and never comes back
 * (docs/design/mem.md). Here a burst's memory is given back once its
 * blocks are free and a scheduler goes idle.
 *
 * Any thread may call alloc and free: with its scheduler's cache, or with
 * NULL (a thread outside the runtime, destroy), which goes to the central
 * lists directly. Blocks are 16-byte aligned. ASan builds poison a block
 * while it is free, so a use after free is reported until the block is
 * handed out again.
 */
#ifndef SWARM_MEM_POOL_H
#define SWARM_MEM_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/sanitizer.h"
#include "base/sys.h"

#define SWARM__POOL_NCLASS 53
#define SWARM__POOL_MIN_BLOCK ((size_t)64)
#define SWARM__POOL_MAX_BLOCK ((size_t)512 * 1024)  /* larger: a mapping of its own */
#define SWARM__POOL_UNIT ((size_t)64 * 1024)
#define SWARM__POOL_SEGMENT ((size_t)4 * 1024 * 1024)

/* A cache holds about this many bytes per class (at least 2 blocks). */
#define SWARM__POOL_CACHE_CLASS_BYTES ((size_t)64 * 1024)

/* Dirty units beyond this are decommitted at once, not at the next trim. */
#define SWARM__POOL_DIRTY_MAX ((size_t)16 * 1024 * 1024)

/* An idle scheduler trims at most this often (swarm__pool_idle). */
#define SWARM__POOL_IDLE_TRIM_NS ((int64_t)10 * 1000 * 1000)

/* One class of a cache: its list, count and bound in one cache line's
 * quarter (the bound is set at the first slow-path call; 0 before). */
typedef struct swarm__pool_bin {
    void *head;
    uint32_t n, max;
} swarm__pool_bin_t;

typedef struct swarm__pool_cache {
    swarm__pool_bin_t bin[SWARM__POOL_NCLASS];
    int64_t trimmed_ns; /* last swarm__pool_idle trim */
} swarm__pool_cache_t;

/* Classes of requests up to 1 KiB by (bytes + 15) / 16: most messages
 * are small, and a table load is cheaper than the arithmetic below. */
extern const uint8_t swarm__pool_small_class[65];

/* The class of a request of bytes (<= SWARM__POOL_MAX_BLOCK): 64, then
 * four per doubling: 80, 96, 112, 128, 160, ... 512 KiB. */
static inline unsigned swarm__pool_class(size_t bytes)
{
    if (SWARM_LIKELY(bytes <= 1024))
        return swarm__pool_small_class[(bytes + 15) >> 4];
    unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)(bytes - 1)); /* 2^e < bytes <= 2^(e+1) */
    size_t step = (size_t)1 << (e - 2);
    unsigned idx = (unsigned)((bytes - ((size_t)1 << e) + step - 1) >> (e - 2)); /* 1..4 */
    return (e - 6) * 4 + idx;
}

/* Blocks a cache holds per class: about SWARM__POOL_CACHE_CLASS_BYTES. */
extern const uint16_t swarm__pool_cache_max[SWARM__POOL_NCLASS];

void *swarm__pool_alloc_slow(swarm__pool_cache_t *c, size_t bytes);
void swarm__pool_free_slow(swarm__pool_cache_t *c, void *p, size_t bytes);

/* A block of at least bytes (> 0), or NULL: out of memory, or an injected
 * failure (each call ticks base/sys.h's allocation countdown once). The
 * cache hit is inline: a class computation and a list pop. (ASan builds
 * always take the slow path, which poisons.) */
static inline void *swarm__pool_alloc(swarm__pool_cache_t *c, size_t bytes)
{
#if !SWARM_ASAN
    if (SWARM_LIKELY(c && bytes <= SWARM__POOL_MAX_BLOCK && !swarm__alloc_armed())) {
        swarm__pool_bin_t *bin = &c->bin[swarm__pool_class(bytes)];
        void *b = bin->head;
        if (SWARM_LIKELY(b != NULL)) {
            bin->head = *(void **)b;
            bin->n--;
            return b;
        }
    }
#endif
    return swarm__pool_alloc_slow(c, bytes);
}

/* Give back a block; bytes is what alloc was asked for. c may differ from
 * the cache it came from (the receiver frees what the sender allocated). */
static inline void swarm__pool_free(swarm__pool_cache_t *c, void *p, size_t bytes)
{
#if !SWARM_ASAN
    if (SWARM_LIKELY(c && p && bytes <= SWARM__POOL_MAX_BLOCK)) {
        swarm__pool_bin_t *bin = &c->bin[swarm__pool_class(bytes)];
        if (SWARM_LIKELY(bin->n < bin->max)) {
            *(void **)p = bin->head;
            bin->head = p;
            bin->n++;
            return;
        }
    }
#endif
    swarm__pool_free_slow(c, p, bytes);
}

/* Empty a cache into the central lists (an idle scheduler, destroy). */
void swarm__pool_flush(swarm__pool_cache_t *c);

/* Give memory back to the kernel: dirty units are decommitted and empty
 * segments unmapped; with all, the one empty slab each class keeps is
 * released first (destroy: nothing stays mapped). */
void swarm__pool_trim(int all);

/* A scheduler about to sleep: flush its cache and trim (not all: a class
 * keeps its one empty slab, so a quiet server that parks between requests
 * makes no syscall and takes no page fault for its next message). Rate
 * limited to once per SWARM__POOL_IDLE_TRIM_NS, unless last: the swarm's
 * last scheduler going to sleep, after which nobody may park again for a
 * long time. A burst's memory is therefore back when the swarm goes quiet,
 * or at a busy swarm's next park 10 ms on; until then at most
 * SWARM__POOL_DIRTY_MAX of it stays committed. */
void swarm__pool_idle(swarm__pool_cache_t *c, int64_t now_ns, int last);

/* What the pool holds, for tests and the soak. */
typedef struct swarm__pool_stats {
    size_t segments;     /* mapped segments */
    size_t slabs;        /* slabs in use (by blocks out, cached or kept) */
    size_t slab_bytes;   /* the units of those slabs (committed as they are used) */
    size_t dirty_bytes;  /* free units not decommitted yet */
    size_t huge_blocks;  /* blocks with a mapping of their own */
    size_t huge_bytes;
} swarm__pool_stats_t;
void swarm__pool_stats(swarm__pool_stats_t *out);

/* The class size a request of bytes is rounded up to (bytes <=
 * SWARM__POOL_MAX_BLOCK); exposed for tests. */
size_t swarm__pool_block_size(size_t bytes);

#endif
