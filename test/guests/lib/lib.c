#include "guest.h"

int failures;
int (*exception_hook)(struct exception *e);

void putc(char c) {
  /* 8250: wait for THRE, then write THR. */
  while (!(mmio_read8(UART0 + 5) & 0x20)) {
  }
  mmio_write8(UART0, (u8)c);
}

void puts(const char *s) {
  while (*s) {
    if (*s == '\n') putc('\r');
    putc(*s++);
  }
}

void put_hex(u64 v) {
  puts("0x");
  int started = 0;
  for (int shift = 60; shift >= 0; shift -= 4) {
    int d = (v >> shift) & 0xf;
    if (d || started || shift == 0) {
      putc("0123456789abcdef"[d]);
      started = 1;
    }
  }
}

void put_dec(u64 v) {
  char buf[24];
  int i = 0;
  do {
    buf[i++] = '0' + v % 10;
    v /= 10;
  } while (v);
  while (i) putc(buf[--i]);
}

u64 hvc_call(u64 fn, u64 a1, u64 a2, u64 a3) {
  register u64 x0 __asm__("x0") = fn;
  register u64 x1 __asm__("x1") = a1;
  register u64 x2 __asm__("x2") = a2;
  register u64 x3 __asm__("x3") = a3;
  __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
  return x0;
}

void check(int ok, const char *what) {
  puts(ok ? "ok - " : "not ok - ");
  puts(what);
  puts("\n");
  if (!ok) failures++;
}

void exit(int status) {
  puts("EXIT: STATUS=");
  put_dec(((u64)status << 1) | 1);
  puts("\n");
  hvc_call(0x84000008, 0, 0, 0); /* PSCI SYSTEM_OFF */
  for (;;) __asm__ volatile("wfi");
}

void on_exception(u64 kind, u64 esr, u64 elr, u64 far, u64 *frame) {
  struct exception e = {kind, esr, elr, far, frame};
  if (exception_hook && exception_hook(&e)) return;
  puts("unexpected exception: vector ");
  put_dec(kind);
  puts(" esr ");
  put_hex(esr);
  puts(" elr ");
  put_hex(elr);
  puts(" far ");
  put_hex(far);
  puts("\n");
  exit(99);
}
