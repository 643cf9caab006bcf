/*
 * arch/x86_64/switch.S - machine context switch for x86-64 System V (Linux).
 *
 * ABI reference: System V Application Binary Interface, AMD64 Architecture
 * Processor Supplement (version 1.0), section 3.2:
 *   - Figure 3.4 "Register Usage": rbx, rbp, r12-r15 are callee-saved (as
 *     are rsp and the return address); everything else is caller-saved, so
 *     the compiler has already spilled it around the call to us.
 *   - The control bits of MXCSR and the x87 control word are callee-saved;
 *     their status bits are caller-saved.
 *   - 3.2.2: at a function's first instruction (%rsp + 8) is a multiple of
 *     16; the 128 bytes below %rsp (the red zone) belong to the function.
 *   - DF is clear at every call and the x87, SSE and AVX data registers are
 *     caller-saved, so none of them needs saving here.
 *
 * A context is one word: the stack pointer at which swarm__ctx_switch left
 * it. Everything else lives on the context's own stack, in this frame
 * (addresses grow upwards; "sp" is the saved stack pointer, 16-byte aligned):
 *
 *          +------------------------+
 *   sp+56  | return address         |  resume point (or ctx_start when fresh)
 *          +------------------------+
 *   sp+48  | rbp                    |  0 when fresh: frame-pointer walks stop
 *   sp+40  | rbx                    |
 *   sp+32  | r12                    |  entry when fresh
 *   sp+24  | r13                    |  arg when fresh
 *   sp+16  | r14                    |
 *   sp+8   | r15                    |
 *          +------------+-----+-----+
 *   sp+0   | MXCSR (32) | CW  | pad |  0x1F80 / 0x037F when fresh
 *          +------------+-----+-----+  <- saved sp (the context)
 *
 * The frame is 64 bytes; the caller had (%rsp + 8) % 16 == 0 after its call
 * pushed the return address, so the saved sp is always 16-byte aligned.
 *
 * Why these choices (measured in docs/design/arch.md):
 *   - We resume with "pop; jmp *reg" rather than "ret". A ret after a stack
 *     swap always mispredicts (the return-stack buffer holds the caller of
 *     this switch, not the context we are resuming); an indirect jump is
 *     predicted from history, and a context usually resumes at the same park
 *     site. The jump carries "notrack" because resume points are return
 *     addresses, which have no endbr64.
 *   - MXCSR and the x87 control word are restored unconditionally: ldmxcsr
 *     and fldcw are cheap here, while comparing first needs a load from the
 *     slot stmxcsr just wrote, and that store forwards slowly.
 *   - The red zone needs no care: this is an out-of-line call, and no
 *     compiler keeps live data below %rsp across a call. Nothing here ever
 *     stores below %rsp either, so a signal may land at any instruction.
 *
 * CET: endbr64 marks every entry point and ctx_start, but there is no
 * .note.gnu.property, so binaries linking this never claim IBT or shadow
 * stacks (SHSTK would need per-context shadow stacks and an SSP swap).
 *
 * Unwinding: ctx_switch carries full CFI. After the stack swap the frame on
 * the new stack has the same shape, so the same CFI describes the resumed
 * context. ctx_start marks its return address undefined, so debuggers and
 * unwinders stop there; the zeroed rbp stops frame-pointer walkers.
 */

        .text

/* void swarm__ctx_switch(void **save_sp, void *to_sp)
 * rdi = where to store the current context, rsi = the context to resume. */
        .globl  swarm__ctx_switch
        .hidden swarm__ctx_switch
        .type   swarm__ctx_switch, @function
        .p2align 4
swarm__ctx_switch:
        .cfi_startproc
        endbr64
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %rbp, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %rbx, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %r12, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %r13, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %r14, 0
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %r15, 0
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr (%rsp)
        fnstcw  4(%rsp)

        /* The switch proper. From the next instruction on, the frame at
         * %rsp is the resumed context's, laid out as above. */
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp

        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        popq    %r15
        .cfi_adjust_cfa_offset -8
        .cfi_restore %r15
        popq    %r14
        .cfi_adjust_cfa_offset -8
        .cfi_restore %r14
        popq    %r13
        .cfi_adjust_cfa_offset -8
        .cfi_restore %r13
        popq    %r12
        .cfi_adjust_cfa_offset -8
        .cfi_restore %r12
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore %rbx
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_restore %rbp
        /* rdx is caller-saved and not an argument of anything we return to. */
        popq    %rdx
        .cfi_adjust_cfa_offset -8
        .cfi_register %rip, %rdx
        notrack jmp *%rdx
        .cfi_endproc
        .size   swarm__ctx_switch, .-swarm__ctx_switch

/* void *swarm__ctx_make(void *stack_top, void (*entry)(void *), void *arg)
 * rdi = one past the highest usable byte, rsi = entry, rdx = arg.
 * Writes the 64-byte frame pictured above just below stack_top (rounded
 * down to 16) and returns its address. Touches only the new stack. */
        .globl  swarm__ctx_make
        .hidden swarm__ctx_make
        .type   swarm__ctx_make, @function
        .p2align 4
swarm__ctx_make:
        .cfi_startproc
        endbr64
        movq    %rdi, %rax
        andq    $-16, %rax
        leaq    swarm__ctx_start(%rip), %rcx
        movq    %rcx, -8(%rax)          /* return address -> ctx_start */
        movq    $0, -16(%rax)           /* rbp */
        movq    $0, -24(%rax)           /* rbx */
        movq    %rsi, -32(%rax)         /* r12 = entry */
        movq    %rdx, -40(%rax)         /* r13 = arg */
        movq    $0, -48(%rax)           /* r14 */
        movq    $0, -56(%rax)           /* r15 */
        movabsq $0x0000037F00001F80, %rcx
        movq    %rcx, -64(%rax)         /* MXCSR 0x1F80, x87 CW 0x037F, pad 0 */
        subq    $64, %rax
        ret
        .cfi_endproc
        .size   swarm__ctx_make, .-swarm__ctx_make

/* First code a fresh context runs, reached by the jump at the end of
 * ctx_switch with %rsp 16-byte aligned, so the call below gives entry the
 * ABI's (%rsp + 8) % 16 == 0. There is no caller to unwind to: say so. */
        .type   swarm__ctx_start, @function
        .p2align 4
swarm__ctx_start:
        .cfi_startproc
        .cfi_undefined %rip
        endbr64
        movq    %r13, %rdi
        call    *%r12
        ud2                             /* entry must never return */
        .cfi_endproc
        .size   swarm__ctx_start, .-swarm__ctx_start

        .section .note.GNU-stack,"",%progbits
