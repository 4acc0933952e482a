/* Boot paths that need cache maintenance, for lkvm --check-cache-maintenance. Runs correctly
   on lkvm either way (it has no caches); the checker says whether it would on hardware or
   under KVM. With "cmo=skip" in the bootargs each step leaves its maintenance out; with
   "cmo=no-isb" or "cmo=ic-before-dc" only step 2 gets it wrong in that way; with "cmo=setway"
   step 3 cleans the whole data cache by set/way (the CLIDR/CCSIDR walk firmware does) instead
   of by VA:

   1. Page tables (and the stack) written with the MMU off, then the MMU turned on: the table
      walker and the code read those lines through the cache, which may hold stale copies
      (ARM ARM D8.2.x; Linux's head.S invalidates init_idmap_pg_dir for this reason).
      Maintenance: DC IVAC over everything written with the MMU off, before turning it on.
   2. Code written as data with the MMU on, then run. Maintenance: DC CVAU, DSB, IC IVAU,
      DSB, ISB (ARM ARM B2.4.4).
   3. Data written with the MMU on, then read with it off: memory holds what was there before.
      Maintenance: DC CIVAC over the data (and the stack and globals the code goes on using)
      before turning it off.

   The addresses are fixed so that the tests can name them: page tables in the library's pool
   at 0x80800000, code at CODE_PA, data at DATA_PA. */
#include "guest.h"

#define CODE_PA 0x81000000UL
#define DATA_PA 0x81100000UL
#define POOL_START 0x80800000UL
#define POOL_END 0x80c00000UL
#define IMAGE_START 0x80080000UL
#define LINE 64 /* CTR_EL0.DminLine and IminLine */

extern char __stack_top[];

static int bootarg_has(u64 dtb, const char *word) {
  const u8 *p = (const u8 *)dtb;
  u32 size = ((u32)p[4] << 24) | ((u32)p[5] << 16) | ((u32)p[6] << 8) | p[7];
  for (u32 i = 0; i < size; i++) {
    u32 j = 0;
    while (word[j] && i + j < size && p[i + j] == (u8)word[j]) j++;
    if (!word[j]) return 1;
  }
  return 0;
}

/* Invalidates [start, end) by VA, then turns the MMU and caches on: one asm block, so that no
   store (a stack spill) lands between the maintenance and the enable. */
static void invalidate_then_enable(u64 ttbr0, u64 tcr, u64 image_end, int maintain) {
  u64 sctlr = read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I;
  __asm__ volatile(
      "cbz %[maintain], 3f\n"
      "dsb sy\n"
      "mov x9, %[image]\n"
      "1: dc ivac, x9\n add x9, x9, #64\n cmp x9, %[image_end]\n b.lo 1b\n"
      "mov x9, %[pool]\n"
      "2: dc ivac, x9\n add x9, x9, #64\n cmp x9, %[pool_end]\n b.lo 2b\n"
      "dsb sy\n"
      "3: msr mair_el1, %[mair]\n msr tcr_el1, %[tcr]\n msr ttbr0_el1, %[ttbr0]\n isb\n"
      "tlbi vmalle1\n dsb ish\n isb\n"
      "msr sctlr_el1, %[sctlr]\n isb\n"
      :
      : [maintain] "r"((u64)maintain), [image] "r"(IMAGE_START), [image_end] "r"(image_end),
        [pool] "r"(POOL_START), [pool_end] "r"(POOL_END), [mair] "r"(MAIR_VALUE), [tcr] "r"(tcr),
        [ttbr0] "r"(ttbr0), [sctlr] "r"(sctlr)
      : "x9", "memory");
}

/* Cleans and invalidates every data cache level by set/way (CLIDR_EL1 up to the Level of
   Coherence, each level's sets and ways from CCSIDR_EL1), then turns the MMU and data cache off. */
