// PSCI 1.1 and SMCCC 1.1 over HVC (and SMC), as KVM gives them to a guest (ARM DEN 0022,
// DEN 0028). kvmtool leaves this to KVM; lkvm answers the calls itself.

export const PSCI = {
  VERSION: 0x8400_0000,
  CPU_SUSPEND_32: 0x8400_0001,
  CPU_SUSPEND_64: 0xc400_0001,
  CPU_OFF: 0x8400_0002,
  CPU_ON_32: 0x8400_0003,
  CPU_ON_64: 0xc400_0003,
  AFFINITY_INFO_32: 0x8400_0004,
  AFFINITY_INFO_64: 0xc400_0004,
  MIGRATE_32: 0x8400_0005,
  MIGRATE_64: 0xc400_0005,
  MIGRATE_INFO_TYPE: 0x8400_0006,
  SYSTEM_OFF: 0x8400_0008,
  SYSTEM_RESET: 0x8400_0009,
  FEATURES: 0x8400_000a,
} as const;

export const SMCCC = {
  VERSION: 0x8000_0000,
  ARCH_FEATURES: 0x8000_0001,
  ARCH_WORKAROUND_1: 0x8000_8000,
  ARCH_WORKAROUND_2: 0x8000_7fff,
  ARCH_WORKAROUND_3: 0x8000_3fff,
} as const;

export const PSCI_RET = {
  SUCCESS: 0,
  NOT_SUPPORTED: -1,
  INVALID_PARAMETERS: -2,
  DENIED: -3,
  ALREADY_ON: -4,
  ON_PENDING: -5,
} as const;
const SMCCC_RET_NOT_REQUIRED = -2;

const PSCI_VERSION_1_1 = 0x0001_0001;
const SMCCC_VERSION_1_1 = 0x0001_0001;
const MIGRATE_INFO_NOT_REQUIRED = 2; // no Trusted OS to migrate
const AFFINITY_ON = 0;
const AFFINITY_OFF = 1;

/** What PSCI needs from the machine. */
export interface PsciMachine {
  /** The vCPU index whose MPIDR affinity is `mpidr` (Aff3..Aff0), or -1. */
  vcpuByMpidr(mpidr: bigint): number;
  isOn(vcpu: number): boolean;
  /** Powers a vCPU on at `entry` in EL1h with x0 = contextId, MMU off. */
  cpuOn(vcpu: number, entry: bigint, contextId: bigint): void;
  /** Powers the calling vCPU off. */
  cpuOff(vcpu: number): void;
  /** Suspends the calling vCPU until an interrupt (CPU_SUSPEND is treated as WFI). */
  waitForInterrupt(vcpu: number): void;
  /** Ends the VM: SYSTEM_OFF and SYSTEM_RESET both do, as under kvmtool. */
  systemEvent(kind: "off" | "reset"): void;
}

const IMPLEMENTED = new Set<number>([
  PSCI.VERSION, PSCI.CPU_SUSPEND_32, PSCI.CPU_SUSPEND_64, PSCI.CPU_OFF, PSCI.CPU_ON_32, PSCI.CPU_ON_64,
  PSCI.AFFINITY_INFO_32, PSCI.AFFINITY_INFO_64, PSCI.MIGRATE_INFO_TYPE, PSCI.SYSTEM_OFF,
  PSCI.SYSTEM_RESET, PSCI.FEATURES, SMCCC.VERSION, SMCCC.ARCH_FEATURES,
]);

const u32 = (v: bigint) => Number(v & 0xffff_ffffn);
/** Sign-extend a PSCI return code into x0. */
const ret = (code: number): bigint => BigInt.asUintN(64, BigInt(code));

/**
 * Handles one SMCCC call from `vcpu` with arguments x0..x3; returns the new x0, or undefined
 * when the call leaves x0 as it is (a vCPU that powered off, or the VM ending).
 */
export function psciCall(m: PsciMachine, vcpu: number, x: readonly bigint[]): bigint | undefined {
  const fn = u32(x[0]!);
  // SMC32/HVC32 calls take 32-bit arguments.
  const arg = (i: number) => ((fn & 0x4000_0000) === 0 ? x[i]! & 0xffff_ffffn : x[i]!);
  switch (fn) {
    case PSCI.VERSION:
      return BigInt(PSCI_VERSION_1_1);
    case PSCI.CPU_SUSPEND_32:
    case PSCI.CPU_SUSPEND_64:
      m.waitForInterrupt(vcpu);
      return ret(PSCI_RET.SUCCESS);
    case PSCI.CPU_OFF:
      m.cpuOff(vcpu);
      return undefined;
    case PSCI.CPU_ON_32:
    case PSCI.CPU_ON_64: {
      const target = m.vcpuByMpidr(arg(1));
      if (target < 0) return ret(PSCI_RET.INVALID_PARAMETERS);
      if (m.isOn(target)) return ret(PSCI_RET.ALREADY_ON);
      m.cpuOn(target, arg(2), arg(3));
      return ret(PSCI_RET.SUCCESS);
    }
    case PSCI.AFFINITY_INFO_32:
    case PSCI.AFFINITY_INFO_64: {
      if (arg(2) !== 0n) return ret(PSCI_RET.INVALID_PARAMETERS); // only level 0 (one vCPU)
      const target = m.vcpuByMpidr(arg(1));
      if (target < 0) return ret(PSCI_RET.INVALID_PARAMETERS);
      return BigInt(m.isOn(target) ? AFFINITY_ON : AFFINITY_OFF);
    }
    case PSCI.MIGRATE_INFO_TYPE:
      return BigInt(MIGRATE_INFO_NOT_REQUIRED);
    case PSCI.SYSTEM_OFF:
      m.systemEvent("off");
      return undefined;
    case PSCI.SYSTEM_RESET:
      m.systemEvent("reset");
      return undefined;
    case PSCI.FEATURES:
      return ret(IMPLEMENTED.has(u32(x[1]!)) ? PSCI_RET.SUCCESS : PSCI_RET.NOT_SUPPORTED);
    case SMCCC.VERSION:
      return BigInt(SMCCC_VERSION_1_1);
    case SMCCC.ARCH_FEATURES: {
      const q = u32(x[1]!);
      // The emulated CPU speculates nothing: the Spectre workarounds are not required.
      if (q === SMCCC.ARCH_WORKAROUND_1 || q === SMCCC.ARCH_WORKAROUND_2 || q === SMCCC.ARCH_WORKAROUND_3) {
        return ret(SMCCC_RET_NOT_REQUIRED);
      }
      return ret(IMPLEMENTED.has(q) ? PSCI_RET.SUCCESS : PSCI_RET.NOT_SUPPORTED);
    }
    default:
      return ret(PSCI_RET.NOT_SUPPORTED);
  }
}
