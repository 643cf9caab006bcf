/*
 * sched/compact.c - stack compaction of long-parked processes
 * (sched/compact.h, docs/design/compact.md).
 */
#include "sched/compact.h"

#include "base/sys.h"
#include "mbox/mailbox.h"
#include "sched/sched.h"

/* Sweeps come at most this often (ms); a process is compacted between
 * compact_after_ms and compact_after_ms + SWEEP_MS after it parked, if a
 * scheduler goes idle meanwhile. */
#define SWEEP_MS 50

static swarm__compact_t *entry(swarm_t *sw, swarm__proc_t *p) { return &sw->ptable.compact[p->index]; }

void swarm__compact_spawn(swarm_t *sw, swarm__proc_t *p, uint32_t after_ms)
{
    /* A process without it leaves its entry alone (no cache line, no
     * page of the side array touched per spawn): an entry is zero unless
     * a process with SWARM__PF_COMPACT holds the slot, as
     * swarm__compact_exit zeroes it again. */
    if (!after_ms)
        return;
    swarm__compact_t *c = entry(sw, p);
    p->flags |= SWARM__PF_COMPACT;
    atomic_store_explicit(&c->after_ms, after_ms, memory_order_relaxed);
    atomic_fetch_add_explicit(&sw->compact_procs, 1, memory_order_relaxed);
}

void swarm__compact_exit(swarm_t *sw, swarm__proc_t *p)
{
    if (p->flags & SWARM__PF_COMPACTED)
        swarm__compact_restore(sw, p);
    if (!(p->flags & SWARM__PF_COMPACT))
        return;
    swarm__compact_t *c = entry(sw, p);
    atomic_store_explicit(&c->ok_seq, 0, memory_order_relaxed);
    atomic_store_explicit(&c->after_ms, 0, memory_order_relaxed);
    p->flags &= (uint16_t)~SWARM__PF_COMPACT;
    atomic_fetch_sub_explicit(&sw->compact_procs, 1, memory_order_relaxed);
}

void swarm__compact_park_slow(swarm_t *sw, swarm__proc_t *p)
{
    swarm__compact_t *c = entry(sw, p);
    if (++c->ok_next == 0)
        c->ok_next = 1;
    /* relaxed: the park's commit (a seq_cst CAS of the mailbox head)
     * orders it before a sweeper's claim of the token. */
    atomic_store_explicit(&c->ok_seq, c->ok_next, memory_order_relaxed);
}

void swarm__compact_unpark_slow(swarm_t *sw, swarm__proc_t *p)
{
    atomic_store_explicit(&entry(sw, p)->ok_seq, 0, memory_order_relaxed);
}

/* Copies of stack bytes, the sanitizers not told: ASan poisons the red
 * zones of the frames on a stack, and these copies take the frames whole
 * (volatile: no memcpy call, which ASan intercepts). */
__attribute__((no_sanitize("address", "thread"), noinline)) static void copy_raw(void *to, const void *from, size_t n)
{
    volatile unsigned char *d = to;
    const volatile unsigned char *s = from;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
}

void swarm__compact_restore(swarm_t *sw, swarm__proc_t *p)
{
    swarm__compact_t *c = entry(sw, p);
    copy_raw(p->sp, c->stash, c->stash_len);
    atomic_fetch_sub_explicit(&sw->compact_saved, c->stash_len, memory_order_relaxed);
    swarm__free(c->stash);
    c->stash = NULL;
    c->stash_len = 0;
    p->flags &= (uint16_t)~SWARM__PF_COMPACTED;
}

/* Compact p (its token taken, parked in an ok wait), all but giving its
 * pages back, which the sweep does for a batch at once: 1 done, 0 not
 * (not worth it, or no memory: p is left as it was). */
static int compact_prepare(swarm_t *sw, swarm__proc_t *p)
{
    uintptr_t sp = (uintptr_t)p->sp, top = (uintptr_t)p->stack.top;
    size_t page = swarm__page_size();
    uintptr_t lo = (uintptr_t)p->stack.base;
    if (p->stack.guard == SWARM_GUARD_CANARY)
        lo += page; /* the canary's page stays */
    size_t len = top - sp;
    if (sp < lo || top - lo < 2 * page || len > (top - lo) / 2)
        return 0; /* nothing worth it: the live part is most of the stack */
    void *stash = swarm__malloc(len);
    if (!stash)
        return 0;
    copy_raw(stash, (void *)sp, len);
    swarm__compact_t *c = entry(sw, p);
    c->stash = stash;
    c->stash_len = (uint32_t)len;
    p->flags |= SWARM__PF_COMPACTED;
    return 1;
}

