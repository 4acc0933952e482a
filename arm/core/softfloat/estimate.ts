// Soft-float core, part 5: the reciprocal and reciprocal square root estimates (FRECPE,
// FRSQRTE, URECPE, URSQRTE: the ARM ARM's RecipEstimate and RecipSqrtEstimate, 8-bit
// tables without FEAT_RPRES) and FPRecpX (FRECPX).

import {
  CLS_INF, CLS_QNAN, CLS_ZERO, FMT_S, FPCR_FZ, FPSR_DZC, FPSR_IOC, FPSR_IXC, FPSR_OFC, FPSR_UFC,
  RND_M, RND_N, RND_P, defaultNaN, expBits, fpcrRounding, fracBits, maxNormal, packInf,
  packZero, processNaN, raise, signMask, uCls, uExp, uSign, unpack,
} from "./base";

/** RecipEstimate(a), a in 256..511 (0.5 <= a/512 < 1): an estimate in 256..511 of 2^17/a. */
export function recipEstimate(a: i32): i32 {
  const odd = a * 2 + 1; // round to odd
  const b = (1 << 19) / odd;
  return (b + 1) >> 1; // round to nearest
}

/** RecipSqrtEstimate(a), a in 128..511: an estimate in 256..511. */
export function recipSqrtEstimate(a: i32): i32 {
  let x: i32;
  if (a < 256) x = a * 2 + 1; // 0.25 .. 0.5
  else x = ((a >> 1) << 1) * 2 + 2; // 0.5 .. 1.0
  // b = the largest b (from 512 up) with x * (b + 1)^2 < 2^28; start from the real root.
  let k = <i32>Math.sqrt(<f64>(1 << 28) / <f64>x);
  while (x * k * k >= (1 << 28)) k--;
  while (x * (k + 1) * (k + 1) < (1 << 28)) k++;
  // now k is the largest k with x * k^2 < 2^28, so b + 1 = k + 1 unless the loop never ran
  const b = k < 512 ? 512 : k;
  return (b + 1) >> 1;
}

/** The raw fraction of x widened to 52 bits, and its biased exponent. */
let estFrac: u64 = 0;
let estExp: i32 = 0;
function rawFields(x: u64, fmt: u32): void {
  const f = fracBits(fmt);
  estFrac = (x & ((<u64>1 << f) - 1)) << <u64>(52 - f);
  estExp = <i32>((x >> f) & ((<u64>1 << expBits(fmt)) - 1));
}

const FRAC52: u64 = (<u64>1 << 52) - 1;

/** FPRecipEstimate (FRECPE) for single or double precision. */
export function fpRecipEstimate(x: u64, fmt: u32, fpcr: u32): u64 {
  unpack(x, fmt, fpcr);
  const c = uCls, s = uSign, e = uExp;
  if (c >= CLS_QNAN) return processNaN(x, fmt, fpcr);
  if (c == CLS_INF) return packZero(s, fmt);
  if (c == CLS_ZERO) {
    raise(FPSR_DZC);
    return packInf(s, fmt);
  }
  const single = fmt == FMT_S;
  const tinyExp: i32 = single ? -128 : -1024;
  if (e < tinyExp) {
    const rounding = fpcrRounding(fpcr);
    const toInf = rounding == RND_N || (rounding == RND_P && s == 0) || (rounding == RND_M && s != 0);
    raise(FPSR_OFC | FPSR_IXC);
    return toInf ? packInf(s, fmt) : maxNormal(s, fmt);
  }
  const hugeExp: i32 = single ? 126 : 1022;
  if ((fpcr & FPCR_FZ) != 0 && e >= hugeExp) {
    raise(FPSR_UFC);
    return packZero(s, fmt);
  }
  rawFields(x, fmt);
  let frac = estFrac;
  let exp = estExp;
  if (exp == 0) {
    if (((frac >> 51) & 1) == 0) {
      exp = -1;
      frac = (frac << 2) & FRAC52;
    } else {
      frac = (frac << 1) & FRAC52;
    }
  }
  const scaled = <i32>(256 | (frac >> 44));
  let resultExp = (single ? 253 : 2045) - exp;
  const estimate = recipEstimate(scaled);
  frac = <u64>(estimate & 0xff) << 44;
  if (resultExp == 0) {
    frac = (<u64>1 << 51) | (frac >> 1);
  } else if (resultExp == -1) {
    frac = (<u64>1 << 50) | (frac >> 2);
    resultExp = 0;
  }
  const f = fracBits(fmt);
  return packZero(s, fmt) | (<u64>resultExp << f) | (frac >> <u64>(52 - f));
}

/** FPRSqrtEstimate (FRSQRTE) for single or double precision. */
export function fpRSqrtEstimate(x: u64, fmt: u32, fpcr: u32): u64 {
  unpack(x, fmt, fpcr);
  const c = uCls, s = uSign;
  if (c >= CLS_QNAN) return processNaN(x, fmt, fpcr);
  if (c == CLS_ZERO) {
    raise(FPSR_DZC);
    return packInf(s, fmt);
  }
  if (s != 0) {
    raise(FPSR_IOC);
    return defaultNaN(fmt);
  }
  if (c == CLS_INF) return packZero(0, fmt);
  rawFields(x, fmt);
  let frac = estFrac;
  let exp = estExp;
  if (exp == 0) {
    while (((frac >> 51) & 1) == 0) {
      frac = (frac << 1) & FRAC52;
      exp--;
    }
    frac = (frac << 1) & FRAC52;
  }
  // An even exponent scales to [0.5, 1), an odd one to [0.25, 0.5): the rest is even.
  const scaled = (exp & 1) == 0 ? <i32>(256 | (frac >> 44)) : <i32>(128 | (frac >> 45));
  const resultExp = ((fmt == FMT_S ? 380 : 3068) - exp) / 2;
  const estimate = recipSqrtEstimate(scaled);
  const f = fracBits(fmt);
  return (<u64>resultExp << f) | (<u64>(estimate & 0xff) << <u64>(f - 8));
}

/** FPRecpX (FRECPX): the exponent inverted, the fraction cleared. */
export function fpRecpX(x: u64, fmt: u32, fpcr: u32): u64 {
  unpack(x, fmt, fpcr);
  const c = uCls;
  if (c >= CLS_QNAN) return processNaN(x, fmt, fpcr);
  const f = fracBits(fmt);
  const emask = (<u64>1 << expBits(fmt)) - 1;
  const exp = (x >> f) & emask;
  const sign = x & signMask(fmt);
  if (exp == 0) return sign | ((emask - 1) << f);
  return sign | ((~exp & emask) << f);
}

/** UnsignedRecipEstimate (URECPE) of a 32-bit lane. */
export function unsignedRecipEstimate(v: u32): u32 {
  if ((v >> 31) == 0) return 0xffffffff;
  return <u32>recipEstimate(<i32>(v >> 23)) << 23;
}

/** UnsignedRSqrtEstimate (URSQRTE) of a 32-bit lane. */
export function unsignedRSqrtEstimate(v: u32): u32 {
  if ((v >> 30) == 0) return 0xffffffff;
  return <u32>recipSqrtEstimate(<i32>(v >> 23)) << 23;
}
