/* PMUv3 (lkvm run --pmu) at EL1 and EL0, MMU off: identification, the counter registers, exact
   counts of INST_RETIRED, CPU_CYCLES, MEM_ACCESS and BR_RETIRED, filtering by EL (PMEVTYPER
   P/U), CHAIN, PMSWINC, PMCR.P/C/D, the overflow interrupt on PPI 23, and PMUSERENR_EL0's EL0
   access control. Without --pmu: PMUVer = 0 and every PMU register UNDEFINED.
   ARM ARM: "The Performance Monitors Extension" and the PMU register descriptions. */
#include "guest.h"

#define PMCR_E (1UL << 0)
#define PMCR_P (1UL << 1)
#define PMCR_C (1UL << 2)
#define PMCR_D (1UL << 3)
#define PMCR_LC (1UL << 6)
#define CYCLE_BIT (1UL << 31)
#define EXCLUDE_EL1 (1UL << 31) /* PMEVTYPER.P */
#define EXCLUDE_EL0 (1UL << 30) /* PMEVTYPER.U */
#define SW_INCR 0x00
#define INST_RETIRED 0x08
#define CPU_CYCLES 0x11
#define MEM_ACCESS 0x13
#define CHAIN 0x1e
#define BR_RETIRED 0x21
#define PPI_PMU 23
#define USERENR_EN (1UL << 0)
#define USERENR_SW (1UL << 1)
#define USERENR_CR (1UL << 2)
#define USERENR_ER (1UL << 3)

#define write_evtyper(n, v) write_sysreg(pmevtyper##n##_el0, v)
#define write_evcntr(n, v) write_sysreg(pmevcntr##n##_el0, v)
#define read_evcntr(n) read_sysreg(pmevcntr##n##_el0)

static void pmu_reset(void) {
  write_sysreg(pmcr_el0, PMCR_LC | PMCR_C | PMCR_P);
  write_sysreg(pmcntenclr_el0, ~0UL);
  write_sysreg(pmovsclr_el0, ~0UL);
  write_sysreg(pmintenclr_el1, ~0UL);
  write_sysreg(pmccfiltr_el0, 0);
  isb();
}

/* `loop` iterations of a four-instruction body (a load, an add, subs, b.ne) between
   PMCR_EL0 = pmcr and PMCR_EL0 = 0. What counts: the ISB after the enabling write, and the
   body: INST_RETIRED = CPU_CYCLES = 1 + 4 * loop, MEM_ACCESS = BR_RETIRED = loop. */
static void counted_loop(u64 loop, u64 pmcr, u64 *addr) {
  __asm__ volatile("msr pmcr_el0, %[pmcr]\n isb\n"
                   "1: ldr x9, [%[addr]]\n add x9, x9, #1\n subs %[loop], %[loop], #1\n b.ne 1b\n"
                   "msr pmcr_el0, xzr\n isb\n"
                   : [loop] "+r"(loop)
                   : [pmcr] "r"(pmcr), [addr] "r"(addr)
                   : "x9", "cc", "memory");
}
#define LOOP_INSNS(loop) (1 + 4 * (loop))

static u64 data[8];
static u64 el0_stack[64] __attribute__((aligned(16)));

/* EL0 code (MMU off: EL0 runs it in place). Each ends with an SVC back to run_el0. */
__asm__(".pushsection .text\n"
        ".balign 64\n"
        ".global el0_four, el0_read_ccntr, el0_read_evcntr, el0_write_evcntr, el0_swinc\n"
        ".global el0_read_userenr, el0_write_userenr, el0_read_pmcr, el0_read_inten, el0_write_selr\n"
        "el0_four: mov x0, #1\n add x0, x0, #1\n add x0, x0, #1\n svc #0\n"
        "el0_read_ccntr: mrs x0, pmccntr_el0\n svc #0\n"
        "el0_read_evcntr: mrs x0, pmevcntr0_el0\n svc #0\n"
        "el0_write_evcntr: msr pmevcntr0_el0, x0\n svc #0\n"
        "el0_swinc: msr pmswinc_el0, x0\n svc #0\n"
        "el0_read_userenr: mrs x0, pmuserenr_el0\n svc #0\n"
        "el0_write_userenr: msr pmuserenr_el0, x0\n svc #0\n"
        "el0_read_pmcr: mrs x0, pmcr_el0\n svc #0\n"
        "el0_read_inten: mrs x0, pmintenset_el1\n svc #0\n"
        "el0_write_selr: msr pmselr_el0, x0\n svc #0\n"
        ".popsection\n");
