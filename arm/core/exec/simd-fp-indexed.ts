// Handlers for arm/decode/simd-fp.ts (simdFloatingPointIndexed): FMLA, FMLS, FMUL, FMULX by
// element (vector and scalar), FMOV (vector, immediate), and the fixed-point conversions of
// the shift-by-immediate groups (SCVTF, UCVTF, FCVTZS, FCVTZU with fbits).

import { checkFpEnabled } from "../fp-access";
import { undefinedInstruction } from "../exceptions";
import { vAddr } from "../state";
import { FMT_D, FMT_S, RND_Z, fpcrRounding, getFpcr, signMask } from "../softfloat/base";
import { fpMul, fpMulAdd } from "../softfloat/arith";
import { fpFromFixed, fpToFixed } from "../softfloat/convert";
import { commitTmp, laneCount, readLane, readScalar, setTmpLane, writeScalar } from "./fp-common";
import { vfpExpandImm } from "./fp";

// ---- by element ----

/** The element index (H:L for single, H for double; sz:L = 11 is reserved). */
@inline function elemIndex(sz: u32, L: u32, H: u32): u32 { return sz ? H : (H << 1) | L; }

/** One by-element operation: 0 FMLA, 1 FMLS, 2 FMUL, 3 FMULX. */
function byElement(op: u32, acc: u64, x: u64, y: u64, fmt: u32, fpcr: u32): u64 {
  switch (op) {
    case 0: return fpMulAdd(acc, x, y, fmt, fpcr);
    case 1: return fpMulAdd(acc, x ^ signMask(fmt), y, fmt, fpcr);
    case 2: return fpMul(x, y, fmt, fpcr, false);
    default: return fpMul(x, y, fmt, fpcr, true);
  }
}

/** FMLA, FMLS, FMUL, FMULX by element (vector): op as byElement's. */
export function exec_SIMD_FP_ELEM(Q: u32, sz: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32, op: u32): void {
  if ((sz && L) || (sz && !Q)) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = sz ? FMT_D : FMT_S;
  const fpcr = getFpcr();
  const y = readLane((M << 4) | rm, elemIndex(sz, L, H), fmt);
  const n = laneCount(Q, fmt);
  for (let e: u32 = 0; e < n; e++) {
    setTmpLane(e, fmt, byElement(op, readLane(rd, e, fmt), readLane(rn, e, fmt), y, fmt, fpcr));
  }
  commitTmp(rd, Q);
}

export function exec_SIMD_FP_ELEM_S(sz: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32, op: u32): void {
  if (sz && L) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = sz ? FMT_D : FMT_S;
  const y = readLane((M << 4) | rm, elemIndex(sz, L, H), fmt);
  writeScalar(rd, byElement(op, readScalar(rd, fmt), readScalar(rn, fmt), y, fmt, getFpcr()), fmt);
}

// ---- FMOV (vector, immediate) ----

/** cmode = 1111, o2 = 0: op = 0 replicates a single-precision imm8, op = 1 (Q = 1 only) a double. */
export function exec_SIMD_FMOV_imm(Q: u32, op: u32, abc: u32, defgh: u32, rd: u32): void {
  if (op && !Q) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const imm8 = (abc << 5) | defgh;
  let imm64: u64;
  if (op) {
    imm64 = vfpExpandImm(imm8, FMT_D);
  } else {
    const imm32 = vfpExpandImm(imm8, FMT_S);
    imm64 = (imm32 << 32) | imm32;
  }
  const a = vAddr(rd);
  store<u64>(a, imm64);
  store<u64>(a + 8, Q ? imm64 : 0);
}

// ---- fixed-point conversions (shift by immediate) ----

function convertFixed(toInt: u32, U: u32, fbits: u32, x: u64, fmt: u32, fpcr: u32): u64 {
  const esize: u32 = fmt == FMT_D ? 64 : 32;
  if (toInt) return fpToFixed(x, fmt, fpcr, <i32>fbits, U != 0, RND_Z, esize);
  return fpFromFixed(x, U == 0, esize, <i32>fbits, fmt, fpcr, fpcrRounding(fpcr));
}

/** SCVTF, UCVTF (toInt = 0), FCVTZS, FCVTZU (toInt = 1), vector, of esize-bit elements. */
export function exec_SIMD_FP_FIXED(Q: u32, U: u32, fbits: u32, rn: u32, rd: u32, toInt: u32, esize: u32): void {
  if (esize == 64 && !Q) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = esize == 64 ? FMT_D : FMT_S;
  const fpcr = getFpcr();
  const n = laneCount(Q, fmt);
  for (let e: u32 = 0; e < n; e++) setTmpLane(e, fmt, convertFixed(toInt, U, fbits, readLane(rn, e, fmt), fmt, fpcr));
  commitTmp(rd, Q);
}

export function exec_SIMD_FP_FIXED_S(U: u32, fbits: u32, rn: u32, rd: u32, toInt: u32, esize: u32): void {
  if (!checkFpEnabled()) return;
  const fmt = esize == 64 ? FMT_D : FMT_S;
  writeScalar(rd, convertFixed(toInt, U, fbits, readScalar(rn, fmt), fmt, getFpcr()), fmt);
}
