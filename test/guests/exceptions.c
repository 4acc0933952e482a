/* Synchronous exceptions taken at EL1 without the MMU: the syndrome (ESR_EL1: EC, IL, ISS),
   the preferred return address (ELR_EL1), FAR_EL1 and the vector each one goes to.
   ARM ARM D1.10 (exception entry), D17.2.37 (ESR_ELx), D1.10.2 (vector offsets). */
#include "guest.h"

static void test_undefined(void) {
  u64 at;
  exc_arm(EXC_SKIP);
  __asm__ volatile("adr %0, 1f\n1: udf #0x1234" : "=r"(at)::"memory");
  check_eq(exc.count, 1, "UDF takes an exception");
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "UDF: EC 0 (unknown reason)");
  check((exc.esr & ESR_IL) != 0, "UDF: IL = 1 (32-bit instruction)");
  check_eq(ESR_ISS(exc.esr), 0, "UDF: ISS = 0");
  check_eq(exc.elr, at, "UDF: ELR = the undefined instruction");
  check_eq(exc.kind, VEC_CUR_SPX_SYNC, "UDF: current EL with SPx vector (VBAR + 0x200)");
  check_eq(exc.spsr & 0xf, 5, "UDF: SPSR.M = EL1h");

  /* An IMPLEMENTATION DEFINED register this CPU does not have (KVM makes them UNDEFINED). */
  exc_arm(EXC_SKIP);
  __asm__ volatile("adr %0, 1f\n1: mrs x1, s3_0_c15_c15_7" : "=r"(at)::"x1", "memory");
  check_eq(ESR_EC(exc.esr), EC_UNKNOWN, "MRS of a register that does not exist: EC 0");
  check_eq(exc.elr, at, "MRS of a register that does not exist: ELR = the MRS");
}

static void test_svc(void) {
  u64 next;
  exc_arm(EXC_RETURN);
  __asm__ volatile("svc #0x1234\n adr %0, ." : "=r"(next)::"memory");
  check_eq(exc.count, 1, "SVC takes an exception");
  check_eq(ESR_EC(exc.esr), EC_SVC64, "SVC: EC 0x15");
  check((exc.esr & ESR_IL) != 0, "SVC: IL = 1");
  check_eq(ESR_ISS(exc.esr), 0x1234, "SVC: ISS = imm16");
  check_eq(exc.elr, next, "SVC: ELR = the next instruction");
  check_eq(exc.kind, VEC_CUR_SPX_SYNC, "SVC from EL1h: VBAR + 0x200");
}

static void test_brk(void) {
  u64 at;
  exc_arm(EXC_SKIP);
  __asm__ volatile("adr %0, 1f\n1: brk #0x42" : "=r"(at)::"memory");
  check_eq(ESR_EC(exc.esr), EC_BRK64, "BRK: EC 0x3c");
  check_eq(ESR_ISS(exc.esr), 0x42, "BRK: ISS = imm16");
  check((exc.esr & ESR_IL) != 0, "BRK: IL = 1");
  check_eq(exc.elr, at, "BRK: ELR = the BRK itself");
}

static void test_hvc(void) {
  /* SMCCC: an unknown function ID returns NOT_SUPPORTED (-1) in w0. */
  u64 r = hvc_call(0xc6000000UL, 0, 0, 0);
  check_eq(r & 0xffffffff, 0xffffffff, "HVC to an unknown SMCCC function returns -1");
  r = hvc_call(0x840000ffUL, 0, 0, 0);
  check_eq(r & 0xffffffff, 0xffffffff, "HVC to an unknown PSCI function returns -1");
}

static void test_pc_alignment(void) {
  u64 target;
  exc_arm(EXC_RESUME_X30);
  __asm__ volatile(
      "adr %0, 1f\n"
      "add %0, %0, #2\n"
      "blr %0\n"
      "b 2f\n"
      "1: nop\n nop\n"
      "2:"
      : "=&r"(target)::"x30", "memory");
  check_eq(exc.count, 1, "BR to a misaligned address takes an exception");
  check_eq(ESR_EC(exc.esr), EC_PC_ALIGN, "misaligned PC: EC 0x22");
  check((exc.esr & ESR_IL) != 0, "misaligned PC: IL = 1");
  check_eq(exc.far, target, "misaligned PC: FAR = the misaligned PC");
  check_eq(exc.elr, target, "misaligned PC: ELR = the misaligned PC");
}

/* SP alignment: with SCTLR_EL1.SA = 1 a load or store with a misaligned SP as the base faults.
   The access runs with SPSel = 0 (SP_EL0 misaligned) so the handler's SP_EL1 stays good; that
   also exercises the "current EL with SP0" vector (VBAR + 0x000). */