extern char el0_four[], el0_read_ccntr[], el0_read_evcntr[], el0_write_evcntr[], el0_swinc[],
    el0_read_userenr[], el0_write_userenr[], el0_read_pmcr[], el0_read_inten[], el0_write_selr[];

static u64 el0(char *code, u64 arg) { return run_el0((u64)code, arg, (u64)(el0_stack + 64)); }
/* Whether the EL0 code ran to its SVC (rather than taking UNDEFINED). */
static int el0_ok(void) { return ESR_EC(exc.esr) == EC_SVC64; }

static void test_absent(void) {
  check_eq((read_sysreg(id_aa64dfr0_el1) >> 8) & 0xf, 0, "without --pmu: ID_AA64DFR0_EL1.PMUVer = 0");
  exc_arm(EXC_SKIP);
  (void)read_sysreg(pmcr_el0);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  MRS PMCR_EL0 is UNDEFINED");
  exc_arm(EXC_SKIP);
  write_sysreg(pmcntenset_el0, 1);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  MSR PMCNTENSET_EL0 is UNDEFINED");
  exc_arm(EXC_SKIP);
  (void)read_sysreg(pmevcntr0_el0);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "  MRS PMEVCNTR0_EL0 is UNDEFINED");
  exc_disarm();
}

static void test_identification(void) {
  u64 pmcr = read_sysreg(pmcr_el0);
  check_eq((pmcr >> 11) & 0x1f, 6, "PMCR_EL0.N = 6 event counters");
  check_eq(pmcr >> 24, 0x41, "PMCR_EL0.IMP = 0x41 (Arm)");
  check((pmcr & PMCR_LC) != 0, "PMCR_EL0.LC = 1 (RES1: no AArch32)");
  check_eq(read_sysreg(pmceid0_el0), (1UL << SW_INCR) | (1UL << INST_RETIRED) | (1UL << CPU_CYCLES) |
           (1UL << MEM_ACCESS) | (1UL << CHAIN), "PMCEID0_EL0: SW_INCR, INST_RETIRED, CPU_CYCLES, MEM_ACCESS, CHAIN");
  check_eq(read_sysreg(pmceid1_el0), 1UL << (BR_RETIRED - 32), "PMCEID1_EL0: BR_RETIRED");
}

