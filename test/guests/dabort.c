/* Data and instruction aborts with the MMU on (4K granule, 39-bit VAs): EC, IL, FAR, ELR,
   DFSC with the level the walk stopped at, WnR, CM, and the instruction syndrome bits.
   ARM ARM D17.2.37 (ESR_ELx, "ISS encoding for an exception from a Data Abort"):
   "ISV is 0 for all faults reported in ESR_EL1 or ESR_EL3" (DDI 0487F.a D13-2992), so
   ISS[23:14] (SAS, SSE, SRT, SF, AR) are RES0 here whatever the instruction; the instruction
   syndrome exists only for stage 2 aborts taken to EL2 (what a VMM sees). */
#include "guest.h"

#define TEST_VA 0x100000000UL /* a 2 MiB region with only a few pages mapped */
#define DATA_PA 0x81000000UL
#define AF_VA 0x100200000UL /* a 2 MiB block with AF = 0 */
#define AF_PAGE_VA 0x100009000UL /* a page mapped with AF = 0 */
#define HOLE_L1_VA 0x1000000000UL /* L1 index 64: no entry */

static u64 *root;

/* One faulting access; returns what the asm's epilogue saw in the given register. */
#define FAULT_ASM(insn, addr, extra)                                                  \
  ({                                                                                  \
    u64 __at, __base;                                                                 \
    exc_arm(EXC_SKIP);                                                                \
    __asm__ volatile("mov x9, %2\n mov x10, #0x5555\n mov x11, #0x6666\n adr %0, 1f\n" \
                     "1: " insn "\n mov %1, x9"                                       \
                     : "=&r"(__at), "=&r"(__base)                                     \
                     : "r"(addr)                                                      \
                     : "x9", "x10", "x11", "memory");                                 \
    extra = __base;                                                                   \
    __at;                                                                             \
  })

static void expect_dabort(u64 at, u64 far, u64 iss, const char *what) {
  puts("# ");
  puts(what);
  puts("\n");
  check_eq(exc.count, 1, "  takes a data abort");
  check_eq(ESR_EC(exc.esr), EC_DABT_CUR, "  EC 0x25 (data abort, current EL)");
  check((exc.esr & ESR_IL) != 0, "  IL = 1");
  check_eq(exc.elr, at, "  ELR = the faulting instruction");
  check_eq(exc.far, far, "  FAR = the faulting address");
  check_eq(ESR_ISS(exc.esr) & ~ISS_ISV & ~0xffc000UL, iss, "  WnR and DFSC");
  check_eq(ESR_ISS(exc.esr) & (ISS_ISV | 0xffc000UL), 0, "  ISV = 0 and ISS[23:14] RES0 (ESR_EL1)");
}

