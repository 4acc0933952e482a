// Soft-float core, part 2: FPAdd/FPSub, FPMul, FPMulX, FPMulAdd (one rounding), FPDiv,
// FPSqrt, and the fused Newton-Raphson steps FPRecipStepFused and FPRSqrtStepFused.

import {
  CLS_FINITE, CLS_INF, CLS_QNAN, CLS_ZERO, FPSR_DZC, FPSR_IOC, FPSR_IXC, RND_M, FMT_D, FMT_H, FMT_S,
  expBias, expBits, fracMask,
  defaultNaN, fpcrRounding, fracBits, hi128, lo128, mul128, nanDone, packInf, packPow2,
  packZero, processNaN, processNaNs2, processNaNs3, raise, roundPack, shiftRightJam, shl128,
  shr128Jam, signMask, uCls, uExp, uSig, uSign, unpack,
} from "./base";

// ---- native fast paths ----
//
// wasm's f32/f64 arithmetic is IEEE 754 with round-to-nearest-even and no flushing. With
// FPCR.RMode = RN, operands that are normal (not zero, denormal, infinite or NaN) and a
// result whose biased exponent is at least 2 (so the unrounded value was not below 2^emin)
// and not the maximum (no overflow), ARM's result is the IEEE one and the only possible
// exception is Inexact, which each path decides exactly: TwoSum for sums, odd parts of the
// significands for products and quotients, squaring the root for square roots. FZ, DN and
// AHP cannot matter then. Anything else takes the general path below.

@inline function fastRN(fpcr: u32): bool { return (fpcr & 0x00c00000) == 0; }
@inline function normalBits(x: u64, fmt: u32): bool {
  const e = (x >> fracBits(fmt)) & ((<u64>1 << expBits(fmt)) - 1);
  return e != 0 && e != (<u64>1 << expBits(fmt)) - 1;
}
/** A result the fast paths may return: exponent field in [2, max - 1]. */
@inline function safeResult(r: u64, fmt: u32): bool {
  const e = (r >> fracBits(fmt)) & ((<u64>1 << expBits(fmt)) - 1);
  return e >= 2 && e != (<u64>1 << expBits(fmt)) - 1;
}
@inline function sigWithHidden(x: u64, fmt: u32): u64 { return (x & fracMask(fmt)) | (<u64>1 << fracBits(fmt)); }
@inline function oddPart(m: u64): u64 { return m >> ctz<u64>(m); }

/** Whether the product of two significands needs at most `precision` bits. */
function productExact(ma: u64, mb: u64, precision: i32): bool {
  const oa = oddPart(ma);
  const ob = oddPart(mb);
  const bits = (64 - <i32>clz<u64>(oa)) + (64 - <i32>clz<u64>(ob));
  if (bits - 1 > precision) return false;
  if (bits <= precision) return true;
  return 64 - <i32>clz<u64>(oa * ob) <= precision; // oa * ob < 2^(precision + 1)
}

const NO_FAST: u64 = 1; // never a fast result: its exponent field is 0

function fastAdd(a: u64, b: u64, fmt: u32): u64 {
  if (fmt == FMT_D) {
    const x = reinterpret<f64>(a);
    const y = reinterpret<f64>(b);
    const s = x + y;
    const r = reinterpret<u64>(s);
    if (!safeResult(r, fmt) && (r << 1) != 0) return NO_FAST;
    const bb = s - x;
    if ((x - (s - bb)) + (y - bb) != 0) raise(FPSR_IXC); // TwoSum's exact error
    return r;
  }
  const x = reinterpret<f32>(<u32>a);
  const y = reinterpret<f32>(<u32>b);
  const s = x + y;
  const r = <u64>reinterpret<u32>(s);
  if (!safeResult(r, fmt) && (r << 33) != 0) return NO_FAST;
  const bb = s - x;
  if ((x - (s - bb)) + (y - bb) != 0) raise(FPSR_IXC);
  return r;
}

