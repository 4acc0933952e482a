// Emitters for ARM ARM C4.1.5: Data Processing -- Register (docs/jit.md). Each emit_<Name>
// takes the fields exec_<Name> takes (arm/core/exec/dp-reg.ts) and emits the same operation
// as inline wasm, or returns false (reserved encodings, and the rare forms left to the handler).

import { la, lb, lr, L_T } from "./frame";
import {
  W32, W64, Width, tConst, tAdd, tSub, tAnd, tOr, tXor, tShl, tShrU, tShrS, tRotr, tMul, tEqz, tEq, tOp,
} from "./width";
import { pushReg, pushRegSP, pushShifted, beginSet, endSetReg, endSetRegSP, beginSetNZCV } from "./registers";
import { emitAddSubS, emitAddSubFlagsNow, emitLogicFlags, pushCondition, pushNZCV, endSetNZCV } from "./flags";
import {
  byte, i32Const, i64Const, localGet, localSet, localTee, op, ifVoid, end,
  OP_SELECT, OP_IF, OP_ELSE, T_I32, T_I64, OP_I32_SHR_U, OP_I32_AND, OP_I64_EXTEND_I32_U,
  OP_I64_EXTEND_I32_S, OP_I32_WRAP_I64, OP_I64_EXTEND8_S, OP_I64_EXTEND16_S, OP_I64_EXTEND32_S,
  OP_I64_AND, OP_I64_SHR_U, OP_I32_CLZ, OP_I64_CLZ,
} from "./wasm-encoder";

const OP_I32_DIV_S: u32 = 0x6d;
const OP_I32_DIV_U: u32 = 0x6e;
const OP_I64_DIV_S: u32 = 0x7f;
const OP_I64_DIV_U: u32 = 0x80;

/** A 32-bit shifted-register form with a shift of 32 or more is UNDEFINED. */
@inline function badShift32(sf: u32, imm6: u32): bool {
  return sf == 0 && imm6 >= 32;
}

/** Rn op (shifted Rm, inverted when N): the logical (shifted register) forms, opc as the handler's. */
export function emit_LOGIC_shift(sf: u32, shift: u32, N: u32, rm: u32, imm6: u32, rn: u32, rd: u32, opc: u32): bool {
  if (badShift32(sf, imm6)) return false;
  const setFlags = opc == 3; // ANDS: an AND that sets the flags
  const w: Width = sf;
  beginSet();
  pushReg(w, rn);
  pushShifted(w, rm, shift, imm6);
  if (N) {
    tConst(w, -1);
    tXor(w);
  }
  if (opc == 1) tOr(w);
  else if (opc == 2) tXor(w);
  else tAnd(w);
  if (setFlags) localTee(lr(w));
  endSetReg(w, rd);
  if (setFlags) emitLogicFlags(w);
  return true;
}

export function emit_MOV_reg(sf: u32, rm: u32, rd: u32): bool {
  beginSet();
  pushReg(sf, rm);
  endSetReg(sf, rd);
  return true;
}

export function emit_ADDSUB_shift(sf: u32, opc: u32, shift: u32, rm: u32, imm6: u32, rn: u32, rd: u32): bool {
  if (shift == 3 || badShift32(sf, imm6)) return false;
  const w: Width = sf;
  beginSet();
  pushReg(w, rn);
  pushShifted(w, rm, shift, imm6);
  if (opc) tSub(w);
  else tAdd(w);
  endSetReg(w, rd);
  return true;
}

export function emit_ADDSUBS_shift(sf: u32, opc: u32, shift: u32, rm: u32, imm6: u32, rn: u32, rd: u32): bool {
  if (shift == 3 || badShift32(sf, imm6)) return false;
  const w: Width = sf;
  pushReg(w, rn);
  localSet(la(w));
  pushShifted(w, rm, shift, imm6);
  localSet(lb(w));
  emitAddSubS(w, opc != 0, rd);
  return true;
}

/** Pushes ExtendReg(Rm, option, imm3) as an i64 (option<2> signed, option<1:0> the width). */
function pushExtended(rm: u32, option: u32, imm3: u32): void {
  pushReg(W64, rm);
  switch (option) {
    case 0: i64Const(0xff); op(OP_I64_AND); break; // UXTB
    case 1: i64Const(0xffff); op(OP_I64_AND); break; // UXTH
    case 2: i64Const(0xffffffff); op(OP_I64_AND); break; // UXTW
    case 4: op(OP_I64_EXTEND8_S); break; // SXTB
    case 5: op(OP_I64_EXTEND16_S); break; // SXTH
    case 6: op(OP_I64_EXTEND32_S); break; // SXTW
    default: break; // UXTX, SXTX
  }
  if (imm3 != 0) {
    i64Const(imm3);
    tShl(W64);
  }
}

