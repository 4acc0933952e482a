// Entry for C test guests: kvmtool enters at RAM + 0x80000 in EL1h with the MMU off and
// x0 = DTB. Set up a stack and the exception vectors, clear BSS, run main(dtb), exit with
// its return value.
        .section .text.boot
        .global _start
_start:
        mov     x19, x0
        ldr     x1, =__stack_top
        mov     sp, x1
        ldr     x1, =__bss_start
        ldr     x2, =__bss_end
1:      cmp     x1, x2
        b.hs    2f
        str     xzr, [x1], #8
        b       1b
2:      adr     x1, vectors
        msr     vbar_el1, x1
        isb
        mov     x0, x19
        bl      main
        bl      exit
3:      b       3b

// Every vector saves the caller-saved registers and calls
// on_exception(kind, esr, elr, far, frame); a handler that returns resumes at ELR_EL1
// (which it may change through the frame: frame[31] is ELR).
        .macro  vector kind
        .balign 0x80
        sub     sp, sp, #(34 * 8)
        stp     x0, x1, [sp, #0]
        mov     x0, #\kind
        b       common_vector
        .endm

        .balign 0x800
vectors:
        vector 0
        vector 1
        vector 2
        vector 3
        vector 4
        vector 5
        vector 6
        vector 7
        vector 8
        vector 9
        vector 10
        vector 11
        vector 12
        vector 13
        vector 14
        vector 15

common_vector:
        stp     x2, x3, [sp, #16]
        stp     x4, x5, [sp, #32]
        stp     x6, x7, [sp, #48]
        stp     x8, x9, [sp, #64]
        stp     x10, x11, [sp, #80]
        stp     x12, x13, [sp, #96]
        stp     x14, x15, [sp, #112]
        stp     x16, x17, [sp, #128]
        stp     x18, x30, [sp, #144]
        mrs     x1, elr_el1
        mrs     x2, spsr_el1
        stp     x1, x2, [sp, #248]
        mrs     x1, esr_el1
        mrs     x2, elr_el1
        mrs     x3, far_el1
        mov     x4, sp
        bl      on_exception
        ldp     x1, x2, [sp, #248]
        msr     elr_el1, x1
        msr     spsr_el1, x2
        ldp     x2, x3, [sp, #16]
        ldp     x4, x5, [sp, #32]
        ldp     x6, x7, [sp, #48]
        ldp     x8, x9, [sp, #64]
        ldp     x10, x11, [sp, #80]
        ldp     x12, x13, [sp, #96]
        ldp     x14, x15, [sp, #112]
        ldp     x16, x17, [sp, #128]
        ldp     x18, x30, [sp, #144]
        ldp     x0, x1, [sp, #0]
        add     sp, sp, #(34 * 8)
        eret

// u64 run_el0(u64 entry, u64 arg, u64 sp): erets to entry at EL0t (SPSR from el0_spsr) with
// x0 = arg and SP_EL0 = sp. on_exception() sends the first synchronous exception from EL0 back
// to el0_return, at EL1h with SP_EL1 as it was at the eret, so this frame is still on top.
        .text
        .global run_el0
run_el0:
        sub     sp, sp, #112
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        mrs     x3, daif
        str     x3, [sp, #96]
        msr     sp_el0, x2
        msr     elr_el1, x0
        ldr     x3, =el0_spsr
        ldr     x3, [x3]
        msr     spsr_el1, x3
        ldr     x4, =el0_active
        mov     x5, #1
        str     x5, [x4]
        mov     x0, x1
        eret
        .global el0_return
el0_return:
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldr     x3, [sp, #96]
        msr     daif, x3
        add     sp, sp, #112
        ret

// PSCI CPU_ON entry for secondaries (MMU off, EL1h, x0 = context id): a stack and the vectors
// from secondary_stack_top/secondary_fn[Aff0], then fn(context id), then CPU_OFF.
        .global secondary_entry
secondary_entry:
        mrs     x1, mpidr_el1
        and     x1, x1, #0xf
        ldr     x2, =secondary_stack_top
        ldr     x2, [x2, x1, lsl #3]
        mov     sp, x2
        adr     x2, vectors
        msr     vbar_el1, x2
        isb
        ldr     x2, =secondary_fn
        ldr     x2, [x2, x1, lsl #3]
        blr     x2
        ldr     x0, =0x84000002
        hvc     #0
1:      wfi
        b       1b
