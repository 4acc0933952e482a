// The optional architecture features this vCPU model has, set by the VMM before the vCPUs are
// reset (lkvm run --cpu-features). The default is none: a Cortex-A57 (ARMv8.0-A). Handlers of
// optional instructions check here and are UNDEFINED without their feature; the ID registers
// advertise what is here.

import { CPU_FEAT_LS64, CPU_FEAT_LS64_V, CPU_FEAT_LS64_ACCDATA } from "../abi";

/** CPU_FEAT_* bits (arm/abi.ts). */
export let cpuFeatures: u32 = 0;

export function setFeatures(mask: u32): void {
  // Each LS64 level includes the ones below it, as ID_AA64ISAR1_EL1.LS64 counts them.
  if (mask & CPU_FEAT_LS64_ACCDATA) mask |= CPU_FEAT_LS64_V;
  if (mask & CPU_FEAT_LS64_V) mask |= CPU_FEAT_LS64;
  cpuFeatures = mask;
}

/**
 * The GICv3 CPU interface's system registers (ICC_*, handed to the VMM) and ID_AA64PFR0_EL1.GIC
 * saying so. Off with a GICv2, whose CPU interface is memory-mapped: ICC_* are then UNDEFINED.
 */
export let gicSystemRegisters: bool = true;

export function setGicSystemRegisters(on: bool): void {
  gicSystemRegisters = on;
}

@inline export function hasFeature(feature: u32): bool {
  return (cpuFeatures & feature) != 0;
}

/** ID_AA64ISAR1_EL1.LS64 (bits 63:60): 1 LD64B/ST64B, 2 also ST64BV, 3 also ST64BV0 and ACCDATA_EL1. */
export function ls64Level(): u64 {
  if (hasFeature(CPU_FEAT_LS64_ACCDATA)) return 3;
  if (hasFeature(CPU_FEAT_LS64_V)) return 2;
  return hasFeature(CPU_FEAT_LS64) ? 1 : 0;
}
