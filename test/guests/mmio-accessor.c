/* A barebox-style MMIO accessor under --mmio-syndrome: the store that reaches the device is a
   post-index `strb w1, [x0], #1`, the form GCC emits for `*p++ = v` through a volatile
   pointer and that barebox's and U-Boot's C accessors shipped. Hardware gives such a store no
   instruction syndrome (ESR_EL2.ISV = 0: it writes its base back), so KVM cannot emulate it.
   mmio-accessor-plain.c is the same program with the accessor Linux uses (a plain `strb`,
   ISV = 1), which every mode must pass silently.

   The program writes ttyS1's scratch register three times from one PC, each time with an
   exception hook armed, and prints what it saw on a "# accessor:" line; the test knows the
   mode and judges it (lkvm's warning, its exit status, or the injected external abort). */
#include "guest.h"

#define U1 (UART0 + 0x1000)
#define SCR 7
#define WRITES 3

#ifdef ACCESSOR_PLAIN
#define VARIANT "plain"
/* Linux's __raw_writeb: one register, no writeback. */
static void write_reg(volatile u8 **p, u8 v) {
  __asm__ volatile("strb %w1, [%0]" ::"r"(*p), "rZ"(v) : "memory");
  (*p)++;
}
#else
#define VARIANT "post-index"
static void write_reg(volatile u8 **p, u8 v) {
  __asm__ volatile("strb %w1, [%0], #1" : "+r"(*p) : "rZ"(v) : "memory");
}
#endif

int main(u64 dtb) {
  puts("mmio-accessor: " VARIANT "\n");
  mmio_write8(U1 + SCR, 0);
  u64 aborts = 0, esr = 0, far = 0, elr = 0;
  for (int i = 0; i < WRITES; i++) {
    volatile u8 *p = (volatile u8 *)(U1 + SCR);
    exc_arm(EXC_SKIP);
    write_reg(&p, (u8)(0x5a + i));
    if (exc.count) {
      aborts++;
      esr = exc.esr;
      far = exc.far;
      elr = exc.elr;
    }
    exc_disarm();
  }
  u64 scr = mmio_read8(U1 + SCR);
  puts("# accessor: aborts=");
  put_dec(aborts);
  puts(" esr=");
  put_hex(esr);
  puts(" far=");
  put_hex(far);
  puts(" elr=");
  put_hex(elr);
  puts(" scr=");
  put_hex(scr);
  puts("\n");
#ifdef ACCESSOR_PLAIN
  check_eq(aborts, 0, "the plain accessor takes no abort");
  check_eq(scr, 0x5a + WRITES - 1, "  and its last write reached the scratch register");
#endif
  return failures;
}