/* The kernel kept p's pages: p is not compacted after all. */
static void compact_undo(swarm_t *sw, swarm__proc_t *p)
{
    swarm__compact_t *c = entry(sw, p);
    swarm__free(c->stash);
    c->stash = NULL;
    c->stash_len = 0;
    p->flags &= (uint16_t)~SWARM__PF_COMPACTED;
}

/* The processes a sweep holds (their tokens taken), and the stacks of
 * those it compacted, whose pages go back in one batch. */
typedef struct batch {
    swarm__proc_t *held[SWARM__STACK_DROP_MAX];
    const swarm__stack_t *drop[SWARM__STACK_DROP_MAX];
    unsigned nheld, ndrop;
} batch_t;

static void batch_flush(swarm_t *sw, batch_t *b)
{
    unsigned char ok[SWARM__STACK_DROP_MAX];
    swarm__stack_drop_many(b->drop, b->ndrop, ok);
    for (unsigned i = 0; i < b->ndrop; i++) {
        swarm__proc_t *p = SWARM_CONTAINER_OF(b->drop[i], swarm__proc_t, stack);
        if (!ok[i]) {
            compact_undo(sw, p);
            continue;
        }
        /* Counted once its pages are gone (what the tests wait for). */
        atomic_fetch_add_explicit(&sw->compactions, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sw->compact_saved, entry(sw, p)->stash_len, memory_order_relaxed);
    }
    for (unsigned i = 0; i < b->nheld; i++)
        swarm__sched_let_go(b->held[i]);
    b->nheld = b->ndrop = 0;
}

int64_t swarm__compact_sweep(swarm__sched_t *s)
{
    swarm_t *sw = s->swarm;
    if (sw->deterministic || !atomic_load_explicit(&sw->compact_procs, memory_order_relaxed))
        return INT64_MAX;
    int64_t now = swarm__now_ms(sw);
    int64_t due = atomic_load_explicit(&sw->compact_due, memory_order_relaxed);
    if (now < due)
        return due;
    int idle = 0;
    if (!atomic_compare_exchange_strong(&sw->compact_busy, &idle, 1))
        return now + SWEEP_MS; /* another scheduler sweeps */
    int64_t next = INT64_MAX;
    batch_t b;
    b.nheld = b.ndrop = 0;
    uint32_t used = swarm__ptable_used(&sw->ptable);
    for (uint32_t i = 0; i < used; i++) {
        swarm__compact_t *c = &sw->ptable.compact[i];
        uint32_t after = atomic_load_explicit(&c->after_ms, memory_order_relaxed);
        uint32_t seq = after ? atomic_load_explicit(&c->ok_seq, memory_order_relaxed) : 0;
        if (!seq)
            continue;
        if (seq != c->seen_seq) { /* parked since the last look: the clock starts */
            c->seen_seq = seq;
            c->seen_ms = now;
        }
        if (c->seen_ms == INT64_MIN)
            continue; /* compacted (or found not worth it) in this wait already */
        if (now - c->seen_ms < (int64_t)after) {
            if (c->seen_ms + after < next)
                next = c->seen_ms + after;
            continue;
        }
        swarm__proc_t *p = &sw->ptable.procs[i];
        if (!swarm__mbox_claim(&p->mbox))
            continue; /* running, or being woken */
        /* Ours now: nothing runs p until we let go. Still in that wait? */
        if (atomic_load_explicit(&c->ok_seq, memory_order_relaxed) != seq) {
            swarm__sched_wake(p); /* some other wait: a spurious wake-up, which it survives */
            continue;
        }
        if (!(p->flags & SWARM__PF_COMPACTED) && compact_prepare(sw, p))
            b.drop[b.ndrop++] = &p->stack;
        c->seen_ms = INT64_MIN;
        b.held[b.nheld++] = p;
        if (b.nheld == SWARM__STACK_DROP_MAX)
            batch_flush(sw, &b);
    }
    batch_flush(sw, &b);
    atomic_store_explicit(&sw->compact_due, now + SWEEP_MS, memory_order_relaxed);
    atomic_store_explicit(&sw->compact_busy, 0, memory_order_release);
    return next == INT64_MAX ? INT64_MAX : (next > now + SWEEP_MS ? next : now + SWEEP_MS);
}
