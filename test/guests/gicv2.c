/* The GICv2 (run with -c 2 --irqchip gicv2m): discovery, no system-register interface, SGIs
   between two vCPUs with their source CPU, an SPI sent to vCPU 1 by GICD_ITARGETSR, the
   IAR/EOIR flow and the active state, priority masking, preemption and the binary point,
   EOImode with GICC_DIR, and the v2m MSI frame. GICv2 specification (IHI 0048B) chapters 3-4;
   kvmtool's layout: distributor at 0x3fff0000, CPU interface at 0x3ffd0000, v2m at 0x3ffcf000. */
#include "guest.h"

#define GICC_BASE 0x3ffd0000UL
#define V2M_BASE 0x3ffcf000UL
#define GICD_ITARGETSR 0x0800
#define GICD_SGIR 0x0f00
#define GICD_SPENDSGIR 0x0f20
#define GICD_ICPIDR2 0x0fe8
#define GICC_CTLR 0x0000
#define GICC_PMR 0x0004
#define GICC_BPR 0x0008
#define GICC_IAR 0x000c
#define GICC_EOIR 0x0010
#define GICC_RPR 0x0014
#define GICC_HPPIR 0x0018
#define GICC_APR0 0x00d0
#define GICC_IIDR 0x00fc
#define GICC_DIR 0x1000
#define MSI_TYPER 0x008
#define MSI_SETSPI_NS 0x040
#define SPI_TEST 100 /* above the 64 SPIs gicv2m keeps; no device uses it */

static volatile u32 seen[2][16], nseen[2], source_of[2][16];
static volatile u64 rpr_in_handler, active_in_handler, done;
static volatile u32 ready;
static volatile int nest_sgi = -1;

static u32 dist_read(u32 off) { return mmio_read32(GICD_BASE + off); }
static void dist_write(u32 off, u32 v) { mmio_write32(GICD_BASE + off, v); }
static u32 cpu_read(u32 off) { return mmio_read32(GICC_BASE + off); }
static void cpu_write(u32 off, u32 v) { mmio_write32(GICC_BASE + off, v); }
static void enable(u32 intid) { dist_write(GICD_ISENABLER + (intid / 32) * 4, 1u << (intid % 32)); }
static void set_priority(u32 intid, u8 prio) { mmio_write8(GICD_BASE + GICD_IPRIORITYR + intid, prio); }
static void send_sgi(u32 intid, u32 targets) { dsb(sy); dist_write(GICD_SGIR, (targets << 16) | intid); }

/* What Linux's gic_cpu_init and gic_cpu_if_up do for one CPU. */
static void cpu_if_up(void) {
  for (int i = 0; i < 32; i += 4) dist_write(GICD_IPRIORITYR + i, 0xa0a0a0a0);
  cpu_write(GICC_PMR, 0xf0);
  cpu_write(GICC_CTLR, 1); /* EnableGrp0: everything is Group 0, signalled as IRQ */
}

static void record_irq(void) {
  int cpu = this_cpu();
  u32 iar = cpu_read(GICC_IAR);
  u32 intid = iar & 0x3ff;
  if (intid == GIC_SPURIOUS) return;
  if (nseen[cpu] < 16) {
    seen[cpu][nseen[cpu]] = intid;
    source_of[cpu][nseen[cpu]] = (iar >> 10) & 7;
  }
  nseen[cpu]++;
  rpr_in_handler = cpu_read(GICC_RPR);
  active_in_handler = dist_read(GICD_ISACTIVER + (intid / 32) * 4);
  if (nest_sgi >= 0 && cpu == 0) {
    int n = nest_sgi;
    nest_sgi = -1;
    send_sgi(n, 1);
    irq_enable();
    udelay(1000);
    irq_disable();
  }
  cpu_write(GICC_EOIR, iar);
}

static void reset_seen(void) {
  for (int c = 0; c < 2; c++) {
    nseen[c] = 0;
    for (int i = 0; i < 16; i++) seen[c][i] = source_of[c][i] = 0;
  }
}

