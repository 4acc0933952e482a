/* EL0: ERET down to EL0t and the exceptions EL0 takes back to EL1 — through the "lower EL,
   AArch64" vectors (VBAR + 0x400 sync, + 0x480 IRQ) with EC 0x15 (SVC), 0x24 (data abort from
   a lower EL), 0x20 (instruction abort from a lower EL), 0x00 (UNDEFINED), 0x01 (WFI trap) and
   0x18 (MRS trapped by SCTLR_EL1/CNTKCTL_EL1 controls). 4K granule, 39-bit VAs.
   ARM ARM D1.10, D8.4 (EL0 permissions, execute-only), D17.2.37, D17.2.118 (SCTLR_EL1),
   D17.2.27 (CNTKCTL_EL1). */
#include "guest.h"

#define EL0_CODE_VA 0x100000000UL
#define EL0_STACK_VA 0x100010000UL /* one page, EL0 RW */
#define E0_RW_VA 0x100020000UL
#define E0_RO_VA 0x100030000UL
#define E1_ONLY_VA 0x100040000UL
#define XONLY_VA 0x100050000UL /* AP = EL1 RW, UXN = 0: execute-only for EL0 */
#define UXN_VA 0x100060000UL
#define UNMAPPED_VA 0x100070000UL
#define DATA_PA 0x81000000UL /* E0_RW, E0_RO, E1_ONLY: pages 0, 1, 2 */
#define CODE_PA 0x81010000UL /* mov x0, #42; ret */
#define STACK_PA 0x81020000UL

/* EL0 code, on a page of its own, mapped at EL0_CODE_VA (read-only, executable at EL0). The
   labels are global: GCC reaches extern symbols through the GOT, and local labels there would
   all share their section's entry. */
__asm__(".pushsection .text\n"
        ".balign 4096\n"
        ".global el0_code, el0_svc, el0_sp, el0_load, el0_store, el0_mrs_sctlr, el0_wfi\n"
        ".global el0_cntvct, el0_daif, el0_ctr, el0_call, el0_wait, el0_sp_load\n"
        ".global el0_hvc, el0_brk, el0_daifset, el0_dczva\n"
        "el0_code:\n"
        "el0_svc: svc #0x42\n b .\n"
        "el0_sp: mov x0, sp\n svc #0\n"
        "el0_load: ldr x0, [x0]\n svc #0\n"
        "el0_store: mov x1, #0x77\n str x1, [x0]\n svc #0\n"
        "el0_mrs_sctlr: mrs x0, sctlr_el1\n svc #0\n"
        "el0_wfi: wfi\n svc #0\n"
        "el0_cntvct: mrs x0, cntvct_el0\n svc #0\n"
        "el0_daif: mrs x0, daif\n svc #0\n"
        "el0_ctr: mrs x0, ctr_el0\n svc #0\n"
        "el0_call: blr x0\n svc #0\n"
        "el0_wait: ldr x1, [x0]\n cbz x1, el0_wait\n svc #0\n"
        "el0_sp_load: ldr x0, [sp]\n svc #0\n"
        "el0_hvc: hvc #0\n svc #0\n"
        "el0_brk: brk #0x77\n svc #0\n"
        "el0_daifset: msr daifset, #2\n svc #0\n"
        "el0_dczva: dc zva, x0\n svc #0\n"
        ".balign 4096\n"
        ".popsection\n");
extern char el0_code[], el0_svc[], el0_sp[], el0_load[], el0_store[], el0_mrs_sctlr[], el0_wfi[],
    el0_cntvct[], el0_daif[], el0_ctr[], el0_call[], el0_wait[], el0_sp_load[], el0_hvc[], el0_brk[],
    el0_daifset[], el0_dczva[];
#define EL0(sym) (EL0_CODE_VA + (u64)(sym) - (u64)el0_code)

static u64 el0(char *sym, u64 arg) { return run_el0(EL0(sym), arg, EL0_STACK_VA + 0x1000); }

static void test_svc(void) {
  u64 r = el0(el0_svc, 0xabcd);
  check_eq(exc.kind, VEC_LOWER64_SYNC, "SVC from EL0: lower EL AArch64 sync vector (VBAR + 0x400)");
  check_eq(ESR_EC(exc.esr), EC_SVC64, "  EC 0x15");
  check_eq(ESR_ISS(exc.esr), 0x42, "  ISS = imm16");
  check_eq(exc.elr, EL0(el0_svc) + 4, "  ELR = the instruction after the SVC");
  check_eq(exc.spsr & 0x1f, 0, "  SPSR_EL1.M = EL0t");
  check_eq(exc.spsr & 0x3c0, 0, "  SPSR_EL1.DAIF as EL0 ran (unmasked)");
  check_eq(r, 0xabcd, "  EL0 started with x0 = the argument");
  check_eq(el0(el0_sp, 0), EL0_STACK_VA + 0x1000, "EL0 runs on SP_EL0");
}

