// Handlers for the AdvSIMD floating-point rows of arm/decode/simd-fp.ts (simdFloatingPoint):
// three same, two-register miscellaneous, compares with zero, FCVTN/FCVTL/FCVTXN, across
// lanes and scalar pairwise. Vector results are built in the scratch vector (fp-common.ts)
// and written at the end, so a destination that is also a source is read first.
//
// Operations are looked up by key = U:a:opcode<2:0> (a = size<1>), with a bit mask of the
// keys each form allocates; the others are UNDEFINED, as is sz = 1 with Q = 0.

import { checkFpEnabled } from "../fp-access";
import { undefinedInstruction } from "../exceptions";
import { vAddr } from "../state";
import {
  FMT_D, FMT_H, FMT_S, RND_A, RND_M, RND_N, RND_ODD, RND_P, RND_Z, fpcrRounding, getFpcr, signMask,
} from "../softfloat/base";
import { fpAdd, fpDiv, fpMul, fpMulAdd, fpSqrt, fpStepFused } from "../softfloat/arith";
import { fpConvert, fpFromFixed, fpRoundInt, fpToFixed } from "../softfloat/convert";
import { CMP_EQ, CMP_GE, CMP_GT, fpCompareOp, fpMinMax } from "../softfloat/compare";
import {
  fpRSqrtEstimate, fpRecipEstimate, fpRecpX, unsignedRSqrtEstimate, unsignedRecipEstimate,
} from "../softfloat/estimate";
import {
  TMP, commitTmp, laneCount, readLane, readScalar, setTmpLane, writeScalar,
} from "./fp-common";

@inline function ones(fmt: u32): u64 { return fmt == FMT_D ? <u64>-1 : 0xffffffff; }
@inline function szFmt(sz: u32): u32 { return sz ? FMT_D : FMT_S; }

// ---- three same ----

// Allocated keys, vector: U=0 a=0: all but 101; U=0 a=1: 000 001 010 110 111;
// U=1 a=0: all but 001; U=1 a=1: 000 010 100 101 110.
const THREE_SAME_VECTOR: u32 = 0x75fdc7df;
// Scalar: FMULX, FCMEQ, FRECPS (U=0 a=0: 011 100 111), FRSQRTS (U=0 a=1: 111),
// FCMGE, FACGE (U=1 a=0: 100 101), FABD, FCMGT, FACGT (U=1 a=1: 010 100 101).
const THREE_SAME_SCALAR: u32 = 0x34308098;

/** The pairwise keys: FMAXNMP, FADDP, FMAXP, FMINNMP, FMINP. */
@inline function isPairwise(key: u32): bool {
  return key == 0x10 || key == 0x12 || key == 0x16 || key == 0x18 || key == 0x1e;
}

/** One element of a three-same operation (acc is Vd's element, for FMLA and FMLS). */
function threeSame(key: u32, x: u64, y: u64, acc: u64, fmt: u32, fpcr: u32): u64 {
  switch (key) {
    case 0x00: case 0x10: return fpMinMax(x, y, fmt, fpcr, true, true); // FMAXNM(P)
    case 0x01: return fpMulAdd(acc, x, y, fmt, fpcr); // FMLA
    case 0x02: case 0x12: return fpAdd(x, y, fmt, fpcr, false); // FADD(P)
    case 0x03: return fpMul(x, y, fmt, fpcr, true); // FMULX
    case 0x04: return fpCompareOp(x, y, fmt, fpcr, CMP_EQ, false) ? ones(fmt) : 0; // FCMEQ
    case 0x06: case 0x16: return fpMinMax(x, y, fmt, fpcr, true, false); // FMAX(P)
    case 0x07: return fpStepFused(x, y, fmt, fpcr, false); // FRECPS
    case 0x08: case 0x18: return fpMinMax(x, y, fmt, fpcr, false, true); // FMINNM(P)
    case 0x09: return fpMulAdd(acc, x ^ signMask(fmt), y, fmt, fpcr); // FMLS
    case 0x0a: return fpAdd(x, y, fmt, fpcr, true); // FSUB
    case 0x0e: case 0x1e: return fpMinMax(x, y, fmt, fpcr, false, false); // FMIN(P)
    case 0x0f: return fpStepFused(x, y, fmt, fpcr, true); // FRSQRTS
    case 0x13: return fpMul(x, y, fmt, fpcr, false); // FMUL
    case 0x14: return fpCompareOp(x, y, fmt, fpcr, CMP_GE, false) ? ones(fmt) : 0; // FCMGE
    case 0x15: return fpCompareOp(x, y, fmt, fpcr, CMP_GE, true) ? ones(fmt) : 0; // FACGE
    case 0x17: return fpDiv(x, y, fmt, fpcr); // FDIV
    case 0x1a: return fpAdd(x, y, fmt, fpcr, true) & ~signMask(fmt); // FABD: FPAbs(FPSub())
    case 0x1c: return fpCompareOp(x, y, fmt, fpcr, CMP_GT, false) ? ones(fmt) : 0; // FCMGT
    default: return fpCompareOp(x, y, fmt, fpcr, CMP_GT, true) ? ones(fmt) : 0; // 0x1d FACGT
  }
}

