/* Self-modifying code: after writing instructions, cleaning the data cache to the point of
   unification, invalidating the instruction cache (DC CVAU, IC IVAU, DSB, ISB), the new code
   runs — whether it was written through the same mapping or through another alias, and whether
   it had run before. ARM ARM B2.4.4 (concurrent modification and execution), D7.5. */
#include "guest.h"

#define CODE_PA 0x81000000UL
#define EXEC_VA 0x100000000UL  /* read-only, executable */
#define WRITE_VA 0x100200000UL /* writable alias, not executable */

static u64 call(u64 va) {
  register u64 x0 __asm__("x0") = 0;
  __asm__ volatile("blr %1" : "+r"(x0) : "r"(va) : "x1", "x30", "memory");
  return x0;
}

static void emit(u64 va, u32 imm) {
  volatile u32 *p = (u32 *)va;
  p[0] = 0xd2800000 | (imm << 5); /* movz x0, #imm */
  p[1] = 0xd65f03c0;              /* ret */
}

static void sync_icache(u64 va) {
  __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" ::"r"(va) : "memory");
}

int main(u64 dtb) {
  /* MMU off: write and run at the same address. */
  emit(CODE_PA, 1);
  sync_icache(CODE_PA);
  check_eq(call(CODE_PA), 1, "MMU off: freshly written code runs");
  emit(CODE_PA, 2);
  sync_icache(CODE_PA);
  check_eq(call(CODE_PA), 2, "MMU off: rewritten code runs the new instructions");

  mmu_config(12, 39);
  u64 *root = pt_new();
  pt_identity(root);
  pt_map(root, EXEC_VA, CODE_PA, 0x1000, PT_NORMAL | PT_RO);
  pt_map(root, WRITE_VA, CODE_PA, 0x1000, PT_NORMAL | PT_PXN | PT_UXN);
  mmu_enable(root, NULL);
  check_eq(call(EXEC_VA), 2, "MMU on: the code runs through a read-only alias");
  emit(WRITE_VA, 3);
  sync_icache(WRITE_VA);
  check_eq(call(EXEC_VA), 3, "written through a writable alias, the new code runs through the other");
  for (u32 i = 4; i < 8; i++) {
    emit(WRITE_VA, i);
    sync_icache(WRITE_VA);
    if (call(EXEC_VA) != i) break;
    if (i == 7) check(1, "and again, each time (4 rewrites in a row)");
  }
  /* A whole loop of code rewritten in place while it is hot. */
  u32 sum = 0;
  for (u32 i = 0; i < 100; i++) {
    emit(WRITE_VA + 0x100, i);
    sync_icache(WRITE_VA + 0x100);
    sum += call(EXEC_VA + 0x100);
  }
  check_eq(sum, 4950, "code rewritten 100 times in a hot loop always runs its latest version");
  return failures;
}
