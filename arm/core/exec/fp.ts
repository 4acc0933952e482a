// Handlers for the scalar floating-point data-processing rows of arm/decode/fp.ts (ARM ARM
// C4.1.6): 1, 2 and 3 sources, compares, conditional compare and select, FMOV immediate.
//
// Each handler first rejects unallocated field values (UNDEFINED comes from decode, so it
// takes priority over the FP access trap), then asks checkFpEnabled() before touching any
// FP state. ftype: 00 single, 01 double; 11 is half precision, which ARMv8.0 only converts
// (FCVT), so every other ftype = 11 encoding is FEAT_FP16 and UNDEFINED.

import { checkFpEnabled } from "../fp-access";
import { undefinedInstruction } from "../exceptions";
import { setNZCV } from "../state";
import { conditionHolds } from "../flags";
import {
  FMT_D, FMT_H, FMT_S, RND_A, expBits, fpcrRounding, fracBits, getFpcr, signMask,
} from "../softfloat/base";
import { fpAdd, fpDiv, fpMul, fpMulAdd, fpSqrt } from "../softfloat/arith";
import { fpConvert, fpRoundInt } from "../softfloat/convert";
import { fpCompare, fpMinMax } from "../softfloat/compare";
import { readScalar, writeScalar } from "./fp-common";

/** The format of an arithmetic ftype (00 single, 01 double). */
@inline function arithFmt(ftype: u32): u32 { return ftype == 0 ? FMT_S : FMT_D; }

/** The format of a conversion ftype/opc (00 single, 01 double, 11 half). */
@inline function convFmt(t: u32): u32 { return t == 0 ? FMT_S : t == 1 ? FMT_D : FMT_H; }

/** FMOV (register), FABS, FNEG, FSQRT. */
export function exec_FP_1SRC(ftype: u32, opc: u32, rn: u32, rd: u32): void {
  if (ftype > 1) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  const x = readScalar(rn, fmt);
  let r: u64;
  switch (opc) {
    case 0: r = x; break; // FMOV
    case 1: r = x & ~signMask(fmt); break; // FABS
    case 2: r = x ^ signMask(fmt); break; // FNEG
    default: r = fpSqrt(x, fmt, getFpcr()); // FSQRT
  }
  writeScalar(rd, r, fmt);
}

/** FCVT between precisions: ftype is the source, opc the destination. */
export function exec_FCVT_prec(ftype: u32, opc: u32, rn: u32, rd: u32): void {
  if (ftype == 2 || opc == 2 || ftype == opc) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const from = convFmt(ftype);
  const to = convFmt(opc);
  const fpcr = getFpcr();
  writeScalar(rd, fpConvert(readScalar(rn, from), from, to, fpcr, fpcrRounding(fpcr)), to);
}

/**
 * FRINT<r>: rmode 000 N, 001 P, 010 M, 011 Z (the RND_* values), 100 A; 110 X and 111 I use
 * FPCR's mode, X signalling Inexact.
 */
export function exec_FRINT(ftype: u32, rmode: u32, rn: u32, rd: u32): void {
  if (ftype > 1 || rmode == 5) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  const fpcr = getFpcr();
  const rounding = rmode < 4 ? rmode : rmode == 4 ? RND_A : fpcrRounding(fpcr);
  writeScalar(rd, fpRoundInt(readScalar(rn, fmt), fmt, fpcr, rounding, rmode == 6), fmt);
}

/** FCMP, FCMPE (E: signal on quiet NaNs too), with Rn or +0.0 (Z) as the second operand. */
export function exec_FCMP(ftype: u32, rm: u32, rn: u32, E: u32, Z: u32): void {
  if (ftype > 1) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  const b: u64 = Z ? 0 : readScalar(rm, fmt);
  setNZCV(fpCompare(readScalar(rn, fmt), b, fmt, getFpcr(), E != 0));
}

/** VFPExpandImm: sign, NOT(b6):Replicate(b6, E-3):imm8<5:4>, imm8<3:0> as the top of the fraction. */
export function vfpExpandImm(imm8: u32, fmt: u32): u64 {
  const E = expBits(fmt);
  const F = fracBits(fmt);
  const b6 = (imm8 >> 6) & 1;
  const exp: u64 = (<u64>(b6 ^ 1) << (E - 1)) | (<u64>(b6 ? (1 << (E - 3)) - 1 : 0) << 2) | <u64>((imm8 >> 4) & 3);
  return (<u64>(imm8 >> 7) << (E + F)) | (exp << F) | (<u64>(imm8 & 15) << (F - 4));
}

export function exec_FMOV_imm(ftype: u32, imm8: u32, rd: u32): void {
  if (ftype > 1) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  writeScalar(rd, vfpExpandImm(imm8, fmt), fmt);
}

/** FCCMP, FCCMPE (op): compare if cond holds, else set NZCV to the immediate. */
export function exec_FCCMP(ftype: u32, rm: u32, cond: u32, rn: u32, op: u32, nzcv: u32): void {
  if (ftype > 1) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  if (conditionHolds(cond)) setNZCV(fpCompare(readScalar(rn, fmt), readScalar(rm, fmt), fmt, getFpcr(), op != 0));
  else setNZCV(nzcv << 28);
}

/** The two-operand scalar operations, by the 2-source opcode (also used by AdvSIMD scalar forms). */
export function fp2Source(opcode: u32, a: u64, b: u64, fmt: u32, fpcr: u32): u64 {
  switch (opcode) {
    case 0: return fpMul(a, b, fmt, fpcr, false); // FMUL
    case 1: return fpDiv(a, b, fmt, fpcr); // FDIV
    case 2: return fpAdd(a, b, fmt, fpcr, false); // FADD
    case 3: return fpAdd(a, b, fmt, fpcr, true); // FSUB
    case 4: return fpMinMax(a, b, fmt, fpcr, true, false); // FMAX
    case 5: return fpMinMax(a, b, fmt, fpcr, false, false); // FMIN
    case 6: return fpMinMax(a, b, fmt, fpcr, true, true); // FMAXNM
    case 7: return fpMinMax(a, b, fmt, fpcr, false, true); // FMINNM
    default: return fpMul(a, b, fmt, fpcr, false) ^ signMask(fmt); // FNMUL: FPNeg(FPMul())
  }
}

export function exec_FP_2SRC(ftype: u32, rm: u32, opcode: u32, rn: u32, rd: u32): void {
  if (ftype > 1 || opcode > 8) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  writeScalar(rd, fp2Source(opcode, readScalar(rn, fmt), readScalar(rm, fmt), fmt, getFpcr()), fmt);
}

export function exec_FCSEL(ftype: u32, rm: u32, cond: u32, rn: u32, rd: u32): void {
  if (ftype > 1) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  writeScalar(rd, readScalar(conditionHolds(cond) ? rn : rm, fmt), fmt);
}

/**
 * FMADD (o1 o0 = 00), FMSUB (01), FNMADD (10), FNMSUB (11): FPMulAdd(±Ra, ±Rn, Rm), the
 * negations applied to the operands first, so a NaN operand comes out with its sign flipped.
 */
export function exec_FP_3SRC(ftype: u32, o1: u32, rm: u32, o0: u32, ra: u32, rn: u32, rd: u32): void {
  if (ftype > 1) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = arithFmt(ftype);
  let a = readScalar(ra, fmt);
  let n = readScalar(rn, fmt);
  if (o1) a ^= signMask(fmt);
  if (o0 != o1) n ^= signMask(fmt);
  writeScalar(rd, fpMulAdd(a, n, readScalar(rm, fmt), fmt, getFpcr()), fmt);
}
