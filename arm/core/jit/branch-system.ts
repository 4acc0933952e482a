// Emitters for the branches of ARM ARM C4.1.3 (docs/jit.md). They end the block: a taken
// branch stores its target as the PC and returns; a conditional branch not taken falls through
// to the block's epilogue (PC = the next instruction). Indirect branches to an address with a
// tag in its top byte go through the handler, which applies TBI.

import {
  W64, pushPc, pushReg, pushX, beginSet, endSetX, beginSetPc, endSetPc, returnRetired,
  pushCondition, emitFallback, emitBranchTo, tEqz, L_T,
} from "./emit-util";
import { byte, i64Const, i32Const, localGet, localTee, ifVoid, end, op, OP_I64_SHR_S, OP_I64_SHR_U, OP_I64_ADD, OP_I32_WRAP_I64, OP_I32_AND, OP_I32_EQZ } from "./wasm-encoder";

const OP_I64_LE_U: u32 = 0x58;

export function emit_B(offset: i64): bool {
  emitBranchTo(offset, 0);
  return true;
}

export function emit_BL(offset: i64): bool {
  beginSet();
  pushPc(4);
  endSetX(30);
  emitBranchTo(offset, 0);
  return true;
}

export function emit_B_cond(offset: i64, cond: u32): bool {
  if ((cond >> 1) == 7) {
    emitBranchTo(offset, 0);
    return true;
  }
  pushCondition(cond);
  ifVoid();
  emitBranchTo(offset, 1);
  end();
  return true;
}

export function emit_CBZ(sf: u32, opc: u32, offset: i64, rt: u32): bool {
  pushReg(sf, rt);
  tEqz(sf);
  if (opc) op(OP_I32_EQZ); // CBNZ
  ifVoid();
  emitBranchTo(offset, 1);
  end();
  return true;
}

export function emit_TBZ(b5: u32, opc: u32, b40: u32, offset: i64, rt: u32): bool {
  pushReg(W64, rt);
  i64Const((b5 << 5) | b40);
  op(OP_I64_SHR_U);
  op(OP_I32_WRAP_I64);
  i32Const(1);
  op(OP_I32_AND);
  if (!opc) op(OP_I32_EQZ); // TBZ branches on a zero bit
  ifVoid();
  emitBranchTo(offset, 1);
  end();
  return true;
}

/** BR, BLR, RET: to Xn when its top bits are a plain sign extension, else through the handler. */
function indirect(rn: u32, link: bool): bool {
  pushX(rn);
  localTee(L_T);
  i64Const(55);
  op(OP_I64_SHR_S);
  i64Const(1);
  op(OP_I64_ADD);
  i64Const(1);
  byte(OP_I64_LE_U);
  ifVoid();
  if (link) {
    beginSet();
    pushPc(4);
    endSetX(30);
  }
  beginSetPc();
  localGet(L_T);
  endSetPc();
  returnRetired();
  end();
  emitFallback();
  return true;
}

export function emit_BR(rn: u32): bool {
  return indirect(rn, false);
}

export function emit_BLR(rn: u32): bool {
  return indirect(rn, true);
}

export function emit_RET(rn: u32): bool {
  return indirect(rn, false);
}
