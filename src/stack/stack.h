/*
 * stack/stack.h - the stack arena: stable-address, guarded process stacks.
 *
 * Stacks come in power-of-two size classes (SWARM_MIN_STACK_SIZE ..
 * SWARM_MAX_STACK_SIZE). Each class reserves address space in large chunks
 * (one mmap each, PROT_READ|WRITE, MAP_NORESERVE, MADV_NOHUGEPAGE) and cuts
 * them into slots of the class size. A slot never moves while a process
 * uses it (invariant 1), so a parked process may resume on any
 * scheduler.
 *
 * Below every stack lies its guard region, SWARM__STACK_GUARD_SIZE bytes
 * (invariant 2), installed once when the slot is first handed out:
 *   MADVISE  - madvise(MADV_GUARD_INSTALL): no VMA per stack (Linux >= 6.13);
 *   MPROTECT - mprotect(PROT_NONE) while the budget derived from
 *              /proc/sys/vm/max_map_count lasts, then CANARY for the rest;
 *   CANARY   - no protection: the region is dead space, and a canary word
 *              at the stack's low end is checked by swarm__stack_check() at
 *              every switch-out.
 * Every chunk also starts with a floor guard of the same size (a guard
 * marker, or PROT_NONE in the other modes), so that an overflow running
 * down through CANARY slots faults inside the arena.
 * AUTO picks MADVISE if the kernel accepts it and a probe sees it trap,
 * else MPROTECT likewise, else CANARY. The choice is made once per arena
 * and reported by swarm__stack_info().
 *
 * Freed slots go to a per-scheduler warm cache (LIFO, pages still
 * committed): a steady-state spawn makes no syscall. A slot that
 * overflowed is decommitted at free instead (swarm__stack_free_deep). When a cache overflows,
 * half of it moves to a shared warm list, then to the dirty list (free,
 * still committed, up to a limit); swarm__stack_scavenge() - called when a
 * scheduler is about to sleep - decommits dirty slots in batches
 * (MADV_DONTNEED over merged address-contiguous runs; guards survive
 * DONTNEED) onto the cold list. Past the dirty limit a batch is decommitted
 * at once.
 *
 * Threading: swarm__stack_alloc/free with cache index i must only be called
 * by the one thread that owns cache i (a scheduler). SWARM__STACK_NO_CACHE
 * may be used from any thread (it takes the arena lock).
 *
 * Sanitizer builds (SWARM_SANITIZED, base/sanitizer.h) keep no warm cache, so ASan sees
 * every reuse; decommit still happens.
 */
#ifndef SWARM_STACK_STACK_H
#define SWARM_STACK_STACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "swarmrt/runtime.h"

#define SWARM__STACK_NO_CACHE ((unsigned)-1)
#define SWARM__STACK_CANARY 0x5357524d43414e59ull /* "SWRMCANY" */

/* Bytes of guard below every stack (rounded up to a page; at least one).
 * A frame smaller than this cannot step over the guard into the next slot
 * even from the very bottom of its stack. With MADVISE it costs no VMA and
 * no memory beyond page-table entries (docs/design/stack.md has the
 * figures); with MPROTECT a PROT_NONE region of any size costs the same
 * two VMAs. */
#define SWARM__STACK_GUARD_SIZE ((size_t)64 * 1024)

/* Slot layout (stacks grow down), G = the arena's guard size:
 *
 *   lo            base = lo + G                       top = base + class size
 *   | guard, G bytes | [canary 16 B, CANARY slots only] usable stack ... |
 *
 * The guard region is reserved in every mode. In CANARY slots nothing
 * protects it: it is dead space that absorbs an overflow of up to G bytes
 * before a neighbour is hit, and the canary sits at base. Usable space is
 * [base, top) for guarded slots and [base + 16, top) for CANARY slots:
 * the whole class size. Slots follow each other at a stride of G + class
 * size. */
typedef struct swarm__stack {
    void *lo;    /* lowest address of the slot (the guard region starts here) */
    void *base;  /* lo + G: lowest usable address, or the canary's address
                    when guard == SWARM_GUARD_CANARY (usable from base + 16) */
    void *top;   /* one past the highest usable address (16-byte aligned) */
    uint8_t cls; /* size class index */
    uint8_t guard; /* swarm_guard_mode_t actually protecting this slot */
    uint8_t slow;  /* set by swarm__stack_alloc: 1 if this hand-out took the
                      arena's slow path (its lock, maybe system calls to map
                      and guard a slot), 0 for the owner's warm list */
    uint32_t slot; /* arena-internal slot id (do not change) */
} swarm__stack_t;

