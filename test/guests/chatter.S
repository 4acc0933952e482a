// Prints "chatter" lines on ttyS0 forever: for tests of what lkvm does when the reader of its
// output goes away (`lkvm run ... | head`).
        .section .text.boot
        .global _start
_start:
        movz    x1, #0x0100, lsl #16    // UART0 THR at 0x1000000
0:      adr     x2, message
1:      ldrb    w3, [x2], #1
        cbz     w3, 0b
        strb    w3, [x1]
        b       1b
message:
        .asciz  "chatter\r\n"