/** The extended-register operand in the width of the operation. */
function pushExtendedW(w: Width, rm: u32, option: u32, imm3: u32): void {
  pushExtended(rm, option, imm3);
  if (!w) op(OP_I32_WRAP_I64);
}

export function emit_ADDSUB_ext(sf: u32, opc: u32, rm: u32, option: u32, imm3: u32, rn: u32, rd: u32): bool {
  if (imm3 > 4) return false;
  const w: Width = sf;
  beginSet();
  pushRegSP(w, rn);
  pushExtendedW(w, rm, option, imm3);
  if (opc) tSub(w);
  else tAdd(w);
  endSetRegSP(w, rd);
  return true;
}

export function emit_ADDSUBS_ext(sf: u32, opc: u32, rm: u32, option: u32, imm3: u32, rn: u32, rd: u32): bool {
  if (imm3 > 4) return false;
  const w: Width = sf;
  pushRegSP(w, rn);
  localSet(la(w));
  pushExtendedW(w, rm, option, imm3);
  localSet(lb(w));
  emitAddSubS(w, opc != 0, rd);
  return true;
}

/** Pushes the carry flag (i32 0 or 1). */
function pushCarry(): void {
  pushNZCV();
  i32Const(29);
  op(OP_I32_SHR_U);
  i32Const(1);
  op(OP_I32_AND);
}

export function emit_ADC_SBC(sf: u32, opc: u32, rm: u32, rn: u32, rd: u32): bool {
  const w: Width = sf;
  beginSet();
  pushReg(w, rn);
  pushReg(w, rm);
  if (opc) {
    tConst(w, -1);
    tXor(w);
  }
  tAdd(w);
  pushCarry();
  if (w) op(OP_I64_EXTEND_I32_U);
  tAdd(w);
  endSetReg(w, rd);
  return true;
}

/**
 * CCMN (op = 0) / CCMP (op = 1): the flags of Rn + or - the second operand (register Rm, or
 * imm5 when imm) if cond holds, else nzcv.
 */
export function emit_CCMP(sf: u32, opc: u32, second: u32, cond: u32, rn: u32, nzcv: u32, imm: u32): bool {
  const w: Width = sf;
  pushCondition(cond);
  ifVoid();
  pushReg(w, rn);
  localSet(la(w));
  if (imm) tConst(w, <i64>second);
  else pushReg(w, second);
  localSet(lb(w));
  localGet(la(w));
  localGet(lb(w));
  if (opc) tSub(w);
  else tAdd(w);
  localSet(lr(w));
  emitAddSubFlagsNow(w, opc != 0);
  byte(OP_ELSE);
  beginSetNZCV();
  i32Const(<i32>(nzcv << 28));
  endSetNZCV();
  end();
  return true;
}


export function emit_CSEL(sf: u32, opc: u32, rm: u32, cond: u32, o2: u32, rn: u32, rd: u32): bool {
  const w: Width = sf;
  beginSet();
  pushReg(w, rn);
  // The false value: Rm, Rm + 1 (CSINC), NOT Rm (CSINV), -Rm (CSNEG).
  if (opc && o2) {
    tConst(w, 0);
    pushReg(w, rm);
    tSub(w);
  } else {
    pushReg(w, rm);
    if (opc) {
      tConst(w, -1);
      tXor(w);
    } else if (o2) {
      tConst(w, 1);
      tAdd(w);
    }
  }
  pushCondition(cond);
  byte(OP_SELECT);
  endSetReg(w, rd);
  return true;
}

export function emit_MADD(sf: u32, rm: u32, o0: u32, ra: u32, rn: u32, rd: u32): bool {
  const w: Width = sf;
  beginSet();
  pushReg(w, ra);
  pushReg(w, rn);
  pushReg(w, rm);
  tMul(w);
  if (o0) tSub(w);
  else tAdd(w);
  endSetReg(w, rd);
  return true;
}

export function emit_MUL(sf: u32, rm: u32, rn: u32, rd: u32): bool {
  beginSet();
  pushReg(sf, rn);
  pushReg(sf, rm);
  tMul(sf);
  endSetReg(sf, rd);
  return true;
}

