// SIMD&FP register access shared by the scalar FP and AdvSIMD FP handlers. Registers are
// 16 bytes with little-endian lanes (arm/abi.ts); lanes are read and returned as raw bits.

import { vAddr } from "../state";
import { FMT_D, FMT_S } from "../softfloat/base";

/** Bytes in one element of the format. */
@inline export function fmtBytes(fmt: u32): u32 { return fmt == FMT_D ? 8 : fmt == FMT_S ? 4 : 2; }

/** Element `idx` of Vn, of the format's width. */
@inline export function readLane(n: u32, idx: u32, fmt: u32): u64 {
  const a = vAddr(n) + <usize>(idx * fmtBytes(fmt));
  if (fmt == FMT_D) return load<u64>(a);
  if (fmt == FMT_S) return <u64>load<u32>(a);
  return <u64>load<u16>(a);
}

/** Writes element `idx` of the scratch vector. */
@inline export function setTmpLane(idx: u32, fmt: u32, v: u64): void {
  const a = TMP + <usize>(idx * fmtBytes(fmt));
  if (fmt == FMT_D) store<u64>(a, v);
  else if (fmt == FMT_S) store<u32>(a, <u32>v);
  else store<u16>(a, <u16>v);
}

/** The low element of Vn (a scalar operand). */
@inline export function readScalar(n: u32, fmt: u32): u64 { return readLane(n, 0, fmt); }

/** Writes a scalar result to Vd, clearing the rest of the register. */
export function writeScalar(d: u32, v: u64, fmt: u32): void {
  const a = vAddr(d);
  store<u64>(a, fmt == FMT_D ? v : fmt == FMT_S ? v & 0xffffffff : v & 0xffff);
  store<u64>(a + 8, 0);
}

/**
 * A vector result is built here and copied to Vd at the end, so an instruction whose
 * destination is also a source reads every source element before any is overwritten.
 */
export const TMP: usize = memory.data(16, 16);

@inline export function clearTmp(): void {
  store<u64>(TMP, 0);
  store<u64>(TMP + 8, 0);
}

/** Copies the scratch vector to Vd: all 128 bits (q = 1), or the low 64 with the top cleared. */
export function commitTmp(d: u32, q: u32): void {
  const a = vAddr(d);
  store<u64>(a, load<u64>(TMP));
  store<u64>(a + 8, q ? load<u64>(TMP + 8) : 0);
}

/** Number of elements of the format in a 64-bit (q = 0) or 128-bit (q = 1) vector. */
@inline export function laneCount(q: u32, fmt: u32): u32 { return (q ? 16 : 8) / fmtBytes(fmt); }
