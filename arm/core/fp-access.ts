// Access to the FP/AdvSIMD unit. Every FP/SIMD instruction (and FPCR/FPSR access) first asks
// checkFpEnabled(): CPACR_EL1.FPEN decides whether the current EL may use the unit; if not, the
// instruction traps to EL1 with EC 0x07, which Linux uses for lazy FP context switching.

import { getEL } from "./state";
import { sysregs, CPACR_EL1 } from "./sysreg-file";
import { syncException, undefinedInstruction, EC_FP_ACCESS } from "./exceptions";

/** ISS of the EC 0x07 trap from AArch64: CV = 1, COND = 0b1110 (as hardware and QEMU report). */
export const FP_TRAP_ISS: u32 = 0x1e00000;

/** The unit is implemented: ID_AA64PFR0_EL1 advertises FP and AdvSIMD. */
export const fpRegsEnabled: bool = true;

/** Whether CPACR_EL1.FPEN lets the current EL use FP/SIMD (00/10 trap both, 01 traps EL0). */
@inline export function fpAllowedAtCurrentEL(): bool {
  const fpen = <u32>(sysregs[CPACR_EL1] >> 20) & 3;
  return fpen == 3 || (fpen == 1 && getEL() == 1);
}

/** Call first in every FP/SIMD handler: returns false after taking the FP access trap. */
export function checkFpEnabled(): bool {
  if (fpAllowedAtCurrentEL()) return true;
  syncException(EC_FP_ACCESS, FP_TRAP_ISS);
  return false;
}

/**
 * For handlers with reserved encodings: decode-time UNDEFINED comes before the FP access trap.
 * Takes UNDEFINED when `reserved`, else makes the check; true if the handler may go on.
 */
@inline export function decodeThenCheckFp(reserved: bool): bool {
  if (reserved) {
    undefinedInstruction();
    return false;
  }
  return checkFpEnabled();
}
