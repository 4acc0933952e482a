// Soft-float core, part 3: conversions. FPConvert (between half, single and double, with
// alternative half precision), FPRoundInt (FRINT*), FPToFixed (FCVT*S/U, to integers and
// fixed point, saturating) and FixedToFP (SCVTF/UCVTF).

import {
  CLS_INF, CLS_QNAN, CLS_SNAN, CLS_ZERO, FMT_H, FPCR_AHP, FPCR_DN, FPSR_IOC, FPSR_IXC, RND_A,
  RND_M, RND_N, RND_P, RND_Z, defaultNaN, expBits, expMask, fracBits, fracMask, normShift,
  normalize62, packInf, packZero, processNaN, quietBit, raise, roundPack, uCls, uExp, uSig,
  uSign, unpack,
} from "./base";

/** FPConvertNaN: keep the sign and the top fraction bits, quietened. */
function convertNaN(x: u64, from: u32, to: u32): u64 {
  const sign = <u32>(x >> (fracBits(from) + expBits(from))) & 1;
  const frac = x & fracMask(from);
  const ff = fracBits(from);
  const ft = fracBits(to);
  const f = ff > ft ? frac >> <u64>(ff - ft) : frac << <u64>(ft - ff);
  return packZero(sign, to) | expMask(to) | quietBit(to) | f;
}

/**
 * FPConvert(x, fpcr, rounding) from one format to another. A half-precision result under
 * FPCR.AHP has no infinities or NaNs: they become the largest magnitude or zero, with IOC.
 */
export function fpConvert(x: u64, from: u32, to: u32, fpcr: u32, rounding: u32): u64 {
  unpack(x, from, fpcr);
  const c = uCls, s = uSign, e = uExp, m = uSig;
  const altHalf = to == FMT_H && (fpcr & FPCR_AHP) != 0;
  if (c >= CLS_QNAN) {
    let r: u64;
    if (altHalf) r = packZero(s, to);
    else if ((fpcr & FPCR_DN) != 0) r = defaultNaN(to);
    else r = convertNaN(x, from, to);
    if (c == CLS_SNAN || altHalf) raise(FPSR_IOC);
    return r;
  }
  if (c == CLS_INF) {
    if (altHalf) {
      raise(FPSR_IOC);
      return packZero(s, to) | 0x7fff;
    }
    return packInf(s, to);
  }
  if (c == CLS_ZERO) return packZero(s, to);
  return roundPack(s, e, m, to, fpcr, rounding);
}

// The integer part and fraction of a finite value, for FPRoundInt and FPToFixed.
let intPart: u64 = 0;
let fracPart: u64 = 0; // the bits below the units place...
let fracHalf: u64 = 0; // ...and the value of one half in the same scale

/** Splits m * 2^(e - 62) (m's leading one at bit 62, e <= 63) into integer and fraction. */
function split(e: i32, m: u64): void {
  if (e >= 62) {
    intPart = m << <u64>(e - 62);
    fracPart = 0;
    fracHalf = 1;
  } else if (e >= -1) {
    const sh = <u64>(62 - e);
    intPart = sh == 64 ? 0 : m >> sh;
    fracPart = sh == 64 ? m : m & ((<u64>1 << sh) - 1);
    fracHalf = <u64>1 << (sh - 1);
  } else {
    intPart = 0; // below one half, and not zero
    fracPart = 1;
    fracHalf = 2;
  }
}

/** Whether rounding the magnitude up is due, for a value of the given sign. */
function roundsUp(sign: u32, rounding: u32): bool {
  switch (rounding) {
    case RND_N: return fracPart > fracHalf || (fracPart == fracHalf && (intPart & 1) != 0);
    case RND_A: return fracPart >= fracHalf;
    case RND_P: return fracPart != 0 && sign == 0;
    case RND_M: return fracPart != 0 && sign != 0;
    default: return false; // RND_Z
  }
}

/** FPRoundInt(x, fpcr, rounding, exact): FRINTN/P/M/Z/A (exact = false) and FRINTX/I. */
export function fpRoundInt(x: u64, fmt: u32, fpcr: u32, rounding: u32, exact: bool): u64 {
  unpack(x, fmt, fpcr);
  const c = uCls, s = uSign, e = uExp, m = uSig;
  if (c >= CLS_QNAN) return processNaN(x, fmt, fpcr);
  if (c == CLS_INF) return packInf(s, fmt);
  if (c == CLS_ZERO) return packZero(s, fmt);
  if (e >= <i32>fracBits(fmt)) return x; // already an integer
  split(e, m);
  let n = intPart;
  if (roundsUp(s, rounding)) n++;
  if (exact && fracPart != 0) raise(FPSR_IXC);
  if (n == 0) return packZero(s, fmt);
  const sig = normalize62(n);
  return roundPack(s, 62 - normShift, sig, fmt, fpcr, RND_Z); // exact
}

/**
 * FPToFixed(x, fbits, unsigned, fpcr, rounding) to an integer of isize (32 or 64) bits, as
 * that many bits of a u64. NaNs give 0 and out-of-range values saturate, both with IOC;
 * otherwise an inexact conversion sets IXC.
 */
export function fpToFixed(x: u64, fmt: u32, fpcr: u32, fbits: i32, unsigned: bool, rounding: u32, isize: u32): u64 {
  unpack(x, fmt, fpcr);
  const c = uCls, s = uSign, m = uSig;
  const e = uExp + fbits;
  const mask: u64 = isize == 64 ? <u64>-1 : (<u64>1 << isize) - 1;
  if (c >= CLS_QNAN) {
    raise(FPSR_IOC);
    return 0;
  }
  if (c == CLS_ZERO) return 0;
  let overflow = c == CLS_INF || e >= 64;
  let n: u64 = 0;
  if (!overflow) {
    split(e, m);
    n = intPart;
    if (roundsUp(s, rounding)) n++;
    const top = <u64>1 << (isize - 1); // 2^(isize-1)
    if (unsigned) overflow = (s != 0 && n != 0) || (isize == 32 && n > 0xffffffff);
    else overflow = s != 0 ? n > top : n >= top;
  }
  if (overflow) {
    raise(FPSR_IOC);
    if (unsigned) return s != 0 ? 0 : mask;
    return s != 0 ? (<u64>1 << (isize - 1)) : mask >> 1;
  }
  if (fracPart != 0) raise(FPSR_IXC);
  return (s != 0 ? 0 - n : n) & mask;
}

/** FixedToFP(v, fbits, unsigned, fpcr, rounding) from an integer of isize (32 or 64) bits. */
export function fpFromFixed(v: u64, signed: bool, isize: u32, fbits: i32, fmt: u32, fpcr: u32, rounding: u32): u64 {
  let x = v;
  if (isize == 32) x = signed ? <u64><i64><i32><u32>v : v & 0xffffffff;
  let s: u32 = 0;
  if (signed && <i64>x < 0) {
    s = 1;
    x = 0 - x;
  }
  if (x == 0) return packZero(0, fmt);
  const sig = normalize62(x);
  return roundPack(s, 62 - normShift - fbits, sig, fmt, fpcr, rounding);
}