function fastMul(a: u64, b: u64, fmt: u32): u64 {
  let r: u64;
  if (fmt == FMT_D) r = reinterpret<u64>(reinterpret<f64>(a) * reinterpret<f64>(b));
  else r = <u64>reinterpret<u32>(reinterpret<f32>(<u32>a) * reinterpret<f32>(<u32>b));
  if (!safeResult(r, fmt)) return NO_FAST;
  if (!productExact(sigWithHidden(a, fmt), sigWithHidden(b, fmt), <i32>fracBits(fmt) + 1)) raise(FPSR_IXC);
  return r;
}

function fastDiv(a: u64, b: u64, fmt: u32): u64 {
  let r: u64;
  if (fmt == FMT_D) r = reinterpret<u64>(reinterpret<f64>(a) / reinterpret<f64>(b));
  else r = <u64>reinterpret<u32>(reinterpret<f32>(<u32>a) / reinterpret<f32>(<u32>b));
  if (!safeResult(r, fmt)) return NO_FAST;
  // ma / mb is a dyadic rational (so, in range, exact) iff mb's odd part divides ma.
  if (sigWithHidden(a, fmt) % oddPart(sigWithHidden(b, fmt)) != 0) raise(FPSR_IXC);
  return r;
}

function fastSqrt(a: u64, fmt: u32): u64 {
  let r: u64;
  if (fmt == FMT_D) r = reinterpret<u64>(Math.sqrt(reinterpret<f64>(a)));
  else r = <u64>reinterpret<u32>(Mathf.sqrt(reinterpret<f32>(<u32>a)));
  if (!safeResult(r, fmt)) return NO_FAST;
  // Exact iff root^2 == a: mr^2 * 2^(2er - 2F) == ma * 2^(ea - F), i.e. mr^2 == ma << (ea - 2er + F).
  const F = <i32>fracBits(fmt);
  const mask = (<u64>1 << expBits(fmt)) - 1;
  const ea = <i32>((a >> F) & mask);
  const er = <i32>((r >> F) & mask);
  const shift = ea - 2 * er + F + expBias(fmt); // the biases: ea - b - 2(er - b) = ea - 2er + b
  const mr = sigWithHidden(r, fmt);
  mul128(mr, mr);
  const ph = hi128, pl = lo128;
  shl128(0, sigWithHidden(a, fmt), shift);
  if (ph != hi128 || pl != lo128) raise(FPSR_IXC);
  return r;
}

/**
 * Single-precision addend + op1 * op2 rounded once. The product of two 24-bit significands
 * is exact in f64, and TwoSum gives the f64 sum's exact error. Rounding that sum to single
 * is then the single rounding of the exact value unless the sum lies exactly on a midpoint
 * between two singles while the error is not zero (the error's sign would decide): those go
 * to the general path.
 */
function fastMulAddS(addend: u64, op1: u64, op2: u64): u64 {
  const p = <f64>reinterpret<f32>(<u32>op1) * <f64>reinterpret<f32>(<u32>op2);
  const z = <f64>reinterpret<f32>(<u32>addend);
  const s = p + z;
  const bb = s - p;
  const err = (p - (s - bb)) + (z - bb);
  // The 29 bits of a double below single precision: exactly one half means a midpoint.
  if (err != 0 && (reinterpret<u64>(s) & 0x1fffffff) == 0x10000000) return NO_FAST;
  const r32 = <f32>s;
  const r = <u64>reinterpret<u32>(r32);
  if (!safeResult(r, FMT_S)) return NO_FAST;
  if (err != 0 || <f64>r32 != s) raise(FPSR_IXC);
  return r;
}

// ---- addition ----