static void clean_all_then_disable(void) {
  u64 sctlr = read_sysreg(sctlr_el1) & ~(SCTLR_M | SCTLR_C);
  __asm__ volatile(
      "mrs x0, clidr_el1\n and x3, x0, #0x7000000\n lsr x3, x3, #23\n" /* x3 = LoC * 2 */
      "mov x10, #0\n"                                                    /* x10 = level * 2 */
      "1: add x2, x10, x10, lsr #1\n lsr x1, x0, x2\n and x1, x1, #7\n cmp x1, #2\n b.lt 4f\n"
      "msr csselr_el1, x10\n isb\n mrs x1, ccsidr_el1\n"
      "and x2, x1, #7\n add x2, x2, #4\n"                                /* log2(line bytes) */
      "mov x4, #0x3ff\n and x4, x4, x1, lsr #3\n clz w5, w4\n"          /* ways - 1, way shift */
      "mov x7, #0x7fff\n and x7, x7, x1, lsr #13\n"                      /* sets - 1 */
      "2: mov x9, x4\n"
      "3: lsl x6, x9, x5\n orr x11, x10, x6\n lsl x6, x7, x2\n orr x11, x11, x6\n dc cisw, x11\n"
      "subs x9, x9, #1\n b.ge 3b\n subs x7, x7, #1\n b.ge 2b\n"
      "4: add x10, x10, #2\n cmp x3, x10\n b.gt 1b\n"
      "dsb sy\n msr sctlr_el1, %[sctlr]\n isb\n tlbi vmalle1\n dsb ish\n isb\n"
      :
      : [sctlr] "r"(sctlr)
      : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x9", "x10", "x11", "memory", "cc");
}

/* Cleans and invalidates [start, end) and the data line, then turns the MMU and data cache off. */
static void clean_then_disable(u64 data, u64 image_end, int maintain) {
  u64 sctlr = read_sysreg(sctlr_el1) & ~(SCTLR_M | SCTLR_C);
  __asm__ volatile(
      "cbz %[maintain], 2f\n"
      "dc civac, %[data]\n"
      "mov x9, %[image]\n"
      "1: dc civac, x9\n add x9, x9, #64\n cmp x9, %[image_end]\n b.lo 1b\n"
      "dsb sy\n"
      "2: msr sctlr_el1, %[sctlr]\n isb\n"
      "tlbi vmalle1\n dsb ish\n isb\n"
      :
      : [maintain] "r"((u64)maintain), [data] "r"(data), [image] "r"(IMAGE_START),
        [image_end] "r"(image_end), [sctlr] "r"(sctlr)
      : "x9", "memory");
}

static u64 call(u64 va) {
  register u64 x0 __asm__("x0") = 0;
  __asm__ volatile("blr %1" : "+r"(x0) : "r"(va) : "x1", "x30", "memory");
  return x0;
}

int main(u64 dtb) {
  int maintain = !bootarg_has(dtb, "cmo=skip");
  u64 image_end = (u64)__stack_top;
  puts(maintain ? "# cleans, invalidates, synchronizes\n" : "# skips every clean, invalidate and ISB\n");

  /* 1. Page tables with the MMU off, then on. */
  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  invalidate_then_enable((u64)root, mmu_tcr() | (1UL << 23) /* EPD1 */, image_end, maintain);
  check((read_sysreg(sctlr_el1) & SCTLR_M) != 0, "the MMU is on");

  /* 2. Code written with the MMU on, then run. */
  volatile u32 *code = (volatile u32 *)CODE_PA;
  code[0] = 0xd2800000 | (42 << 5); /* movz x0, #42 */
  code[1] = 0xd65f03c0;             /* ret */
  if (bootarg_has(dtb, "cmo=no-isb"))
    __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish" ::"r"(CODE_PA) : "memory");
  else if (bootarg_has(dtb, "cmo=ic-before-dc"))
    __asm__ volatile("ic ivau, %0\n dsb ish\n dc cvau, %0\n dsb ish\n isb" ::"r"(CODE_PA) : "memory");
  else if (maintain)
    __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" ::"r"(CODE_PA) : "memory");
  check_eq(call(CODE_PA), 42, "the code written as data runs");

  /* 3. Data written with the MMU on, read with it off. */
  *(volatile u64 *)DATA_PA = 0x1234;
  if (bootarg_has(dtb, "cmo=setway")) clean_all_then_disable();
  else clean_then_disable(DATA_PA, image_end, maintain);
  check((read_sysreg(sctlr_el1) & SCTLR_M) == 0, "the MMU is off");
  check_eq(*(volatile u64 *)DATA_PA, 0x1234, "the data written with the MMU on reads back with it off");
  return failures;
}
