// Writes one line to each of the four UARTs (ttyS0-3), then powers off through PSCI: all four
// reach the host's console, as in kvmtool.
        .section .text.boot
        .global _start
_start:
        movz    x1, #0x0100, lsl #16    // UART0 at 0x1000000; the others follow every 0x1000
        mov     x4, #0                  // UART number
0:      adr     x2, message
1:      ldrb    w3, [x2], #1
        cbz     w3, 2f
        cmp     w3, #'N'
        b.ne    3f
        add     w3, w4, #'0'
3:      strb    w3, [x1]
        b       1b
2:      add     x1, x1, #0x1000
        add     x4, x4, #1
        cmp     x4, #4
        b.lo    0b
        movz    w0, #0x0008             // PSCI SYSTEM_OFF
        movk    w0, #0x8400, lsl #16
        hvc     #0
4:      wfi
        b       4b
message:
        .asciz  "hello from ttySN\r\n"