/** The rounded sum of two finite non-zero values (significands' leading ones at bit 62). */
function addFinite(sa: u32, ea: i32, ma: u64, sb: u32, eb: i32, mb: u64, fmt: u32, fpcr: u32, rounding: u32): u64 {
  if (ea < eb || (ea == eb && ma < mb)) {
    const ts = sa; sa = sb; sb = ts;
    const te = ea; ea = eb; eb = te;
    const tm = ma; ma = mb; mb = tm;
  }
  const small = shiftRightJam(mb, ea - eb);
  if (sa == sb) {
    let s = ma + small;
    let e = ea;
    if ((s >> 63) != 0) {
      s = (s >> 1) | (s & 1);
      e++;
    }
    return roundPack(sa, e, s, fmt, fpcr, rounding);
  }
  // The larger significand has at least ten zero low bits, so when `small` lost bits (and
  // so has bit 0 set) the difference is odd and FPRound sees it as inexact; cancellation
  // of more than one bit only happens when nothing was lost.
  const d = ma - small;
  if (d == 0) return packZero(rounding == RND_M ? 1 : 0, fmt);
  const lz = <i32>clz<u64>(d) - 1;
  return roundPack(sa, ea - lz, d << <u64>lz, fmt, fpcr, rounding);
}

/** FPAdd (sub = false) or FPSub (sub = true). */
export function fpAdd(a: u64, b: u64, fmt: u32, fpcr: u32, sub: bool): u64 {
  if (fastRN(fpcr) && fmt != FMT_H && normalBits(a, fmt) && normalBits(b, fmt)) {
    const r = fastAdd(a, sub ? b ^ signMask(fmt) : b, fmt);
    if (r != NO_FAST) return r;
  }
  unpack(a, fmt, fpcr);
  const ca = uCls, sa = uSign, ea = uExp, ma = uSig;
  unpack(b, fmt, fpcr);
  const cb = uCls, eb = uExp, mb = uSig;
  let sb = uSign;
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) return processNaNs2(a, ca, b, cb, fmt, fpcr);
  if (sub) sb ^= 1;
  const rounding = fpcrRounding(fpcr);
  if (ca == CLS_INF && cb == CLS_INF && sa != sb) {
    raise(FPSR_IOC);
    return defaultNaN(fmt);
  }
  if (ca == CLS_INF) return packInf(sa, fmt);
  if (cb == CLS_INF) return packInf(sb, fmt);
  if (ca == CLS_ZERO && cb == CLS_ZERO) return packZero(sa == sb ? sa : rounding == RND_M ? 1 : 0, fmt);
  if (ca == CLS_ZERO) return roundPack(sb, eb, mb, fmt, fpcr, rounding);
  if (cb == CLS_ZERO) return roundPack(sa, ea, ma, fmt, fpcr, rounding);
  return addFinite(sa, ea, ma, sb, eb, mb, fmt, fpcr, rounding);
}

// ---- multiplication ----

/** The rounded product of two finite non-zero values. */
function mulFinite(sign: u32, ea: i32, ma: u64, eb: i32, mb: u64, fmt: u32, fpcr: u32, rounding: u32): u64 {
  mul128(ma, mb); // leading one at bit 124 or 125
  let s = (hi128 << 2) | (lo128 >> 62) | ((lo128 & 0x3fffffffffffffff) != 0 ? 1 : 0);
  let e = ea + eb;
  if ((s >> 63) != 0) {
    s = (s >> 1) | (s & 1);
    e++;
  }
  return roundPack(sign, e, s, fmt, fpcr, rounding);
}

/** FPMul, or FPMulX (mulx: infinity times zero is 2.0 rather than Invalid Operation). */
export function fpMul(a: u64, b: u64, fmt: u32, fpcr: u32, mulx: bool): u64 {
  if (fastRN(fpcr) && fmt != FMT_H && normalBits(a, fmt) && normalBits(b, fmt)) {
    const r = fastMul(a, b, fmt);
    if (r != NO_FAST) return r;
  }
  unpack(a, fmt, fpcr);
  const ca = uCls, sa = uSign, ea = uExp, ma = uSig;
  unpack(b, fmt, fpcr);
  const cb = uCls, sb = uSign, eb = uExp, mb = uSig;
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) return processNaNs2(a, ca, b, cb, fmt, fpcr);
  const s = sa ^ sb;
  if ((ca == CLS_INF && cb == CLS_ZERO) || (ca == CLS_ZERO && cb == CLS_INF)) {
    if (mulx) return packPow2(s, 1, fmt);
    raise(FPSR_IOC);
    return defaultNaN(fmt);
  }
  if (ca == CLS_INF || cb == CLS_INF) return packInf(s, fmt);
  if (ca == CLS_ZERO || cb == CLS_ZERO) return packZero(s, fmt);
  return mulFinite(s, ea, ma, eb, mb, fmt, fpcr, fpcrRounding(fpcr));
}