export function exec_SIMD_FP_3SAME(Q: u32, U: u32, a: u32, sz: u32, rm: u32, opcode: u32, rn: u32, rd: u32): void {
  const key = (U << 4) | (a << 3) | opcode;
  if ((sz && !Q) || ((THREE_SAME_VECTOR >> key) & 1) == 0) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = szFmt(sz);
  const fpcr = getFpcr();
  const n = laneCount(Q, fmt);
  const pairwise = isPairwise(key);
  for (let e: u32 = 0; e < n; e++) {
    let x: u64, y: u64;
    if (pairwise) {
      // Pairs of adjacent elements of the concatenation Vm:Vn, Vn's first.
      const i: u32 = 2 * e;
      x = i < n ? readLane(rn, i, fmt) : readLane(rm, i - n, fmt);
      y = i + 1 < n ? readLane(rn, i + 1, fmt) : readLane(rm, i + 1 - n, fmt);
    } else {
      x = readLane(rn, e, fmt);
      y = readLane(rm, e, fmt);
    }
    setTmpLane(e, fmt, threeSame(key, x, y, readLane(rd, e, fmt), fmt, fpcr));
  }
  commitTmp(rd, Q);
}

export function exec_SIMD_FP_3SAME_S(U: u32, a: u32, sz: u32, rm: u32, opcode: u32, rn: u32, rd: u32): void {
  const key = (U << 4) | (a << 3) | opcode;
  if (((THREE_SAME_SCALAR >> key) & 1) == 0) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = szFmt(sz);
  writeScalar(rd, threeSame(key, readScalar(rn, fmt), readScalar(rm, fmt), 0, fmt, getFpcr()), fmt);
}

// ---- compares with zero, FABS, FNEG ----

/** op = opcode<1:0> of 011xx; U=0: FCMGT, FCMEQ, FCMLT, FABS; U=1: FCMGE, FCMLE, -, FNEG. */
function cmpZero(U: u32, op: u32, x: u64, fmt: u32, fpcr: u32): u64 {
  let r: bool;
  switch ((U << 2) | op) {
    case 0: r = fpCompareOp(x, 0, fmt, fpcr, CMP_GT, false); break; // FCMGT #0
    case 1: r = fpCompareOp(x, 0, fmt, fpcr, CMP_EQ, false); break; // FCMEQ #0
    case 2: r = fpCompareOp(0, x, fmt, fpcr, CMP_GT, false); break; // FCMLT #0
    case 3: return x & ~signMask(fmt); // FABS
    case 4: r = fpCompareOp(x, 0, fmt, fpcr, CMP_GE, false); break; // FCMGE #0
    case 5: r = fpCompareOp(0, x, fmt, fpcr, CMP_GE, false); break; // FCMLE #0
    default: return x ^ signMask(fmt); // 7: FNEG
  }
  return r ? ones(fmt) : 0;
}

export function exec_SIMD_FP_CMP0(Q: u32, U: u32, sz: u32, op: u32, rn: u32, rd: u32): void {
  if ((sz && !Q) || (U && op == 2)) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = szFmt(sz);
  const fpcr = getFpcr();
  const n = laneCount(Q, fmt);
  for (let e: u32 = 0; e < n; e++) setTmpLane(e, fmt, cmpZero(U, op, readLane(rn, e, fmt), fmt, fpcr));
  commitTmp(rd, Q);
}

