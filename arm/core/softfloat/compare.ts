// Soft-float core, part 4: comparisons (FPCompare, FPCompareEQ/GE/GT) and FPMax, FPMin,
// FPMaxNum, FPMinNum.

import {
  CLS_INF, CLS_QNAN, CLS_SNAN, CLS_ZERO, FPSR_IOC, packInf, packZero, processNaNs2, raise,
  signMask, uCls, uSign, unpack,
} from "./base";

/** A signed key that orders non-NaN values as numbers (flushed denormals read as zero). */
@inline function orderKey(x: u64, cls: u32, fmt: u32): i64 {
  if (cls == CLS_ZERO) return 0;
  const mag = <i64>(x & ~signMask(fmt));
  return (x & signMask(fmt)) != 0 ? -mag : mag;
}

/** FPCompare: NZCV in bits 31:28; unordered sets IOC for a signalling NaN, or any NaN if signalAll. */
export function fpCompare(a: u64, b: u64, fmt: u32, fpcr: u32, signalAll: bool): u32 {
  unpack(a, fmt, fpcr);
  const ca = uCls;
  unpack(b, fmt, fpcr);
  const cb = uCls;
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) {
    if (signalAll || ca == CLS_SNAN || cb == CLS_SNAN) raise(FPSR_IOC);
    return 0x30000000; // C, V
  }
  const ka = orderKey(a, ca, fmt);
  const kb = orderKey(b, cb, fmt);
  if (ka == kb) return 0x60000000; // Z, C
  return ka < kb ? 0x80000000 : 0x20000000; // N, or C
}

export const CMP_EQ: u32 = 0;
export const CMP_GE: u32 = 1;
export const CMP_GT: u32 = 2;

/**
 * FPCompareEQ (IOC only for a signalling NaN), FPCompareGE and FPCompareGT (IOC for any NaN).
 * With abs, the operands' signs are cleared first (FACGE, FACGT).
 */
export function fpCompareOp(a: u64, b: u64, fmt: u32, fpcr: u32, op: u32, abs: bool): bool {
  unpack(a, fmt, fpcr);
  const ca = uCls;
  unpack(b, fmt, fpcr);
  const cb = uCls;
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) {
    if (op != CMP_EQ || ca == CLS_SNAN || cb == CLS_SNAN) raise(FPSR_IOC);
    return false;
  }
  let x = a, y = b;
  if (abs) {
    x &= ~signMask(fmt);
    y &= ~signMask(fmt);
  }
  const ka = orderKey(x, ca, fmt);
  const kb = orderKey(y, cb, fmt);
  return op == CMP_EQ ? ka == kb : op == CMP_GE ? ka >= kb : ka > kb;
}

/**
 * FPMax / FPMin, and with num FPMaxNum / FPMinNum, where a single quiet NaN loses to a
 * number (it is replaced by the infinity that never wins).
 */
export function fpMinMax(a: u64, b: u64, fmt: u32, fpcr: u32, isMax: bool, num: bool): u64 {
  unpack(a, fmt, fpcr);
  let ca = uCls, sa = uSign;
  unpack(b, fmt, fpcr);
  let cb = uCls, sb = uSign;
  if (num) {
    const loser: u32 = isMax ? 1 : 0;
    if (ca == CLS_QNAN && cb != CLS_QNAN) {
      a = packInf(loser, fmt);
      ca = CLS_INF;
      sa = loser;
    } else if (ca != CLS_QNAN && cb == CLS_QNAN) {
      b = packInf(loser, fmt);
      cb = CLS_INF;
      sb = loser;
    }
  }
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) return processNaNs2(a, ca, b, cb, fmt, fpcr);
  const ka = orderKey(a, ca, fmt);
  const kb = orderKey(b, cb, fmt);
  const pickA = isMax ? ka > kb : ka < kb;
  const c = pickA ? ca : cb;
  if (c == CLS_INF) return packInf(pickA ? sa : sb, fmt);
  if (c == CLS_ZERO) return packZero(isMax ? sa & sb : sa | sb, fmt);
  return pickA ? a : b;
}
