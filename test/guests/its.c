/* LPIs through the GICv3 ITS (run with -c 2 --irqchip gicv3-its), driven as Linux's
   irq-gic-v3-its.c drives it: property and pending tables, EnableLPIs, the command queue,
   device and collection tables, then MAPD/MAPC/MAPTI and LPIs triggered by INT. Checks
   delivery, priority, disable through the property table + INV, MOVI to the other vCPU,
   DISCARD, a bad command dropped while the queue moves on, and that a CPU's own store to
   GITS_TRANSLATER does nothing (it carries no DeviceID; KVM ignores it too).
   GIC spec (IHI 0069): 5.1 LPIs, 6 the ITS, 12.19 ITS registers, 5.3 ITS commands. */
#include "guest.h"

#define GICD_TYPER_LPIS (1u << 17)
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GICR_CTLR_ENABLE_LPIS 1u
#define GICR_TYPER_PLPIS 1u
#define ITS_BASE (gicr_base(0) - 0x20000) /* kvmtool: right below the redistributors */
#define GITS_CTLR 0x0000
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER0 0x0100
#define GITS_BASER1 0x0108
#define GITS_TRANSLATER 0x10040
#define VALID (1UL << 63)

/* Tables in RAM, 64 KiB aligned, above the image and the page-table pool. */
#define PROP_TABLE 0x81000000UL /* 64 KiB: one byte per LPI, 16 ID bits */
#define PEND_TABLE(cpu) (0x81010000UL + (cpu) * 0x10000UL)
#define QUEUE 0x81030000UL /* one 4 KiB page: 128 commands */
#define DEVICE_TABLE 0x81040000UL
#define COLLECTION_TABLE 0x81050000UL
#define ITT 0x81060000UL

#define CMD_MOVI 0x01
#define CMD_INT 0x03
#define CMD_MAPD 0x08
#define CMD_MAPC 0x09
#define CMD_MAPTI 0x0a
#define CMD_INV 0x0c
#define CMD_DISCARD 0x0f
#define DEV 5
#define LPI_A 8192
#define LPI_B 8200

static volatile u64 taken[2], last[2], order[4], norder, ready, done;
static u64 cwriter;

static void lpi_irq(void) {
  u32 intid = gic_ack();
  if (intid == GIC_SPURIOUS) return;
  int cpu = this_cpu();
  taken[cpu]++;
  last[cpu] = intid;
  if (norder < 4) order[norder++] = intid;
  gic_eoi(intid);
}

static void secondary(u64 arg) {
  gic_cpu_init();
  irq_handler = lpi_irq;
  irq_enable();
  ready = 1;
  dsb(sy);
  while (!done) wfi();
  irq_disable();
}

static int wait_for(volatile u64 *p, u64 want, u64 ms) {
  u64 end = cntvct() + ms * 62500;
  while (*p != want && cntvct() < end) {
  }
  return *p == want;
}

/* Queues one command, rings CWRITER and waits for CREADR to catch up (its_wait_for_range_completion). */
static void its_cmd(u64 dw0, u64 dw1, u64 dw2) {
  volatile u64 *slot = (volatile u64 *)(QUEUE + cwriter);
  slot[0] = dw0;
  slot[1] = dw1;
  slot[2] = dw2;
  slot[3] = 0;
  dsb(ishst);
  cwriter = (cwriter + 32) % 0x1000;
  mmio_write64(ITS_BASE + GITS_CWRITER, cwriter);
  for (int i = 0; i < 100000 && mmio_read64(ITS_BASE + GITS_CREADR) != cwriter; i++) {
  }
}
#define MAPD(dev, bits) its_cmd(CMD_MAPD | (u64)(dev) << 32, (bits) - 1, VALID | ITT)
#define MAPC(coll, cpu) its_cmd(CMD_MAPC, 0, VALID | (u64)(cpu) << 16 | (coll))
#define MAPTI(dev, ev, lpi, coll) its_cmd(CMD_MAPTI | (u64)(dev) << 32, (u64)(lpi) << 32 | (ev), (coll))
#define INT(dev, ev) its_cmd(CMD_INT | (u64)(dev) << 32, (ev), 0)
#define INV(dev, ev) its_cmd(CMD_INV | (u64)(dev) << 32, (ev), 0)
#define MOVI(dev, ev, coll) its_cmd(CMD_MOVI | (u64)(dev) << 32, (ev), (coll))
#define DISCARD(dev, ev) its_cmd(CMD_DISCARD | (u64)(dev) << 32, (ev), 0)

static void set_prop(u32 lpi, u8 priority, int enabled) {
  *(volatile u8 *)(PROP_TABLE + lpi - 8192) = (priority & 0xfc) | (enabled ? 1 : 0);
  dsb(ishst);
}