static void secondary(u64 arg) {
  cpu_if_up();
  irq_handler = record_irq;
  irq_enable();
  ready = 1;
  dsb(sy);
  while (!done) wfi();
  irq_disable();
}

static int wait_for(volatile u32 *p, u32 want, u64 ms) {
  u64 end = cntvct() + ms * 62500;
  while (*p < want && cntvct() < end) {
  }
  return *p >= want;
}

static void test_discovery(void) {
  u32 typer = dist_read(GICD_TYPER);
  check_eq((typer >> 5) & 7, 1, "GICD_TYPER.CPUNumber = 1: two CPU interfaces");
  check(((typer & 0x1f) + 1) * 32 >= 128, "GICD_TYPER.ITLinesNumber covers INTIDs up to 127");
  check_eq((dist_read(GICD_ICPIDR2) >> 4) & 0xf, 2, "GICD_ICPIDR2.ArchRev = 2 (GICv2)");
  check_eq((cpu_read(GICC_IIDR) >> 16) & 0xf, 2, "GICC_IIDR.ArchitectureVersion = 2");
  check_eq(mmio_read8(GICD_BASE + GICD_ITARGETSR), 1, "GICD_ITARGETSR0 names this CPU (CPU interface 0)");
  check_eq((read_sysreg(id_aa64pfr0_el1) >> 24) & 0xf, 0, "ID_AA64PFR0_EL1.GIC = 0: no system-register interface");
  exc_arm(EXC_SKIP);
  (void)read_sysreg(S3_0_C4_C6_0); /* ICC_PMR_EL1 */
  exc_disarm();
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  and ICC_PMR_EL1 is UNDEFINED");
  check_eq(dist_read(GICD_IGROUPR + 4), 0, "SPIs reset to Group 0 (as KVM's vGICv2)");
  check_eq(cpu_read(GICC_IAR), GIC_SPURIOUS, "GICC_IAR with nothing pending reads 1023");
}

static void test_sgis(void) {
  reset_seen();
  irq_enable();
  send_sgi(3, 1); /* target list: CPU 0 */
  udelay(1000);
  check(nseen[0] == 1 && seen[0][0] == 3, "an SGI to self by target list is taken");
  check_eq(source_of[0][0], 0, "  GICC_IAR bits [12:10] name the sender (CPU 0)");
  check((active_in_handler & (1 << 3)) != 0, "  it is active between IAR and EOIR");
  check_eq(rpr_in_handler, 0xa0, "  GICC_RPR in the handler = its priority (0xa0)");
  check_eq(dist_read(GICD_ISACTIVER) & (1 << 3), 0, "  and inactive after EOIR");
  check_eq(cpu_read(GICC_RPR), 0xff, "GICC_RPR is idle (0xff) outside the handler");

  check_eq(cpu_on(1, secondary, 0), 0, "CPU_ON vCPU 1");
  check(wait_for(&ready, 1, 5000), "vCPU 1 set up its CPU interface and waits for interrupts");
  reset_seen();
  send_sgi(5, 2); /* CPU 1 */
  check(wait_for(&nseen[1], 1, 5000), "an SGI to vCPU 1 (target list bit 1) reaches it");
  check(seen[1][0] == 5 && source_of[1][0] == 0, "  as SGI 5 from CPU 0");
  check_eq(nseen[0], 0, "  and not the sender");

  reset_seen();
  dsb(sy);
  dist_write(GICD_SGIR, (1u << 24) | 6); /* all but self */
  check(wait_for(&nseen[1], 1, 5000), "an SGI to all but self reaches vCPU 1");
  udelay(1000);
  check_eq(nseen[0], 0, "  and not the sender");
  reset_seen();
  dsb(sy);
  dist_write(GICD_SGIR, (2u << 24) | (2u << 16) | 7); /* self only: the list is ignored */
  udelay(1000);
  check(nseen[0] == 1 && seen[0][0] == 7 && nseen[1] == 0, "an SGI to self (filter 2) comes back to the sender only");

  /* GICD_SPENDSGIR pends an SGI as if CPUs 1 and 0 had sent it: two acknowledges, one per source. */
  irq_disable();
  reset_seen();
  mmio_write8(GICD_BASE + GICD_SPENDSGIR + 4, 3);
  u32 first = cpu_read(GICC_IAR);
  cpu_write(GICC_EOIR, first);
  u32 second = cpu_read(GICC_IAR);
  cpu_write(GICC_EOIR, second);
  check(first == 4 && second == (4 | (1 << 10)), "an SGI pending from two sources is acknowledged once per source, CPU 0 first");
  check_eq(cpu_read(GICC_IAR), GIC_SPURIOUS, "  and then no longer pending");
}

