// Soft-float core, part 1: formats, the FPSR cumulative flags, FPUnpack, the NaN rules
// (FPProcessNaN, FPProcessNaNs, FPProcessNaNs3) and FPRound, as the ARM ARM pseudocode
// (shared/functions/float) defines them.
//
// Values travel as raw bit patterns in a u64 (half and single in the low bits). Unpacked,
// a finite non-zero value is sign, exponent and a significand normalised so its leading
// one is bit 62: value = sig * 2^(exp - 62). Bits the caller lost below bit 0 are ORed
// into bit 0 ("sticky"); FPRound only needs to know that something was lost, and bit 0 is
// always at least ten places below the rounding position.
//
// wasm's floats round to nearest and report no exceptions, so none of this uses them.

import { ACTIVE_STATE, FPCR, FPSR } from "../../abi";

// ---- formats ----

export const FMT_H: u32 = 0;
export const FMT_S: u32 = 1;
export const FMT_D: u32 = 2;

/** Fraction bits (F in the ARM ARM). */
@inline export function fracBits(fmt: u32): u32 { return fmt == FMT_D ? 52 : fmt == FMT_S ? 23 : 10; }
/** Exponent bits (E). */
@inline export function expBits(fmt: u32): u32 { return fmt == FMT_D ? 11 : fmt == FMT_S ? 8 : 5; }
@inline export function expBias(fmt: u32): i32 { return (1 << (expBits(fmt) - 1)) - 1; }
@inline export function signMask(fmt: u32): u64 { return <u64>1 << (fracBits(fmt) + expBits(fmt)); }
@inline export function expMask(fmt: u32): u64 { return ((<u64>1 << expBits(fmt)) - 1) << fracBits(fmt); }
@inline export function fracMask(fmt: u32): u64 { return (<u64>1 << fracBits(fmt)) - 1; }
@inline export function quietBit(fmt: u32): u64 { return <u64>1 << (fracBits(fmt) - 1); }
/** All the bits of a value of this format. */
@inline export function widthMask(fmt: u32): u64 { return fmt == FMT_D ? <u64>-1 : fmt == FMT_S ? 0xffffffff : 0xffff; }

@inline export function packZero(sign: u32, fmt: u32): u64 { return sign ? signMask(fmt) : 0; }
@inline export function packInf(sign: u32, fmt: u32): u64 { return packZero(sign, fmt) | expMask(fmt); }
@inline export function maxNormal(sign: u32, fmt: u32): u64 { return packZero(sign, fmt) | (expMask(fmt) - 1); }
/** FPDefaultNaN: positive, quiet, fraction otherwise zero. */
@inline export function defaultNaN(fmt: u32): u64 { return expMask(fmt) | quietBit(fmt); }
/** 2^k (k within the format's normal range) with the given sign. */
@inline export function packPow2(sign: u32, k: i32, fmt: u32): u64 {
  return packZero(sign, fmt) | (<u64>(k + expBias(fmt)) << fracBits(fmt));
}

// ---- FPCR and FPSR ----

export const FPCR_AHP: u32 = 1 << 26;
export const FPCR_DN: u32 = 1 << 25;
export const FPCR_FZ: u32 = 1 << 24;

/** FPSR cumulative exception bits. */
export const FPSR_IOC: u32 = 1;
export const FPSR_DZC: u32 = 2;
export const FPSR_OFC: u32 = 4;
export const FPSR_UFC: u32 = 8;
export const FPSR_IXC: u32 = 16;
export const FPSR_IDC: u32 = 128;

/** Rounding modes: the four FPCR.RMode values, then the two only instructions ask for. */
export const RND_N: u32 = 0; // to nearest, ties to even
export const RND_P: u32 = 1; // towards +infinity
export const RND_M: u32 = 2; // towards -infinity
export const RND_Z: u32 = 3; // towards zero
export const RND_A: u32 = 4; // to nearest, ties away from zero (FRINTA, FCVTA*)
export const RND_ODD: u32 = 5; // von Neumann rounding to odd (FCVTXN)

@inline export function getFpcr(): u32 { return load<u32>(ACTIVE_STATE + FPCR); }
@inline export function fpcrRounding(fpcr: u32): u32 { return (fpcr >> 22) & 3; }

/**
 * FPProcessException with every trap disabled (the enables are RAZ here): set the
 * cumulative flag.
 */
@inline export function raise(flags: u32): void {
  const a: usize = ACTIVE_STATE + FPSR;
  store<u32>(a, load<u32>(a) | flags);
}

// ---- unpacking ----

export const CLS_ZERO: u32 = 0;
export const CLS_FINITE: u32 = 1; // non-zero: normal, or denormal not flushed
export const CLS_INF: u32 = 2;
export const CLS_QNAN: u32 = 3;
export const CLS_SNAN: u32 = 4;