static void test_registers(void) {
  pmu_reset();
  write_sysreg(pmcntenset_el0, ~0UL);
  check_eq(read_sysreg(pmcntenset_el0), CYCLE_BIT | 0x3f, "PMCNTENSET_EL0 keeps the implemented counters' bits");
  check_eq(read_sysreg(pmcntenclr_el0), CYCLE_BIT | 0x3f, "  PMCNTENCLR_EL0 reads the same");
  write_sysreg(pmcntenclr_el0, 0x5);
  check_eq(read_sysreg(pmcntenset_el0), CYCLE_BIT | 0x3a, "  PMCNTENCLR_EL0 clears");
  write_sysreg(pmselr_el0, 3);
  write_sysreg(pmxevtyper_el0, MEM_ACCESS);
  write_sysreg(pmxevcntr_el0, 0x12345678);
  check_eq(read_sysreg(pmevtyper3_el0), MEM_ACCESS, "PMSELR_EL0 = 3: PMXEVTYPER_EL0 is PMEVTYPER3_EL0");
  check_eq(read_sysreg(pmevcntr3_el0), 0x12345678, "  PMXEVCNTR_EL0 is PMEVCNTR3_EL0");
  write_evtyper(2, ~0UL);
  check_eq(read_sysreg(pmevtyper2_el0), 0xc00003ffUL, "PMEVTYPER: P, U and a 10-bit event; NSK/NSU/NSH/M RES0 (no EL2/EL3)");
  write_evcntr(2, ~0UL);
  check_eq(read_evcntr(2), 0xffffffffUL, "PMEVCNTR: 32 bits");
  exc_arm(EXC_SKIP);
  write_sysreg(pmselr_el0, 6);
  (void)read_sysreg(pmxevcntr_el0);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_UNKNOWN, "PMSELR_EL0 = 6 (no such counter): PMXEVCNTR_EL0 is UNDEFINED");
  exc_disarm();
  write_sysreg(pmcr_el0, PMCR_P | PMCR_C);
  check_eq(read_evcntr(2) | read_sysreg(pmevcntr3_el0), 0, "PMCR_EL0.P zeroes the event counters");
  check_eq(read_sysreg(pmcr_el0) & 0xff, PMCR_LC, "  P and C read as 0");
  write_sysreg(pmovsset_el0, 0x80000001UL);
  check_eq(read_sysreg(pmovsclr_el0), 0x80000001UL, "PMOVSSET_EL0 sets overflow bits");
  write_sysreg(pmintenset_el1, ~0UL);
  check_eq(read_sysreg(pmintenclr_el1), CYCLE_BIT | 0x3f, "PMINTENSET_EL1 keeps the implemented counters' bits");
  pmu_reset();
}

static void test_exact_counts(void) {
  pmu_reset();
  write_evtyper(0, INST_RETIRED);
  write_evtyper(1, MEM_ACCESS);
  write_evtyper(2, BR_RETIRED);
  write_evtyper(3, CPU_CYCLES);
  write_sysreg(pmcntenset_el0, CYCLE_BIT | 0xf);
  counted_loop(100, PMCR_E, data);
  check_eq(read_evcntr(0), LOOP_INSNS(100), "INST_RETIRED: exactly the instructions the loop ran");
  check_eq(read_evcntr(1), 100, "MEM_ACCESS: one per load");
  check_eq(read_evcntr(2), 100, "BR_RETIRED: one per branch, taken or not");
  check_eq(read_evcntr(3), LOOP_INSNS(100), "CPU_CYCLES: one per instruction");
  check_eq(read_sysreg(pmccntr_el0), LOOP_INSNS(100), "PMCCNTR_EL0 counts the same cycles");
  /* The same again gives the same counts (PMCR.P/C reset them). */
  counted_loop(1000, PMCR_E | PMCR_P | PMCR_C, data);
  check_eq(read_evcntr(0), LOOP_INSNS(1000), "again, 1000 iterations: INST_RETIRED exact");
  check_eq(read_sysreg(pmccntr_el0), LOOP_INSNS(1000), "  and PMCCNTR_EL0");
  counted_loop(1000, PMCR_E | PMCR_C | PMCR_D, data);
  check_eq(read_sysreg(pmccntr_el0), LOOP_INSNS(1000) / 64, "PMCR_EL0.D: PMCCNTR_EL0 counts every 64th cycle");
  /* Counting disabled: PMCR.E = 0, or the counter's PMCNTENSET bit clear. */
  write_sysreg(pmcr_el0, PMCR_P | PMCR_C);
  write_sysreg(pmcntenclr_el0, 1);
  counted_loop(50, 0, data);
  check_eq(read_evcntr(3), 0, "PMCR_EL0.E = 0: nothing counts");
  counted_loop(50, PMCR_E, data);
  check(read_evcntr(0) == 0 && read_evcntr(3) == LOOP_INSNS(50), "a counter disabled in PMCNTENSET_EL0 does not count");
  pmu_reset();
}