static void test_data_access(void) {
  *(volatile u64 *)(DATA_PA + 0x10) = 0x600d;
  check_eq(el0(el0_load, E0_RW_VA + 0x10), 0x600d, "EL0 reads an EL0-accessible page");
  check_eq(ESR_EC(exc.esr), EC_SVC64, "  and ends with its SVC");

  el0(el0_load, E1_ONLY_VA + 8);
  check_eq(exc.kind, VEC_LOWER64_SYNC, "EL0 read of an EL1-only page: lower EL vector");
  check_eq(ESR_EC(exc.esr), EC_DABT_LOWER, "  EC 0x24 (data abort from a lower EL)");
  check_eq(ESR_ISS(exc.esr) & (ISS_WNR | 0x3f), FSC_PERMISSION(3), "  permission fault, level 3, WnR = 0");
  check_eq(exc.far, E1_ONLY_VA + 8, "  FAR = the address");
  check_eq(exc.elr, EL0(el0_load), "  ELR = the load");

  el0(el0_load, UNMAPPED_VA + 0x18);
  check_eq(ESR_EC(exc.esr), EC_DABT_LOWER, "EL0 read of an unmapped page: EC 0x24");
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_TRANSLATION(3), "  translation fault, level 3");
  check_eq(exc.far, UNMAPPED_VA + 0x18, "  FAR = the address");

  el0(el0_store, E0_RO_VA + 0x20);
  check_eq(ESR_EC(exc.esr), EC_DABT_LOWER, "EL0 write to an EL0 read-only page: EC 0x24");
  check_eq(ESR_ISS(exc.esr) & (ISS_WNR | 0x3f), ISS_WNR | FSC_PERMISSION(3), "  permission fault, WnR = 1");

  el0(el0_store, E0_RW_VA + 0x28);
  check_eq(ESR_EC(exc.esr), EC_SVC64, "EL0 write to an EL0 RW page works");
  check_eq(*(volatile u64 *)(DATA_PA + 0x28), 0x77, "  and memory holds the value");
}

static void test_execute(void) {
  check_eq(el0(el0_call, XONLY_VA), 42, "EL0 runs code from a page it cannot read (AP = 00, UXN = 0)");
  el0(el0_load, XONLY_VA);
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_PERMISSION(3), "  but reading it is a permission fault");
  el0(el0_call, UXN_VA);
  check_eq(ESR_EC(exc.esr), EC_IABT_LOWER, "EL0 branch to a UXN page: EC 0x20 (instruction abort, lower EL)");
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_PERMISSION(3), "  permission fault, level 3");
  check_eq(exc.far, UXN_VA, "  FAR = ELR = the target");
  check_eq(exc.elr, UXN_VA, "  ELR = the target");
}

static void test_traps(void) {
  u64 sctlr = read_sysreg(sctlr_el1);
  el0(el0_mrs_sctlr, 0);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "MRS SCTLR_EL1 at EL0 is UNDEFINED (EC 0)");
  check_eq(exc.elr, EL0(el0_mrs_sctlr), "  ELR = the MRS");

  write_sysreg(sctlr_el1, sctlr & ~(1UL << 16)); /* nTWI = 0 */
  isb();
  el0(el0_wfi, 0);
  check_eq(ESR_EC(exc.esr), EC_WFX, "WFI at EL0 with SCTLR_EL1.nTWI = 0 traps (EC 0x01)");
  check_eq(exc.elr, EL0(el0_wfi), "  ELR = the WFI");
  check_eq(ESR_ISS(exc.esr), (1UL << 24) | (0xeUL << 20), "  ISS: CV = 1, COND = 0b1110, TI = 0 (WFI)");

  /* MRS traps from EL0 use EC 0x18 with the encoding: Op0, Op2, Op1, CRn, Rt, CRm, Direction. */