/** FPUnpack's results (read them straight after the call). */
export let uCls: u32 = 0;
export let uSign: u32 = 0;
export let uExp: i32 = 0;
export let uSig: u64 = 0;

/**
 * FPUnpack: classify x and, if finite, normalise it. With FPCR.FZ a single or double denormal
 * reads as zero and sets IDC. Half precision (conversions only in ARMv8.0) is never flushed,
 * and with FPCR.AHP its largest exponent is an ordinary one.
 */
export function unpack(x: u64, fmt: u32, fpcr: u32): void {
  const F = fracBits(fmt);
  const E = expBits(fmt);
  const frac = x & fracMask(fmt);
  const e = <i32>((x >> F) & ((<u64>1 << E) - 1));
  uSign = <u32>(x >> (F + E)) & 1;
  if (e == 0) {
    if (frac == 0) {
      uCls = CLS_ZERO;
    } else if ((fpcr & FPCR_FZ) != 0 && fmt != FMT_H) {
      uCls = CLS_ZERO;
      raise(FPSR_IDC);
    } else {
      const p = 63 - <i32>clz<u64>(frac);
      uCls = CLS_FINITE;
      uSig = frac << <u64>(62 - p);
      uExp = p + 1 - expBias(fmt) - <i32>F;
    }
  } else if (e == (1 << E) - 1 && !(fmt == FMT_H && (fpcr & FPCR_AHP) != 0)) {
    uCls = frac == 0 ? CLS_INF : (frac & quietBit(fmt)) != 0 ? CLS_QNAN : CLS_SNAN;
  } else {
    uCls = CLS_FINITE;
    uSig = (frac | (<u64>1 << F)) << <u64>(62 - F);
    uExp = e - expBias(fmt);
  }
}

/** The class of x without side effects (no flush, no IDC): for NaN checks only. */
@inline export function isNaNBits(x: u64, fmt: u32): bool {
  return (x & expMask(fmt)) == expMask(fmt) && (x & fracMask(fmt)) != 0;
}

// ---- NaNs ----

/** FPProcessNaN: quieten a signalling NaN (IOC); FPCR.DN replaces any NaN by the default. */
export function processNaN(x: u64, fmt: u32, fpcr: u32): u64 {
  let r = x;
  if ((x & quietBit(fmt)) == 0) {
    raise(FPSR_IOC);
    r = x | quietBit(fmt);
  }
  return (fpcr & FPCR_DN) != 0 ? defaultNaN(fmt) : r;
}

/** Set by processNaNs2/3: whether an operand was a NaN (the result is then the NaN). */
export let nanDone: bool = false;

/** FPProcessNaNs: the first signalling NaN, else the first quiet NaN, else not done. */
export function processNaNs2(a: u64, ca: u32, b: u64, cb: u32, fmt: u32, fpcr: u32): u64 {
  nanDone = true;
  if (ca == CLS_SNAN) return processNaN(a, fmt, fpcr);
  if (cb == CLS_SNAN) return processNaN(b, fmt, fpcr);
  if (ca == CLS_QNAN) return processNaN(a, fmt, fpcr);
  if (cb == CLS_QNAN) return processNaN(b, fmt, fpcr);
  nanDone = false;
  return 0;
}

/** FPProcessNaNs3, operands in the pseudocode's order. */
export function processNaNs3(a: u64, ca: u32, b: u64, cb: u32, c: u64, cc: u32, fmt: u32, fpcr: u32): u64 {
  nanDone = true;
  if (ca == CLS_SNAN) return processNaN(a, fmt, fpcr);
  if (cb == CLS_SNAN) return processNaN(b, fmt, fpcr);
  if (cc == CLS_SNAN) return processNaN(c, fmt, fpcr);
  if (ca == CLS_QNAN) return processNaN(a, fmt, fpcr);
  if (cb == CLS_QNAN) return processNaN(b, fmt, fpcr);
  if (cc == CLS_QNAN) return processNaN(c, fmt, fpcr);
  nanDone = false;
  return 0;
}

// ---- shifting with a sticky bit ----

/** sig >> n, ORing any bits shifted out into bit 0. */
@inline export function shiftRightJam(sig: u64, n: i32): u64 {
  if (n <= 0) return sig;
  if (n >= 63) return sig != 0 ? 1 : 0;
  return (sig >> <u64>n) | ((sig & ((<u64>1 << <u64>n) - 1)) != 0 ? 1 : 0);
}

/** Normalises a non-zero integer so its leading one is bit 62; the shift goes to `normShift`. */
export let normShift: i32 = 0;
@inline export function normalize62(m: u64): u64 {
  const lz = <i32>clz<u64>(m);
  if (lz == 0) {
    normShift = -1;
    return (m >> 1) | (m & 1);
  }
  normShift = lz - 1;
  return m << <u64>(lz - 1);
}