static void test_filtering(void) {
  pmu_reset();
  write_evtyper(0, INST_RETIRED | EXCLUDE_EL1);
  write_evtyper(1, INST_RETIRED | EXCLUDE_EL0);
  write_evtyper(2, INST_RETIRED);
  write_sysreg(pmccfiltr_el0, EXCLUDE_EL1);
  write_sysreg(pmcntenset_el0, CYCLE_BIT | 0x7);
  counted_loop(20, PMCR_E, data);
  check_eq(read_evcntr(0), 0, "PMEVTYPER.P = 1: nothing counted at EL1");
  check_eq(read_evcntr(1), LOOP_INSNS(20), "PMEVTYPER.U = 1: EL1 counted");
  check_eq(read_sysreg(pmccntr_el0), 0, "PMCCFILTR_EL0.P = 1: no cycles at EL1");
  /* EL0 runs four instructions, the SVC included (it retires as it takes its exception). */
  pmu_reset();
  write_evtyper(0, INST_RETIRED | EXCLUDE_EL1);
  write_evtyper(1, INST_RETIRED | EXCLUDE_EL0);
  write_evtyper(2, BR_RETIRED | EXCLUDE_EL1);
  write_sysreg(pmccfiltr_el0, EXCLUDE_EL1);
  write_sysreg(pmcntenset_el0, CYCLE_BIT | 0x7);
  write_sysreg(pmcr_el0, PMCR_E);
  isb();
  u64 x0 = el0(el0_four, 0);
  write_sysreg(pmcr_el0, 0);
  isb();
  check_eq(x0, 3, "EL0 code ran to its SVC");
  check_eq(read_evcntr(0), 4, "P = 1: exactly the four EL0 instructions");
  check_eq(read_sysreg(pmccntr_el0), 4, "PMCCFILTR_EL0.P = 1: their four cycles");
  check_eq(read_evcntr(2), 0, "BR_RETIRED at EL0: none (ERET counts at EL1)");
  check(read_evcntr(1) > 10, "U = 1: the EL1 side of the round trip, ERET included");
  pmu_reset();
}

static void test_chain(void) {
  pmu_reset();
  write_evtyper(0, INST_RETIRED);
  write_evtyper(1, CHAIN);
  write_evcntr(0, 0xfffffff0UL);
  write_evcntr(1, 7);
  write_sysreg(pmcntenset_el0, 0x3);
  counted_loop(10, PMCR_E, data);
  u64 chained = (read_evcntr(1) << 32) | read_evcntr(0);
  check_eq(chained, (7UL << 32) + 0xfffffff0UL + LOOP_INSNS(10), "CHAIN: counters 1:0 count as one 64-bit counter");
  check_eq(read_sysreg(pmovsclr_el0), 0x1, "  the even counter's overflow is recorded, the odd one did not overflow");
  /* The odd counter wraps too. */
  pmu_reset();
  write_evcntr(0, 0xfffffff0UL);
  write_evcntr(1, 0xffffffffUL);
  write_sysreg(pmcntenset_el0, 0x3);
  counted_loop(10, PMCR_E, data);
  check(read_evcntr(1) == 0 && read_sysreg(pmovsclr_el0) == 0x3, "  an odd counter that wraps overflows as well");
  /* A disabled odd counter does not chain. */
  pmu_reset();
  write_evcntr(0, 0xfffffff0UL);
  write_sysreg(pmcntenset_el0, 0x1);
  counted_loop(10, PMCR_E, data);
  check(read_evcntr(1) == 0 && read_sysreg(pmovsclr_el0) == 0x1, "  a disabled CHAIN counter stays put");
  pmu_reset();
}