#define MRS_ISS(op0, op1, crn, crm, op2, rt) \
  (((u64)(op0) << 20) | ((u64)(op2) << 17) | ((u64)(op1) << 14) | ((u64)(crn) << 10) | ((u64)(rt) << 5) | ((u64)(crm) << 1) | 1)
  write_sysreg(cntkctl_el1, 0);
  isb();
  el0(el0_cntvct, 0);
  check_eq(ESR_EC(exc.esr), EC_SYS64, "CNTVCT_EL0 at EL0 with CNTKCTL_EL1.EL0VCTEN = 0 traps with EC 0x18");
  check_eq(ESR_ISS(exc.esr), MRS_ISS(3, 3, 14, 0, 2, 0), "  ISS names CNTVCT_EL0, Rt = 0, a read");
  write_sysreg(cntkctl_el1, 2);
  isb();
  u64 before = cntvct();
  u64 v = el0(el0_cntvct, 0);
  check(ESR_EC(exc.esr) == EC_SVC64 && v >= before, "with EL0VCTEN = 1 EL0 reads the virtual count");
  write_sysreg(cntkctl_el1, 0);

  write_sysreg(sctlr_el1, sctlr & ~(1UL << 9)); /* UMA = 0 */
  isb();
  el0(el0_daif, 0);
  check_eq(ESR_EC(exc.esr), EC_SYS64, "MRS DAIF at EL0 with SCTLR_EL1.UMA = 0 traps with EC 0x18");
  check_eq(ESR_ISS(exc.esr), MRS_ISS(3, 3, 4, 2, 1, 0), "  ISS names DAIF");
  write_sysreg(sctlr_el1, sctlr | (1UL << 9));
  isb();
  el0(el0_daif, 0);
  check_eq(ESR_EC(exc.esr), EC_SVC64, "with UMA = 1 EL0 reads DAIF");

  write_sysreg(sctlr_el1, sctlr & ~(1UL << 15)); /* UCT = 0 */
  isb();
  el0(el0_ctr, 0);
  check_eq(ESR_EC(exc.esr), EC_SYS64, "MRS CTR_EL0 at EL0 with SCTLR_EL1.UCT = 0 traps with EC 0x18");
  check_eq(ESR_ISS(exc.esr), MRS_ISS(3, 3, 0, 0, 1, 0), "  ISS names CTR_EL0");
  write_sysreg(sctlr_el1, sctlr | (1UL << 15));
  isb();
  v = el0(el0_ctr, 0);
  check(ESR_EC(exc.esr) == EC_SVC64 && v == read_sysreg(ctr_el0), "with UCT = 1 EL0 reads CTR_EL0");
  write_sysreg(sctlr_el1, sctlr & ~(1UL << 9)); /* UMA = 0 */
  isb();
  el0(el0_daifset, 0);
  check_eq(ESR_EC(exc.esr), EC_SYS64, "MSR DAIFSet at EL0 with UMA = 0 traps with EC 0x18");
  check_eq(ESR_ISS(exc.esr), (6UL << 17) | (3UL << 14) | (4UL << 10) | (31UL << 5) | (2UL << 1),
           "  ISS: op1 = 3, op2 = 6, CRn = 4, Rt = 31, CRm = the immediate, a write");
  write_sysreg(sctlr_el1, sctlr & ~(1UL << 14)); /* DZE = 0 */
  isb();
  el0(el0_dczva, E0_RW_VA + 0x40);
  check_eq(ESR_EC(exc.esr), EC_SYS64, "DC ZVA at EL0 with SCTLR_EL1.DZE = 0 traps with EC 0x18");
  check_eq(ESR_ISS(exc.esr), (1UL << 20) | (1UL << 17) | (3UL << 14) | (7UL << 10) | (4UL << 1),
           "  ISS: op0 = 1, op1 = 3, CRn = 7, CRm = 4, op2 = 1, Rt = 0, a write");
  write_sysreg(sctlr_el1, sctlr);
  isb();

  el0(el0_hvc, 0);
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "HVC at EL0 is UNDEFINED");
  el0(el0_brk, 0);
  check_eq(ESR_EC(exc.esr), EC_BRK64, "BRK at EL0: EC 0x3c to EL1");
  check_eq(ESR_ISS(exc.esr), 0x77, "  with its immediate");
}

/* An IRQ while EL0 runs goes to VBAR + 0x480 with SPSR.M = EL0t. */
static volatile u64 irq_kind, irq_spsr, irq_intid, irq_elr;
static int irq_hook(struct exception *e) {
  if ((e->kind & 3) != 1) return 0;
  irq_kind = e->kind;
  irq_elr = e->elr;
  irq_spsr = e->frame[32];
  irq_intid = gic_ack();
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE | CNT_CTL_IMASK);
  isb();
  gic_eoi(irq_intid);
  *(volatile u64 *)(DATA_PA + 0x30) = 1;
  return 1;
}