typedef struct swarm__stack_arena swarm__stack_arena_t;

typedef struct swarm__stack_info {
    swarm_guard_mode_t mode;   /* chosen mode (never AUTO) */
    uint32_t mprotect_budget;  /* slots that may get an mprotect guard */
    uint32_t mprotect_used;
    uint64_t slots_created;    /* slots ever handed out fresh */
    uint64_t slots_live;       /* currently allocated */
    uint64_t slots_warm;       /* in warm caches */
    uint64_t slots_cold;       /* decommitted, in the cold lists */
    uint64_t slots_dirty;      /* free but still committed, awaiting scavenge */
    uint64_t decommit_calls;   /* madvise(DONTNEED) calls made */
    uint64_t reserved_bytes;   /* address space reserved */
    /* Added after the first version of this interface: */
    uint64_t canary_fallbacks; /* MPROTECT mode: slots that got a canary because
                                  the budget was spent or mprotect failed */
    uint32_t chunks;           /* chunks (reservations) made */
    uint8_t strict_commit;     /* chunks reserved PROT_NONE, committed per slot
                                  (vm.overcommit_memory == 2) */
    size_t guard_size;         /* bytes of guard below every stack */
    uint8_t guard_verified;    /* the start-up probe saw mode's guard trap */
    uint8_t guard_rejected;    /* 1 << m for each mode m AUTO tried and dropped */
    uint8_t guard_no_trap;     /* of which: accepted by the kernel, did not trap */
} swarm__stack_info_t;

/* Create an arena for up to max_slots live stacks in total, with ncaches
 * per-scheduler warm caches. mode = requested guard mode.
 * AUTO, MADVISE and MPROTECT install their guard once on a scratch page
 * here and check that it traps (an access from the kernel must fail with
 * EFAULT); AUTO steps down the ladder MADVISE -> MPROTECT -> CANARY until
 * one does. Returns 0, SWARM_ENOMEM, SWARM_ENOSYS (MADVISE or MPROTECT
 * requested but refused by the kernel or not trapping), SWARM_EINVAL
 * (max_slots 0, ncaches > 4096, unknown mode). */
int swarm__stack_arena_create(swarm__stack_arena_t **out, uint32_t max_slots,
                              unsigned ncaches, swarm_guard_mode_t mode);

/* Unmap everything. No stack may be in use. */
void swarm__stack_arena_destroy(swarm__stack_arena_t *a);

/* Round a requested size to its class size (0 -> SWARM_DEFAULT_STACK_SIZE).
 * Returns 0 for sizes above SWARM_MAX_STACK_SIZE. (With pages above 4 KiB
 * an arena hands out at least 4 pages per slot, so a larger class.) */
size_t swarm__stack_class_size(size_t size);

/* Hand out a stack of at least size bytes (slot size incl. guard).
 * Returns 0, SWARM_EAGAIN (max_slots reached), SWARM_ENOMEM (mmap/guard failed),
 * SWARM_EINVAL (size too large). */
int swarm__stack_alloc(swarm__stack_arena_t *a, unsigned cache, size_t size, swarm__stack_t *out);

/* Return a stack. The contents are garbage afterwards. */
void swarm__stack_free(swarm__stack_arena_t *a, unsigned cache, const swarm__stack_t *s);

/* Return a stack whose pages are all committed - its process overflowed
 * it (the overflow ran down to the guard) - or that ran deep: it is
 * decommitted now (guard region included, one madvise) and goes to the
 * cold list, not to a warm cache. A warm slot keeps the pages its last
 * owner touched and is reused LIFO, so without this every overflow would
 * leave a fully committed slot in a cache, and a workload that keeps
 * overflowing would fill every warm slot (WARM_BYTES per cache) with them:
 * RSS that grows for as long as the caches have room. Any thread. */
void swarm__stack_free_deep(swarm__stack_arena_t *a, const swarm__stack_t *s);