// ---- FPRound ----

/**
 * FPRound(value, fpcr, rounding) for value = (-1)^sign * sig * 2^(exp - 62), sig's leading
 * one at bit 62 and bit 0 sticky. Flushes tiny results to zero under FPCR.FZ (UFC, no IXC;
 * never for half precision, whose flush control FZ16 ARMv8.0 lacks), detects underflow
 * before rounding (UFC only when inexact), and handles overflow (OFC, IXC; or, for
 * alternative half precision, the largest magnitude and IOC).
 */
export function roundPack(sign: u32, exp: i32, sig: u64, fmt: u32, fpcr: u32, rounding: u32): u64 {
  const F = fracBits(fmt);
  const bias = expBias(fmt);
  const signBits = packZero(sign, fmt);
  const emin = 1 - bias;
  if (exp < emin && (fpcr & FPCR_FZ) != 0 && fmt != FMT_H) {
    raise(FPSR_UFC);
    return signBits;
  }
  let biased = exp + bias;
  let s = sig;
  if (biased < 1) {
    s = shiftRightJam(s, 1 - biased);
    biased = 0;
  }
  const shift = <u64>(62 - F);
  const half = <u64>1 << (shift - 1);
  const rem = s & ((<u64>1 << shift) - 1);
  let mant = s >> shift;
  const inexact = rem != 0;
  if (biased == 0 && inexact) raise(FPSR_UFC);
  let up = false;
  switch (rounding) {
    case RND_N: up = rem > half || (rem == half && (mant & 1) != 0); break;
    case RND_P: up = inexact && sign == 0; break;
    case RND_M: up = inexact && sign != 0; break;
    case RND_A: up = rem >= half; break;
    default: break; // RND_Z, RND_ODD
  }
  if (up) mant++;
  if (rounding == RND_ODD && inexact) mant |= 1;
  // A normal's leading one lands in the exponent field, so a carry out of the fraction
  // bumps the exponent, and a denormal that rounds up to 2^emin becomes normal.
  const bits: u64 = biased == 0 ? mant : (<u64>(biased - 1) << F) + mant;
  const expField = bits >> F;
  const maxField = (<u64>1 << expBits(fmt)) - 1;
  if (fmt == FMT_H && (fpcr & FPCR_AHP) != 0) {
    if (expField > maxField) {
      raise(FPSR_IOC);
      return signBits | 0x7fff;
    }
  } else if (expField >= maxField) {
    raise(FPSR_OFC | FPSR_IXC);
    let toInf: bool;
    switch (rounding) {
      case RND_N: case RND_A: toInf = true; break;
      case RND_P: toInf = sign == 0; break;
      case RND_M: toInf = sign != 0; break;
      default: toInf = false;
    }
    return toInf ? packInf(sign, fmt) : maxNormal(sign, fmt);
  }
  if (inexact) raise(FPSR_IXC);
  return signBits | bits;
}

// ---- 128-bit helpers ----

/** The 128-bit result of mul128 (and scratch for the 128-bit helpers). */
export let hi128: u64 = 0;
export let lo128: u64 = 0;

/** a * b as 128 bits in hi128:lo128, from 32-bit halves. */
export function mul128(a: u64, b: u64): void {
  const a0 = a & 0xffffffff;
  const a1 = a >> 32;
  const b0 = b & 0xffffffff;
  const b1 = b >> 32;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  lo128 = (p00 & 0xffffffff) | (mid << 32);
  hi128 = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/** hi:lo >> n with a sticky bit 0, into hi128:lo128. */
export function shr128Jam(hi: u64, lo: u64, n: i32): void {
  if (n <= 0) {
    hi128 = hi;
    lo128 = lo;
  } else if (n < 64) {
    const lost = (lo & ((<u64>1 << <u64>n) - 1)) != 0;
    lo128 = (lo >> <u64>n) | (hi << <u64>(64 - n)) | (lost ? 1 : 0);
    hi128 = hi >> <u64>n;
  } else if (n < 128) {
    const m = n - 64;
    const lost = lo != 0 || (m > 0 && (hi & ((<u64>1 << <u64>m) - 1)) != 0);
    lo128 = (m == 0 ? hi : hi >> <u64>m) | (lost ? 1 : 0);
    hi128 = 0;
  } else {
    hi128 = 0;
    lo128 = hi != 0 || lo != 0 ? 1 : 0;
  }
}

/** hi:lo << n (n in 0..127) into hi128:lo128. */
export function shl128(hi: u64, lo: u64, n: i32): void {
  if (n == 0) {
    hi128 = hi;
    lo128 = lo;
  } else if (n < 64) {
    hi128 = (hi << <u64>n) | (lo >> <u64>(64 - n));
    lo128 = lo << <u64>n;
  } else {
    hi128 = lo << <u64>(n - 64);
    lo128 = 0;
  }
}