static void test_irq_from_el0(void) {
  gic_init();
  gic_enable_irq(PPI_VTIMER);
  exception_hook = irq_hook;
  *(volatile u64 *)(DATA_PA + 0x30) = 0;
  write_sysreg(cntv_tval_el0, cntfrq() / 1000); /* 1 ms */
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
  isb();
  el0(el0_wait, E0_RW_VA + 0x30);
  exception_hook = NULL;
  write_sysreg(cntv_ctl_el0, 0);
  check_eq(irq_kind, VEC_LOWER64_IRQ, "an IRQ while at EL0 goes to VBAR + 0x480");
  check_eq(irq_spsr & 0x1f, 0, "  SPSR_EL1.M = EL0t");
  check_eq(irq_intid, PPI_VTIMER, "  and it was the virtual timer");
  check_eq(ESR_EC(exc.esr), EC_SVC64, "  EL0 then finished normally");
}

/* An interrupt pending while EL1 has it masked is taken as soon as ERET unmasks it: before the
   first EL0 instruction completes (ELR = the EL0 entry point). */
static void test_irq_at_eret(void) {
  exception_hook = irq_hook;
  irq_kind = 0;
  irq_elr = 0;
  *(volatile u64 *)(DATA_PA + 0x30) = 0;
  gic_enable_irq(PPI_VTIMER);
  write_sysreg(cntv_cval_el0, 0);
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
  isb();
  while (!(read_sysreg(isr_el1) & (1 << 7))) {
  }
  el0(el0_wait, E0_RW_VA + 0x30);
  exception_hook = NULL;
  write_sysreg(cntv_ctl_el0, 0);
  check_eq(irq_kind, VEC_LOWER64_IRQ, "an IRQ pending at ERET to EL0 is taken from EL0");
  check_eq(irq_elr, EL0(el0_wait), "  before EL0's first instruction (ELR = the entry point)");
}

/* SCTLR_EL1.SA0: a misaligned SP_EL0 used as a base at EL0 faults with EC 0x26. */
static void test_sp_alignment(void) {
  u64 sctlr = read_sysreg(sctlr_el1);
  write_sysreg(sctlr_el1, sctlr | (1UL << 4));
  isb();
  run_el0(EL0(el0_sp_load), 0, EL0_STACK_VA + 0x804);
  check_eq(ESR_EC(exc.esr), EC_SP_ALIGN, "SA0 = 1: EL0 load with a misaligned SP faults (EC 0x26)");
  check_eq(exc.kind, VEC_LOWER64_SYNC, "  through the lower EL vector");
  write_sysreg(sctlr_el1, sctlr & ~(1UL << 4));
  isb();
  run_el0(EL0(el0_sp_load), 0, EL0_STACK_VA + 0x804);
  check_eq(ESR_EC(exc.esr), EC_SVC64, "SA0 = 0: the same load works");
  write_sysreg(sctlr_el1, sctlr);
  isb();
}

int main(u64 dtb) {
  static const u32 code[] = {0xd2800540, 0xd65f03c0}; /* mov x0, #42; ret */
  for (int i = 0; i < 2; i++) ((volatile u32 *)CODE_PA)[i] = code[i];
  __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" ::"r"(CODE_PA) : "memory");

  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  pt_map(root, EL0_CODE_VA, (u64)el0_code, 0x1000, PT_NORMAL | PT_EL0 | PT_RO);
  pt_map(root, EL0_STACK_VA, STACK_PA, 0x1000, PT_NORMAL | PT_EL0 | PT_UXN);
  pt_map(root, E0_RW_VA, DATA_PA, 0x1000, PT_NORMAL | PT_EL0 | PT_UXN);
  pt_map(root, E0_RO_VA, DATA_PA + 0x1000, 0x1000, PT_NORMAL | PT_EL0 | PT_RO | PT_UXN);
  pt_map(root, E1_ONLY_VA, DATA_PA + 0x2000, 0x1000, PT_NORMAL | PT_UXN);
  pt_map(root, XONLY_VA, CODE_PA, 0x1000, PT_NORMAL);
  pt_map(root, UXN_VA, CODE_PA, 0x1000, PT_NORMAL | PT_EL0 | PT_RO | PT_UXN);
  mmu_enable(root, NULL);

  test_svc();
  test_data_access();
  test_execute();
  test_traps();
  test_irq_from_el0();
  test_irq_at_eret();
  test_sp_alignment();
  return failures;
}
