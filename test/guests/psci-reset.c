/* PSCI SYSTEM_RESET: under kvmtool a reset ends the VM like SYSTEM_OFF (there is no reboot).
   The test checks that lkvm exits 0 after this guest's one line, and that it ran only once. */
#include "guest.h"

int main(u64 dtb) {
  puts("psci-reset: calling SYSTEM_RESET\n");
  hvc_call(PSCI_SYSTEM_RESET, 0, 0, 0);
  puts("not ok - SYSTEM_RESET returned\n");
  return 1;
}