/* Give back the pages of n stacks in use whose contents are dead (a
 * hibernating process's; a compacted one's, its live bytes copied out):
 * madvise(MADV_DONTNEED) of each usable stack, the page of a CANARY slot's
 * canary kept. The slots and their guards stay, and the pages read as
 * zeros until touched again. n <= SWARM__STACK_DROP_MAX; st is sorted by
 * address in place, and one madvise covers each run of adjacent slots
 * whose guards are MADVISE markers (which survive it), so a batch of
 * neighbours costs one system call and one TLB shootdown, not n. ok (may
 * be NULL) tells, in the sorted order, whether st[i]'s pages were given
 * back (0: the kernel refused; nothing of that stack changed). Called by
 * whoever holds the processes (their scheduler, or a sweeper holding
 * their wake tokens). */
#define SWARM__STACK_DROP_MAX 64
void swarm__stack_drop_many(const swarm__stack_t **st, unsigned n, unsigned char *ok);

/* Decommit every warm cache's pages (shutdown, memory pressure). cache may be
 * SWARM__STACK_NO_CACHE to flush all caches (only when no scheduler runs). */
void swarm__stack_trim(swarm__stack_arena_t *a, unsigned cache);

/* For CANARY slots: 0 if the canary is intact, -1 if overwritten. Other
 * modes: always 0. Cheap (one load). */
static inline int swarm__stack_check(const swarm__stack_t *s)
{
    if (s->guard != SWARM_GUARD_CANARY)
        return 0;
    return *(const volatile uint64_t *)s->base == SWARM__STACK_CANARY ? 0 : -1;
}

/* Nonzero if addr lies in the guard region of some slot of this arena
 * (used by the fault handler to tell a stack overflow from another fault).
 * Async-signal-safe. */
int swarm__stack_is_guard(swarm__stack_arena_t *a, uintptr_t addr);

/* Nonzero if addr lies anywhere in this arena's reserved chunks (slots,
 * guards, floors, set up or not). The fault handler ends the running
 * process with stack_overflow for such a fault: no other code touches the
 * arena. Async-signal-safe. */
int swarm__stack_arena_contains(swarm__stack_arena_t *a, uintptr_t addr);

/* The arena's guard size (SWARM__STACK_GUARD_SIZE rounded to pages). */
size_t swarm__stack_guard_size(swarm__stack_arena_t *a);

void swarm__stack_info(swarm__stack_arena_t *a, swarm__stack_info_t *out);

/* Pages of the arena (all chunks, guards included) that are resident now,
 * asked of the kernel with mincore() (swarm__resident_pages): what the
 * arena adds to RSS. For tests and diagnostics. Any thread. */
uint64_t swarm__stack_resident_pages(swarm__stack_arena_t *a);

/* Set the number of slots of this arena that may get an mprotect guard
 * (MPROTECT mode; default: 40% of vm.max_map_count / 2 minus a margin,
 * shared by all arenas of the OS process). Slots handed out fresh after the
 * budget is spent get a canary. For tests and tuning; n below the number
 * already used just closes the budget. Context: any thread, no scheduler
 * running. */
void swarm__stack_set_mprotect_budget(swarm__stack_arena_t *a, uint32_t n);

/* Decommit every free slot that is still committed (the dirty list): call
 * off the hot path, e.g. when a scheduler is about to sleep. Any thread. */
void swarm__stack_scavenge(swarm__stack_arena_t *a);

/* Tests: how many free slots may stay committed beyond the warm tiers
 * (0: decommit on overflow at once). */
void swarm__stack_set_dirty_limit(swarm__stack_arena_t *a, uint32_t n);

/* Tests: set every class's warm lists (per cache and shared) to n slots
 * (clamped to the compiled limits), sanitizer builds included. Call before
 * any stack is freed. */
void swarm__stack_set_warm_limit(swarm__stack_arena_t *a, uint32_t n);

/* Force (on = 1) or forbid (on = 0) strict-commit chunks, whatever
 * /proc/sys/vm/overcommit_memory says (on = -1 restores detection). Affects
 * chunks reserved afterwards: strict chunks are mapped PROT_NONE and each
 * slot is committed with mprotect when first handed out, so that overcommit
 * mode 2 charges only slots in use. For tests. Context: as above. */
void swarm__stack_set_strict_commit(swarm__stack_arena_t *a, int on);

#endif