static void test_spi(void) {
  reset_seen();
  dist_write(GICD_ICFGR + (SPI_TEST / 16) * 4, 2u << (2 * (SPI_TEST % 16))); /* edge */
  mmio_write8(GICD_BASE + GICD_ITARGETSR + SPI_TEST, 2);
  check_eq(mmio_read8(GICD_BASE + GICD_ITARGETSR + SPI_TEST), 2, "GICD_ITARGETSR holds the target written (CPU 1)");
  enable(SPI_TEST);
  irq_enable();
  dist_write(GICD_ISPENDR + (SPI_TEST / 32) * 4, 1u << (SPI_TEST % 32));
  check(wait_for(&nseen[1], 1, 5000), "an SPI targeted at CPU 1 by GICD_ITARGETSR is taken there");
  check_eq(seen[1][0], SPI_TEST, "  with its INTID");
  udelay(1000);
  check_eq(nseen[0], 0, "  and not by CPU 0");
  mmio_write8(GICD_BASE + GICD_ITARGETSR + SPI_TEST, 1);
  /* GICD_CTLR.Enable = 0: the distributor forwards nothing. */
  reset_seen();
  dist_write(GICD_CTLR, 0);
  dist_write(GICD_ISPENDR + (SPI_TEST / 32) * 4, 1u << (SPI_TEST % 32));
  udelay(1000);
  check_eq(nseen[0], 0, "GICD_CTLR.Enable = 0: a pending SPI is not forwarded");
  dist_write(GICD_CTLR, 1);
  udelay(1000);
  check(nseen[0] == 1 && seen[0][0] == SPI_TEST, "  and is taken once the distributor is enabled again");
  irq_disable();
}

static void test_priorities(void) {
  reset_seen();
  set_priority(8, 0x80);
  cpu_write(GICC_PMR, 0x80);
  irq_enable();
  send_sgi(8, 1);
  udelay(1000);
  check_eq(nseen[0], 0, "GICC_PMR = 0x80 masks an interrupt of priority 0x80");
  check_eq(cpu_read(GICC_HPPIR), 8, "  GICC_HPPIR shows it as the highest pending");
  cpu_write(GICC_PMR, 0x88);
  udelay(1000);
  check(nseen[0] == 1 && seen[0][0] == 8, "GICC_PMR = 0x88: it is taken");
  cpu_write(GICC_PMR, 0xf0);

  /* Preemption: BPR = 2 splits group priority [7:3]; 0x40 preempts 0xa0. */
  reset_seen();
  set_priority(9, 0xa0);
  set_priority(10, 0x40);
  cpu_write(GICC_BPR, 2);
  nest_sgi = 10;
  send_sgi(9, 1);
  udelay(3000);
  check(nseen[0] == 2 && seen[0][0] == 9 && seen[0][1] == 10, "a higher-priority SGI sent from a handler preempts it");
  check_eq(rpr_in_handler, 0x40, "  GICC_RPR in the nested handler = 0x40");

  /* BPR = 7: no group priority bits, so nothing preempts; the second waits for the EOI. */
  reset_seen();
  cpu_write(GICC_BPR, 7);
  nest_sgi = 10;
  send_sgi(9, 1);
  udelay(3000);
  check(nseen[0] == 2 && seen[0][0] == 9 && seen[0][1] == 10, "GICC_BPR = 7: the same SGI waits for the first one's EOI");
  check_eq(rpr_in_handler, 0x00, "  (the binary point leaves no group priority: RPR = 0)");
  cpu_write(GICC_BPR, 2);
  irq_disable();

  /* The active priority is in GICC_APR0 between IAR and EOIR. */
  send_sgi(9, 1);
  u32 iar = cpu_read(GICC_IAR);
  check_eq(iar, 9, "GICC_IAR takes the SGI");
  check_eq(cpu_read(GICC_APR0), 1u << (0xa0 >> 3), "  GICC_APR0 holds its group priority (0xa0 >> 3)");
  cpu_write(GICC_EOIR, iar);
  check_eq(cpu_read(GICC_APR0), 0, "  and is clear after GICC_EOIR");
}

