/* The GICv3 with one vCPU: discovery registers, SGIs to self through ICC_SGI1R_EL1, an SPI made
   pending through GICD_ISPENDR, the IAR/EOIR flow with the active state, running priority,
   priority masking with ICC_PMR_EL1, and preemption by a higher-priority interrupt.
   GIC architecture specification (IHI 0069) chapters 4, 12. */
#include "guest.h"

#define SPI_TEST 40 /* no device uses it */

static volatile u32 seen[16], nseen;
static volatile u64 rpr_in_handler, active_in_handler;
static volatile int nest_sgi = -1;

static void record_irq(void) {
  u32 intid = gic_ack();
  if (intid == GIC_SPURIOUS) return;
  if (nseen < 16) seen[nseen] = intid;
  nseen++;
  rpr_in_handler = read_sysreg(icc_rpr_el1);
  if (intid >= 32) active_in_handler = mmio_read32(GICD_BASE + GICD_ISACTIVER + (intid / 32) * 4);
  else active_in_handler = mmio_read32(gicr_base(0) + GICR_ISACTIVER0);
  if (nest_sgi >= 0) {
    /* Send a higher-priority SGI and let it preempt this handler. */
    int n = nest_sgi;
    nest_sgi = -1;
    gic_send_sgi(n, 0);
    irq_enable();
    udelay(1000);
    irq_disable();
  }
  gic_eoi(intid);
}

static void reset_seen(void) {
  nseen = 0;
  for (int i = 0; i < 16; i++) seen[i] = 0;
}

static void test_discovery(void) {
  u32 typer = mmio_read32(GICD_BASE + GICD_TYPER);
  check(((typer & 0x1f) + 1) * 32 >= 64, "GICD_TYPER.ITLinesNumber covers at least INTIDs 32-63");
  check_eq((mmio_read32(GICD_BASE + GICD_PIDR2) >> 4) & 0xf, 3, "GICD_PIDR2.ArchRev = 3 (GICv3)");
  check((mmio_read32(GICD_BASE + GICD_CTLR) & (1 << 4)) != 0, "GICD_CTLR.ARE (affinity routing) is on");
  u64 rd = gicr_base(0);
  check_eq(rd, GICD_BASE - 0x20000, "one vCPU: the redistributor is right below the distributor");
  u64 rtyper = mmio_read64(rd + GICR_TYPER);
  check_eq(rtyper >> 32, read_sysreg(mpidr_el1) & 0xffffff, "GICR_TYPER.Affinity_Value = MPIDR affinity");
  check((rtyper & (1 << 4)) != 0, "GICR_TYPER.Last = 1 for the only redistributor");
  check_eq((mmio_read32(rd + GICR_PIDR2) >> 4) & 0xf, 3, "GICR_PIDR2.ArchRev = 3");
  check_eq(mmio_read32(rd + GICR_WAKER) & 6, 0, "GICR_WAKER: awake after the wake-up handshake");
  check_eq(read_sysreg(icc_sre_el1) & 1, 1, "ICC_SRE_EL1.SRE = 1 (system register interface)");
  check_eq(gic_ack(), GIC_SPURIOUS, "ICC_IAR1_EL1 with nothing pending reads 1023");
}

static void test_sgi_self(void) {
  reset_seen();
  irq_enable();
  gic_enable_irq(3);
  gic_send_sgi(3, 0);
  udelay(1000);
  check_eq(nseen, 1, "an SGI to self (target list = this CPU) is taken");
  check_eq(seen[0], 3, "  ICC_IAR1_EL1 returns its INTID (no source CPU in GICv3)");
  check_eq(rpr_in_handler, 0xa0, "  ICC_RPR_EL1 in the handler = its priority (0xa0)");
  check((active_in_handler & (1 << 3)) != 0, "  it is active between IAR and EOIR");
  check_eq(mmio_read32(gicr_base(0) + GICR_ISACTIVER0) & (1 << 3), 0, "  and inactive after EOIR");
  check_eq(read_sysreg(icc_rpr_el1), 0xff, "ICC_RPR_EL1 is idle (0xff) outside the handler");

  /* A disabled SGI stays pending until it is enabled. */
  gic_disable_irq(3);
  reset_seen();
  gic_send_sgi(3, 0);
  udelay(1000);
  check_eq(nseen, 0, "a disabled SGI is not taken");
  check((mmio_read32(gicr_base(0) + GICR_ISPENDR0) & (1 << 3)) != 0, "  but is pending (GICR_ISPENDR0)");
  gic_enable_irq(3);
  udelay(1000);
  check(nseen == 1 && seen[0] == 3, "  and is taken once enabled");

  /* Broadcast (IRM = 1) goes to every PE but the sender: with one vCPU, nobody. */
  reset_seen();
  dsb(sy);
  write_sysreg(icc_sgi1r_el1, (3UL << 24) | (1UL << 40));
  isb();
  udelay(1000);
  check_eq(nseen, 0, "an SGI broadcast to all but self (IRM = 1) does not come back");
  irq_disable();
}

