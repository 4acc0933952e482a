/* Stage 1 permissions at EL1 (4K granule): AP read-only, PXN, WXN, EL0-writable memory never
   executable at EL1, hierarchical APTable/PXNTable, and AT S1E1R/W, S1E0R/W results in PAR_EL1.
   ARM ARM D8.4 (memory access control), D17.2.113 (PAR_EL1). */
#include "guest.h"

#define CODE_PA 0x81000000UL /* a page holding "mov x0, #42; ret" */
#define DATA_PA 0x81001000UL
#define VA(n) (0x100000000UL + (n) * 0x1000UL)
#define TABLE_RO_VA 0x140000000UL /* a 1 GiB region whose L1 table descriptor has APTable = RO */
#define TABLE_PXN_VA 0x180000000UL /* ... and one with PXNTable */
#define APTABLE_RO (1UL << 62)
#define PXNTABLE (1UL << 59)

static u64 *root;
extern char __bss_start[];

static u64 call(u64 va) {
  register u64 x0 __asm__("x0") = 0;
  __asm__ volatile("blr %1" : "+r"(x0) : "r"(va) : "x1", "x30", "memory");
  return x0;
}

static void expect_perm_dabort(u64 far, int write, const char *what) {
  check_eq(exc.count, 1, what);
  check_eq(ESR_EC(exc.esr), EC_DABT_CUR, "  EC 0x25");
  check_eq(ESR_ISS(exc.esr) & (ISS_WNR | 0x3f), (write ? ISS_WNR : 0) | FSC_PERMISSION(3),
           write ? "  WnR = 1, permission fault level 3" : "  WnR = 0, permission fault level 3");
  check_eq(exc.far, far, "  FAR = the address");
}

static void expect_exec_fault(u64 va, const char *what) {
  exc_arm(EXC_RESUME_X30);
  call(va);
  check_eq(exc.count, 1, what);
  check_eq(ESR_EC(exc.esr), EC_IABT_CUR, "  EC 0x21");
  check_eq(ESR_ISS(exc.esr) & 0x3f, FSC_PERMISSION(3), "  IFSC = permission fault, level 3");
  check_eq(exc.far, va, "  FAR = ELR = the target");
}

static void test_read_only(void) {
  volatile u64 *ro = (u64 *)(VA(1) + 0x20);
  exc_arm(EXC_SKIP);
  u64 v = *ro;
  check_eq(exc.count, 0, "AP = RO: reads work");
  check_eq(v, 0x1234, "  and see the data");
  exc_arm(EXC_SKIP);
  *ro = 5;
  expect_perm_dabort((u64)ro, 1, "AP = RO: a write is a permission fault");
  check_eq(*(volatile u64 *)(DATA_PA + 0x20), 0x1234, "  and memory is unchanged");
}

static void test_execute(void) {
  check_eq(call(VA(2)), 42, "code in a read-only, executable page runs");
  check_eq(call(VA(3)), 42, "code in a writable page runs while SCTLR_EL1.WXN = 0");
  expect_exec_fault(VA(4), "PXN = 1: EL1 execution is a permission fault");
  expect_exec_fault(VA(5), "EL0-writable memory is never executable at EL1");
  check_eq(call(VA(6)), 42, "UXN = 1 does not stop EL1 execution");

  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_WXN);
  tlbi_all();
  expect_exec_fault(VA(3), "WXN = 1: a writable page is not executable");
  check_eq(call(VA(2)), 42, "WXN = 1: a read-only page still is");
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~SCTLR_WXN);
  tlbi_all();
  check_eq(call(VA(3)), 42, "WXN = 0 again: the writable page runs");
}

static void test_hierarchical(void) {
  volatile u64 *p = (u64 *)(TABLE_RO_VA + 0x20);
  check_eq(*p, 0x1234, "APTable = RO: reads through the table work");
  exc_arm(EXC_SKIP);
  *p = 7;
  expect_perm_dabort((u64)p, 1, "APTable = RO: a write below it faults though the page is RW");
  expect_exec_fault(TABLE_PXN_VA, "PXNTable = 1: execution below it faults");
}

/* PAR_EL1 after AT: F = 0 with PA[47:12] and ATTR[63:56]; F = 1 with FST[6:1]. */
static u64 at_s1e1r(u64 va) { __asm__ volatile("at s1e1r, %0\n isb" ::"r"(va)); return read_sysreg(par_el1); }
static u64 at_s1e1w(u64 va) { __asm__ volatile("at s1e1w, %0\n isb" ::"r"(va)); return read_sysreg(par_el1); }
static u64 at_s1e0r(u64 va) { __asm__ volatile("at s1e0r, %0\n isb" ::"r"(va)); return read_sysreg(par_el1); }
static u64 at_s1e0w(u64 va) { __asm__ volatile("at s1e0w, %0\n isb" ::"r"(va)); return read_sysreg(par_el1); }

