/*
 * tests/switch_test.c - the machine context switch (src/arch), alone.
 *
 * Links only src/arch/<isa>/switch.S, not the library, and is built at -O0,
 * -O2, -O3 and -O2 -flto (tests/arch.cmake): the switch is an opaque call,
 * and each optimisation level arranges the code around it differently.
 *
 * The contract checked here (see src/arch/switch.h):
 *   - a context resumes exactly where it left off, any number of times;
 *   - a fresh context enters entry(arg) with (%rsp + 8) % 16 == 0, rbp == 0,
 *     MXCSR 0x1F80 and x87 CW 0x037F, whatever its creator had set;
 *   - rbx, rbp, r12-r15, MXCSR and the x87 CW are per context;
 *   - unwinders stop at the first frame of a context.
 *
 * Sanitizer builds announce every switch to ASan/TSan the way the scheduler
 * must (ctx_go below), so this file doubles as a reference for that dance.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unwind.h>

#include "test.h"
#include "arch/switch.h"
#include "base/sanitizer.h"


#define STACK_SIZE (64 * 1024)
#define PAGE 4096

#define MXCSR_DEFAULT 0x1F80u
#define MXCSR_FLAGS 0x003Fu /* sticky exception flags: status, not control */
#define CW_DEFAULT 0x037Fu

/* ---- helpers written in assembly ------------------------------------ */

/* st_probe_entry(struct probe *p): a context entry that records rsp, rbp,
 * MXCSR and the x87 CW exactly as it found them, before any compiled code
 * can disturb them, then tail-jumps to p->next(p) with the stack untouched.
 *
 * st_regs_switch(save_sp, to_sp, pat): loads pat[0..5] into rbx, rbp,
 * r12-r15, calls swarm__ctx_switch(save_sp, to_sp), and when resumed
 * returns a bit mask of the registers that no longer hold their pattern
 * (bit 0 rbx, 1 rbp, 2 r12, 3 r13, 4 r14, 5 r15). */
void st_probe_entry(void *probe);
unsigned st_regs_switch(void **save_sp, void *to_sp, const uint64_t pat[6]);

__asm__(
    ".pushsection .text\n"
    ".globl st_probe_entry\n"
    ".hidden st_probe_entry\n"
    ".type st_probe_entry, @function\n"
    ".p2align 4\n"
    "st_probe_entry:\n"
    "  endbr64\n"
    "  movq %rsp, 0(%rdi)\n"
    "  movq %rbp, 8(%rdi)\n"
    "  stmxcsr 16(%rdi)\n"
    "  fnstcw 20(%rdi)\n"
    "  jmp *24(%rdi)\n"
    ".size st_probe_entry, .-st_probe_entry\n"
    "\n"
    ".globl st_regs_switch\n"
    ".hidden st_regs_switch\n"
    ".type st_regs_switch, @function\n"
    ".p2align 4\n"
    "st_regs_switch:\n"
    "  .cfi_startproc\n"
    "  endbr64\n"
    "  pushq %rbp\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %rbp, 0\n"
    "  pushq %rbx\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %rbx, 0\n"
    "  pushq %r12\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r12, 0\n"
    "  pushq %r13\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r13, 0\n"
    "  pushq %r14\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r14, 0\n"
    "  pushq %r15\n  .cfi_adjust_cfa_offset 8\n  .cfi_rel_offset %r15, 0\n"
    "  pushq %rdx\n  .cfi_adjust_cfa_offset 8\n" /* also aligns the call */
    "  movq 0(%rdx), %rbx\n"
    "  movq 8(%rdx), %rbp\n"
    "  movq 16(%rdx), %r12\n"
    "  movq 24(%rdx), %r13\n"
    "  movq 32(%rdx), %r14\n"
    "  movq 40(%rdx), %r15\n"
    "  call swarm__ctx_switch\n"
    "  movq (%rsp), %rdx\n"
    "  xorl %eax, %eax\n"
    "  cmpq 0(%rdx), %rbx\n  je 1f\n  orl $1, %eax\n1:\n"
    "  cmpq 8(%rdx), %rbp\n  je 1f\n  orl $2, %eax\n1:\n"
    "  cmpq 16(%rdx), %r12\n  je 1f\n  orl $4, %eax\n1:\n"
    "  cmpq 24(%rdx), %r13\n  je 1f\n  orl $8, %eax\n1:\n"
    "  cmpq 32(%rdx), %r14\n  je 1f\n  orl $16, %eax\n1:\n"
    "  cmpq 40(%rdx), %r15\n  je 1f\n  orl $32, %eax\n1:\n"
    "  addq $8, %rsp\n  .cfi_adjust_cfa_offset -8\n"
    "  popq %r15\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r15\n"
    "  popq %r14\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r14\n"
    "  popq %r13\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r13\n"
    "  popq %r12\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %r12\n"
    "  popq %rbx\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %rbx\n"
    "  popq %rbp\n  .cfi_adjust_cfa_offset -8\n  .cfi_restore %rbp\n"
    "  ret\n"
    "  .cfi_endproc\n"
    ".size st_regs_switch, .-st_regs_switch\n"
    ".popsection\n");

