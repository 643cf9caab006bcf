/*
 * tests/pool_test.c - the block pool (src/mem/pool.h): size classes,
 * memory given back after a burst, blocks freed on other threads than
 * the one that took them, failures of the kernel calls underneath.
 *
 * Each case runs in its own process (ctest), so the pool, which is
 * process-wide, starts empty: the counts below are exact.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/sanitizer.h"
#include "base/sys.h"
#include "mem/pool.h"
#include "test.h"

static swarm__pool_stats_t stats(void)
{
    swarm__pool_stats_t st;
    swarm__pool_stats(&st);
    return st;
}

static void check_empty(void)
{
    swarm__pool_stats_t st = stats();
    CHECK_EQ(st.segments, 0);
    CHECK_EQ(st.slabs, 0);
    CHECK_EQ(st.dirty_bytes, 0);
    CHECK_EQ(st.huge_blocks, 0);
    CHECK_EQ(st.huge_bytes, 0);
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != NULL);
    unsigned long size = 0, res = 0;
    CHECK_EQ(fscanf(f, "%lu %lu", &size, &res), 2);
    fclose(f);
    return (size_t)res * swarm__page_size();
}

#define MiB ((size_t)1 << 20)

/* Every request fits its class, rounded up by at most a quarter (64 B at
 * the bottom), to a multiple of 16; classes grow with the request. */
TEST(classes)
{
    size_t prev = 0;
    for (size_t b = 1; b <= SWARM__POOL_MAX_BLOCK; b += (b < 4096 ? 1 : b / 97)) {
        size_t c = swarm__pool_block_size(b);
        CHECK_CMP(c, >=, b);
        CHECK_EQ(c % 16, 0);
        if (b > SWARM__POOL_MIN_BLOCK)
            CHECK_CMP(c, <=, b + b / 4);
        else
            CHECK_EQ(c, SWARM__POOL_MIN_BLOCK);
        CHECK_CMP(c, >=, prev);
        CHECK_EQ(swarm__pool_block_size(c), c); /* a class size is its own class */
        if (b <= 1024) { /* the small-size table agrees with the arithmetic */
            unsigned k = 0;
            if (b > 64) {
                unsigned e = 63u - (unsigned)__builtin_clzll((unsigned long long)(b - 1));
                k = (e - 6) * 4 + (unsigned)((b - ((size_t)1 << e) + ((size_t)1 << (e - 2)) - 1) >> (e - 2));
            }
            CHECK_EQ(swarm__pool_class(b), k);
        }
        size_t want = SWARM__POOL_CACHE_CLASS_BYTES / c;
        CHECK_EQ(swarm__pool_cache_max[swarm__pool_class(b)], want < 2 ? 2 : want); /* the precomputed table */
        prev = c;
    }
    CHECK_EQ(swarm__pool_block_size(SWARM__POOL_MAX_BLOCK), SWARM__POOL_MAX_BLOCK);
}

/* Blocks of every class and some huge ones: aligned, disjoint (each keeps
 * its own pattern until all are checked), and all of it goes back. */
TEST(alloc_free_all_sizes)
{
    uint64_t rng = test_seed();
    enum { N = 3000 };
    static unsigned char *blk[N];
    static size_t len[N];
    swarm__pool_cache_t cache = {0};
    for (int i = 0; i < N; i++) {
        uint64_t r = test_rand(&rng);
        len[i] = r % 16 == 0 ? SWARM__POOL_MAX_BLOCK - 100 + (size_t)(r >> 32) % 300000 /* some huge */
                 : r % 4 == 0 ? 1 + (size_t)(r >> 32) % 100000
                              : 1 + (size_t)(r >> 32) % 2000;
        blk[i] = swarm__pool_alloc(i % 2 ? &cache : NULL, len[i]);
        CHECK(blk[i] != NULL);
        CHECK_EQ((uintptr_t)blk[i] % 16, 0);
        memset(blk[i], (int)(i & 0xff), len[i]);
    }
    swarm__pool_stats_t st = stats();
    CHECK_CMP(st.huge_blocks, >, 0);
    CHECK_CMP(st.segments, >, 0);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(blk[i][0], (unsigned char)(i & 0xff));
        CHECK_EQ(blk[i][len[i] - 1], (unsigned char)(i & 0xff));
        CHECK_EQ(blk[i][len[i] / 2], (unsigned char)(i & 0xff));
    }
    for (int i = 0; i < N; i++)
        swarm__pool_free(i % 3 ? &cache : NULL, blk[i], len[i]);
    CHECK_EQ(stats().huge_blocks, 0);
    swarm__pool_flush(&cache);
    swarm__pool_trim(1);
    check_empty();
}

