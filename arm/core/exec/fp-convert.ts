// Handlers for the scalar conversion rows of arm/decode/fp.ts (ARM ARM C4.1.6): between
// floating point and integers or fixed point, and FMOV between general and SIMD&FP
// registers. ftype = 11 (half precision) conversions are FEAT_FP16: UNDEFINED here.

import { checkFpEnabled } from "../fp-access";
import { undefinedInstruction } from "../exceptions";
import { getReg, getX, setReg, setX, vAddr } from "../state";
import { FMT_D, FMT_S, RND_A, RND_Z, fpcrRounding, getFpcr } from "../softfloat/base";
import { fpFromFixed, fpToFixed } from "../softfloat/convert";
import { readScalar, writeScalar } from "./fp-common";

/**
 * SCVTF, UCVTF (rmode 00, opcode 010/011) and FCVTZS, FCVTZU (rmode 11, opcode 000/001)
 * with fbits = 64 - scale fraction bits; a 32-bit register allows at most 32.
 */
export function exec_FCVT_fixed(sf: u32, ftype: u32, rmode: u32, opcode: u32, scale: u32, rn: u32, rd: u32): void {
  const toInt = rmode == 3 && opcode < 2;
  const fromInt = rmode == 0 && (opcode == 2 || opcode == 3);
  if (ftype > 1 || (sf == 0 && scale < 32) || !(toInt || fromInt)) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = ftype == 0 ? FMT_S : FMT_D;
  const fbits = 64 - <i32>scale;
  const isize: u32 = sf ? 64 : 32;
  const fpcr = getFpcr();
  if (fromInt) {
    writeScalar(rd, fpFromFixed(getX(rn), opcode == 2, isize, fbits, fmt, fpcr, fpcrRounding(fpcr)), fmt);
  } else {
    setReg(sf, rd, fpToFixed(readScalar(rn, fmt), fmt, fpcr, fbits, opcode == 1, RND_Z, isize));
  }
}

/**
 * opcode 000/001: FCVT{N,P,M,Z}{S,U} (rmode picks the rounding: the RND_* values);
 * 100/101 with rmode 00: FCVTA{S,U}; 010/011 with rmode 00: SCVTF, UCVTF;
 * 110/111: FMOV to/from a general register (rmode 00: Wn<->Sn, Xn<->Dn; rmode 01 with
 * ftype 10: Xn<->Vn.D[1]).
 */
export function exec_FCVT_int(sf: u32, ftype: u32, rmode: u32, opcode: u32, rn: u32, rd: u32): void {
  if (opcode >= 6) {
    fmovGeneral(sf, ftype, rmode, opcode == 7, rn, rd);
    return;
  }
  if (ftype > 1 || (opcode >= 2 && rmode != 0)) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  const fmt = ftype == 0 ? FMT_S : FMT_D;
  const isize: u32 = sf ? 64 : 32;
  const fpcr = getFpcr();
  if (opcode == 2 || opcode == 3) {
    writeScalar(rd, fpFromFixed(getX(rn), opcode == 2, isize, 0, fmt, fpcr, fpcrRounding(fpcr)), fmt);
    return;
  }
  const rounding = opcode >= 4 ? RND_A : rmode;
  setReg(sf, rd, fpToFixed(readScalar(rn, fmt), fmt, fpcr, 0, (opcode & 1) != 0, rounding, isize));
}

/** FMOV (general): toFp moves a general register into the SIMD&FP register. */
function fmovGeneral(sf: u32, ftype: u32, rmode: u32, toFp: bool, rn: u32, rd: u32): void {
  const whole = rmode == 0 && ((sf == 0 && ftype == 0) || (sf == 1 && ftype == 1));
  const top = rmode == 1 && sf == 1 && ftype == 2;
  if (!whole && !top) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  if (top) {
    if (toFp) store<u64>(vAddr(rd) + 8, getX(rn)); // Vd.D[1] = Xn; D[0] is kept
    else setX(rd, load<u64>(vAddr(rn) + 8));
    return;
  }
  const fmt = sf ? FMT_D : FMT_S;
  if (toFp) writeScalar(rd, getReg(sf, rn), fmt);
  else setReg(sf, rd, readScalar(rn, fmt));
}
