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
 *   sp+56  | return address         |  resume point
 *          +------------------------+
 *   sp+48  | rbp                    |
 *   sp+40  | rbx                    |
 *   sp+32  | r12                    |
 *   sp+24  | r13                    |
 *   sp+16  | r14                    |
 *   sp+8   | r15                    |
 *          +------------+-----+-----+
 *   sp+0   | MXCSR (32) | CW  | pad |
 *          +------------+-----+-----+  <- saved sp (the context)
 *
 * The frame is 64 bytes; the caller had (%rsp + 8) % 16 == 0 after its call
 * pushed the return address, so the saved sp is always 16-byte aligned.
 * A fresh context has no frame yet: swarm__ctx_enter saves the caller the
 * same way and starts the new one directly on its empty stack, with the
 * ABI's default MXCSR (0x1F80) and x87 control word (0x037F).
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
 * CET: endbr64 marks every entry point, but there is no
 * .note.gnu.property, so binaries linking this never claim IBT or shadow
 * stacks (SHSTK would need per-context shadow stacks and an SSP swap).
 *
 * Unwinding: ctx_switch carries full CFI. After the stack swap the frame on
 * the new stack has the same shape, so the same CFI describes the resumed
 * context. In a fresh context (ctx_enter after its stack swap, then
 * ctx_start) the return address is marked undefined, so debuggers and
 * unwinders stop there; the zeroed rbp stops frame-pointer walkers.
 */

        .text

/* Push the frame pictured above (with CFI), as both entry points begin. */
        .macro  SAVE_FRAME
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
        .endm

/* void swarm__ctx_switch(void **save_sp, void *to_sp)
 * rdi = where to store the current context, rsi = the context to resume. */
        .globl  swarm__ctx_switch
        .hidden swarm__ctx_switch
        .type   swarm__ctx_switch, @function
        .p2align 4
swarm__ctx_switch:
        .cfi_startproc
        endbr64
        SAVE_FRAME

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

/* void swarm__ctx_enter(void **save_sp, void *stack_top,
 *                       void (*entry)(void *), void *arg)
 * rdi = where to store the current context, rsi = one past the highest
 * usable byte of the new stack, rdx = entry, rcx = arg.
 * Saves the running context exactly as ctx_switch does, then starts entry
 * on the new stack (top rounded down to 16). Nothing touches the new stack
 * before this call: its first page is faulted in by the context that runs
 * on it, on the thread that runs it. */
        .globl  swarm__ctx_enter
        .hidden swarm__ctx_enter
        .type   swarm__ctx_enter, @function
        .p2align 4
swarm__ctx_enter:
        .cfi_startproc
        endbr64
        SAVE_FRAME
        movq    %rsp, (%rdi)
        /* From here on the fresh context runs: no caller to unwind to. */
        andq    $-16, %rsi
        movq    %rsi, %rsp
        .cfi_undefined %rip
        xorl    %ebp, %ebp              /* frame-pointer walks stop */
        ldmxcsr fresh_fpu(%rip)         /* the ABI's defaults */
        fldcw   fresh_fpu+4(%rip)
        movq    %rdx, %r12
        movq    %rcx, %r13
        jmp     swarm__ctx_start
        .cfi_endproc
        .size   swarm__ctx_enter, .-swarm__ctx_enter

/* First code of a fresh context, entered with %rsp 16-byte aligned, so the
 * call below gives entry the ABI's (%rsp + 8) % 16 == 0. There is no caller
 * to unwind to: say so. */
        .type   swarm__ctx_start, @function
        .p2align 4
swarm__ctx_start:
        .cfi_startproc
        .cfi_undefined %rip
        movq    %r13, %rdi
        call    *%r12
        ud2                             /* entry must never return */
        .cfi_endproc
        .size   swarm__ctx_start, .-swarm__ctx_start

        .section .rodata
        .p2align 3
fresh_fpu:
        .long   0x1F80                  /* MXCSR: all exceptions masked, round to nearest */
        .short  0x037F                  /* x87 CW: all masked, 64-bit precision, nearest */
        .short  0

        .section .note.GNU-stack,"",%progbits