static void test_spi(void) {
  reset_seen();
  gic_set_edge(SPI_TEST, 1);
  gic_enable_irq(SPI_TEST);
  check_eq(mmio_read64(GICD_BASE + GICD_IROUTER + 8 * SPI_TEST), read_sysreg(mpidr_el1) & 0xff00ffffffUL,
           "GICD_IROUTER holds the route written");
  irq_enable();
  mmio_write32(GICD_BASE + GICD_ISPENDR + 4, 1u << (SPI_TEST - 32));
  udelay(1000);
  check_eq(nseen, 1, "an SPI set pending through GICD_ISPENDR is taken");
  check_eq(seen[0], SPI_TEST, "  with its INTID");
  check((active_in_handler & (1u << (SPI_TEST - 32))) != 0, "  and is active in the handler (GICD_ISACTIVER)");
  check_eq(mmio_read32(GICD_BASE + GICD_ISPENDR + 4) & (1u << (SPI_TEST - 32)), 0, "  not pending after it");
  /* With GICD_CTLR.EnableGrp1 = 0 the distributor forwards no SPI. */
  reset_seen();
  mmio_write32(GICD_BASE + GICD_CTLR, 1 << 4);
  while (mmio_read32(GICD_BASE + GICD_CTLR) & (1u << 31)) {
  }
  mmio_write32(GICD_BASE + GICD_ISPENDR + 4, 1u << (SPI_TEST - 32));
  udelay(1000);
  check_eq(nseen, 0, "GICD_CTLR.EnableGrp1 = 0: a pending SPI is not forwarded");
  mmio_write32(GICD_BASE + GICD_CTLR, (1 << 4) | (1 << 1));
  while (mmio_read32(GICD_BASE + GICD_CTLR) & (1u << 31)) {
  }
  udelay(1000);
  check(nseen == 1 && seen[0] == SPI_TEST, "  and is taken once Group 1 is enabled again");
  /* With ICC_IGRPEN1_EL1 = 0 the CPU interface signals nothing of Group 1. */
  reset_seen();
  write_sysreg(icc_igrpen1_el1, 0);
  isb();
  mmio_write32(GICD_BASE + GICD_ISPENDR + 4, 1u << (SPI_TEST - 32));
  udelay(1000);
  check_eq(nseen, 0, "ICC_IGRPEN1_EL1 = 0: nothing is signalled");
  write_sysreg(icc_igrpen1_el1, 1);
  isb();
  udelay(1000);
  check(nseen == 1 && seen[0] == SPI_TEST, "  until it is set again");
  irq_disable();
  gic_disable_irq(SPI_TEST);
}

static void test_priority_mask(void) {
  reset_seen();
  gic_set_priority(5, 0x80);
  gic_enable_irq(5);
  write_sysreg(icc_pmr_el1, 0x80);
  isb();
  irq_enable();
  gic_send_sgi(5, 0);
  udelay(1000);
  check_eq(nseen, 0, "PMR = 0x80 masks an interrupt of priority 0x80 (it must be higher, i.e. lower)");
  check_eq(read_sysreg(icc_hppir1_el1) & 0xffffff, 5, "  ICC_HPPIR1_EL1 shows it as the highest pending");
  check_eq(read_sysreg(isr_el1) & (1 << 7), 0, "  and it is not signalled to the PE (ISR_EL1.I = 0)");
  write_sysreg(icc_pmr_el1, 0x88);
  isb();
  udelay(1000);
  check(nseen == 1 && seen[0] == 5, "PMR = 0x88: the priority 0x80 interrupt is taken");
  check_eq(read_sysreg(icc_pmr_el1), 0x88, "ICC_PMR_EL1 reads back what was written");
  write_sysreg(icc_pmr_el1, 0xff);
  isb();
  irq_disable();
}