static int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

/* The soak's finding (docs/design/mem.md): after a burst, memory must go
 * back even while a few blocks of it are still live. Here one block per
 * segment stays: it pins its unit, not its segment (glibc's heap would
 * keep everything below its highest live chunk). */
TEST(burst_given_back)
{
    const size_t total = 64 * MiB, each = 1000;
    size_t n = total / each;
    void **blk = malloc(n * sizeof *blk);
    CHECK(blk != NULL);
    swarm__pool_cache_t cache = {0};
    size_t rss0 = rss_bytes();
    for (size_t i = 0; i < n; i++) {
        blk[i] = swarm__pool_alloc(&cache, each);
        CHECK(blk[i] != NULL);
        memset(blk[i], 0x5a, each);
    }
    size_t rss1 = rss_bytes();
    CHECK_CMP(rss1, >=, rss0 + total - 4 * MiB);
    size_t segs = stats().segments;
    CHECK_CMP(segs, >=, total / SWARM__POOL_SEGMENT);

    /* Keep the first block of each segment, free the others. */
    qsort(blk, n, sizeof *blk, by_address);
    size_t kept = 0;
    uintptr_t seg = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t s = (uintptr_t)blk[i] & ~(uintptr_t)(SWARM__POOL_SEGMENT - 1);
        if (s != seg) {
            seg = s;
            blk[kept++] = blk[i];
        } else {
            swarm__pool_free(&cache, blk[i], each);
        }
    }
    CHECK_EQ(kept, segs);
    /* Without a trim, no more than the dirty limit stays committed. */
    CHECK_CMP(stats().dirty_bytes, <=, SWARM__POOL_DIRTY_MAX);
    swarm__pool_flush(&cache);
    swarm__pool_trim(0);
    swarm__pool_stats_t st = stats();
    CHECK_EQ(st.segments, segs);
    CHECK_EQ(st.dirty_bytes, 0);
    CHECK_CMP(st.slabs, <=, kept + 1); /* a pinned slab each, and the class's kept one */
    size_t rss2 = rss_bytes();
    printf("rss: before %zu KiB, burst %zu KiB, %zu blocks pinned %zu KiB\n", rss0 >> 10, rss1 >> 10, kept,
           rss2 >> 10);
    if (!SWARM_SANITIZED) /* (sanitizers keep shadow pages for what was touched) */
        CHECK_CMP(rss2, <=, rss0 + kept * SWARM__POOL_UNIT + 2 * MiB);
    CHECK_CMP(rss2 + total / 2, <=, rss1);

    for (size_t i = 0; i < kept; i++)
        swarm__pool_free(&cache, blk[i], each);
    swarm__pool_flush(&cache);
    swarm__pool_trim(1);
    check_empty();
    if (!SWARM_SANITIZED)
        CHECK_CMP(rss_bytes(), <=, rss0 + 2 * MiB);
    free(blk);
}

/* One message in flight at a time: its class keeps one empty slab, so a
 * quiet loop maps nothing again and trims to nothing left dirty. */