static u64 sp_probe(u64 sctlr) {
  u64 saved = read_sysreg(sctlr_el1), at;
  u64 buf[4] __attribute__((aligned(16))) = {0x1111, 0x2222, 0x3333, 0x4444};
  write_sysreg(sctlr_el1, sctlr);
  isb();
  __asm__ volatile(
      "add x9, %1, #4\n"
      "msr sp_el0, x9\n"
      "msr spsel, #0\n"
      "adr %0, 1f\n"
      "1: ldr w10, [sp]\n"
      "msr spsel, #1\n"
      : "=&r"(at)
      : "r"(buf)
      : "x9", "x10", "memory");
  write_sysreg(sctlr_el1, saved);
  isb();
  return at;
}

static void test_sp_alignment(void) {
  u64 sctlr = read_sysreg(sctlr_el1);
  exc_arm(EXC_SKIP);
  u64 at = sp_probe(sctlr | SCTLR_SA);
  check_eq(exc.count, 1, "SA = 1: load with a misaligned SP faults");
  check_eq(ESR_EC(exc.esr), EC_SP_ALIGN, "SP alignment: EC 0x26");
  check((exc.esr & ESR_IL) != 0, "SP alignment: IL = 1");
  check_eq(exc.elr, at, "SP alignment: ELR = the load");
  check_eq(exc.kind, VEC_CUR_SP0_SYNC, "from EL1t: current EL with SP0 vector (VBAR + 0x000)");
  check_eq(exc.spsr & 0xf, 4, "from EL1t: SPSR.M = EL1t");

  exc_arm(EXC_SKIP);
  sp_probe(sctlr & ~SCTLR_SA);
  check_eq(exc.count, 0, "SA = 0: the same load does not fault");
  exc_disarm();
}

static void test_spsr_and_daif(void) {
  /* Exception entry masks D, A, I, F and saves the old PSTATE in SPSR_EL1. */
  __asm__ volatile("msr daifclr, #0xd"); /* D, A, F clear; I stays set */
  exc_arm(EXC_RETURN);
  __asm__ volatile("svc #0" ::: "memory");
  u64 daif_after = read_sysreg(daif);
  __asm__ volatile("msr daifset, #0xf");
  check_eq(exc.spsr & 0x3c0, 0x080, "SPSR_EL1 holds DAIF as it was (only I set)");
  check_eq(daif_after, 0x080, "ERET restores DAIF from SPSR_EL1");
  /* NZCV round trip through an exception. */
  __asm__ volatile("msr nzcv, %0" ::"r"(0xa0000000UL));
  exc_arm(EXC_RETURN);
  __asm__ volatile("svc #0" ::: "memory");
  u64 nzcv = read_sysreg(nzcv);
  check_eq(exc.spsr >> 28, 0xa, "SPSR_EL1 holds NZCV");
  check_eq(nzcv, 0xa0000000UL, "ERET restores NZCV");
}

/* An illegal exception return (SPSR_EL1.M names EL2, which does not exist) keeps the EL and
   sets PSTATE.IL; the next instruction takes an Illegal Execution state exception (EC 0x0e)
   with SPSR_EL1.IL = 1. ARM ARM D1.11.4, D1.11.5. */
static volatile u64 il_count, il_esr, il_elr, il_spsr;
static int il_hook(struct exception *e) {
  if ((e->kind & 3) != 0 || ESR_EC(e->esr) != EC_ILLEGAL) return 0;
  il_count++;
  il_esr = e->esr;
  il_elr = e->elr;
  il_spsr = e->frame[32];
  e->frame[31] = e->frame[19]; /* resume at x30 */
  e->frame[32] &= ~(1UL << 20); /* and without IL */
  return 1;
}

static void test_illegal_return(void) {
  u64 target;
  exception_hook = il_hook;
  __asm__ volatile(
      "adr x30, 2f\n"
      "adr %0, 1f\n"
      "msr elr_el1, %0\n"
      "mov x9, #0x3c8\n" /* EL2t, DAIF masked */
      "msr spsr_el1, x9\n"
      "eret\n"
      "1: nop\n"
      "2:"
      : "=&r"(target)::"x9", "x30", "memory");
  exception_hook = NULL;
  check_eq(il_count, 1, "an illegal exception return: the next instruction takes an exception");
  check_eq(ESR_EC(il_esr), EC_ILLEGAL, "  EC 0x0e (illegal execution state)");
  check_eq(il_elr, target, "  ELR = the instruction ERET returned to");
  check((il_spsr & (1UL << 20)) != 0, "  SPSR_EL1.IL = 1");
  check_eq(il_spsr & 0xf, 5, "  the EL did not change (SPSR_EL1.M = EL1h)");
  check_eq(read_sysreg(CurrentEL) >> 2, 1, "  still at EL1 afterwards");
}

int main(u64 dtb) {
  test_undefined();
  test_svc();
  test_brk();
  test_hvc();
  test_pc_alignment();
  test_sp_alignment();
  test_spsr_and_daif();
  test_illegal_return();
  return failures;
}