/* Layout shared with st_probe_entry: keep the first four fields in place. */
struct probe {
    uintptr_t rsp;           /* 0: rsp at the first instruction of entry */
    uintptr_t rbp;           /* 8 */
    uint32_t mxcsr;          /* 16 */
    uint16_t cw;             /* 20 */
    uint16_t pad;
    void (*next)(void *);    /* 24: where st_probe_entry continues */
    uint64_t magic;
    void *home;              /* context to switch back to */
    void *self;
};

_Static_assert(offsetof(struct probe, rsp) == 0 && offsetof(struct probe, rbp) == 8 &&
                   offsetof(struct probe, mxcsr) == 16 && offsetof(struct probe, cw) == 20 &&
                   offsetof(struct probe, next) == 24,
               "struct probe no longer matches st_probe_entry");

static inline uintptr_t read_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
    return sp;
}

static inline uint32_t get_mxcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

static inline void set_mxcsr(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static inline uint16_t get_cw(void)
{
    uint16_t v;
    __asm__ volatile("fnstcw %0" : "=m"(v));
    return v;
}

static inline void set_cw(uint16_t v)
{
    __asm__ volatile("fldcw %0" : : "m"(v));
}

/* ---- contexts, with the sanitizer bookkeeping a scheduler needs ------ */

typedef struct ctx {
    void *sp;       /* saved stack pointer while not running; NULL before the first run */
    void (*entry)(void *); /* the first run: entry(arg), by swarm__ctx_enter */
    void *arg;
    char *map;      /* mapping (guard page + stack), NULL for the thread's own */
    char *lo, *hi;  /* usable stack: [lo, hi) */
#if SWARM_ASAN
    void *fake_stack;
#endif
#if SWARM_TSAN
    void *fiber;
#endif
} ctx_t;

/* The context the test case started on: the OS thread's own stack. */
static void ctx_init_thread(ctx_t *c)
{
    memset(c, 0, sizeof *c);
    pthread_attr_t attr;
    void *addr;
    size_t size;
    CHECK_EQ(pthread_getattr_np(pthread_self(), &attr), 0);
    CHECK_EQ(pthread_attr_getstack(&attr, &addr, &size), 0);
    pthread_attr_destroy(&attr);
    c->lo = addr;
    c->hi = (char *)addr + size;
#if SWARM_TSAN
    c->fiber = __tsan_get_current_fiber();
#endif
}

/* A fresh context on its own guarded stack, ending top_slack bytes below
 * the top of the mapping (to test unaligned stack tops). */
static void ctx_new(ctx_t *c, void (*entry)(void *), void *arg, size_t top_slack)
{
    memset(c, 0, sizeof *c);
    c->map = mmap(NULL, STACK_SIZE + PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    CHECK(c->map != MAP_FAILED);
    CHECK_EQ(mprotect(c->map, PAGE, PROT_NONE), 0);
    c->lo = c->map + PAGE;
    c->hi = c->map + PAGE + STACK_SIZE - top_slack;
    c->entry = entry;
    c->arg = arg;
#if SWARM_TSAN
    c->fiber = __tsan_create_fiber(0);
#endif
}

static void ctx_free(ctx_t *c)
{
#if SWARM_TSAN
    if (c->map)
        __tsan_destroy_fiber(c->fiber);
#endif
    if (c->map)
        CHECK_EQ(munmap(c->map, STACK_SIZE + PAGE), 0);
    memset(c, 0, sizeof *c);
}

/* Announce a switch, immediately before it. Must be inlined into the
 * function that makes the switch: were it a call of its own, TSan would
 * record its return on the destination fiber's shadow stack (which then
 * underflows; seen with clang -O0 -fsanitize=thread). */
__attribute__((always_inline)) static inline void san_leave(ctx_t *from, ctx_t *to)
{
#if SWARM_ASAN
    __sanitizer_start_switch_fiber(&from->fake_stack, to->lo, (size_t)(to->hi - to->lo));
#endif
#if SWARM_TSAN
    __tsan_switch_to_fiber(to->fiber, 0);
#endif
    (void)from;
    (void)to;
}

/* First thing after a switch lands in self (self NULL: a fresh context). */
static inline void san_arrive(ctx_t *self)
{
#if SWARM_ASAN
    __sanitizer_finish_switch_fiber(self ? self->fake_stack : NULL, NULL, NULL);
#endif
    (void)self;
}

static void ctx_go(ctx_t *from, ctx_t *to)
{
    san_leave(from, to);
    if (!to->sp)
        swarm__ctx_enter(&from->sp, to->hi, to->entry, to->arg);
    else
        swarm__ctx_switch(&from->sp, to->sp);
    san_arrive(from);
}

static int in_stack(const ctx_t *c, uintptr_t p)
{
    return p >= (uintptr_t)c->lo && p < (uintptr_t)c->hi;
}

/* ---- roundtrip: A -> B -> A, many times, passing a value each way ----- */

static struct {
    ctx_t main, b;
    long counter;
    long token;
    long reply;
} rt;

static void rt_entry(void *arg)
{
    san_arrive(NULL);
    CHECK(arg == &rt);
    for (;;) {
        rt.counter++;
        rt.reply = rt.token * 3 + 1;
        ctx_go(&rt.b, &rt.main);
    }
}

TEST(roundtrip)
{
    long n = test_scale(1000000);
    ctx_init_thread(&rt.main);
    ctx_new(&rt.b, rt_entry, &rt, 0);
    for (long i = 0; i < n; i++) {
        CHECK_EQ(rt.counter, i);
        rt.token = i;
        ctx_go(&rt.main, &rt.b);
        CHECK_EQ(rt.counter, i + 1);
        CHECK_EQ(rt.reply, i * 3 + 1);
        /* Parked B's saved sp stays on B's stack, 16-byte aligned. */
        CHECK(in_stack(&rt.b, (uintptr_t)rt.b.sp));
        CHECK_EQ((uintptr_t)rt.b.sp % 16, 0);
    }
    ctx_free(&rt.b);
}

/* ---- entry: alignment, rbp == 0, arg, frame placement --------------- */

static ctx_t ent_main;

static void ent_continue(void *arg)
{
    struct probe *p = arg;
    san_arrive(NULL);
    CHECK_EQ(p->magic, 0x5357524d50524f42ull);
    ctx_go(p->self, p->home);
    TEST_FAIL("resumed a context that was meant to stay parked");
}

TEST(entry)
{
    ctx_init_thread(&ent_main);
    /* Every stack-top alignment: ctx_enter must round down itself. */
    for (size_t slack = 0; slack < 32; slack++) {
        ctx_t c;
        struct probe p = {0};
        p.next = ent_continue;
        p.magic = 0x5357524d50524f42ull;
        p.home = &ent_main;
        p.self = &c;
        ctx_new(&c, st_probe_entry, &p, slack);
        CHECK(c.sp == NULL); /* nothing written to the new stack yet */

        ctx_go(&ent_main, &c);
        CHECK_EQ((p.rsp + 8) % 16, 0);  /* ABI entry alignment */
        CHECK_EQ(p.rbp, 0);             /* frame-pointer walks stop here */
        CHECK(in_stack(&c, p.rsp));
        CHECK_CMP(p.rsp + 8, <=, (uintptr_t)c.hi); /* return slot below top */
        CHECK_CMP((uintptr_t)c.hi - (p.rsp + 8), <, 16); /* and nothing more */
        CHECK(in_stack(&c, (uintptr_t)c.sp)); /* parked on its own stack */
        ctx_free(&c);
    }
}

/* ---- callee_saved: rbx, rbp, r12-r15 survive the switch both ways ----- */

static struct {
    ctx_t main, b;
    long rounds;
    unsigned b_bad;
    long b_seen;
} cs;

static void cs_pattern(uint64_t pat[6], uint64_t side, long i)
{
    for (int k = 0; k < 6; k++)
        pat[k] = (0x0101010101010101ull * (uint64_t)(k + 1)) ^ (side << 56) ^ ((uint64_t)i << 12) ^ (uint64_t)k;
}

static void cs_entry(void *arg)
{
    uint64_t pat[6];
    san_arrive(NULL);
    (void)arg;
    ctx_go(&cs.b, &cs.main); /* started: park until the loop below */
    for (long i = 0;; i++) {
        cs_pattern(pat, 0xB, i);
        san_leave(&cs.b, &cs.main);
        unsigned bad = st_regs_switch(&cs.b.sp, cs.main.sp, pat);
        san_arrive(&cs.b);
        cs.b_bad |= bad;
        cs.b_seen = i + 1;
    }
}

TEST(callee_saved)
{
    uint64_t pat[6];
    long n = test_scale(200000);
    ctx_init_thread(&cs.main);
    ctx_new(&cs.b, cs_entry, NULL, 0);
    ctx_go(&cs.main, &cs.b); /* start B: st_regs_switch needs a parked context */
    for (long i = 0; i < n; i++) {
        cs_pattern(pat, 0xA, i);
        san_leave(&cs.main, &cs.b);
        unsigned bad = st_regs_switch(&cs.main.sp, cs.b.sp, pat);
        san_arrive(&cs.main);
        CHECK_EQ(bad, 0);          /* main's registers came back */
        CHECK_EQ(cs.b_bad, 0);     /* and B's did, on every resume */
        CHECK_EQ(cs.b_seen, i);    /* B resumed inside st_regs_switch */
    }
    ctx_free(&cs.b);
}

/* ---- fpu_per_context: rounding and precision stay with their context -- */

#define FA_MXCSR (MXCSR_DEFAULT | 0x6000u)           /* round toward zero */
#define FA_CW ((CW_DEFAULT & ~0x0C00u) | 0x0400u)    /* x87 round down */
#define FB_MXCSR (MXCSR_DEFAULT | 0x4000u | 0x8000u) /* round up, FTZ */
#define FB_CW ((CW_DEFAULT & ~0x0F00u) | 0x0800u)    /* x87 round up, 24-bit */

static struct {
    ctx_t main, b;
    double b_third;
    long double b_third_x87;
    long b_rounds;
    int b_bad;
} fp;

static volatile double fp_one = 1.0, fp_three = 3.0;
static volatile long double fp_one_x87 = 1.0L, fp_three_x87 = 3.0L;

static void fp_entry(void *arg)
{
    san_arrive(NULL);
    (void)arg;
    set_mxcsr(FB_MXCSR);
    set_cw(FB_CW);
    for (;;) {
        if ((get_mxcsr() & ~MXCSR_FLAGS) != FB_MXCSR || get_cw() != FB_CW)
            fp.b_bad = 1;
        fp.b_third = fp_one / fp_three;
        fp.b_third_x87 = fp_one_x87 / fp_three_x87;
        fp.b_rounds++;
        ctx_go(&fp.b, &fp.main);
    }
}

TEST(fpu_per_context)
{
    long n = test_scale(100000);
    ctx_init_thread(&fp.main);
    ctx_new(&fp.b, fp_entry, NULL, 0);
    set_mxcsr(FA_MXCSR);
    set_cw(FA_CW);
    for (long i = 0; i < n; i++) {
        ctx_go(&fp.main, &fp.b);
        CHECK_EQ(get_mxcsr() & ~MXCSR_FLAGS, FA_MXCSR);
        CHECK_EQ(get_cw(), FA_CW);
        CHECK_EQ(fp.b_bad, 0);
        CHECK_EQ(fp.b_rounds, i + 1);
        /* The arithmetic itself obeys each context's mode: 1/3 rounded
         * toward zero here, up in B; the x87 result in B has 24 bits. */
        double a = fp_one / fp_three;
        CHECK(fp.b_third > a);
        long double ax = fp_one_x87 / fp_three_x87;
        CHECK(fp.b_third_x87 > ax);
        CHECK(fp.b_third_x87 == (long double)(float)fp.b_third_x87);
        CHECK(ax != (long double)(float)ax);
    }
    set_mxcsr(MXCSR_DEFAULT);
    set_cw(CW_DEFAULT);
    ctx_free(&fp.b);
}

/* ---- fresh_fpu_defaults: a new context ignores its creator's modes ---- */

static ctx_t ff_main;

TEST(fresh_fpu_defaults)
{
    const uint32_t odd_mxcsr = MXCSR_DEFAULT | 0x6000u | 0x8000u | 0x0040u; /* RZ, FTZ, DAZ */
    const uint16_t odd_cw = (CW_DEFAULT & ~0x0F00u) | 0x0C00u;              /* RZ, 24-bit */
    ctx_init_thread(&ff_main);
    for (int round = 0; round < 3; round++) {
        ctx_t c;
        struct probe p = {0};
        p.next = ent_continue;
        p.magic = 0x5357524d50524f42ull;
        p.home = &ff_main;
        p.self = &c;
        set_mxcsr(odd_mxcsr);
        set_cw(odd_cw);
        ctx_new(&c, st_probe_entry, &p, 0);
        ctx_go(&ff_main, &c);
        CHECK_EQ(p.mxcsr, MXCSR_DEFAULT); /* exact: flags clear too */
        CHECK_EQ(p.cw, CW_DEFAULT);
        CHECK_EQ(get_mxcsr() & ~MXCSR_FLAGS, odd_mxcsr); /* creator's restored */
        CHECK_EQ(get_cw(), odd_cw);
        set_mxcsr(MXCSR_DEFAULT);
        set_cw(CW_DEFAULT);
        ctx_free(&c);
    }
}

/* ---- many: 1000 contexts, round-robin then random order --------------- */

#define MANY 1000

struct many_ctx {
    ctx_t c;
    long count;
    uintptr_t mark; /* rsp in the entry loop (not a local's address: ASan
                     * may put locals on a fake stack) */
};

static ctx_t many_main;
static struct many_ctx *many;

static void many_entry(void *arg)
{
    struct many_ctx *m = arg;
    san_arrive(NULL);
    for (;;) {
        m->mark = read_sp();
        m->count++;
        ctx_go(&m->c, &many_main);
    }
}

TEST(many)
{
    long rounds = test_scale(50);
    many = calloc(MANY, sizeof *many);
    CHECK(many != NULL);
    ctx_init_thread(&many_main);
    for (int i = 0; i < MANY; i++)
        ctx_new(&many[i].c, many_entry, &many[i], (size_t)(i % 16));

    uintptr_t *first_mark = calloc(MANY, sizeof *first_mark);
    uintptr_t *first_sp = calloc(MANY, sizeof *first_sp);
    CHECK(first_mark && first_sp);
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < MANY; i++) {
            struct many_ctx *m = &many[i];
            ctx_go(&many_main, &m->c);
            CHECK_EQ(m->count, r + 1);
            CHECK(in_stack(&m->c, m->mark));
            CHECK(in_stack(&m->c, (uintptr_t)m->c.sp));
            CHECK_EQ((uintptr_t)m->c.sp % 16, 0);
            CHECK_CMP((uintptr_t)m->c.sp, <, m->mark);
            if (r == 0) {
                first_mark[i] = m->mark;
                first_sp[i] = (uintptr_t)m->c.sp;
            }
            /* Parked at the same spot every round: same sp, same frame. */
            CHECK_EQ(m->mark, first_mark[i]);
            CHECK_EQ((uintptr_t)m->c.sp, first_sp[i]);
        }
    }

    uint64_t rng = test_seed();
    long steps = test_scale(200000);
    for (long s = 0; s < steps; s++) {
        struct many_ctx *m = &many[test_rand(&rng) % MANY];
        long before = m->count;
        ctx_go(&many_main, &m->c);
        CHECK_EQ(m->count, before + 1);
    }
    long total = 0;
    for (int i = 0; i < MANY; i++) {
        total += many[i].count;
        ctx_free(&many[i].c);
    }
    CHECK_EQ(total, rounds * MANY + steps);
    free(first_mark);
    free(first_sp);
    free(many);
}

