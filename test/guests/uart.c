/* The 8250/16550A UARTs as kvmtool presents them, probed on ttyS1 (0x1001000, SPI 33) so the
   console stays untouched: reset values, the scratch register (Linux's 8250 probe), the divisor
   latch, loopback, and the THRE and received-data interrupts routed through the GIC.
   kvmtool hw/serial.c (docs/kvmtool.md §7.1); 16550A datasheet (register map). */
#include "guest.h"

#define U1 (UART0 + 0x1000)
#define U1_INTID 33
#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

static volatile u64 irqs, irq_intid, irq_iir, irq_byte;

static void uart_irq(void) {
  u32 intid = gic_ack();
  if (intid == GIC_SPURIOUS) return;
  irqs++;
  irq_intid = intid;
  irq_iir = mmio_read8(U1 + IIR);
  if (irq_iir & 4) irq_byte = mmio_read8(U1 + RBR);
  if (irq_iir & 2) mmio_write8(U1 + IER, mmio_read8(U1 + IER) & ~2); /* stop THRE interrupts */
  gic_eoi(intid);
}

static int wait_irqs(u64 n) {
  u64 end = cntvct() + 100 * 62500;
  while (irqs < n && cntvct() < end) {
  }
  return irqs >= n;
}

int main(u64 dtb) {
  check_eq(mmio_read8(U1 + LSR), 0x60, "LSR after reset = THRE | TEMT (0x60)");
  check_eq(mmio_read8(U1 + IIR), 0xc1, "IIR after reset = no interrupt, FIFOs enabled (0xc1)");
  check_eq(mmio_read8(U1 + MSR), 0xb0, "MSR = DCD | DSR | CTS (0xb0)");
  check_eq(mmio_read8(U1 + MCR), 0x08, "MCR after reset = OUT2 (0x08)");
  check_eq(mmio_read8(U1 + IER), 0, "IER after reset = 0");

  mmio_write8(U1 + SCR, 0x5a);
  check_eq(mmio_read8(U1 + SCR), 0x5a, "the scratch register holds 0x5a");
  mmio_write8(U1 + SCR, 0xa5);
  check_eq(mmio_read8(U1 + SCR), 0xa5, "the scratch register holds 0xa5");
  mmio_write8(U1 + IER, 0xf0);
  check_eq(mmio_read8(U1 + IER), 0, "IER keeps only its low four bits");
  mmio_write8(U1 + IER, 0);

  mmio_write8(U1 + LCR, 0x80);
  mmio_write8(U1 + 0, 0x0c);
  mmio_write8(U1 + 1, 0x01);
  check(mmio_read8(U1 + 0) == 0x0c && mmio_read8(U1 + 1) == 0x01, "LCR.DLAB = 1: offsets 0 and 1 are the divisor latch");
  mmio_write8(U1 + LCR, 0x03);
  check_eq(mmio_read8(U1 + LCR), 0x03, "LCR reads back 8N1 (0x03)");
  check_eq(mmio_read8(U1 + IER), 0, "LCR.DLAB = 0: offset 1 is IER again");

  /* Loopback: transmitted bytes come back as received data. */
  mmio_write8(U1 + MCR, 0x18);
  mmio_write8(U1 + THR, 'Z');
  check((mmio_read8(U1 + LSR) & 1) == 1, "loopback: a byte written to THR sets LSR.DR");
  check_eq(mmio_read8(U1 + RBR), 'Z', "  and is read back from RBR");
  check_eq(mmio_read8(U1 + LSR) & 1, 0, "  after which LSR.DR is clear");

  /* Interrupts, through SPI 33. */
  gic_init();
  irq_handler = uart_irq;
  gic_enable_irq(U1_INTID);
  irq_enable();
  mmio_write8(U1 + IER, 0x02);
  check(wait_irqs(1), "IER.THRI with an empty transmitter raises the UART's interrupt");
  check_eq(irq_intid, U1_INTID, "  as SPI 1 (INTID 33) for ttyS1");
  check_eq(irq_iir, 0xc2, "  IIR = THRI (0xc2)");
  udelay(1000);
  check_eq(irqs, 1, "  and stops once IER.THRI is cleared");
  check_eq(mmio_read32(GICD_BASE + GICD_ISPENDR + 4) & (1u << (U1_INTID - 32)), 0, "  the SPI is no longer pending");

  mmio_write8(U1 + IER, 0x01);
  mmio_write8(U1 + THR, 'Q');
  check(wait_irqs(2), "IER.RDI: received data raises the interrupt");
  check_eq(irq_iir, 0xc4, "  IIR = RDI (0xc4)");
  check_eq(irq_byte, 'Q', "  and the handler reads the byte");
  udelay(1000);
  check_eq(irqs, 2, "  reading it lowers the interrupt");
  irq_disable();
  mmio_write8(U1 + IER, 0);
  mmio_write8(U1 + MCR, 0x08);
  return failures;
}