// ---- fused multiply-add ----

/**
 * Rounds addend + product exactly once, then divides by 2^halve. The product of two finite
 * non-zero significands (leading ones at bit 62) has exponent ep0 = e1 + e2; the addend is
 * zero (cc == CLS_ZERO) or finite non-zero.
 */
function fmaFinite(sp: u32, ep0: i32, m1: u64, m2: u64, cc: u32, sc: u32, ec: i32, mc: u64,
                   halve: i32, fmt: u32, fpcr: u32, rounding: u32): u64 {
  // The exact product, normalised so its leading one is bit 126 of 128.
  mul128(m1, m2);
  let ep = ep0;
  if ((hi128 >> 61) != 0) {
    shl128(hi128, lo128, 1);
    ep++;
  } else {
    shl128(hi128, lo128, 2);
  }
  let ph = hi128, pl = lo128;
  if (cc == CLS_ZERO) {
    return roundPack(sp, ep - halve, ph | (pl != 0 ? 1 : 0), fmt, fpcr, rounding);
  }
  // The addend, also with its leading one at bit 126.
  let ch = mc, cl: u64 = 0;
  // Order by magnitude: (bh:bl, eb, sb) is the larger.
  let bh: u64, bl: u64, eb: i32, sb: u32, sh: u64, sl: u64, es: i32;
  if (ep > ec || (ep == ec && (ph > ch || (ph == ch && pl >= cl)))) {
    bh = ph; bl = pl; eb = ep; sb = sp; sh = ch; sl = cl; es = ec;
  } else {
    bh = ch; bl = cl; eb = ec; sb = sc; sh = ph; sl = pl; es = ep;
  }
  shr128Jam(sh, sl, eb - es);
  sh = hi128;
  sl = lo128;
  let rh: u64, rl: u64;
  let e = eb;
  if (sp == sc) {
    rl = bl + sl;
    rh = bh + sh + (rl < bl ? 1 : 0);
    if ((rh >> 63) != 0) {
      shr128Jam(rh, rl, 1);
      rh = hi128;
      rl = lo128;
      e++;
    }
  } else {
    // As in addFinite: the larger operand's low bits are zero, so a jammed smaller
    // operand leaves an odd (inexact) difference, and cancellation needs exact alignment.
    rl = bl - sl;
    rh = bh - sh - (bl < sl ? 1 : 0);
    if (rh == 0 && rl == 0) return packZero(rounding == RND_M ? 1 : 0, fmt);
    const lz = rh != 0 ? <i32>clz<u64>(rh) : 64 + <i32>clz<u64>(rl);
    shl128(rh, rl, lz - 1);
    rh = hi128;
    rl = lo128;
    e -= lz - 1;
  }
  return roundPack(sb, e - halve, rh | (rl != 0 ? 1 : 0), fmt, fpcr, rounding);
}

