/* Top Byte Ignore (TCR_EL1.TBI0): with it, bits 63:56 of a TTBR0 address are ignored by
   translation, for data accesses and (ARMv8.0, no TBID) for branch targets, where
   AArch64.BranchAddr() also sign-extends the PC from bit 55. Without it a tagged address is
   outside TTBR0's range. ARM ARM D8.8 (address tagging), pseudocode AArch64.BranchAddr. */
#include "guest.h"

#define VA 0x100000000UL
#define PA 0x81000000UL
#define TAG(t, a) (((u64)(t) << 56) | (a))

static u64 call_tagged(u64 target, u64 *lr) {
  register u64 x0 __asm__("x0") = 0;
  u64 ret;
  __asm__ volatile("blr %2\n mov %1, x30" : "+r"(x0), "=r"(ret) : "r"(target) : "x30", "memory");
  *lr = ret;
  return x0;
}

int main(u64 dtb) {
  static const u32 code[] = {
      0x10000000, /* adr x0, . */
      0xd65f03c0, /* ret */
  };
  for (int i = 0; i < 2; i++) ((volatile u32 *)(PA + 0x800))[i] = code[i];
  __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" ::"r"(PA + 0x800) : "memory");
  *(volatile u64 *)PA = 0x7a97a9;

  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  pt_map(root, VA, PA, 0x1000, PT_NORMAL);
  mmu_enable(root, NULL);

  /* TBI0 = 0: the tag is part of the address. */
  exc_arm(EXC_SKIP);
  u64 v = *(volatile u64 *)TAG(0x5a, VA);
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_DABT_CUR && (exc.esr & 0x3f) == FSC_TRANSLATION(0),
        "TBI0 = 0: a tagged address is a level 0 translation fault");

  write_sysreg(tcr_el1, read_sysreg(tcr_el1) | (1UL << 37));
  isb();
  tlbi_all();
  exc_arm(EXC_SKIP);
  v = *(volatile u64 *)TAG(0x5a, VA);
  check(exc.count == 0 && v == 0x7a97a9, "TBI0 = 1: a load through a tagged pointer works");
  *(volatile u64 *)TAG(0xa5, VA + 8) = 0x1234;
  check_eq(*(volatile u64 *)(VA + 8), 0x1234, "TBI0 = 1: a store through another tag reaches the same memory");
  exc_arm(EXC_SKIP);
  *(volatile u64 *)TAG(0x33, VA + 0x10000);
  check(exc.count == 1 && (ESR_ISS(exc.esr) & 0x3f) == FSC_TRANSLATION(3), "TBI0 = 1: faults still report the level");
  exc_disarm();

  u64 lr;
  u64 pc = call_tagged(TAG(0x42, VA + 0x800), &lr);
  check_eq(pc, VA + 0x800, "BLR to a tagged address: the PC has no tag (ADR . sees the untagged address)");
  check_eq(lr >> 56, 0, "  and the link register had none to start with");
  write_sysreg(tcr_el1, read_sysreg(tcr_el1) & ~(1UL << 37));
  isb();
  tlbi_all();
  return failures;
}
