/* SGIs between two vCPUs (run with -c 2): vCPU 0 starts vCPU 1 with PSCI CPU_ON; each sets up
   its own redistributor and CPU interface, and they exchange SGIs through ICC_SGI1R_EL1 by
   target list and by broadcast (IRM = 1). GIC spec (IHI 0069) 12.11.31 ICC_SGI1R_EL1. */
#include "guest.h"

static volatile u64 ready, got[2][16], done, spi_by[2];
#define SPI_TEST 41

static void count_irq(void) {
  u32 intid = gic_ack();
  if (intid == GIC_SPURIOUS) return;
  if (intid < 16) got[this_cpu()][intid]++;
  if (intid == SPI_TEST) spi_by[this_cpu()]++;
  gic_eoi(intid);
}

static void secondary(u64 arg) {
  gic_cpu_init();
  irq_handler = count_irq;
  gic_enable_irq(1);
  gic_enable_irq(2);
  irq_enable();
  ready = 1;
  dsb(sy);
  /* Answer SGI 1 with SGI 9 to vCPU 0; stop after a broadcast SGI 2 has arrived. */
  while (!got[1][2] || !spi_by[1]) {
    wfi();
    if (got[1][1] == 1) {
      got[1][1]++;
      gic_send_sgi(9, 0);
    }
  }
  irq_disable();
  done = 1;
  dsb(sy);
}

static int wait_for(volatile u64 *p, u64 ms) {
  u64 end = cntvct() + ms * 62500;
  while (!*p && cntvct() < end) {
  }
  return *p != 0;
}

int main(u64 dtb) {
  check_eq(gic_ncpus(), 2, "two redistributors (run with -c 2)");
  check_eq(gicr_base(0), GICD_BASE - 2 * 0x20000, "vCPU 0's redistributor is 2 frames below the distributor");
  u64 t1 = mmio_read64(gicr_base(1) + GICR_TYPER);
  check(t1 >> 32 == 1 && (t1 & (1 << 4)), "vCPU 1's GICR_TYPER: affinity 0.0.0.1, Last = 1");
  check_eq(mmio_read64(gicr_base(0) + GICR_TYPER) & (1 << 4), 0, "vCPU 0's GICR_TYPER: Last = 0");
  gic_init();
  irq_handler = count_irq;
  gic_enable_irq(9);
  gic_enable_irq(2);
  irq_enable();
  check_eq(cpu_on(1, secondary, 0), 0, "CPU_ON vCPU 1");
  check(wait_for(&ready, 5000), "vCPU 1 set up its GIC and waits for interrupts");

  gic_send_sgi(1, 1);
  check(wait_for(&got[0][9], 5000), "an SGI to vCPU 1 (target list bit 1) reaches it, and its answer comes back");
  check_eq(got[1][1], 2, "  vCPU 1 took SGI 1 once");
  check_eq(got[0][1], 0, "  vCPU 0 did not take SGI 1");

  /* An SPI routed to vCPU 1 by GICD_IROUTER (Aff0 = 1) goes there only. */
  gic_set_edge(SPI_TEST, 1);
  gic_enable_irq(SPI_TEST); /* routes to this vCPU ... */
  mmio_write64(GICD_BASE + GICD_IROUTER + 8 * SPI_TEST, 1); /* ... then to vCPU 1 */
  mmio_write32(GICD_BASE + GICD_ISPENDR + 4, 1u << (SPI_TEST - 32));
  check(wait_for(&spi_by[1], 5000), "an SPI routed to vCPU 1 through GICD_IROUTER is taken there");
  check_eq(spi_by[0], 0, "  and not by vCPU 0");

  /* Broadcast to all but self. */
  dsb(sy);
  write_sysreg(icc_sgi1r_el1, (2UL << 24) | (1UL << 40));
  isb();
  check(wait_for(&done, 5000), "a broadcast SGI (IRM = 1) reaches vCPU 1");
  udelay(2000);
  check_eq(got[0][2], 0, "  and not the sender");
  u64 off = 0;
  for (int i = 0; i < 1000 && (off = hvc_call(PSCI_AFFINITY_INFO, 1, 0, 0)) != 1; i++) udelay(1000);
  check_eq(off, 1, "vCPU 1 powers off when done");
  irq_disable();
  return failures;
}