/** SMADDL/UMADDL (U = 1) and their SUB forms: Xa +/- Wn * Wm, widened signed or unsigned. */
export function emit_MADDL(rm: u32, o0: u32, ra: u32, rn: u32, rd: u32, U: u32): bool {
  const widen = U ? OP_I64_EXTEND_I32_U : OP_I64_EXTEND_I32_S;
  beginSet();
  pushReg(W64, ra);
  pushReg(W32, rn);
  op(widen);
  pushReg(W32, rm);
  op(widen);
  tMul(W64);
  if (o0) tSub(W64);
  else tAdd(W64);
  endSetReg(W64, rd);
  return true;
}

/** LSLV, LSRV, ASRV, RORV (op2 00-11): the amount is Rm modulo the width, as wasm's shifts take it. */
export function emit_SHIFTV(sf: u32, rm: u32, rn: u32, rd: u32, op2: u32): bool {
  const w: Width = sf;
  beginSet();
  pushReg(w, rn);
  pushReg(w, rm);
  if (op2 == 0) tShl(w);
  else if (op2 == 1) tShrU(w);
  else if (op2 == 2) tShrS(w);
  else tRotr(w);
  endSetReg(w, rd);
  return true;
}

/** UDIV, SDIV (o1 = 1): x / 0 = 0, and for SDIV INT_MIN / -1 = INT_MIN (0 - x), where wasm would trap. */
export function emit_DIV(sf: u32, rm: u32, rn: u32, rd: u32, o1: u32): bool {
  const w: Width = sf;
  const type = w ? T_I64 : T_I32;
  beginSet();
  pushReg(w, rm);
  localTee(lb(w));
  tEqz(w);
  byte(OP_IF);
  byte(type);
  tConst(w, 0);
  byte(OP_ELSE);
  if (o1) {
    localGet(lb(w));
    tConst(w, -1);
    tEq(w);
    byte(OP_IF);
    byte(type);
    tConst(w, 0);
    pushReg(w, rn);
    tSub(w);
    byte(OP_ELSE);
  }
  pushReg(w, rn);
  localGet(lb(w));
  if (o1) tOp(w, OP_I32_DIV_S, OP_I64_DIV_S);
  else tOp(w, OP_I32_DIV_U, OP_I64_DIV_U);
  if (o1) end();
  end();
  endSetReg(w, rd);
  return true;
}

export function emit_CLZ(sf: u32, rn: u32, rd: u32): bool {
  beginSet();
  pushReg(sf, rn);
  op(sf ? OP_I64_CLZ : OP_I32_CLZ);
  endSetReg(sf, rd);
  return true;
}

// ---- byte reversal: wasm has no bswap, so swap bytes, then halfwords, then words ----

/** Swaps adjacent units of `bits` bits (8, 16 or 32) in the i64 on the stack. */
function swapUnits(bits: u32): void {
  const m: u64 = bits == 8 ? 0x00ff00ff00ff00ff : bits == 16 ? 0x0000ffff0000ffff : 0x00000000ffffffff;
  localSet(L_T);
  localGet(L_T);
  i64Const(bits);
  op(OP_I64_SHR_U);
  i64Const(<i64>m);
  op(OP_I64_AND);
  localGet(L_T);
  i64Const(<i64>m);
  op(OP_I64_AND);
  i64Const(bits);
  tShl(W64);
  tOr(W64);
}

export function emit_REV16(sf: u32, rn: u32, rd: u32): bool {
  beginSet();
  pushReg(W64, rn);
  swapUnits(8);
  if (!sf) op(OP_I32_WRAP_I64);
  endSetReg(sf, rd);
  return true;
}

/** REV32 (sf = 1) and REV Wd (sf = 0): the bytes of each word reversed. */
export function emit_REV32(sf: u32, rn: u32, rd: u32): bool {
  beginSet();
  pushReg(W64, rn);
  swapUnits(8);
  swapUnits(16);
  if (!sf) op(OP_I32_WRAP_I64);
  endSetReg(sf, rd);
  return true;
}

export function emit_REV64(rn: u32, rd: u32): bool {
  beginSet();
  pushReg(W64, rn);
  swapUnits(8);
  swapUnits(16);
  i64Const(32);
  tRotr(W64);
  endSetReg(W64, rd);
  return true;
}
