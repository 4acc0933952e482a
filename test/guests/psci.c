/* PSCI over HVC as KVM provides it (run with -c 2): versions, FEATURES, CPU_ON with a context id
   for a secondary that starts with the MMU off at its entry point, AFFINITY_INFO seeing it on
   and then off after CPU_OFF, the error returns, and SYSTEM_OFF (exit) ending the VM.
   PSCI (ARM DEN 0022) 5.1-5.16, SMCCC (ARM DEN 0028). */
#include "guest.h"

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED -1
#define PSCI_INVALID_PARAMETERS -2
#define PSCI_ALREADY_ON -4

static volatile u64 flag, seen_ctx, seen_mpidr, seen_el, seen_sctlr, seen_daif, go_off, entries;

static void secondary(u64 ctx) {
  /* Runs with the MMU off on the stack secondary_entry gave it. */
  seen_ctx = ctx;
  seen_mpidr = read_sysreg(mpidr_el1);
  seen_el = read_sysreg(CurrentEL) >> 2;
  seen_sctlr = read_sysreg(sctlr_el1);
  seen_daif = read_sysreg(daif);
  entries++;
  dsb(sy);
  flag = 1;
  while (!go_off) {
  }
  /* Returning calls CPU_OFF. */
}

static int wait_for(volatile u64 *p, u64 ms) {
  u64 end = cntvct() + ms * 62500;
  while (!*p && cntvct() < end) {
  }
  return *p != 0;
}

static s64 affinity(u64 mpidr) { return (s64)hvc_call(PSCI_AFFINITY_INFO, mpidr, 0, 0); }

int main(u64 dtb) {
  u64 v = hvc_call(PSCI_VERSION, 0, 0, 0);
  check_eq(v >> 16, 1, "PSCI_VERSION: major version 1");
  check(v == 0x10000 || v == 0x10001, "PSCI_VERSION is 1.0 or 1.1 (what KVM hosts give)");
  check_eq((s64)hvc_call(PSCI_FEATURES, PSCI_CPU_ON, 0, 0), PSCI_SUCCESS, "PSCI_FEATURES(CPU_ON) = SUCCESS");
  check_eq((s64)hvc_call(PSCI_FEATURES, PSCI_SYSTEM_OFF, 0, 0), PSCI_SUCCESS, "PSCI_FEATURES(SYSTEM_OFF) = SUCCESS");
  check_eq((s64)hvc_call(PSCI_FEATURES, PSCI_AFFINITY_INFO, 0, 0), PSCI_SUCCESS, "PSCI_FEATURES(AFFINITY_INFO) = SUCCESS");
  check_eq((s64)hvc_call(PSCI_FEATURES, 0x840000ffUL, 0, 0), PSCI_NOT_SUPPORTED, "PSCI_FEATURES(unknown) = NOT_SUPPORTED");
  check_eq(hvc_call(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0), 2, "MIGRATE_INFO_TYPE = 2 (no Trusted OS to migrate)");
  check(hvc_call(SMCCC_VERSION, 0, 0, 0) >= 0x10001, "SMCCC_VERSION >= 1.1");
  check_eq((s64)hvc_call(0xc2000000UL, 0, 0, 0), PSCI_NOT_SUPPORTED, "an unknown SMCCC function returns -1");

  check_eq(affinity(0), 0, "AFFINITY_INFO(vCPU 0) = ON");
  check_eq(affinity(1), 1, "AFFINITY_INFO(vCPU 1) = OFF before CPU_ON");
  check_eq(affinity(7), PSCI_INVALID_PARAMETERS, "AFFINITY_INFO of a vCPU that does not exist: INVALID_PARAMETERS");

  u64 ctx = 0x123456789abcdef0UL;
  check_eq(cpu_on(1, secondary, ctx), PSCI_SUCCESS, "CPU_ON(vCPU 1) = SUCCESS");
  check(wait_for(&flag, 5000), "vCPU 1 ran its entry point and wrote the flag");
  check_eq(seen_ctx, ctx, "  x0 at entry = the context id");
  check_eq(seen_mpidr & 0xff00ffffffUL, 1, "  its MPIDR_EL1 affinity is 0.0.0.1");
  check_eq(seen_el, 1, "  it runs at EL1");
  check_eq(seen_sctlr & (SCTLR_M | SCTLR_C), 0, "  with the MMU and data cache off");
  check_eq(seen_daif, 0x3c0, "  with D, A, I and F masked");
  check_eq(affinity(1), 0, "AFFINITY_INFO(vCPU 1) = ON while it runs");
  check_eq(cpu_on(1, secondary, 0), PSCI_ALREADY_ON, "CPU_ON of a running vCPU = ALREADY_ON");
  check_eq(cpu_on(0, secondary, 0), PSCI_ALREADY_ON, "CPU_ON of the caller = ALREADY_ON");
  check_eq(cpu_on(5, secondary, 0), PSCI_INVALID_PARAMETERS, "CPU_ON of a vCPU that does not exist = INVALID_PARAMETERS");

  go_off = 1;
  dsb(sy);
  s64 state = 0;
  for (int i = 0; i < 5000 && (state = affinity(1)) != 1; i++) udelay(1000);
  check_eq(state, 1, "after CPU_OFF, AFFINITY_INFO(vCPU 1) = OFF");

  /* It can be started again. */
  flag = 0;
  go_off = 1;
  check_eq(cpu_on(1, secondary, 42), PSCI_SUCCESS, "CPU_ON again after CPU_OFF = SUCCESS");
  check(wait_for(&flag, 5000) && seen_ctx == 42 && entries == 2, "  it runs the entry point again with the new context id");
  for (int i = 0; i < 5000 && (state = affinity(1)) != 1; i++) udelay(1000);
  check_eq(state, 1, "  and is off again");
  /* CPU_SUSPEND (standby) returns when an interrupt is pending, masked or not. */
  gic_init();
  gic_enable_irq(PPI_VTIMER);
  write_sysreg(cntv_tval_el0, 5 * 62500);
  write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
  isb();
  u64 t0 = cntvct();
  s64 r = (s64)hvc_call(PSCI_CPU_SUSPEND, 0, 0, 0);
  u64 waited = cntvct() - t0;
  check_eq(r, PSCI_SUCCESS, "CPU_SUSPEND (standby) returns SUCCESS");
  check(waited >= 4 * 62500 && waited < 2000 * 62500, "  after the pending timer interrupt woke it (about 5 ms)");
  write_sysreg(cntv_ctl_el0, 0);
  puts("calling SYSTEM_OFF\n");
  return failures;
}