int main(u64 dtb) {
  check_eq(gic_ncpus(), 2, "two redistributors (run with -c 2)");
  u32 typer = mmio_read32(GICD_BASE + GICD_TYPER);
  check((typer & GICD_TYPER_LPIS) && ((typer >> 19) & 0x1f) == 15, "GICD_TYPER: LPIS, 16 INTID bits");
  check(mmio_read64(gicr_base(1) + GICR_TYPER) & GICR_TYPER_PLPIS, "GICR_TYPER.PLPIS");
  u64 its_typer = mmio_read64(ITS_BASE + GITS_TYPER);
  check((its_typer & 1) && ((its_typer >> 4) & 0xf) == 7 && ((its_typer >> 8) & 0x1f) == 15 && ((its_typer >> 13) & 0x1f) == 15,
        "GITS_TYPER: physical LPIs, 8-byte ITT entries, 16 EventID and DeviceID bits");
  check(((mmio_read64(ITS_BASE + GITS_BASER0) >> 56) & 7) == 1 && ((mmio_read64(ITS_BASE + GITS_BASER1) >> 56) & 7) == 4,
        "GITS_BASER0 is the device table, GITS_BASER1 the collection table");

  gic_init();
  irq_handler = lpi_irq;
  memset((void *)PROP_TABLE, 0, 0x10000);
  memset((void *)PEND_TABLE(0), 0, 0x20000);
  mmio_write64(gicr_base(0) + GICR_PROPBASER, PROP_TABLE | 15); /* IDbits = 16 - 1 */
  for (int cpu = 0; cpu < 2; cpu++) {
    mmio_write64(gicr_base(cpu) + GICR_PENDBASER, PEND_TABLE(cpu));
    mmio_write32(gicr_base(cpu) + GICR_CTLR, GICR_CTLR_ENABLE_LPIS);
  }
  check(mmio_read32(gicr_base(1) + GICR_CTLR) & GICR_CTLR_ENABLE_LPIS, "GICR_CTLR.EnableLPIs sticks");
  mmio_write64(ITS_BASE + GITS_CBASER, VALID | QUEUE); /* Size 0: 4 KiB */
  mmio_write64(ITS_BASE + GITS_BASER0, VALID | DEVICE_TABLE | (mmio_read64(ITS_BASE + GITS_BASER0) & (0x3ffUL << 48)));
  mmio_write64(ITS_BASE + GITS_BASER1, VALID | COLLECTION_TABLE);
  mmio_write32(ITS_BASE + GITS_CTLR, 1);
  check_eq(mmio_read32(ITS_BASE + GITS_CTLR), 0x80000001u, "the ITS is enabled and quiescent");

  irq_enable();
  check_eq(cpu_on(1, secondary, 0), 0, "CPU_ON vCPU 1");
  check(wait_for(&ready, 1, 5000), "vCPU 1 set up its CPU interface");

  set_prop(LPI_A, 0xa0, 1);
  set_prop(LPI_B, 0x80, 1);
  MAPD(DEV, 5);
  MAPC(0, 0);
  MAPC(1, 1);
  MAPTI(DEV, 0, LPI_A, 0);
  MAPTI(DEV, 1, LPI_B, 0);

  INT(DEV, 0);
  check(wait_for(&taken[0], 1, 1000) && last[0] == LPI_A, "INT: device 5 event 0 arrives as LPI 8192 on vCPU 0");

  irq_disable();
  norder = 0;
  INT(DEV, 0);
  INT(DEV, 1);
  check_eq(read_sysreg(icc_hppir1_el1), LPI_B, "two pending: HPPIR shows the higher priority LPI 8200");
  irq_enable();
  check(wait_for(&norder, 2, 1000) && order[0] == LPI_B && order[1] == LPI_A, "  and it is taken first, then LPI 8192");

  set_prop(LPI_A, 0xa0, 0);
  INV(DEV, 0);
  u64 before = taken[0];
  INT(DEV, 0);
  udelay(2000);
  check_eq(taken[0], before, "disabled in the property table + INV: the LPI is not delivered");
  set_prop(LPI_A, 0xa0, 1);
  INV(DEV, 0);
  check(wait_for(&taken[0], before + 1, 1000), "  re-enabled + INV: the LPI that stayed pending arrives");

  MOVI(DEV, 0, 1);
  INT(DEV, 0);
  check(wait_for(&taken[1], 1, 1000) && last[1] == LPI_A, "MOVI to collection 1: the LPI now arrives on vCPU 1");

  before = taken[0];
  DISCARD(DEV, 1);
  INT(DEV, 1);
  udelay(2000);
  check_eq(taken[0], before, "DISCARD: event 1 no longer raises anything");

  MAPTI(DEV, 2, 100, 0); /* INTID 100 is no LPI: dropped */
  INT(DEV, 2);
  udelay(2000);
  check_eq(mmio_read64(ITS_BASE + GITS_CREADR), cwriter, "a bad MAPTI is dropped and the queue moves on");
  check_eq(taken[0], before, "  and its event raises nothing");

  mmio_write32(ITS_BASE + GITS_TRANSLATER, 0);
  udelay(2000);
  check_eq(taken[0] + taken[1], before + 1, "a CPU store to GITS_TRANSLATER raises nothing (no DeviceID)");

  done = 1;
  dsb(sy);
  gic_send_sgi(0, 1); /* wake vCPU 1 out of WFI */
  irq_disable();
  return failures;
}