static void test_sw_incr(void) {
  pmu_reset();
  write_evtyper(0, SW_INCR);
  write_evtyper(1, SW_INCR | EXCLUDE_EL1);
  write_evtyper(2, INST_RETIRED);
  write_sysreg(pmcntenset_el0, 0x7);
  write_sysreg(pmswinc_el0, 0x1);
  check_eq(read_evcntr(0), 0, "PMSWINC_EL0 with PMCR.E = 0: no increment");
  write_sysreg(pmcr_el0, PMCR_E);
  for (int i = 0; i < 5; i++) write_sysreg(pmswinc_el0, 0x7);
  write_sysreg(pmcr_el0, 0);
  check_eq(read_evcntr(0), 5, "PMSWINC_EL0: five software increments");
  check_eq(read_evcntr(1), 0, "  not on a counter filtering out EL1");
  pmu_reset();
  write_evtyper(0, SW_INCR);
  write_evtyper(1, CHAIN);
  write_evcntr(0, 0xfffffffeUL);
  write_sysreg(pmcntenset_el0, 0x3);
  write_sysreg(pmcr_el0, PMCR_E);
  write_sysreg(pmswinc_el0, 1);
  write_sysreg(pmswinc_el0, 1);
  write_sysreg(pmcr_el0, 0);
  check(read_evcntr(0) == 0 && read_evcntr(1) == 1 && read_sysreg(pmovsclr_el0) == 1, "  an overflow by PMSWINC chains");
  pmu_reset();
}

static volatile u64 irqs, irq_intid, irq_ovs, irq_count_at_entry;

static void pmu_irq(void) {
  u32 intid = gic_ack();
  if (intid == GIC_SPURIOUS) return;
  irqs++;
  irq_intid = intid;
  irq_count_at_entry = read_evcntr(0);
  irq_ovs = read_sysreg(pmovsclr_el0);
  write_sysreg(pmovsclr_el0, irq_ovs); /* the level drops: the PPI does not come back */
  isb();
  gic_eoi(intid);
}

static void test_overflow_interrupt(void) {
  irq_handler = pmu_irq;
  gic_enable_irq(PPI_PMU);
  irq_enable();
  pmu_reset();
  write_evtyper(0, SW_INCR);
  write_evcntr(0, 0xffffffffUL);
  write_sysreg(pmcntenset_el0, 0x1);
  write_sysreg(pmcr_el0, PMCR_E);
  write_sysreg(pmswinc_el0, 1);
  isb();
  udelay(1000);
  check(irqs == 0 && read_sysreg(pmovsclr_el0) == 1, "PMINTENSET_EL1 clear: an overflow raises no interrupt");
  write_sysreg(pmintenset_el1, 0x1);
  isb();
  udelay(1000);
  check_eq(irqs, 1, "setting PMINTENSET_EL1 with the overflow pending: one interrupt");
  check_eq(irq_intid, PPI_PMU, "  on PPI 23");
  check_eq(irq_ovs, 1, "  PMOVSCLR_EL0 = 1 in the handler");
  /* An INST_RETIRED counter overflowing in a loop: the interrupt is taken at once. */
  irqs = 0;
  pmu_reset();
  write_evtyper(0, INST_RETIRED);
  write_evcntr(0, 0xffffffffUL - 100);
  write_sysreg(pmcntenset_el0, 0x1);
  write_sysreg(pmintenset_el1, 0x1);
  counted_loop(1000, PMCR_E, data);
  check_eq(irqs, 1, "INST_RETIRED overflows in a loop: one interrupt");
  check(irq_count_at_entry < 64, "  taken within a few instructions of the overflow");
  /* The cycle counter: bit 31. */
  irqs = 0;
  pmu_reset();
  write_sysreg(pmccntr_el0, ~0UL - 10);
  write_sysreg(pmcntenset_el0, CYCLE_BIT);
  write_sysreg(pmintenset_el1, CYCLE_BIT);
  counted_loop(100, PMCR_E, data);
  check(irqs == 1 && irq_ovs == CYCLE_BIT, "PMCCNTR_EL0 wraps at 64 bits: interrupt with PMOVS bit 31");
  irq_disable();
  gic_disable_irq(PPI_PMU);
  irq_handler = NULL;
  pmu_reset();
}

