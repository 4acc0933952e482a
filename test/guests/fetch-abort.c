/* Instruction fetches outside RAM, with the MMU off (all of physical space is flat): KVM runs
   code only from memory slots, so a branch to an address no memory backs takes a synchronous
   external instruction abort (EC 0x21, IFSC 0b010000), FAR and ELR the target, as KVM injects
   it; a run of zeros (UDF) would be an emulator's answer, not KVM's. The CFI flash in
   read-array mode is a memory slot in kvmtool: code placed there runs (needs -F). */
#include "guest.h"

#define NOTHING_PA 0x20000000UL /* between the flash window and the PCI space: no device */

static void test_unbacked(u64 target, const char *what) {
  puts("# ");
  puts(what);
  puts("\n");
  exc_arm(EXC_RESUME_X30);
  __asm__ volatile("blr %0" ::"r"(target) : "x30", "memory");
  check_eq(exc.count, 1, "  takes an instruction abort");
  check_eq(ESR_EC(exc.esr), EC_IABT_CUR, "  EC 0x21 (instruction abort, current EL)");
  check_eq(ESR_ISS(exc.esr) & 0x3f, 0x10, "  IFSC = synchronous external abort");
  check_eq(exc.far, target, "  FAR = the target");
  check_eq(exc.elr, target, "  ELR = the target");
}

static u64 run_from_flash(void) {
  register u64 x0 __asm__("x0") = 0;
  __asm__ volatile("blr %1" : "+r"(x0) : "r"(FLASH_BASE) : "x1", "x30", "memory");
  return x0;
}

int main(u64 dtb) {
  test_unbacked(NOTHING_PA, "a branch to physical memory nothing backs");
  test_unbacked(UART0 + 0x100, "a branch into a device's registers (the 8250's window)");
  /* The flash image the test gives holds "mov x0, #7; ret" at its start. */
  check_eq(run_from_flash(), 7, "code in the CFI flash (read-array mode) runs in place");
  return failures;
}
