// An arm64 Image with a header (Documentation/arch/arm64/booting.rst) and a 1 MiB .bss that is
// not in the file: image_size counts the BSS, so the file is far smaller than image_size and
// must still load. The program checks where it runs and that x0 (the DTB) lies outside its
// image_size bytes, prints the verdict on ttyS0, and powers off through PSCI.
// image-be.S includes this file with the big-endian flag set and a big-endian check.
#ifndef IMAGE_FLAGS
#define IMAGE_FLAGS 0xa             // 4K pages, kernel anywhere in RAM, little-endian
#endif
#define UART0 0x1000000

        .section .text.boot
        .global _start
_start:
        b       entry                   // code0
        .long   0                       // code1
        .quad   0x80000                 // text_offset
        .quad   __stack_top - _start    // image_size: file + BSS + stack
        .quad   IMAGE_FLAGS             // flags
        .quad   0, 0, 0                 // res2-res4
        .ascii  "ARM\x64"               // magic
        .long   0                       // res5
entry:
        mov     x19, x0
        mov     x20, #0                 // failures
        // Loaded at RAM base + text_offset.
        adr     x1, _start
        movz    x2, #0x8008, lsl #16
        cmp     x1, x2
        cinc    x20, x20, ne
        // The DTB is outside [_start, _start + image_size).
        ldr     x3, [x1, #16]
        add     x3, x1, x3
        cmp     x19, x1
        b.lo    1f
        cmp     x19, x3
        cinc    x20, x20, lo
1:
        // The last word of the BSS is zero, as fresh RAM is.
        ldr     x4, =big_bss_end
        ldr     x5, [x4, #-8]
        cmp     x5, #0
        cinc    x20, x20, ne
#ifdef BIG_ENDIAN_CHECK
        // Data accesses turn big-endian once EE is set, as a BE kernel's first steps do.
        ldr     x4, =big_bss
        mrs     x6, sctlr_el1
        orr     x7, x6, #(1 << 25)      // SCTLR_EL1.EE
        msr     sctlr_el1, x7
        isb
        movz    w8, #0x0304
        movk    w8, #0x0102, lsl #16
        str     w8, [x4]
        msr     sctlr_el1, x6
        isb
        ldrb    w9, [x4]                // big-endian: the most significant byte first
        cmp     w9, #1
        cinc    x20, x20, ne
#endif
        adr     x2, ok
        cbz     x20, 2f
        adr     x2, bad
2:      movz    x1, #(UART0 >> 16), lsl #16
3:      ldrb    w3, [x2], #1
        cbz     w3, 4f
        strb    w3, [x1]
        b       3b
4:      movz    w0, #0x0008             // PSCI SYSTEM_OFF
        movk    w0, #0x8400, lsl #16
        hvc     #0
5:      wfi
        b       5b

ok:     .asciz  "image: loaded with its BSS\r\n"
bad:    .asciz  "image: FAILED\r\n"
        .balign 8
        .ltorg

        .bss
        .balign 16
big_bss:
        .skip   0x100000
big_bss_end:
