/* Stage 1 translation with each granule (4K, 16K, 64K) and two VA sizes (39 and 48 bits):
   page mappings, the largest level 2 block (2 MiB, 32 MiB, 512 MiB), level 1 blocks for 4K,
   TTBR1 for the top of the address space, and the level a translation fault reports.
   ARM ARM D8.2 (translation tables), D17.2.131 (TCR_EL1), D17.2.113 (PAR_EL1). */
#include "guest.h"

#define PAGE_PA 0x81000000UL
#define HIGH_PA 0x81100000UL

static u64 at_s1e1r(u64 va) {
  __asm__ volatile("at s1e1r, %0\n isb" ::"r"(va));
  return read_sysreg(par_el1);
}

static void say(const char *what, int shift, int va_bits) {
  puts("# ");
  puts(what);
  puts(": ");
  put_dec(1UL << (shift - 10));
  puts("K granule, ");
  put_dec(va_bits);
  puts("-bit VAs\n");
}

static void one_config(int shift, int va_bits) {
  u64 page = 1UL << shift;
  u64 l2_block = 1UL << (shift + (shift - 3)); /* 2 MiB, 32 MiB, 512 MiB */
  u64 low_va = 0x4000000000UL;                            /* 256 GiB: inside 39 bits */
  u64 block_va = 0x6000000000UL;                          /* 384 GiB, block aligned */
  u64 high_va = 0UL - (1UL << va_bits) + 0x40000000UL * 3; /* TTBR1's range */
  /* An address whose first-level entry is empty (nothing else shares it). */
  u64 hole_va = va_bits == 39 ? 0x7000000000UL : 0x800000000000UL;

  say("configuration", shift, va_bits);
  mmu_disable();
  pt_pool_reset();
  mmu_config(shift, va_bits);
  u64 *ttbr0 = pt_new(), *ttbr1 = pt_new();
  pt_identity(ttbr0);
  /* Fill the test pages: the first word of each granule-sized page says which one it is. */
  for (u64 i = 0; i < 4; i++) *(volatile u64 *)(PAGE_PA + i * 0x10000) = 0x9a9e0000 + i;
  *(volatile u64 *)HIGH_PA = 0x4164;
  pt_map(ttbr0, low_va, PAGE_PA, page, PT_NORMAL);
  pt_map(ttbr0, low_va + page, PAGE_PA + 0x10000, page, PT_NORMAL);
  u64 block_pa = PAGE_PA & ~(l2_block - 1);
  pt_map(ttbr0, block_va, block_pa, l2_block, PT_NORMAL);
  pt_map(ttbr1, high_va, HIGH_PA, page, PT_NORMAL);
  mmu_enable(ttbr0, ttbr1);

  check_eq(read_sysreg(tcr_el1) & 0x3f, 64 - va_bits, "  T0SZ as configured");
  check_eq(*(volatile u64 *)low_va, 0x9a9e0000, "  a page maps to its physical page");
  check_eq(*(volatile u64 *)(low_va + page), 0x9a9e0001, "  the next page maps to another one");
  *(volatile u64 *)(low_va + page + 8) = 0x5ca1ab1e;
  check_eq(*(volatile u64 *)(PAGE_PA + 0x10008), 0x5ca1ab1e, "  a store through it lands in the physical page");
  u64 par = at_s1e1r(low_va + page + 0x18);
  check_eq(par & ~0xfffUL & 0x0000ffffffffffffUL, (PAGE_PA + 0x10000) & ~0xfffUL, "  AT S1E1R gives its PA");

  u64 off = PAGE_PA + 0x10000 - block_pa;
  check_eq(*(volatile u64 *)(block_va + off), 0x9a9e0001, "  a level 2 block maps its whole range");
  par = at_s1e1r(block_va + l2_block - 8);
  check_eq(par & 0x0000fffffffff000UL, (block_pa + l2_block - 8) & ~0xfffUL, "  AT on the block's last bytes");

  check_eq(*(volatile u64 *)high_va, 0x4164, "  TTBR1 maps the top of the address space");
  par = at_s1e1r(high_va + 0x10);
  check_eq(par & 0x0000fffffffff000UL, HIGH_PA, "  AT S1E1R through TTBR1");

  /* Where the walk stops: an empty entry at the first level the tables use. */
  int stride = shift - 3;
  int first_level = 4 - (va_bits - shift + stride - 1) / stride;
  par = at_s1e1r(hole_va);
  check_eq(par & 1, 1, "  an unmapped address fails");
  check_eq((par >> 1) & 0x3f, FSC_TRANSLATION(first_level), "  with a translation fault at the first lookup level");
  par = at_s1e1r(low_va + 2 * page);
  check_eq((par >> 1) & 0x3f, FSC_TRANSLATION(3), "  an empty page entry: translation fault level 3");

  /* 4K: a 1 GiB level 1 block too. */
  if (shift == 12) {
    u64 *d;
    int level;
    d = pt_leaf(ttbr0, RAM_BASE + 0x1000, &level);
    check(d && level == 1, "  RAM is mapped with a 1 GiB level 1 block");
  }
}

int main(u64 dtb) {
  u64 mmfr0 = read_sysreg(id_aa64mmfr0_el1);
  check_eq((mmfr0 >> 28) & 0xf, 0, "ID_AA64MMFR0_EL1.TGran4 = 0: 4K supported");
  check_eq((mmfr0 >> 20) & 0xf, 1, "ID_AA64MMFR0_EL1.TGran16 = 1: 16K supported");
  check_eq((mmfr0 >> 24) & 0xf, 0, "ID_AA64MMFR0_EL1.TGran64 = 0: 64K supported");
  static const int configs[][2] = {{12, 39}, {12, 48}, {14, 39}, {14, 48}, {16, 39}, {16, 48}};
  for (int i = 0; i < 6; i++) one_config(configs[i][0], configs[i][1]);
  return failures;
}