static void test_preemption(void) {
  reset_seen();
  gic_set_priority(6, 0xa0);
  gic_set_priority(7, 0x40);
  gic_enable_irq(6);
  gic_enable_irq(7);
  write_sysreg(icc_bpr1_el1, 0);
  nest_sgi = 7;
  irq_enable();
  gic_send_sgi(6, 0);
  udelay(3000);
  irq_disable();
  check_eq(nseen, 2, "a higher-priority SGI sent from a handler preempts it");
  check(seen[0] == 6 && seen[1] == 7, "  first the 0xa0 one, then the 0x40 one inside it");
  check_eq(rpr_in_handler, 0x40, "  ICC_RPR_EL1 in the nested handler = 0x40");

  /* A lower (numerically higher) priority one waits for the running one's EOI. */
  reset_seen();
  gic_set_priority(8, 0xc0);
  gic_enable_irq(8);
  nest_sgi = 8;
  irq_enable();
  gic_send_sgi(6, 0);
  udelay(3000);
  irq_disable();
  check_eq(nseen, 2, "a lower-priority SGI sent from a handler does not preempt");
  check(seen[0] == 6 && seen[1] == 8, "  it is taken after the first handler's EOI");
  check_eq(rpr_in_handler, 0xc0, "  (its handler ran with RPR = 0xc0)");
}

/* EOImode = 1: EOIR only drops the running priority; DIR deactivates. */
static void test_eoimode1(void) {
  reset_seen();
  gic_set_priority(9, 0x90);
  gic_enable_irq(9);
  write_sysreg(icc_ctlr_el1, 2); /* EOImode */
  isb();
  gic_send_sgi(9, 0);
  udelay(1000);
  u32 intid = gic_ack();
  check_eq(intid, 9, "EOImode = 1: the SGI is acknowledged");
  gic_eoi(intid);
  check_eq(read_sysreg(icc_rpr_el1), 0xff, "  EOIR drops the running priority to idle");
  check((mmio_read32(gicr_base(0) + GICR_ISACTIVER0) & (1 << 9)) != 0, "  but the interrupt stays active");
  write_sysreg(icc_dir_el1, intid);
  isb();
  check_eq(mmio_read32(gicr_base(0) + GICR_ISACTIVER0) & (1 << 9), 0, "  until ICC_DIR_EL1 deactivates it");
  write_sysreg(icc_ctlr_el1, 0);
  isb();
}

/* Group 0 is signalled as FIQ (one Security state, DS = 1) and acknowledged through IAR0. */
static volatile u64 fiq_kind, fiq_intid, fiqs;
static int fiq_hook(struct exception *e) {
  if ((e->kind & 3) != 2) return 0;
  fiqs++;
  fiq_kind = e->kind;
  fiq_intid = read_sysreg(icc_iar0_el1) & 0xffffff;
  write_sysreg(icc_eoir0_el1, fiq_intid);
  isb();
  return 1;
}

static void test_group0(void) {
  reset_seen();
  u64 rd = gicr_base(0);
  mmio_write32(GICD_BASE + GICD_CTLR, (1 << 4) | (1 << 1) | (1 << 0)); /* EnableGrp0 too */
  mmio_write32(rd + GICR_IGROUPR0, ~(1u << 10)); /* SGI 10 in Group 0 */
  gic_enable_irq(10);
  write_sysreg(icc_igrpen0_el1, 1);
  isb();
  exception_hook = fiq_hook;
  __asm__ volatile("msr daifclr, #3" ::: "memory"); /* I and F */
  dsb(sy);
  write_sysreg(icc_sgi0r_el1, (10UL << 24) | 1);
  isb();
  udelay(1000);
  __asm__ volatile("msr daifset, #3" ::: "memory");
  exception_hook = NULL;
  check_eq(fiqs, 1, "a Group 0 SGI (ICC_SGI0R_EL1) is taken as an FIQ");
  check_eq(fiq_kind, 6, "  through the current EL SPx FIQ vector (VBAR + 0x300)");
  check_eq(fiq_intid, 10, "  and ICC_IAR0_EL1 returns it");
  check_eq(nseen, 0, "  and not as an IRQ");
  mmio_write32(rd + GICR_IGROUPR0, 0xffffffff);
}

int main(u64 dtb) {
  gic_init();
  irq_handler = record_irq;
  test_discovery();
  test_sgi_self();
  test_spi();
  test_priority_mask();
  test_preemption();
  test_eoimode1();
  test_group0();
  return failures;
}