static void test_translation_faults(void) {
  u64 base, at;
  at = FAULT_ASM("ldr x10, [x9]", TEST_VA + 0x2008, base);
  expect_dabort(at, TEST_VA + 0x2008, FSC_TRANSLATION(3), "LDR X from an unmapped page (level 3)");
  at = FAULT_ASM("ldr w10, [x9, #4]", TEST_VA + 0x400000, base);
  expect_dabort(at, TEST_VA + 0x400004, FSC_TRANSLATION(2), "LDR W, no level 2 entry");
  at = FAULT_ASM("ldrb w10, [x9]", HOLE_L1_VA + 3, base);
  expect_dabort(at, HOLE_L1_VA + 3, FSC_TRANSLATION(1), "LDRB, no level 1 entry");
  /* Above the 39-bit TTBR0 range: a level 0 translation fault. */
  at = FAULT_ASM("ldrsh x10, [x9]", 0x0000800000000000UL, base);
  expect_dabort(at, 0x0000800000000000UL, FSC_TRANSLATION(0), "LDRSH outside TTBR0's range (level 0)");
  /* TTBR1 range with TCR_EL1.EPD1 = 1: a level 0 translation fault. */
  at = FAULT_ASM("ldr x10, [x9]", 0xffffffc000001000UL, base);
  expect_dabort(at, 0xffffffc000001000UL, FSC_TRANSLATION(0), "LDR in TTBR1's range with EPD1 = 1");

  at = FAULT_ASM("str x11, [x9]", TEST_VA + 0x3010, base);
  expect_dabort(at, TEST_VA + 0x3010, ISS_WNR | FSC_TRANSLATION(3), "STR X (WnR = 1)");
  at = FAULT_ASM("strb w11, [x9, #5]", TEST_VA + 0x3000, base);
  expect_dabort(at, TEST_VA + 0x3005, ISS_WNR | FSC_TRANSLATION(3), "STRB W with an offset");
  at = FAULT_ASM("sturh w11, [x9, #-2]", TEST_VA + 0x3000, base);
  expect_dabort(at, TEST_VA + 0x2ffe, ISS_WNR | FSC_TRANSLATION(3), "STURH with a negative offset");
  at = FAULT_ASM("ldp x10, x11, [x9]", TEST_VA + 0x4000, base);
  expect_dabort(at, TEST_VA + 0x4000, FSC_TRANSLATION(3), "LDP");
  at = FAULT_ASM("stp w10, w11, [x9, #8]", TEST_VA + 0x4000, base);
  expect_dabort(at, TEST_VA + 0x4008, ISS_WNR | FSC_TRANSLATION(3), "STP W");

  /* Writeback forms: the base register is restored (ARM ARM: base restored abort model). */
  at = FAULT_ASM("ldr x10, [x9], #8", TEST_VA + 0x5000, base);
  expect_dabort(at, TEST_VA + 0x5000, FSC_TRANSLATION(3), "LDR post-index");
  check_eq(base, TEST_VA + 0x5000, "  the base register is not written back");
  at = FAULT_ASM("str x10, [x9, #16]!", TEST_VA + 0x5000, base);
  expect_dabort(at, TEST_VA + 0x5010, ISS_WNR | FSC_TRANSLATION(3), "STR pre-index");
  check_eq(base, TEST_VA + 0x5000, "  the base register is not written back");
  at = FAULT_ASM("ldp x10, x11, [x9], #16", TEST_VA + 0x5000, base);
  expect_dabort(at, TEST_VA + 0x5000, FSC_TRANSLATION(3), "LDP post-index");
  check_eq(base, TEST_VA + 0x5000, "  the base register is not written back");

  /* An LDP whose second register falls on the unmapped page: FAR is in the faulting part. */
  exc_arm(EXC_SKIP);
  __asm__ volatile("mov x9, %0\n ldp x10, x11, [x9]" ::"r"(TEST_VA + 0x1000 - 8) : "x9", "x10", "x11", "memory");
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_TRANSLATION(3), "LDP across into an unmapped page faults");
  check(exc.far >= TEST_VA + 0x1000 && exc.far < TEST_VA + 0x1008, "  FAR lies in the unmapped part");
}

static void test_access_flag(void) {
  u64 base __attribute__((unused)), at;
  at = FAULT_ASM("ldr x10, [x9]", AF_PAGE_VA + 0x10, base);
  expect_dabort(at, AF_PAGE_VA + 0x10, FSC_ACCESS(3), "LDR from a page with AF = 0 (access flag fault)");
  at = FAULT_ASM("str w10, [x9]", AF_VA + 0x12344, base);
  expect_dabort(at, AF_VA + 0x12344, ISS_WNR | FSC_ACCESS(2), "STR to a 2 MiB block with AF = 0");
  /* Software sets AF: after TLB maintenance the access works. */
  int level;
  u64 *d = pt_leaf(root, AF_PAGE_VA, &level);
  *d |= PT_AF;
  __asm__ volatile("dsb ishst\n tlbi vae1, %0\n dsb ish\n isb" ::"r"(AF_PAGE_VA >> 12) : "memory");
  exc_arm(EXC_SKIP);
  u64 v = *(volatile u64 *)(AF_PAGE_VA + 0x10);
  check_eq(exc.count, 0, "with AF set the same load works");
  check_eq(v, 0xaf0000000000aaaaUL, "  and reads the page's data");
  exc_disarm();
}

static void test_cache_maintenance(void) {
  u64 base __attribute__((unused)), at;
  at = FAULT_ASM("dc civac, x9", TEST_VA + 0x6040, base);
  puts("# DC CIVAC on an unmapped address\n");
  check_eq(ESR_EC(exc.esr), EC_DABT_CUR, "  EC 0x25");
  check_eq(exc.elr, at, "  ELR = the DC");
  check_eq(ESR_ISS(exc.esr) & (ISS_CM | ISS_WNR | 0x3f), ISS_CM | ISS_WNR | FSC_TRANSLATION(3),
           "  CM = 1, WnR = 1, translation fault level 3");
  at = FAULT_ASM("dc zva, x9", TEST_VA + 0x7008, base);
  puts("# DC ZVA on an unmapped address\n");
  check_eq(ESR_EC(exc.esr), EC_DABT_CUR, "  EC 0x25");
  check_eq(ESR_ISS(exc.esr) & (ISS_CM | ISS_WNR | 0x3f), ISS_WNR | FSC_TRANSLATION(3),
           "  CM = 0 (a store, not maintenance), WnR = 1");
  check(exc.far >= TEST_VA + 0x7000 && exc.far < TEST_VA + 0x7040, "  FAR lies in the 64-byte block");
}