static void test_el0_access(void) {
  pmu_reset();
  write_evcntr(0, 0x55);
  write_sysreg(pmuserenr_el0, 0);
  isb();
  el0(el0_read_ccntr, 0);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "PMUSERENR_EL0 = 0: EL0 reading PMCCNTR_EL0 is UNDEFINED (as KVM injects)");
  el0(el0_read_pmcr, 0);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "  and PMCR_EL0");
  check_eq(el0(el0_read_userenr, 0), 0, "  PMUSERENR_EL0 itself is readable");
  check(el0_ok(), "  (no exception)");
  write_sysreg(pmuserenr_el0, USERENR_CR);
  isb();
  el0(el0_read_ccntr, 0);
  check(el0_ok(), "CR = 1: EL0 reads PMCCNTR_EL0");
  el0(el0_read_evcntr, 0);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "  but not PMEVCNTR0_EL0");
  write_sysreg(pmuserenr_el0, USERENR_ER);
  isb();
  u64 x0 = el0(el0_read_evcntr, 0);
  check(el0_ok() && x0 == 0x55, "ER = 1: EL0 reads PMEVCNTR0_EL0");
  el0(el0_write_selr, 0);
  check(el0_ok(), "  and writes PMSELR_EL0");
  el0(el0_write_evcntr, 1);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "  but writing PMEVCNTR0_EL0 is UNDEFINED");
  write_sysreg(pmuserenr_el0, USERENR_SW);
  isb();
  write_evtyper(0, SW_INCR);
  write_sysreg(pmcntenset_el0, 1);
  write_sysreg(pmcr_el0, PMCR_E);
  el0(el0_swinc, 1);
  write_sysreg(pmcr_el0, 0);
  check(el0_ok() && read_evcntr(0) == 0x56, "SW = 1: EL0 writes PMSWINC_EL0");
  write_sysreg(pmuserenr_el0, USERENR_EN);
  isb();
  el0(el0_read_pmcr, 0);
  check(el0_ok(), "EN = 1: EL0 reads PMCR_EL0");
  el0(el0_read_inten, 0);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "  PMINTENSET_EL1 stays EL1-only");
  el0(el0_write_userenr, 0);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "  and EL0 cannot write PMUSERENR_EL0");
  write_sysreg(pmuserenr_el0, 0);
  pmu_reset();
}

/* Each vCPU has its own PMU: vCPU 1 counts on counter 0 while vCPU 0's keeps its value. */
static volatile u64 secondary_count, secondary_initial, secondary_done;

static void secondary(u64 arg) {
  (void)arg;
  secondary_initial = read_evcntr(0);
  write_evtyper(0, INST_RETIRED);
  write_sysreg(pmcntenset_el0, 1);
  counted_loop(10, PMCR_E, data);
  secondary_count = read_evcntr(0);
  dsb(sy);
  secondary_done = 1;
}

static void test_per_vcpu(void) {
  pmu_reset();
  write_evtyper(0, INST_RETIRED);
  write_evcntr(0, 0x1234);
  write_sysreg(pmcntenset_el0, 1);
  check_eq(cpu_on(1, secondary, 0), 0, "CPU_ON vCPU 1");
  u64 end = cntvct() + 5000 * 62500;
  while (!secondary_done && cntvct() < end) {
  }
  check(secondary_done, "vCPU 1 ran its counting loop");
  check_eq(secondary_initial, 0, "  its PMEVCNTR0_EL0 starts at 0 (a PMU per vCPU)");
  check_eq(secondary_count, LOOP_INSNS(10), "  and counts its own instructions");
  check_eq(read_evcntr(0), 0x1234, "vCPU 0's PMEVCNTR0_EL0 is untouched");
  pmu_reset();
}

int main(void) {
  u64 pmuver = (read_sysreg(id_aa64dfr0_el1) >> 8) & 0xf;
  if (pmuver == 0) {
    test_absent();
    exit(failures);
  }
  check_eq(pmuver, 1, "ID_AA64DFR0_EL1.PMUVer = 1 (PMUv3)");
  gic_init();
  test_identification();
  test_registers();
  test_exact_counts();
  test_filtering();
  test_chain();
  test_sw_incr();
  test_overflow_interrupt();
  test_el0_access();
  if (gic_ncpus() > 1) test_per_vcpu();
  exit(failures);
}
