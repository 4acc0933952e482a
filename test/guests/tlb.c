/* ASIDs and TLB maintenance (4K granule). Without a TLBI an old translation may or may not still
   be used, so nothing here asserts staleness; what is asserted is that after the right TLBI the
   new mapping IS used, and that translations tagged with different ASIDs never mix.
   ARM ARM D8.10 (TLB maintenance), D8.12 (ASIDs, nG), C5.5 (TLBI). */
#include "guest.h"

#define X_VA 0x100000000UL
#define Y_VA 0x100200000UL
#define BLOCK_VA 0x100400000UL /* a 2 MiB block */
#define PAGE_A 0x81000000UL
#define PAGE_B 0x81001000UL
#define PAGE_C 0x81002000UL
#define BLOCK_A 0x81200000UL
#define BLOCK_B 0x81400000UL

static u64 *root_a, *root_b;

static u64 rd(u64 va) { return *(volatile u64 *)va; }
static void use(u64 *root, u64 asid) {
  write_sysreg(ttbr0_el1, (u64)root | (asid << 48));
  isb();
}

static void set_leaf(u64 *root, u64 va, u64 pa) {
  int level;
  u64 *d = pt_leaf(root, va, &level);
  u64 mask = level == 3 ? 0xfffUL : 0x1fffffUL;
  *d = (*d & ~(0x0000ffffffffffffUL & ~mask)) | pa;
  dsb(ishst);
}

static void test_asids(void) {
  use(root_a, 0x0101);
  check_eq(rd(X_VA), 0xaaaa, "ASID 0x0101, table A: X maps to page A");
  use(root_b, 0x0201);
  check_eq(rd(X_VA), 0xbbbb, "ASID 0x0201, table B: X maps to page B (no TLBI needed)");
  use(root_a, 0x0101);
  check_eq(rd(X_VA), 0xaaaa, "back to ASID 0x0101: X maps to page A again");
  use(root_b, 0x0201);
  check_eq(rd(X_VA), 0xbbbb, "and ASID 0x0201 still sees page B");
  /* With TCR_EL1.AS = 1 the ASIDs above differ only in bits 15:8. */
  check_eq(read_sysreg(tcr_el1) >> 36 & 1, 1, "TCR_EL1.AS = 1 (16-bit ASIDs)");
}

static void test_tlbi_va(void) {
  use(root_a, 0x0101);
  rd(X_VA);
  set_leaf(root_a, X_VA, PAGE_C);
  __asm__ volatile("tlbi vae1, %0\n dsb ish\n isb" ::"r"((X_VA >> 12) | (0x0101UL << 48)) : "memory");
  check_eq(rd(X_VA), 0xcccc, "TLBI VAE1 (VA, ASID): the new mapping is used");

  set_leaf(root_a, X_VA, PAGE_A);
  __asm__ volatile("tlbi vale1, %0\n dsb ish\n isb" ::"r"((X_VA >> 12) | (0x0101UL << 48)) : "memory");
  check_eq(rd(X_VA), 0xaaaa, "TLBI VALE1 (last level): the new mapping is used");

  set_leaf(root_a, X_VA, PAGE_C);
  __asm__ volatile("tlbi vaae1, %0\n dsb ish\n isb" ::"r"(X_VA >> 12) : "memory");
  check_eq(rd(X_VA), 0xcccc, "TLBI VAAE1 (any ASID): the new mapping is used");

  set_leaf(root_a, X_VA, PAGE_A);
  __asm__ volatile("tlbi vae1is, %0\n dsb ish\n isb" ::"r"((X_VA >> 12) | (0x0101UL << 48)) : "memory");
  check_eq(rd(X_VA), 0xaaaa, "TLBI VAE1IS: the new mapping is used");

  /* A global (nG = 0) entry is invalidated by VA whatever ASID the TLBI names. */
  rd(Y_VA);
  set_leaf(root_a, Y_VA, PAGE_B);
  __asm__ volatile("tlbi vae1, %0\n dsb ish\n isb" ::"r"((Y_VA >> 12) | (0x7777UL << 48)) : "memory");
  check_eq(rd(Y_VA), 0xbbbb, "TLBI VAE1 with another ASID removes a global entry");
}

