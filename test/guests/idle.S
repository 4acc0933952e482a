// Prints "idle" on ttyS0, then waits for interrupts forever (never powers off): for tests of
// how the VM is stopped from the host (Ctrl-A x, signals).
        .section .text.boot
        .global _start
_start:
        movz    x1, #0x0100, lsl #16    // UART0 THR at 0x1000000
        adr     x2, message
1:      ldrb    w3, [x2], #1
        cbz     w3, 2f
        strb    w3, [x1]
        b       1b
2:      wfi
        b       2b
message:
        .asciz  "idle\r\n"
