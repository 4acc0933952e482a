/* The generic timer: CNTFRQ_EL0 (62.5 MHz, the rate KVM hosts give and the DT does not
   override), the virtual counter, CNTV_TVAL/CVAL/CTL with ISTATUS and IMASK, and the virtual and
   physical timers' interrupts (PPIs 27 and 30) through the GICv3, including WFI waking on a
   masked interrupt. ARM ARM D11 (the generic timer), D11.2.4 (timer conditions). */
#include "guest.h"

static volatile u64 irqs, last_intid, istatus_in_handler, ctl_reg;

/* ctl_reg: 0 for the virtual timer, 1 for the physical one. */
static void timer_irq(void) {
  u32 intid = gic_ack();
  if (intid == GIC_SPURIOUS) return;
  last_intid = intid;
  irqs++;
  u64 ctl = ctl_reg ? read_sysreg(cntp_ctl_el0) : read_sysreg(cntv_ctl_el0);
  istatus_in_handler = ctl & CNT_CTL_ISTATUS;
  /* Mask the timer output, as Linux does, before EOI. */
  if (ctl_reg) write_sysreg(cntp_ctl_el0, ctl | CNT_CTL_IMASK);
  else write_sysreg(cntv_ctl_el0, ctl | CNT_CTL_IMASK);
  isb();
  gic_eoi(intid);
}

static void test_counter(void) {
  check_eq(cntfrq(), 62500000, "CNTFRQ_EL0 = 62.5 MHz");
  u64 a = cntvct(), b = cntvct();
  check(b >= a, "CNTVCT_EL0 never goes backwards");
  udelay(2000);
  u64 c = cntvct();
  check(c - a >= 2 * 62500, "CNTVCT_EL0 advances (2 ms of busy-waiting is >= 125000 ticks)");
  u64 p = read_sysreg(cntpct_el0);
  check(p >= c, "CNTPCT_EL0 is at least CNTVCT_EL0 (CNTVOFF >= 0)");
}

static void test_tval(void) {
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE | CNT_CTL_IMASK);
  u64 before = cntvct();
  write_sysreg(cntv_tval_el0, 6250000); /* 100 ms */
  isb();
  u64 after = cntvct();
  u64 cval = read_sysreg(cntv_cval_el0);
  check(cval >= before + 6250000 && cval <= after + 6250000, "writing TVAL sets CVAL = CNTVCT + TVAL");
  s32 t1 = (s32)read_sysreg(cntv_tval_el0);
  udelay(1000);
  s32 t2 = (s32)read_sysreg(cntv_tval_el0);
  check(t1 > 0 && t1 <= 6250000 && t2 < t1, "TVAL counts down");
  check_eq(read_sysreg(cntv_ctl_el0) & CNT_CTL_ISTATUS, 0, "ISTATUS = 0 before the deadline");
  /* A deadline in the past: ISTATUS is set whatever IMASK says, and TVAL reads negative. */
  write_sysreg(cntv_cval_el0, cntvct() - 1000);
  isb();
  check_eq(read_sysreg(cntv_ctl_el0), CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS,
           "deadline passed: CTL = ENABLE | IMASK | ISTATUS");
  check((s32)read_sysreg(cntv_tval_el0) < 0, "deadline passed: TVAL is negative");
  check_eq(read_sysreg(cntv_tval_el0) >> 32, 0, "TVAL's bits 63:32 read 0");
  write_sysreg(cntv_cval_el0, cntvct() + 62500000);
  isb();
  check_eq(read_sysreg(cntv_ctl_el0) & CNT_CTL_ISTATUS, 0, "CVAL moved past now: ISTATUS clears");
  write_sysreg(cntv_ctl_el0, 0);
}

static int wait_irqs(u64 n, u64 ms) {
  u64 end = cntvct() + ms * 62500;
  while (irqs < n && cntvct() < end) {
  }
  return irqs >= n;
}

static void test_interrupt(void) {
  irqs = 0;
  ctl_reg = 0;
  irq_handler = timer_irq;
  gic_enable_irq(PPI_VTIMER);
  irq_enable();
  /* Masked by IMASK: nothing arrives. */
  write_sysreg(cntv_cval_el0, cntvct());
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE | CNT_CTL_IMASK);
  isb();
  udelay(5000);
  check_eq(irqs, 0, "IMASK = 1: an expired timer raises no interrupt");
  /* Unmasked: PPI 27 arrives promptly. */
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
  isb();
  check(wait_irqs(1, 100), "IMASK = 0: the virtual timer interrupt arrives");
  check_eq(last_intid, PPI_VTIMER, "  as INTID 27 (PPI 11)");
  check(istatus_in_handler != 0, "  with ISTATUS = 1 in the handler");
  udelay(10000);
  check_eq(irqs, 1, "  exactly once: after IMASK and EOI it does not come back");

  /* A timer 20 ms out wakes WFI. */
  write_sysreg(cntv_tval_el0, 20 * 62500);
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
  isb();
  u64 t0 = cntvct();
  while (irqs < 2) wfi();
  u64 waited = cntvct() - t0;
  check(waited >= 19 * 62500, "WFI sleeps until the timer fires (about 20 ms)");
  check(waited < 2000 * 62500, "  and wakes when it does");

  /* With PSTATE.I set the interrupt stays pending (ISR_EL1.I), WFI still wakes, and it is taken
     once I is cleared. */
  irq_disable();
  write_sysreg(cntv_tval_el0, 2 * 62500);
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
  isb();
  wfi();
  while (!(read_sysreg(cntv_ctl_el0) & CNT_CTL_ISTATUS)) wfi();
  udelay(2000);
  check_eq(irqs, 2, "PSTATE.I = 1: the interrupt is not taken");
  check((read_sysreg(isr_el1) & (1 << 7)) != 0, "  ISR_EL1.I shows it pending");
  irq_enable();
  isb();
  check(wait_irqs(3, 100), "  and it is taken once PSTATE.I is cleared");
  check_eq(read_sysreg(isr_el1) & (1 << 7), 0, "  after which ISR_EL1.I is clear");
  write_sysreg(cntv_ctl_el0, 0);
  gic_disable_irq(PPI_VTIMER);

  /* The EL1 physical timer: PPI 30. */
  ctl_reg = 1;
  gic_enable_irq(PPI_PTIMER);
  write_sysreg(cntp_tval_el0, 62500);
  write_sysreg(cntp_ctl_el0, CNT_CTL_ENABLE);
  isb();
  check(wait_irqs(4, 100), "the physical timer's interrupt arrives");
  check_eq(last_intid, PPI_PTIMER, "  as INTID 30 (PPI 14)");
  write_sysreg(cntp_ctl_el0, 0);
  irq_disable();
  irq_handler = NULL;
}

int main(u64 dtb) {
  gic_init();
  test_counter();
  test_tval();
  test_interrupt();
  return failures;
}
