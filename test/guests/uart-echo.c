/* Console input with interrupts: the test types a line into lkvm's stdin; the guest enables
   IER.RDI on ttyS0 and SPI 32 in the GIC, sleeps in WFI, reads the bytes in the IRQ handler and
   echoes the line back. kvmtool hw/serial.c (docs/kvmtool.md §7.1), GIC spec 12.11. */
#include "guest.h"

static volatile char line[128];
static volatile u64 len, done, irqs, bad_intid, iir_seen;

static void rx_irq(void) {
  u32 intid = gic_ack();
  if (intid == GIC_SPURIOUS) return;
  irqs++;
  if (intid != 32) bad_intid = intid;
  iir_seen |= mmio_read8(UART0 + 2);
  while (mmio_read8(UART0 + 5) & 1) {
    char c = mmio_read8(UART0);
    if (c == '\r' || c == '\n') done = 1;
    else if (len < sizeof line - 1) line[len++] = c;
  }
  gic_eoi(intid);
}

int main(u64 dtb) {
  gic_init();
  irq_handler = rx_irq;
  gic_enable_irq(32);
  mmio_write8(UART0 + 1, 0x01); /* IER.RDI */
  irq_enable();
  puts("uart-echo: ready\n");
  while (!done) wfi();
  irq_disable();
  line[len] = 0;
  puts("echo: ");
  puts((const char *)line);
  puts("\n");
  check(irqs >= 1, "the line arrived through interrupts");
  check_eq(bad_intid, 0, "  all of them SPI 0 (INTID 32), ttyS0's");
  check((iir_seen & 0x0f) == 0x04, "  with IIR = RDI");

  /* The same without interrupts: poll LSR.DR. */
  mmio_write8(UART0 + 1, 0);
  gic_disable_irq(32);
  puts("uart-echo: polling\n");
  len = 0;
  for (;;) {
    while (!(mmio_read8(UART0 + 5) & 1)) {
    }
    char c = mmio_read8(UART0);
    if (c == '\r' || c == '\n') break;
    if (len < sizeof line - 1) line[len++] = c;
  }
  line[len] = 0;
  puts("polled: ");
  puts((const char *)line);
  puts("\n");
  return failures;
}
