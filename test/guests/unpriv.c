/* Unprivileged loads and stores (LDTR/STTR and their byte/half/signed forms) executed at EL1 are
   checked against EL0's permissions: they fault on EL1-only pages (a permission fault reported
   as from the current EL, EC 0x25) and work on pages EL0 may access.
   ARM ARM C3.2.5 (load/store unprivileged), D8.4.3. */
#include "guest.h"

#define E1_VA 0x100000000UL /* EL1 RW, no EL0 access */
#define E0_RW_VA 0x100001000UL
#define E0_RO_VA 0x100002000UL
#define PA 0x81000000UL

#define ACCESS(insn, addr)                                                             \
  ({                                                                                   \
    u64 __v = 0;                                                                       \
    exc_arm(EXC_SKIP);                                                                 \
    __asm__ volatile("mov x9, %1\n mov x10, #0x5a\n " insn "\n mov %0, x10" : "=r"(__v) \
                     : "r"(addr) : "x9", "x10", "memory");                             \
    exc_disarm();                                                                      \
    __v;                                                                               \
  })

static void expect_perm(u64 far, int write, const char *what) {
  check(exc.count == 1 && ESR_EC(exc.esr) == EC_DABT_CUR &&
            (ESR_ISS(exc.esr) & (ISS_WNR | 0x3f)) == ((write ? ISS_WNR : 0) | FSC_PERMISSION(3)),
        what);
  if (exc.count) check_eq(exc.far, far, "  FAR = the address");
}

int main(u64 dtb) {
  ((volatile u64 *)PA)[0] = 0x1111;
  ((volatile u64 *)PA)[512] = 0x2222;
  ((volatile u64 *)PA)[1024] = 0xfffe;
  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  pt_map(root, E1_VA, PA, 0x1000, PT_NORMAL);
  pt_map(root, E0_RW_VA, PA + 0x1000, 0x1000, PT_NORMAL | PT_EL0 | PT_UXN);
  pt_map(root, E0_RO_VA, PA + 0x2000, 0x1000, PT_NORMAL | PT_EL0 | PT_RO | PT_UXN);
  mmu_enable(root, NULL);

  u64 v = ACCESS("ldr x10, [x9]", E1_VA);
  check(exc.count == 0 && v == 0x1111, "LDR at EL1 of an EL1-only page works");
  ACCESS("ldtr x10, [x9]", E1_VA);
  expect_perm(E1_VA, 0, "LDTR of an EL1-only page: permission fault (EC 0x25)");
  ACCESS("ldtrb w10, [x9, #3]", E1_VA);
  expect_perm(E1_VA + 3, 0, "LDTRB with an offset: permission fault");
  ACCESS("sttr x10, [x9, #8]", E1_VA);
  expect_perm(E1_VA + 8, 1, "STTR to an EL1-only page: permission fault, WnR = 1");
  check_eq(((volatile u64 *)PA)[1], 0, "  and memory is unchanged");

  v = ACCESS("ldtr x10, [x9]", E0_RW_VA);
  check(exc.count == 0 && v == 0x2222, "LDTR of an EL0 RW page works");
  ACCESS("sttrh w10, [x9, #16]", E0_RW_VA);
  check(exc.count == 0 && ((volatile u16 *)PA)[(0x1000 + 16) / 2] == 0x5a, "STTRH to an EL0 RW page works");
  v = ACCESS("ldtrsh x10, [x9]", E0_RO_VA);
  check(exc.count == 0 && v == 0xfffffffffffffffeUL, "LDTRSH of an EL0 read-only page works (sign-extended)");
  ACCESS("sttr w10, [x9]", E0_RO_VA);
  expect_perm(E0_RO_VA, 1, "STTR to an EL0 read-only page: permission fault");
  return failures;
}
