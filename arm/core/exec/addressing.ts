// Address calculation shared by the integer and SIMD&FP load/store handlers.

import { getX, getSP, getEL } from "../state";
import { sysregs, SCTLR_EL1 } from "../sysregs";
import { spAlignmentFault } from "../exceptions";
import { sx64 } from "../bits";

/**
 * CheckSPAlignment for a base register of 31: with SCTLR_EL1.SA (EL1) or SA0 (EL0) set, an SP
 * that is not 16-byte aligned takes an SP alignment fault. Returns false if it did.
 */
@inline export function baseAligned(rn: u32): bool {
  if (rn != 31) return true;
  if ((getSP() & 15) == 0) return true;
  const sa: u64 = getEL() == 0 ? (1 << 4) : (1 << 3);
  if ((sysregs[SCTLR_EL1] & sa) == 0) return true;
  spAlignmentFault();
  return false;
}

/** ExtendReg(m, option, shift) for the register-offset forms (option<1> is always 1 here). */
@inline export function extendReg(rm: u32, option: u32, shift: u32): u64 {
  let v = getX(rm);
  if (option == 0b010) v &= 0xffffffff; // UXTW
  else if (option == 0b110) v = <u64>sx64(v, 32); // SXTW
  return v << shift; // LSL/UXTX (011), SXTX (111)
}
