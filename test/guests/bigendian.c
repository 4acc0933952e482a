/* Mixed endianness: SCTLR_EL1.EE makes EL1 data accesses big-endian, SCTLR_EL1.E0E does so for
   EL0; instruction fetches stay little-endian. A known value stored one way is read back byte
   by byte the other way. ARM ARM B2.6 (endianness), D17.2.118 (SCTLR_EL1.EE, E0E). */
#include "guest.h"

#define BUF 0x81000000UL
#define EL0_CODE_VA 0x100000000UL
#define EL0_DATA_VA 0x100010000UL

/* Everything between setting and clearing EE is in one asm block: while EE = 1 the C stack and
   globals would be read big-endian. */
static void be_accesses(u64 buf, u64 *out) {
  u64 sctlr = read_sysreg(sctlr_el1);
  __asm__ volatile(
      "msr sctlr_el1, %2\n isb\n"
      /* Constants come from MOVZ/MOVK: a literal pool would be read big-endian too. */
      "movz x10, #0x0708\n movk x10, #0x0506, lsl #16\n movk x10, #0x0304, lsl #32\n"
      "movk x10, #0x0102, lsl #48\n str x10, [%0]\n"      /* buf+0: 8 bytes */
      "movz w10, #0x3344\n movk w10, #0x1122, lsl #16\n str w10, [%0, #8]\n" /* buf+8: 4 bytes */
      "mov w10, #0x5566\n strh w10, [%0, #12]\n"            /* buf+12: 2 bytes */
      "ldr x11, [%0]\n"                                     /* round trip */
      "ldrh w12, [%0, #16]\n"                               /* bytes aa bb written by C */
      "ldr w13, [%0, #16]\n"                                /* aa bb cc dd */
      "ldp w14, w15, [%0, #16]\n"
      "msr sctlr_el1, %3\n isb\n"
      "stp x11, x12, [%1]\n stp x13, x14, [%1, #16]\n str x15, [%1, #32]\n"
      :
      : "r"(buf), "r"(out), "r"(sctlr | SCTLR_EE), "r"(sctlr)
      : "x10", "x11", "x12", "x13", "x14", "x15", "memory");
}

__asm__(".pushsection .text\n .balign 4096\n .global el0_be_code, el0_be\n"
        "el0_be_code:\n"
        "el0_be: movz x1, #0x0708\n movk x1, #0x0506, lsl #16\n movk x1, #0x0304, lsl #32\n"
        " movk x1, #0x0102, lsl #48\n str x1, [x0]\n ldrh w2, [x0]\n ldr x0, [x0]\n"
        " add x0, x0, x2\n svc #0\n"
        " .balign 4096\n .popsection\n");
extern char el0_be_code[], el0_be[];

int main(u64 dtb) {
  check_eq((read_sysreg(id_aa64mmfr0_el1) >> 8) & 0xf, 1, "ID_AA64MMFR0_EL1.BigEnd = 1: mixed-endian support");
  volatile u8 *b = (u8 *)BUF;
  b[16] = 0xaa; b[17] = 0xbb; b[18] = 0xcc; b[19] = 0xdd;
  b[20] = 0x01; b[21] = 0x02; b[22] = 0x03; b[23] = 0x04;
  u64 out[5];
  be_accesses(BUF, out);
  check(b[0] == 0x01 && b[1] == 0x02 && b[7] == 0x08, "EE = 1: STR X stores the most significant byte first");
  check(b[8] == 0x11 && b[11] == 0x44, "EE = 1: STR W stores big-endian");
  check(b[12] == 0x55 && b[13] == 0x66, "EE = 1: STRH stores big-endian");
  check_eq(out[0], 0x0102030405060708UL, "EE = 1: LDR X reads back what STR X stored");
  check_eq(out[1], 0xaabb, "EE = 1: LDRH of bytes aa bb is 0xaabb");
  check_eq(out[2], 0xaabbccdd, "EE = 1: LDR W of bytes aa bb cc dd is 0xaabbccdd");
  check(out[3] == 0xaabbccdd && out[4] == 0x01020304, "EE = 1: LDP W reads each word big-endian");
  check_eq(*(volatile u64 *)BUF, 0x0807060504030201UL, "EE = 0 again: the same doubleword reads little-endian");

  /* E0E: EL0 big-endian while EL1 (and the table walks, which follow EE) stay little-endian. */
  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  pt_map(root, EL0_CODE_VA, (u64)el0_be_code, 0x1000, PT_NORMAL | PT_EL0 | PT_RO);
  pt_map(root, EL0_DATA_VA, BUF + 0x1000, 0x1000, PT_NORMAL | PT_EL0 | PT_UXN);
  mmu_enable(root, NULL);
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_E0E);
  isb();
  u64 r = run_el0(EL0_CODE_VA + (u64)el0_be - (u64)el0_be_code, EL0_DATA_VA, EL0_DATA_VA + 0x800);
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~SCTLR_E0E);
  isb();
  check_eq(ESR_EC(exc.esr), EC_SVC64, "E0E = 1: EL0 runs (instruction fetch stays little-endian)");
  check(b[0x1000] == 0x01 && b[0x1007] == 0x08, "E0E = 1: EL0's STR X stores big-endian");
  check_eq(r, 0x0102030405060708UL + 0x0102, "E0E = 1: EL0's LDR X and LDRH read big-endian");
  check_eq(*(volatile u64 *)(BUF + 0x1000), 0x0807060504030201UL, "E0E = 1: EL1 still reads little-endian");
  return failures;
}