TEST(one_in_flight_keeps_one_slab)
{
    swarm__pool_cache_t a = {0}, b = {0};
    for (int i = 0; i < 10000; i++) {
        void *p = swarm__pool_alloc(&a, 200);
        CHECK(p != NULL);
        swarm__pool_free(&b, p, 200);
        if (i % 100 == 0) {
            swarm__pool_flush(&a);
            swarm__pool_flush(&b);
            swarm__pool_trim(0);
            swarm__pool_stats_t st = stats();
            CHECK_EQ(st.segments, 1);
            CHECK_EQ(st.slabs, 1);
            CHECK_EQ(st.dirty_bytes, 0);
        }
    }
    swarm__pool_flush(&a);
    swarm__pool_flush(&b);
    swarm__pool_trim(1);
    check_empty();
}

/* ---- blocks crossing threads ----
 * THREADS threads, each with its own cache, pass blocks through a shared
 * queue: each block is taken on one thread and given back on another,
 * carrying its size and a pattern derived from its serial number. Every
 * block made is checked and freed exactly once. */
#define THREADS 4
#define QCAP 1024
static struct {
    pthread_mutex_t lock;
    unsigned char *q[QCAP];
    size_t qlen[QCAP];
    unsigned head, n;
} xq = {.lock = PTHREAD_MUTEX_INITIALIZER};
static _Atomic uint64_t made, checked;
static uint64_t xseed;

struct xhdr {
    uint64_t serial;
    size_t len;
};

static void check_block(unsigned char *p, size_t len)
{
    struct xhdr h;
    memcpy(&h, p, sizeof h);
    CHECK_EQ(h.len, len);
    for (size_t i = sizeof h; i < len; i += 61)
        CHECK_EQ(p[i], (unsigned char)(h.serial * 31 + i));
    if (len > sizeof h)
        CHECK_EQ(p[len - 1], (unsigned char)(h.serial * 31 + len - 1));
}

static void *crosser(void *arg)
{
    uint64_t rng = xseed ^ ((uintptr_t)arg * 0x9E3779B97F4A7C15ull);
    swarm__pool_cache_t cache = {0};
    long iters = test_scale(200000);
    for (long it = 0; it < iters; it++) {
        uint64_t r = test_rand(&rng);
        if (r % 2) {
            size_t len = sizeof(struct xhdr) + (r % 64 == 1    ? (size_t)(r >> 20) % 200000
                                                : r % 8 == 1 ? (size_t)(r >> 20) % 4000
                                                             : (size_t)(r >> 20) % 200);
            unsigned char *p = swarm__pool_alloc(&cache, len);
            CHECK(p != NULL);
            struct xhdr h = {atomic_fetch_add(&made, 1), len};
            memcpy(p, &h, sizeof h);
            for (size_t i = sizeof h; i < len; i++)
                p[i] = (unsigned char)(h.serial * 31 + i);
            pthread_mutex_lock(&xq.lock);
            if (xq.n < QCAP) {
                unsigned at = (xq.head + xq.n++) % QCAP;
                xq.q[at] = p;
                xq.qlen[at] = len;
                p = NULL;
            }
            pthread_mutex_unlock(&xq.lock);
            if (p) { /* queue full: check and free it here */
                check_block(p, len);
                swarm__pool_free(&cache, p, len);
                atomic_fetch_add(&checked, 1);
            }
        } else {
            unsigned char *p = NULL;
            size_t len = 0;
            pthread_mutex_lock(&xq.lock);
            if (xq.n) {
                p = xq.q[xq.head];
                len = xq.qlen[xq.head];
                xq.head = (xq.head + 1) % QCAP;
                xq.n--;
            }
            pthread_mutex_unlock(&xq.lock);
            if (p) {
                check_block(p, len);
                swarm__pool_free(&cache, p, len);
                atomic_fetch_add(&checked, 1);
            }
        }
    }
    swarm__pool_flush(&cache);
    return NULL;
}