export function exec_SIMD_FP_CMP0_S(U: u32, sz: u32, op: u32, rn: u32, rd: u32): void {
  if (op == 3 || (U && op == 2)) { // no scalar FABS, FNEG here
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = szFmt(sz);
  writeScalar(rd, cmpZero(U, op, readScalar(rn, fmt), fmt, getFpcr()), fmt);
}

// ---- FCVTN, FCVTL, FCVTXN ----

/**
 * U=0 o=0 FCVTN: 2*esize -> esize (sz=0: single to half, sz=1: double to single), into the
 * low half (Q=0, clearing the top) or the high half (Q=1, keeping the low) of Vd.
 * U=0 o=1 FCVTL: esize -> 2*esize from the low (Q=0) or high (Q=1) half of Vn.
 * U=1 o=0 FCVTXN (sz=1 only): double to single rounding to odd.
 */
export function exec_SIMD_FCVT_NL(Q: u32, U: u32, sz: u32, o: u32, rn: u32, rd: u32): void {
  if (U && (o || !sz)) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fpcr = getFpcr();
  const narrow = sz ? FMT_S : FMT_H;
  const wide = sz ? FMT_D : FMT_S;
  const n: u32 = sz ? 2 : 4;
  if (o) { // FCVTL
    for (let e: u32 = 0; e < n; e++) {
      const x = readLane(rn, e + (Q ? n : 0), narrow);
      setTmpLane(e, wide, fpConvert(x, narrow, wide, fpcr, fpcrRounding(fpcr)));
    }
    commitTmp(rd, 1);
    return;
  }
  const rounding = U ? RND_ODD : fpcrRounding(fpcr);
  const base: u32 = Q ? n : 0;
  for (let e: u32 = 0; e < n; e++) {
    setTmpLane(base + e, narrow, fpConvert(readLane(rn, e, wide), wide, narrow, fpcr, rounding));
  }
  if (Q) store<u64>(TMP, load<u64>(vAddr(rd))); // the "2" forms keep Vd's low half
  commitTmp(rd, Q);
}

export function exec_SIMD_FCVTXN_S(sz: u32, rn: u32, rd: u32): void {
  if (!sz) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  writeScalar(rd, fpConvert(readScalar(rn, FMT_D), FMT_D, FMT_S, getFpcr(), RND_ODD), FMT_S);
}

// ---- two-register miscellaneous, opcodes 11xxx ----

// Vector: U=0 (a=0 and a=1): 000-101; U=1 a=0: 000-101; U=1 a=1: 001-101, 111.
const TWO_MISC_VECTOR: u32 = 0xbe3f3f3f;
// Scalar: U=0 a=0: 010-101; U=0 a=1: 010 011 101 111 (FRECPX); U=1 a=0: 010-101;
// U=1 a=1: 010 011 101.
const TWO_MISC_SCALAR: u32 = 0x2c3cac3c;

/** The rounding of an FCVT<r><S|U> key (low three bits 010 N/P, 011 M/Z, 100 A). */
function cvtRounding(key: u32): u32 {
  const a = (key >> 3) & 1;
  switch (key & 7) {
    case 2: return a ? RND_P : RND_N;
    case 3: return a ? RND_Z : RND_M;
    default: return RND_A;
  }
}

function twoMisc(key: u32, x: u64, fmt: u32, fpcr: u32): u64 {
  const isize: u32 = fmt == FMT_D ? 64 : 32;
  const unsigned = (key & 0x10) != 0;
  switch (key) {
    case 0x00: return fpRoundInt(x, fmt, fpcr, RND_N, false); // FRINTN
    case 0x01: return fpRoundInt(x, fmt, fpcr, RND_M, false); // FRINTM
    case 0x08: return fpRoundInt(x, fmt, fpcr, RND_P, false); // FRINTP
    case 0x09: return fpRoundInt(x, fmt, fpcr, RND_Z, false); // FRINTZ
    case 0x10: return fpRoundInt(x, fmt, fpcr, RND_A, false); // FRINTA
    case 0x11: return fpRoundInt(x, fmt, fpcr, fpcrRounding(fpcr), true); // FRINTX
    case 0x19: return fpRoundInt(x, fmt, fpcr, fpcrRounding(fpcr), false); // FRINTI
    case 0x05: case 0x15: // SCVTF, UCVTF
      return fpFromFixed(x, !unsigned, isize, 0, fmt, fpcr, fpcrRounding(fpcr));
    case 0x0c: return <u64>unsignedRecipEstimate(<u32>x); // URECPE
    case 0x1c: return <u64>unsignedRSqrtEstimate(<u32>x); // URSQRTE
    case 0x0d: return fpRecipEstimate(x, fmt, fpcr); // FRECPE
    case 0x1d: return fpRSqrtEstimate(x, fmt, fpcr); // FRSQRTE
    case 0x0f: return fpRecpX(x, fmt, fpcr); // FRECPX
    case 0x1f: return fpSqrt(x, fmt, fpcr); // FSQRT
    default: // FCVT[NMAPZ][SU]
      return fpToFixed(x, fmt, fpcr, 0, unsigned, cvtRounding(key), isize);
  }
}

export function exec_SIMD_FP_2MISC(Q: u32, U: u32, a: u32, sz: u32, opcode: u32, rn: u32, rd: u32): void {
  const key = (U << 4) | (a << 3) | opcode;
  const integerEstimate = (key & 0xf) == 0xc; // URECPE, URSQRTE: 32-bit lanes only
  if ((sz && !Q) || ((TWO_MISC_VECTOR >> key) & 1) == 0 || (integerEstimate && sz)) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = szFmt(sz);
  const fpcr = getFpcr();
  const n = laneCount(Q, fmt);
  for (let e: u32 = 0; e < n; e++) setTmpLane(e, fmt, twoMisc(key, readLane(rn, e, fmt), fmt, fpcr));
  commitTmp(rd, Q);
}

export function exec_SIMD_FP_2MISC_S(U: u32, a: u32, sz: u32, opcode: u32, rn: u32, rd: u32): void {
  const key = (U << 4) | (a << 3) | opcode;
  if (((TWO_MISC_SCALAR >> key) & 1) == 0) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = szFmt(sz);
  writeScalar(rd, twoMisc(key, readScalar(rn, fmt), fmt, getFpcr()), fmt);
}

// ---- across lanes and scalar pairwise ----

/** op = opcode<1:0> of 011xx: 00 FMAXNM/FMINNM, 01 FADD (a = 0 only), 11 FMAX/FMIN. */
function pairOp(a: u32, op: u32, x: u64, y: u64, fmt: u32, fpcr: u32): u64 {
  if (op == 1) return fpAdd(x, y, fmt, fpcr, false);
  return fpMinMax(x, y, fmt, fpcr, a == 0, op == 0);
}

/** FMAXNMV, FMAXV, FMINNMV, FMINV: 4S only; Reduce() pairs (0,1) and (2,3), then those. */
export function exec_SIMD_FP_ACROSS(Q: u32, a: u32, sz: u32, op: u32, rn: u32, rd: u32): void {
  if (!Q || sz || op == 1 || op == 2) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fpcr = getFpcr();
  const lo = pairOp(a, op, readLane(rn, 0, FMT_S), readLane(rn, 1, FMT_S), FMT_S, fpcr);
  const hi = pairOp(a, op, readLane(rn, 2, FMT_S), readLane(rn, 3, FMT_S), FMT_S, fpcr);
  writeScalar(rd, pairOp(a, op, lo, hi, FMT_S, fpcr), FMT_S);
}

/** FMAXNMP, FADDP, FMAXP, FMINNMP, FMINP (scalar): the two elements of Vn.2S or Vn.2D. */
export function exec_SIMD_FP_PAIR_S(a: u32, sz: u32, op: u32, rn: u32, rd: u32): void {
  if (op == 2 || (op == 1 && a)) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = szFmt(sz);
  writeScalar(rd, pairOp(a, op, readLane(rn, 0, fmt), readLane(rn, 1, fmt), fmt, getFpcr()), fmt);
}
