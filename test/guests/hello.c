/* The smallest guest: prints through the UART and powers off with status 0. */
#include "guest.h"

int main(u64 dtb) {
  puts("hello from a bare-metal guest\n");
  check(dtb != 0, "x0 holds the device tree address");
  check(*(volatile u32 *)dtb == 0xedfe0dd0, "the device tree starts with the FDT magic");
  check((read_sysreg(CurrentEL) >> 2) == 1, "entered at EL1");
  check((read_sysreg(mpidr_el1) & 0xff) == 0, "boot vCPU is MPIDR 0");
  return failures;
}