TEST(cross_thread)
{
    xseed = test_seed();
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, crosser, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    while (xq.n) {
        check_block(xq.q[xq.head], xq.qlen[xq.head]);
        swarm__pool_free(NULL, xq.q[xq.head], xq.qlen[xq.head]);
        xq.head = (xq.head + 1) % QCAP;
        xq.n--;
        atomic_fetch_add(&checked, 1);
    }
    printf("blocks made %llu, checked and freed %llu\n", (unsigned long long)made, (unsigned long long)checked);
    CHECK_CMP(made, >, 0);
    CHECK_EQ(checked, made);
    swarm__pool_trim(1);
    check_empty();
}

/* ---- failures underneath ---- */

static void *mmap_fails(void *a, size_t n, int p, int f, int fd, off_t o)
{
    (void)a, (void)n, (void)p, (void)f, (void)fd, (void)o;
    return MAP_FAILED;
}

static int madvise_fails(void *a, size_t n, int advice)
{
    (void)a, (void)n;
    return advice == MADV_DONTNEED ? -1 : 0;
}

TEST(failures)
{
    swarm__pool_cache_t cache = {0};
    /* The allocation countdown: the N-th allocation fails, cache or not. */
    void *p = swarm__pool_alloc(&cache, 100);
    CHECK(p != NULL);
    swarm__pool_free(&cache, p, 100);
    atomic_store(&swarm__alloc_fail_at, 1);
    CHECK(swarm__pool_alloc(&cache, 100) == NULL); /* a cache hit, refused all the same */
    p = swarm__pool_alloc(&cache, 100);
    CHECK(p != NULL);
    swarm__pool_free(&cache, p, 100);
    swarm__pool_flush(&cache);
    swarm__pool_trim(1);
    check_empty();

    /* No memory from the kernel: NULL, and nothing half-made left. */
    SWARM__SYS_SET(mmap, mmap_fails);
    CHECK(swarm__pool_alloc(&cache, 100) == NULL);
    CHECK(swarm__pool_alloc(NULL, 3000) == NULL);
    CHECK(swarm__pool_alloc(&cache, SWARM__POOL_MAX_BLOCK + 1) == NULL);
    swarm__sys_reset();
    check_empty();

    /* madvise refused: the units stay dirty (counted), and a later trim
     * with madvise working gives them back. */
    void *big[64];
    for (int i = 0; i < 64; i++)
        CHECK((big[i] = swarm__pool_alloc(NULL, 100000)) != NULL);
    SWARM__SYS_SET(madvise, madvise_fails);
    for (int i = 1; i < 64; i++) /* big[0] keeps its segment mapped */
        swarm__pool_free(NULL, big[i], 100000);
    swarm__pool_trim(0);
    CHECK_CMP(stats().dirty_bytes, >, 0);
    swarm__sys_reset();
    swarm__pool_trim(0);
    CHECK_EQ(stats().dirty_bytes, 0);
    CHECK_EQ(stats().segments, 1);
    swarm__pool_free(NULL, big[0], 100000);
    swarm__pool_trim(1);
    check_empty();
}

/* ASan builds: a free block, and a block's tail past the size asked for,
 * are poisoned (elsewhere the check has nothing to look at). */
TEST(asan_poison)
{
#if SWARM_ASAN
    swarm__pool_cache_t cache = {0};
    unsigned char *p = swarm__pool_alloc(&cache, 40);
    CHECK(p != NULL);
    CHECK(!__asan_address_is_poisoned(p));
    CHECK(!__asan_address_is_poisoned(p + 39));
    CHECK(__asan_address_is_poisoned(p + 40));
    swarm__pool_free(&cache, p, 40);
    CHECK(__asan_address_is_poisoned(p));
    swarm__pool_flush(&cache);
    CHECK(__asan_address_is_poisoned(p));
    swarm__pool_trim(1);
    check_empty();
#else
    printf("not an ASan build: nothing to check\n");
#endif
}

TEST_MAIN(TEST_ENTRY(classes), TEST_ENTRY(alloc_free_all_sizes), TEST_ENTRY(burst_given_back),
          TEST_ENTRY(one_in_flight_keeps_one_slab), TEST_ENTRY(cross_thread, TEST_CONCURRENCY),
          TEST_ENTRY(failures), TEST_ENTRY(asan_poison))