static void test_tlbi_asid(void) {
  use(root_a, 0x0101);
  rd(X_VA);
  set_leaf(root_a, X_VA, PAGE_B);
  __asm__ volatile("tlbi aside1, %0\n dsb ish\n isb" ::"r"(0x0101UL << 48) : "memory");
  check_eq(rd(X_VA), 0xbbbb, "TLBI ASIDE1: the new mapping is used");

  set_leaf(root_a, X_VA, PAGE_A);
  __asm__ volatile("tlbi vmalle1\n dsb ish\n isb" ::: "memory");
  check_eq(rd(X_VA), 0xaaaa, "TLBI VMALLE1: the new mapping is used");

  set_leaf(root_a, X_VA, PAGE_C);
  __asm__ volatile("tlbi vmalle1is\n dsb ish\n isb" ::: "memory");
  check_eq(rd(X_VA), 0xcccc, "TLBI VMALLE1IS: the new mapping is used");
  set_leaf(root_a, X_VA, PAGE_A);
  tlbi_all();
}

static void test_block(void) {
  use(root_a, 0x0101);
  check_eq(rd(BLOCK_VA + 0x1000), 0xb10c4a + 1, "a 2 MiB block maps its pages");
  check_eq(rd(BLOCK_VA + 0x1ff000), 0xb10c4a + 0x1ff, "  through to its last page");
  set_leaf(root_a, BLOCK_VA, BLOCK_B);
  /* TLBI by any VA inside the block invalidates the block's translation. */
  __asm__ volatile("tlbi vaae1, %0\n dsb ish\n isb" ::"r"((BLOCK_VA + 0x5000) >> 12) : "memory");
  check_eq(rd(BLOCK_VA + 0x1000), 0xb10c4b + 1, "TLBI VAAE1 of another page in the block: new block used");
  check_eq(rd(BLOCK_VA + 0x1ff000), 0xb10c4b + 0x1ff, "  for all its pages");
}

static void test_unmap(void) {
  use(root_a, 0x0101);
  rd(X_VA);
  int level;
  u64 *d = pt_leaf(root_a, X_VA, &level);
  u64 saved = *d;
  *d = 0;
  __asm__ volatile("dsb ishst\n tlbi vae1, %0\n dsb ish\n isb" ::"r"((X_VA >> 12) | (0x0101UL << 48)) : "memory");
  exc_arm(EXC_SKIP);
  rd(X_VA);
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_TRANSLATION(3), "unmapped and invalidated: a translation fault");
  *d = saved;
  dsb(ishst);
  isb();
  exc_arm(EXC_SKIP);
  u64 v = rd(X_VA);
  check(exc.count == 0 && v == 0xaaaa, "mapped again: no TLBI is needed for an entry that was invalid");
  exc_disarm();
}

int main(u64 dtb) {
  *(volatile u64 *)PAGE_A = 0xaaaa;
  *(volatile u64 *)PAGE_B = 0xbbbb;
  *(volatile u64 *)PAGE_C = 0xcccc;
  for (u64 i = 0; i < 512; i++) {
    *(volatile u64 *)(BLOCK_A + i * 0x1000) = 0xb10c4a + i;
    *(volatile u64 *)(BLOCK_B + i * 0x1000) = 0xb10c4b + i;
  }
  mmu_config(12, 39);
  root_a = pt_new();
  pt_identity(root_a);
  pt_map(root_a, X_VA, PAGE_A, 0x1000, PT_NORMAL | PT_NG);
  pt_map(root_a, Y_VA, PAGE_A, 0x1000, PT_NORMAL);
  pt_map(root_a, BLOCK_VA, BLOCK_A, 0x200000, PT_NORMAL);
  root_b = pt_new();
  pt_identity(root_b);
  pt_map(root_b, X_VA, PAGE_B, 0x1000, PT_NORMAL | PT_NG);
  mmu_enable(root_a, NULL);

  test_asids();
  test_tlbi_va();
  test_tlbi_asid();
  test_block();
  test_unmap();
  return failures;
}