/* ---- ring: contexts switch straight to each other, not via main ------- */

#define RING 64

static struct {
    ctx_t main;
    ctx_t c[RING];
    long hops;
    long laps;
} ring;

static void ring_entry(void *arg)
{
    int i = (int)(intptr_t)arg;
    san_arrive(NULL);
    for (;;) {
        ring.hops++;
        if (i == RING - 1) {
            ring.laps++;
            ctx_go(&ring.c[i], &ring.main);
        } else {
            ctx_go(&ring.c[i], &ring.c[i + 1]);
        }
    }
}

TEST(ring)
{
    long laps = test_scale(2000);
    ctx_init_thread(&ring.main);
    for (int i = 0; i < RING; i++)
        ctx_new(&ring.c[i], ring_entry, (void *)(intptr_t)i, 0);
    for (long l = 0; l < laps; l++) {
        ctx_go(&ring.main, &ring.c[0]);
        CHECK_EQ(ring.laps, l + 1);
        CHECK_EQ(ring.hops, (l + 1) * RING);
    }
    for (int i = 0; i < RING; i++)
        ctx_free(&ring.c[i]);
}

/* ---- unwind: a DWARF unwinder walks a context and stops cleanly ------- */

/* Above the top of the context's stack we plant a believable return
 * address (inside a real function, so it has an FDE). An unwinder that
 * does not stop at ctx_start reads it and walks on: we would see it. */
