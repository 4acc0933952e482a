// Condition codes and NZCV arithmetic shared by branches, conditional selects and compares.

import { getNZCV, setNZCV } from "./state";

/**
 * ConditionHolds(cond) from the ARM ARM, as a table: bit i of COND_TRUE[cond] says whether cond
 * holds when NZCV (bits 31:28) is i (cond = 0b1111 is "always", like 0b1110). One load and a
 * shift, inline, instead of a call and a switch in every B.cond, CSEL and CCMP.
 */
const COND_TRUE = memory.data<u16>([
  0xf0f0, 0x0f0f, 0xcccc, 0x3333, 0xff00, 0x00ff, 0xaaaa, 0x5555,
  0x0c0c, 0xf3f3, 0xaa55, 0x55aa, 0x0a05, 0xf5fa, 0xffff, 0xffff,
]);

@inline export function conditionHolds(cond: u32): bool {
  return ((<u32>load<u16>(COND_TRUE + (<usize>cond << 1)) >> (getNZCV() >> 28)) & 1) != 0;
}

/**
 * AddWithCarry(x, y, carry) for 64-bit (sf = 1) or 32-bit operands: returns the result
 * (zero-extended for 32 bits) and, if setFlags, writes NZCV.
 */
@inline export function addWithCarry(sf: u32, x: u64, y: u64, carry: u32, setFlags: bool): u64 {
  if (sf) {
    const r = x + y + <u64>carry;
    if (setFlags) {
      const n: u32 = <u32>(r >> 63);
      const z: u32 = r == 0 ? 1 : 0;
      // Carry out of bit 63: unsigned overflow.
      const c: u32 = carry ? (r <= x ? 1 : 0) : (r < x ? 1 : 0);
      const v: u32 = <u32>((~(x ^ y) & (x ^ r)) >> 63);
      setNZCV((n << 31) | (z << 30) | (c << 29) | (v << 28));
    }
    return r;
  }
  const x32 = x & 0xffffffff;
  const y32 = y & 0xffffffff;
  const wide = x32 + y32 + <u64>carry;
  const r = wide & 0xffffffff;
  if (setFlags) {
    const n: u32 = <u32>(r >> 31) & 1;
    const z: u32 = r == 0 ? 1 : 0;
    const c: u32 = <u32>(wide >> 32) & 1;
    const v: u32 = <u32>((~(x32 ^ y32) & (x32 ^ r)) >> 31) & 1;
    setNZCV((n << 31) | (z << 30) | (c << 29) | (v << 28));
  }
  return r;
}

/** NZ from a logical result, C = V = 0 (ANDS, BICS, TST). */
export function setLogicalFlags(sf: u32, r: u64): void {
  const n: u32 = sf ? <u32>(r >> 63) : <u32>(r >> 31) & 1;
  const z: u32 = (sf ? r : r & 0xffffffff) == 0 ? 1 : 0;
  setNZCV((n << 31) | (z << 30));
}

// Kinds of flags translated code leaves pending (arm/core/jit/flags.ts): the operation, and
// FLAGS_WIDE for 64-bit operands.
export const FLAGS_ADD: u32 = 1;
export const FLAGS_SUB: u32 = 2;
export const FLAGS_LOGIC: u32 = 3;
export const FLAGS_WIDE: u32 = 4;

/**
 * NZCV (bits 31:28) of pending flags: a + b = r (FLAGS_ADD), a - b = r (FLAGS_SUB) or the
 * logical result r (FLAGS_LOGIC); 32-bit values come zero-extended. Kind 0: nothing is
 * pending, NZCV is `current`.
 */
export function pendingNZCV(kind: u32, a: u64, b: u64, r: u64, current: u32): u32 {
  if (kind == 0) return current;
  const wide = (kind & FLAGS_WIDE) != 0;
  const top: u64 = wide ? 63 : 31;
  const n = <u32>(r >> top) & 1;
  const z: u32 = r == 0 ? 1 : 0;
  const op = kind & ~FLAGS_WIDE;
  if (op == FLAGS_LOGIC) return (n << 31) | (z << 30);
  let c: u32;
  let v: u32;
  if (op == FLAGS_SUB) {
    c = a >= b ? 1 : 0;
    v = <u32>(((a ^ b) & (a ^ r)) >> top) & 1;
  } else {
    c = r < a ? 1 : 0;
    v = <u32>((~(a ^ b) & (a ^ r)) >> top) & 1;
  }
  return (n << 31) | (z << 30) | (c << 29) | (v << 28);
}
