// Emitters for the integer loads and stores of ARM ARM C4.1.4 (docs/jit.md): the address is
// computed inline, the TLB probed inline (beginFastAccess), and on a hit the access and the
// register writes happen in wasm, in the handler's order (arm/core/exec/ldst.ts): data, then
// Rt, then the written-back base. Anything else — a TLB miss, MMIO, Device memory, a code page
// for stores, misalignment, a page crossing, a misaligned SP base, big-endian data — re-runs
// the whole instruction through the handler, which takes any fault precisely.

import { L_VA, L_A, L_B } from "./frame";
import { W64, tConst, tShl } from "./width";
import { pushPc, curBigEndian } from "./context";
import { pushX, pushXSP, beginSet, endSetX, endSetXSP } from "./registers";
import { beginFastAccess, endFastAccess, pushHost, loadZx64, storeN64 } from "./access";
import {
  i32Const, i64Const, localGet, localSet, memOp, op, OP_I64_ADD, OP_I64_AND, OP_I32_WRAP_I64,
  OP_I32_AND, OP_I32_EQZ, OP_I64_EXTEND32_S, OP_I64_EXTEND_I32_U, OP_I64_LOAD8_S, OP_I64_LOAD16_S,
  OP_I64_LOAD32_S, OP_I32_LOAD8_S, OP_I32_LOAD16_S,
} from "./wasm-encoder";

// How a load widens its data (as in the handlers).
const EXT_ZERO: u32 = 0;
const EXT_SX64: u32 = 1; // to Xt
const EXT_SX32: u32 = 2; // to Wt, zero above

// How the base register is used.
export const ADDR_OFFSET: u32 = 0; // [Xn|SP, #imm]: no writeback
const ADDR_PRE: u32 = 1; // [Xn|SP, #imm]!
const ADDR_POST: u32 = 2; // [Xn|SP], #imm

/**
 * For an SP base, pushes the fast path's extra condition: SP 16-byte aligned (otherwise the
 * handler checks SCTLR_EL1.SA). Returns whether it pushed one.
 */
function spCondition(rn: u32): bool {
  if (rn != 31) return false;
  pushXSP(31);
  op(OP_I32_WRAP_I64);
  i32Const(15);
  op(OP_I32_AND);
  op(OP_I32_EQZ);
  return true;
}

/**
 * Computes the address into L_VA (and, with writeback, the new base into L_B); pushes the SP
 * condition and returns whether it did, as spCondition.
 */
export function address(rn: u32, imm: i64, mode: u32): bool {
  pushXSP(rn);
  if (mode == ADDR_POST) {
    localSet(L_VA);
    localGet(L_VA);
    i64Const(imm);
    op(OP_I64_ADD);
    localSet(L_B);
  } else {
    if (imm != 0) {
      i64Const(imm);
      op(OP_I64_ADD);
    }
    localSet(L_VA);
    if (mode == ADDR_PRE) {
      localGet(L_VA);
      localSet(L_B);
    }
  }
  return spCondition(rn);
}

/** Writes the new base (L_B) back to Xn|SP. */
export function writeback(rn: u32, mode: u32): void {
  if (mode == ADDR_OFFSET) return;
  beginSet();
  localGet(L_B);
  endSetXSP(rn);
}

/** Pushes the loaded value, widened to i64, from the fast path's host address + offset. */
function loadValue(size: u32, ext: u32, offset: u32): void {
  pushHost(offset);
  if (ext == EXT_ZERO) {
    loadZx64(1 << size);
  } else if (ext == EXT_SX64) {
    if (size == 0) memOp(OP_I64_LOAD8_S, 0, 0);
    else if (size == 1) memOp(OP_I64_LOAD16_S, 1, 0);
    else memOp(OP_I64_LOAD32_S, 2, 0);
  } else {
    if (size == 0) memOp(OP_I32_LOAD8_S, 0, 0);
    else memOp(OP_I32_LOAD16_S, 1, 0);
    op(OP_I64_EXTEND_I32_U);
  }
}

/** How a load widens its data by opc (01, 10, 11; 00 is a store), as in the handlers. */
@inline function loadExt(opc: u32): u32 {
  return opc == 1 ? EXT_ZERO : opc == 2 ? EXT_SX64 : EXT_SX32;
}