/** FPMulAdd(addend, op1, op2): addend + op1 * op2 with a single rounding. */
export function fpMulAdd(addend: u64, op1: u64, op2: u64, fmt: u32, fpcr: u32): u64 {
  if (fmt == FMT_S && fastRN(fpcr) && normalBits(addend, fmt) && normalBits(op1, fmt) && normalBits(op2, fmt)) {
    const r = fastMulAddS(addend, op1, op2);
    if (r != NO_FAST) return r;
  }
  unpack(addend, fmt, fpcr);
  const cc = uCls, sc = uSign, ec = uExp, mc = uSig;
  unpack(op1, fmt, fpcr);
  const c1 = uCls, s1 = uSign, e1 = uExp, m1 = uSig;
  unpack(op2, fmt, fpcr);
  const c2 = uCls, s2 = uSign, e2 = uExp, m2 = uSig;
  const infZero = (c1 == CLS_INF && c2 == CLS_ZERO) || (c1 == CLS_ZERO && c2 == CLS_INF);
  if (cc >= CLS_QNAN || c1 >= CLS_QNAN || c2 >= CLS_QNAN) {
    const r = processNaNs3(addend, cc, op1, c1, op2, c2, fmt, fpcr);
    if (cc == CLS_QNAN && infZero) {
      raise(FPSR_IOC);
      return defaultNaN(fmt);
    }
    return r;
  }
  const sp = s1 ^ s2;
  const infP = c1 == CLS_INF || c2 == CLS_INF;
  const zeroP = c1 == CLS_ZERO || c2 == CLS_ZERO;
  if (infZero || (cc == CLS_INF && infP && sc != sp)) {
    raise(FPSR_IOC);
    return defaultNaN(fmt);
  }
  if (cc == CLS_INF) return packInf(sc, fmt);
  if (infP) return packInf(sp, fmt);
  const rounding = fpcrRounding(fpcr);
  if (zeroP) {
    if (cc == CLS_ZERO) return packZero(sc == sp ? sc : rounding == RND_M ? 1 : 0, fmt);
    return roundPack(sc, ec, mc, fmt, fpcr, rounding);
  }
  return fmaFinite(sp, e1 + e2, m1, m2, cc, sc, ec, mc, 0, fmt, fpcr, rounding);
}

/**
 * FPRecipStepFused (FRECPS: 2 - op1 * op2) and FPRSqrtStepFused (FRSQRTS: (3 - op1 * op2) / 2),
 * each rounded once. op1 is negated before NaN processing, as the pseudocode does.
 */
export function fpStepFused(op1: u64, op2: u64, fmt: u32, fpcr: u32, rsqrt: bool): u64 {
  const a = op1 ^ signMask(fmt);
  unpack(a, fmt, fpcr);
  const c1 = uCls, s1 = uSign, e1 = uExp, m1 = uSig;
  unpack(op2, fmt, fpcr);
  const c2 = uCls, s2 = uSign, e2 = uExp, m2 = uSig;
  if (c1 >= CLS_QNAN || c2 >= CLS_QNAN) return processNaNs2(a, c1, op2, c2, fmt, fpcr);
  if ((c1 == CLS_INF && c2 == CLS_ZERO) || (c1 == CLS_ZERO && c2 == CLS_INF)) {
    // 2.0, or 1.5 for the square-root step.
    return rsqrt ? packPow2(0, 0, fmt) | (<u64>1 << (fracBits(fmt) - 1)) : packPow2(0, 1, fmt);
  }
  if (c1 == CLS_INF || c2 == CLS_INF) return packInf(s1 ^ s2, fmt);
  const rounding = fpcrRounding(fpcr);
  // The addend: 2.0 = 1.0 * 2^1, or 3.0 = 1.5 * 2^1.
  const mc: u64 = rsqrt ? <u64>3 << 61 : <u64>1 << 62;
  if (c1 == CLS_ZERO || c2 == CLS_ZERO) {
    return roundPack(0, rsqrt ? 0 : 1, mc, fmt, fpcr, rounding); // 3/2 or 2, exact
  }
  return fmaFinite(s1 ^ s2, e1 + e2, m1, m2, CLS_FINITE, 0, 1, mc, rsqrt ? 1 : 0, fmt, fpcr, rounding);
}

// ---- division ----

