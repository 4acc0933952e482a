/* Alignment: unaligned accesses to Normal memory work unless SCTLR_EL1.A = 1; to Device memory
   (which all data accesses are with the MMU off) they take an Alignment fault (DFSC 0b100001);
   exclusives and load-acquire/store-release must always be aligned.
   ARM ARM B2.5 (alignment support), D8.2.12 (MMU off: Device-nGnRnE data accesses). */
#include "guest.h"

#define BUF_PA 0x81000000UL
#define DEV_VA 0x100000000UL /* BUF_PA mapped as Device-nGnRnE */

/* One access at addr; returns the value loaded (or 0) and leaves the exception in exc. */
#define ACCESS(insn, addr)                                                             \
  ({                                                                                   \
    u64 __v = 0;                                                                       \
    exc_arm(EXC_SKIP);                                                                 \
    __asm__ volatile("mov x9, %1\n mov x10, #0\n " insn "\n mov %0, x10" : "=r"(__v) \
                     : "r"(addr) : "x9", "x10", "x11", "memory");                      \
    exc_disarm();                                                                      \
    __v;                                                                               \
  })

static void expect_alignment(u64 far, int write, const char *what) {
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_DABT_CUR &&
            (ESR_ISS(exc.esr) & (ISS_WNR | 0x3f)) == ((write ? ISS_WNR : 0) | FSC_ALIGNMENT),
        what);
  if (exc.count) check_eq(exc.far, far, "  FAR = the unaligned address");
}

static void fill(void) {
  for (int i = 0; i < 64; i++) ((volatile u8 *)BUF_PA)[i] = (u8)(0x10 + i);
}

static void test_mmu_off(void) {
  fill();
  ACCESS("ldr x10, [x9]", BUF_PA + 1);
  expect_alignment(BUF_PA + 1, 0, "MMU off (Device memory): an unaligned LDR faults with DFSC 0x21");
  ACCESS("str w10, [x9]", BUF_PA + 2);
  expect_alignment(BUF_PA + 2, 1, "MMU off: an unaligned STR faults, WnR = 1");
  u64 v = ACCESS("ldrh w10, [x9]", BUF_PA + 4);
  check(exc.count == 0 && v == 0x1514, "MMU off: an aligned LDRH works");
}

static void test_normal(void) {
  fill();
  u64 v = ACCESS("ldr x10, [x9]", BUF_PA + 3);
  check(exc.count == 0, "Normal memory, A = 0: an unaligned LDR works");
  check_eq(v, 0x1a19181716151413UL, "  and reads the bytes little-endian");
  ACCESS("mov x11, #0x1122\n movk x11, #0x3344, lsl #16\n str w11, [x9]", BUF_PA + 0x21);
  check(exc.count == 0 && ((volatile u8 *)BUF_PA)[0x21] == 0x22 && ((volatile u8 *)BUF_PA)[0x24] == 0x33,
        "Normal memory, A = 0: an unaligned STR writes the bytes");
  /* Across a page boundary. */
  *(volatile u64 *)(BUF_PA + 0xff8) = 0x0706050403020100UL;
  *(volatile u64 *)(BUF_PA + 0x1000) = 0x0f0e0d0c0b0a0908UL;
  v = ACCESS("ldr x10, [x9]", BUF_PA + 0xffc);
  check(exc.count == 0 && v == 0x0b0a090807060504UL, "an unaligned LDR across a page boundary works");

  v = ACCESS("ldxr x10, [x9]", BUF_PA + 4);
  expect_alignment(BUF_PA + 4, 0, "LDXR of a misaligned doubleword faults even with A = 0");
  v = ACCESS("ldxr w10, [x9]", BUF_PA + 4);
  check(exc.count == 0, "LDXR W of an aligned word works");
  __asm__ volatile("clrex");
  ACCESS("ldar w10, [x9]", BUF_PA + 2);
  expect_alignment(BUF_PA + 2, 0, "LDAR of a misaligned word faults");
  ACCESS("stlr x10, [x9]", BUF_PA + 8 + 4);
  expect_alignment(BUF_PA + 12, 1, "STLR of a misaligned doubleword faults");
  ACCESS("ldaxp x10, x11, [x9]", BUF_PA + 8);
  expect_alignment(BUF_PA + 8, 0, "LDAXP must be aligned to the pair (16 bytes)");
  __asm__ volatile("clrex");
}

static void test_strict(void) {
  u64 sctlr = read_sysreg(sctlr_el1);
  write_sysreg(sctlr_el1, sctlr | SCTLR_A);
  isb();
  ACCESS("ldr x10, [x9]", BUF_PA + 3);
  expect_alignment(BUF_PA + 3, 0, "SCTLR_EL1.A = 1: an unaligned LDR faults");
  ACCESS("ldrh w10, [x9]", BUF_PA + 1);
  expect_alignment(BUF_PA + 1, 0, "SCTLR_EL1.A = 1: an unaligned LDRH faults");
  ACCESS("stp w10, w10, [x9]", BUF_PA + 2);
  expect_alignment(BUF_PA + 2, 1, "SCTLR_EL1.A = 1: an STP W not aligned to 4 faults");
  u64 v = ACCESS("ldp w10, w11, [x9]", BUF_PA + 4);
  check(exc.count == 0, "SCTLR_EL1.A = 1: an LDP W aligned to 4 (not 8) works");
  v = ACCESS("ldrb w10, [x9]", BUF_PA + 7);
  check(exc.count == 0 && v == 0x17, "SCTLR_EL1.A = 1: byte accesses never fault");
  write_sysreg(sctlr_el1, sctlr);
  isb();
  v = ACCESS("ldr x10, [x9]", BUF_PA + 3);
  check(exc.count == 0, "A = 0 again: the unaligned LDR works");
}

static void test_device_mapping(void) {
  ACCESS("ldr w10, [x9]", DEV_VA + 2);
  expect_alignment(DEV_VA + 2, 0, "MMU on, a Device mapping: an unaligned LDR faults");
  u64 v = ACCESS("ldr w10, [x9]", DEV_VA + 4);
  check(exc.count == 0 && v == 0x17161514, "MMU on, a Device mapping: an aligned LDR works");
}

int main(u64 dtb) {
  test_mmu_off();
  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  pt_map(root, DEV_VA, BUF_PA, 0x1000, PT_ATTR(MT_DEVICE) | PT_AF | PT_UXN | PT_PXN);
  mmu_enable(root, NULL);
  test_normal();
  test_strict();
  test_device_mapping();
  return failures;
}