static void test_instruction_abort(void) {
  u64 target = TEST_VA + 0x8000;
  exc_arm(EXC_RESUME_X30);
  __asm__ volatile("blr %0" ::"r"(target) : "x30", "memory");
  check_eq(exc.count, 1, "BLR to an unmapped address takes an instruction abort");
  check_eq(ESR_EC(exc.esr), EC_IABT_CUR, "  EC 0x21 (instruction abort, current EL)");
  check((exc.esr & ESR_IL) != 0, "  IL = 1");
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_TRANSLATION(3), "  IFSC = translation fault, level 3");
  check_eq(exc.far, target, "  FAR = the target");
  check_eq(exc.elr, target, "  ELR = the target");
  /* Running off the end of a mapped page into an unmapped one. */
  u64 page_end = TEST_VA + 0x1000;
  static const u32 tail[] = {0xd28000e0 /* mov x0, #7 */, 0xd503201f /* nop */};
  ((volatile u32 *)(DATA_PA + 0xff8))[0] = tail[0];
  ((volatile u32 *)(DATA_PA + 0xff8))[1] = tail[1];
  __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" ::"r"(page_end - 8) : "memory");
  u64 x0;
  exc_arm(EXC_RESUME_X30);
  __asm__ volatile("mov x0, #0\n blr %1\n mov %0, x0" : "=r"(x0) : "r"(page_end - 8) : "x0", "x30", "memory");
  check_eq(ESR_EC(exc.esr), EC_IABT_CUR, "running into an unmapped page: an instruction abort");
  check_eq(exc.elr, page_end, "  ELR = FAR = the first address of the unmapped page");
  check_eq(exc.far, page_end, "  FAR = the first address of the unmapped page");
  check_eq(x0, 7, "  after the instructions before it ran");
  target = HOLE_L1_VA + 0x40;
  exc_arm(EXC_RESUME_X30);
  __asm__ volatile("blr %0" ::"r"(target) : "x30", "memory");
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_TRANSLATION(1), "instruction abort with no level 1 entry: level 1");
}

/* TCR_EL1.IPS limits output addresses: a descriptor pointing above it gives an Address size
   fault (DFSC 0b0000LL) at the level of that descriptor. */
static void test_address_size(void) {
  u64 tcr = read_sysreg(tcr_el1);
  u64 va = TEST_VA + 0xa000;
  pt_map(root, va, 0x100000000UL, 0x1000, PT_NORMAL); /* PA 4 GiB */
  tlbi_all();
  exc_arm(EXC_SKIP);
  (void)*(volatile u64 *)va;
  check_eq(exc.count, 0, "IPS = 48 bits: an output address of 4 GiB translates");
  write_sysreg(tcr_el1, tcr & ~(7UL << 32)); /* IPS = 32 bits */
  isb();
  tlbi_all();
  exc_arm(EXC_SKIP);
  (void)*(volatile u64 *)va;
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_DABT_CUR, "IPS = 32 bits: the same load takes a data abort");
  check_eq(ESR_ISS(exc.esr) & 0x3f, 0x03, "  an address size fault at level 3 (DFSC 0b000011)");
  exc_disarm();
  write_sysreg(tcr_el1, tcr);
  isb();
  tlbi_all();
}

int main(u64 dtb) {
  mmu_config(12, 39);
  root = pt_new();
  pt_identity(root);
  *(volatile u64 *)(DATA_PA + 0x1010) = 0xaf0000000000aaaaUL;
  pt_map(root, TEST_VA, DATA_PA, 0x1000, PT_NORMAL);
  pt_map(root, AF_PAGE_VA, DATA_PA + 0x1000, 0x1000, PT_NORMAL & ~PT_AF);
  pt_map(root, AF_VA, 0x80000000UL, 0x200000, PT_NORMAL & ~PT_AF);
  mmu_enable(root, NULL);

  test_translation_faults();
  test_access_flag();
  test_cache_maintenance();
  test_instruction_abort();
  test_address_size();
  return failures;
}