/* EOImode = 1: GICC_EOIR drops the priority, GICC_DIR deactivates. */
static void test_eoimode(void) {
  cpu_write(GICC_CTLR, 1 | (1 << 9));
  send_sgi(11, 1);
  u32 iar = cpu_read(GICC_IAR);
  check_eq(iar, 11, "EOImode = 1: the SGI is acknowledged");
  cpu_write(GICC_EOIR, iar);
  check_eq(cpu_read(GICC_RPR), 0xff, "  GICC_EOIR drops the running priority to idle");
  check((dist_read(GICD_ISACTIVER) & (1 << 11)) != 0, "  but the SGI stays active");
  cpu_write(GICC_DIR, iar);
  check_eq(dist_read(GICD_ISACTIVER) & (1 << 11), 0, "  until GICC_DIR deactivates it");
  cpu_write(GICC_CTLR, 1);
}

static void test_v2m(void) {
  u32 typer = mmio_read32(V2M_BASE + MSI_TYPER);
  check_eq(typer, (32u << 16) | 64, "MSI_TYPER: 64 SPIs from INTID 32");
  u32 msi_spi = 40;
  dist_write(GICD_ICFGR + (msi_spi / 16) * 4, 2u << (2 * (msi_spi % 16))); /* edge, as Linux sets MSIs */
  enable(msi_spi);
  reset_seen();
  irq_enable();
  mmio_write32(V2M_BASE + MSI_SETSPI_NS, msi_spi);
  udelay(1000);
  check(nseen[0] == 1 && seen[0][0] == msi_spi, "a write of INTID 40 to MSI_SETSPI_NS raises SPI 40");
  reset_seen();
  enable(SPI_TEST);
  mmio_write32(V2M_BASE + MSI_SETSPI_NS, SPI_TEST);
  udelay(1000);
  check_eq(nseen[0], 0, "an INTID outside the frame's SPIs raises nothing");
  irq_disable();
}

int main(u64 dtb) {
  dist_write(GICD_CTLR, 0);
  for (u32 i = 32; i < 256; i += 4) dist_write(GICD_IPRIORITYR + i, 0xa0a0a0a0);
  for (u32 i = 32; i < 256; i += 4) dist_write(GICD_ITARGETSR + i, 0x01010101);
  dist_write(GICD_CTLR, 1);
  cpu_if_up();
  irq_handler = record_irq;
  test_discovery();
  test_sgis();
  test_spi();
  test_priorities();
  test_eoimode();
  test_v2m();
  done = 1;
  send_sgi(0, 2); /* wake vCPU 1 so it sees `done` */
  u64 off = 0;
  for (int i = 0; i < 1000 && (off = hvc_call(PSCI_AFFINITY_INFO, 1, 0, 0)) != 1; i++) udelay(1000);
  check_eq(off, 1, "vCPU 1 turned itself off");
  return failures;
}