static void test_at(void) {
  u64 par = at_s1e1r(VA(1) + 0x123);
  check_eq(par & 1, 0, "AT S1E1R on a mapped page: PAR.F = 0");
  check_eq(par & 0x0000fffffffff000UL, DATA_PA, "  PAR.PA = the physical page");
  check_eq(par >> 56, 0xff, "  PAR.ATTR = the MAIR attribute (Normal WB)");
  check_eq((par >> 7) & 3, 3, "  PAR.SH = inner shareable");

  par = at_s1e1w(VA(1));
  check_eq(par & 1, 1, "AT S1E1W on a read-only page: PAR.F = 1");
  check_eq((par >> 1) & 0x3f, FSC_PERMISSION(3), "  PAR.FST = permission fault, level 3");

  par = at_s1e1r(VA(9));
  check_eq(par & 1, 1, "AT S1E1R on an unmapped page: PAR.F = 1");
  check_eq((par >> 1) & 0x3f, FSC_TRANSLATION(3), "  PAR.FST = translation fault, level 3");

  par = at_s1e0r(VA(1));
  check_eq(par & 1, 1, "AT S1E0R on an EL1-only page: PAR.F = 1");
  check_eq((par >> 1) & 0x3f, FSC_PERMISSION(3), "  PAR.FST = permission fault, level 3");

  par = at_s1e0r(VA(5));
  check_eq(par & 1, 0, "AT S1E0R on an EL0-accessible page: PAR.F = 0");
  check_eq(par & 0x0000fffffffff000UL, CODE_PA, "  PAR.PA = the physical page");
  par = at_s1e0w(VA(5));
  check_eq(par & 1, 0, "AT S1E0W on an EL0-writable page: PAR.F = 0");

  par = at_s1e1r(0x01000000UL);
  check_eq(par & 1, 0, "AT S1E1R on the UART: PAR.F = 0");
  check_eq(par >> 56, 0x00, "  PAR.ATTR = Device-nGnRnE");
  check_eq(par & 0x0000fffffffff000UL, 0x01000000UL, "  PAR.PA = the UART");
}

int main(u64 dtb) {
  static const u32 code[] = {0xd2800540, 0xd65f03c0}; /* mov x0, #42; ret */
  for (int i = 0; i < 2; i++) ((volatile u32 *)CODE_PA)[i] = code[i];
  __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" ::"r"(CODE_PA) : "memory");
  *(volatile u64 *)(DATA_PA + 0x20) = 0x1234;

  mmu_config(12, 39);
  root = pt_new();
  pt_identity(root);
  pt_map(root, VA(1), DATA_PA, 0x1000, PT_NORMAL | PT_RO);
  pt_map(root, VA(2), CODE_PA, 0x1000, PT_NORMAL | PT_RO);
  pt_map(root, VA(3), CODE_PA, 0x1000, PT_NORMAL);
  pt_map(root, VA(4), CODE_PA, 0x1000, PT_NORMAL | PT_RO | PT_PXN);
  pt_map(root, VA(5), CODE_PA, 0x1000, PT_NORMAL | PT_EL0);
  pt_map(root, VA(6), CODE_PA, 0x1000, PT_NORMAL | PT_RO | PT_UXN);
  /* Tables with APTable/PXNTable: force page mappings so there is a table descriptor. */
  pt_map(root, TABLE_RO_VA, DATA_PA, 0x1000, PT_NORMAL | PT_PAGES);
  pt_map(root, TABLE_PXN_VA, CODE_PA, 0x1000, PT_NORMAL | PT_RO | PT_PAGES);
  root[TABLE_RO_VA >> 30] |= APTABLE_RO;
  root[TABLE_PXN_VA >> 30] |= PXNTABLE;
  /* The image's code and constants read-only, so they stay executable with WXN = 1. Nothing
     after this point writes .data (the tables are all built). */
  u64 text = 0x80080000UL, text_end = (u64)__bss_start & ~0xfffUL;
  pt_map(root, text, text, text_end - text, PT_NORMAL | PT_RO | PT_PAGES);
  mmu_enable(root, NULL);

  test_read_only();
  test_execute();
  test_hierarchical();
  test_at();
  return failures;
}