static struct {
    ctx_t main, c;
    uintptr_t sentinel;
    int frames;
    int reason;
    int overran;
    int resumed;
} uw;

static _Unwind_Reason_Code uw_count(struct _Unwind_Context *uc, void *arg)
{
    (void)arg;
    if (_Unwind_GetIP(uc) == uw.sentinel)
        uw.overran = 1;
    return ++uw.frames > 64 ? _URC_NORMAL_STOP : _URC_NO_REASON;
}

__attribute__((noinline)) static void uw_walk(void)
{
    uw.frames = 0;
    uw.reason = _Unwind_Backtrace(uw_count, NULL);
}

static void uw_entry(void *arg)
{
    san_arrive(NULL);
    (void)arg;
    uw_walk();                       /* fresh: straight from ctx_start */
    ctx_go(&uw.c, &uw.main);
    uw.resumed = 1;
    uw_walk();                       /* after a round trip through the switch */
    ctx_go(&uw.c, &uw.main);
    TEST_FAIL("resumed a context that was meant to stay parked");
}

TEST(unwind)
{
    ctx_init_thread(&uw.main);
    ctx_new(&uw.c, uw_entry, NULL, 16);
    uw.sentinel = (uintptr_t)uw_walk + 1;
    memcpy(uw.c.hi, &uw.sentinel, sizeof uw.sentinel);
    memcpy(uw.c.hi + 8, &uw.sentinel, sizeof uw.sentinel);
    for (int k = 0; k < 2; k++) {
        ctx_go(&uw.main, &uw.c);
        CHECK_EQ(uw.resumed, k);
        /* Clean end of stack after a handful of frames (walk, entry,
         * ctx_start), never past the context's first frame. */
        CHECK_EQ(uw.reason, _URC_END_OF_STACK);
        CHECK_EQ(uw.overran, 0);
        CHECK_CMP(uw.frames, >=, 2);
        CHECK_CMP(uw.frames, <=, 8);
    }
    ctx_free(&uw.c);
}

TEST_MAIN(TEST_ENTRY(roundtrip), TEST_ENTRY(entry), TEST_ENTRY(callee_saved),
          TEST_ENTRY(fpu_per_context), TEST_ENTRY(fresh_fpu_defaults), TEST_ENTRY(many),
          TEST_ENTRY(ring), TEST_ENTRY(unwind))
