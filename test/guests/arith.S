// Register-only arithmetic, then HVC #0x42: the test checks the results in x0..x9.
        .section .text.boot
        .global _start
_start:
        movz    x0, #0x1234, lsl #16
        movk    x0, #0x5678
        add     x1, x0, #0x10
        sub     x2, x1, #0x1, lsl #12
        movn    w3, #0
        orr     x4, xzr, #0xff00ff00ff00ff00
        and     x5, x4, #0xffff
        ubfx    x6, x0, #16, #8
        sbfx    x7, x3, #4, #8
        extr    x8, x0, x1, #32
        adr     x9, _start
        hvc     #0x42
1:      b       1b