/** FPDiv. */
export function fpDiv(a: u64, b: u64, fmt: u32, fpcr: u32): u64 {
  if (fastRN(fpcr) && fmt != FMT_H && normalBits(a, fmt) && normalBits(b, fmt)) {
    const r = fastDiv(a, b, fmt);
    if (r != NO_FAST) return r;
  }
  unpack(a, fmt, fpcr);
  const ca = uCls, sa = uSign, ea = uExp, ma = uSig;
  unpack(b, fmt, fpcr);
  const cb = uCls, sb = uSign, eb = uExp, mb = uSig;
  if (ca >= CLS_QNAN || cb >= CLS_QNAN) return processNaNs2(a, ca, b, cb, fmt, fpcr);
  const s = sa ^ sb;
  if ((ca == CLS_INF && cb == CLS_INF) || (ca == CLS_ZERO && cb == CLS_ZERO)) {
    raise(FPSR_IOC);
    return defaultNaN(fmt);
  }
  if (ca == CLS_INF || cb == CLS_ZERO) {
    if (ca != CLS_INF) raise(FPSR_DZC);
    return packInf(s, fmt);
  }
  if (ca == CLS_ZERO || cb == CLS_INF) return packZero(s, fmt);
  // Long division of the integer significands, k quotient bits per step, where k keeps
  // the shifted remainder (below the divisor) inside 63 bits.
  const F = fracBits(fmt);
  const shift = <u64>(62 - F);
  const n = ma >> shift;
  const d = mb >> shift;
  const k = <u64>(62 - F);
  const steps = fmt == FMT_D ? 6 : 1; // at least F + 3 quotient bits
  let q = n / d;
  let r = n % d;
  for (let i = 0; i < steps; i++) {
    const x = r << k;
    q = (q << k) | (x / d);
    r = x % d;
  }
  // value = q * 2^(ea - eb - steps * k), q < 2^63.
  const p = 63 - <i32>clz<u64>(q);
  const sig = (q << <u64>(62 - p)) | (r != 0 ? 1 : 0);
  return roundPack(s, ea - eb + p - steps * <i32>k, sig, fmt, fpcr, fpcrRounding(fpcr));
}

// ---- square root ----

/** FPSqrt. */
export function fpSqrt(a: u64, fmt: u32, fpcr: u32): u64 {
  if (fastRN(fpcr) && fmt != FMT_H && normalBits(a, fmt) && (a & signMask(fmt)) == 0) {
    const r = fastSqrt(a, fmt);
    if (r != NO_FAST) return r;
  }
  unpack(a, fmt, fpcr);
  const ca = uCls, sa = uSign, ea = uExp, ma = uSig;
  if (ca >= CLS_QNAN) return processNaN(a, fmt, fpcr);
  if (ca == CLS_ZERO) return packZero(sa, fmt);
  if (sa != 0) {
    raise(FPSR_IOC);
    return defaultNaN(fmt);
  }
  if (ca == CLS_INF) return packInf(0, fmt);
  // value = ma * 2^(ea - 62). Take the radicand R = ma * 2^t with ea - 62 - t even and
  // R in [2^120, 2^122), so its integer square root has its leading one at bit 60.
  const t = ((ea & 1) != 0) ? 59 : 58;
  shl128(0, ma, t);
  const rh = hi128, rl = lo128;
  let root: u64 = 0;
  let rem: u64 = 0;
  // Two radicand bits per step, from bits 121:120 down to 1:0. rem <= 2 * root < 2^62.
  for (let i = 60; i >= 0; i--) {
    const pos = i * 2;
    const two: u64 = pos >= 64 ? (rh >> <u64>(pos - 64)) & 3 : (rl >> <u64>pos) & 3;
    rem = (rem << 2) | two;
    const trial = (root << 2) | 1;
    if (rem >= trial) {
      rem -= trial;
      root = (root << 1) | 1;
    } else {
      root <<= 1;
    }
  }
  // sqrt(value) = root * 2^((ea - 62 - t) / 2); move root's leading one to bit 62.
  const sig = (root << 2) | (rem != 0 ? 1 : 0);
  const e = ((ea - 62 - t) >> 1) + 60;
  return roundPack(0, e, sig, fmt, fpcr, fpcrRounding(fpcr));
}