/**
 * The access of one register at L_VA behind the fast-path checks (spCond: whether the address
 * computation pushed the SP condition), then the base writeback.
 */
function single(size: u32, opc: u32, rn: u32, rt: u32, mode: u32, spCond: bool): bool {
  const store = opc == 0;
  beginFastAccess(1 << size, 1, store, spCond);
  if (store) {
    pushHost(0);
    pushX(rt);
    storeN64(1 << size);
  } else {
    beginSet();
    loadValue(size, loadExt(opc), 0);
    endSetX(rt);
  }
  writeback(rn, mode);
  endFastAccess();
  return true;
}

export function addrMode(wback: u32, post: u32): u32 {
  return wback == 0 ? ADDR_OFFSET : post ? ADDR_POST : ADDR_PRE;
}

// The unprivileged forms (LDTR, STTR) are left to the handler, which checks them as EL0's.
export function emit_LDST_imm(size: u32, opc: u32, imm: i64, rn: u32, rt: u32, wback: u32, post: u32, unpriv: u32): bool {
  if (curBigEndian || unpriv) return false;
  const mode = addrMode(wback, post);
  const spCond = address(rn, imm, mode);
  return single(size, opc, rn, rt, mode, spCond);
}

// ---- register offset: Xn|SP + ExtendReg(Xm, option) << (S ? size : 0) ----

/** Pushes the offset register extended (UXTW 010, LSL 011, SXTW 110, SXTX 111) and shifted. */
function pushOffsetReg(rm: u32, option: u32, shift: u32): void {
  pushX(rm);
  if (option == 0b010) {
    i64Const(0xffffffff);
    op(OP_I64_AND);
  } else if (option == 0b110) {
    op(OP_I64_EXTEND32_S);
  }
  if (shift != 0) {
    tConst(W64, shift);
    tShl(W64);
  }
}

/** Computes Xn|SP + offset register into L_VA; pushes the SP condition as address() does. */
export function addressReg(rn: u32, rm: u32, option: u32, shift: u32): bool {
  pushXSP(rn);
  pushOffsetReg(rm, option, shift);
  op(OP_I64_ADD);
  localSet(L_VA);
  return spCondition(rn);
}

export function emit_LDST_reg(size: u32, opc: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool {
  if (curBigEndian) return false;
  const spCond = addressReg(rn, rm, option, S ? size : 0);
  return single(size, opc, rn, rt, ADDR_OFFSET, spCond);
}

// ---- literal ----
export function emit_LDR_lit(size: u32, opc: u32, offset: i64, rt: u32): bool {
  if (curBigEndian) return false;
  pushPc(offset);
  localSet(L_VA);
  return single(size, opc, 0, rt, ADDR_OFFSET, false);
}

// ---- pairs: both elements in one page; Rt2 written before Rt, the base last ----

export function emit_LDSTP(size: u32, opc: u32, imm: i64, rt2: u32, rn: u32, rt: u32, wback: u32, post: u32): bool {
  if (curBigEndian) return false;
  const mode = addrMode(wback, post);
  const spCond = address(rn, imm, mode);
  const bytes: u32 = 1 << size;
  const store = opc == 0;
  beginFastAccess(bytes, 2, store, spCond);
  if (store) {
    pushHost(0);
    pushX(rt);
    storeN64(bytes);
    pushHost(bytes);
    pushX(rt2);
    storeN64(bytes);
  } else {
    const ext = loadExt(opc);
    loadValue(size, ext, 0);
    localSet(L_A);
    beginSet();
    loadValue(size, ext, bytes);
    endSetX(rt2);
    beginSet();
    localGet(L_A);
    endSetX(rt);
  }
  writeback(rn, mode);
  endFastAccess();
  return true;
}

// ---- no-ops and the acquire/release forms ----
export function emit_PRFM(): bool {
  return true;
}

// LDAR/STLR: a plain access on one thread; their alignment fault and syndrome come from the
// handler, which the fast path's alignment check leaves them to.
export function emit_LDST_acqrel(size: u32, rn: u32, rt: u32, opc: u32): bool {
  return emit_LDST_imm(size, opc, 0, rn, rt, 0, 0, 0);
}
