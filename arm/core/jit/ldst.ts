// Emitters for the integer loads and stores of ARM ARM C4.1.4 (docs/jit.md): the address is
// computed inline, the TLB probed inline (beginFastAccess), and on a hit the access and the
// register writes happen in wasm, in the handler's order (arm/core/exec/ldst.ts): data, then
// Rt, then the written-back base. Anything else — a TLB miss, MMIO, Device memory, a code page
// for stores, misalignment, a page crossing, a misaligned SP base, big-endian data — re-runs
// the whole instruction through the handler, which takes any fault precisely.

import {
  W64, pushPc, pushX, pushXSP, beginSet, endSetX, endSetXSP, beginFastAccess, endFastAccess, pushHost,
  loadZx64, storeN64, curBigEndian, tConst, tShl, L_VA, L_A, L_B,
} from "./emit-util";
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
const ADDR_OFFSET: u32 = 0; // [Xn|SP, #imm]: no writeback
const ADDR_PRE: u32 = 1; // [Xn|SP, #imm]!
const ADDR_POST: u32 = 2; // [Xn|SP], #imm

/**
 * Computes the address into L_VA (and, with writeback, the new base into L_B), and pushes the
 * extra fast-path condition for an SP base (16-byte aligned: otherwise the handler checks
 * SCTLR_EL1.SA). Returns whether it pushed that condition.
 */
function address(rn: u32, imm: i64, mode: u32): bool {
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
  if (rn != 31) return false;
  pushXSP(31);
  op(OP_I32_WRAP_I64);
  i32Const(15);
  op(OP_I32_AND);
  op(OP_I32_EQZ);
  return true;
}

/** Writes the new base (L_B) back to Xn|SP. */
function writeback(rn: u32, mode: u32): void {
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

function loadSingle(size: u32, ext: u32, rn: u32, rt: u32, imm: i64, mode: u32): bool {
  if (curBigEndian) return false;
  const spCond = address(rn, imm, mode);
  beginFastAccess(1 << size, 1, false, spCond);
  beginSet();
  loadValue(size, ext, 0);
  endSetX(rt);
  writeback(rn, mode);
  endFastAccess();
  return true;
}

function storeSingle(size: u32, rn: u32, rt: u32, imm: i64, mode: u32): bool {
  if (curBigEndian) return false;
  const spCond = address(rn, imm, mode);
  beginFastAccess(1 << size, 1, true, spCond);
  pushHost(0);
  pushX(rt);
  storeN64(1 << size);
  writeback(rn, mode);
  endFastAccess();
  return true;
}

@inline function signedExt(opc0: u32): u32 {
  return opc0 ? EXT_SX32 : EXT_SX64;
}

// ---- unsigned offset (imm12 already scaled) ----
export function emit_STR_uimm(size: u32, imm12: u64, rn: u32, rt: u32): bool {
  return storeSingle(size, rn, rt, <i64>imm12, ADDR_OFFSET);
}
export function emit_LDR_uimm(size: u32, imm12: u64, rn: u32, rt: u32): bool {
  return loadSingle(size, EXT_ZERO, rn, rt, <i64>imm12, ADDR_OFFSET);
}
export function emit_LDRS_uimm(size: u32, opc0: u32, imm12: u64, rn: u32, rt: u32): bool {
  return loadSingle(size, signedExt(opc0), rn, rt, <i64>imm12, ADDR_OFFSET);
}
export function emit_LDRSW_uimm(imm12: u64, rn: u32, rt: u32): bool {
  return loadSingle(2, EXT_SX64, rn, rt, <i64>imm12, ADDR_OFFSET);
}

// ---- unscaled immediate ----
export function emit_STUR(size: u32, imm9: i64, rn: u32, rt: u32): bool {
  return storeSingle(size, rn, rt, imm9, ADDR_OFFSET);
}
export function emit_LDUR(size: u32, imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(size, EXT_ZERO, rn, rt, imm9, ADDR_OFFSET);
}
export function emit_LDURS(size: u32, opc0: u32, imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(size, signedExt(opc0), rn, rt, imm9, ADDR_OFFSET);
}
export function emit_LDURSW(imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(2, EXT_SX64, rn, rt, imm9, ADDR_OFFSET);
}

// ---- pre- and post-index ----
export function emit_STR_post(size: u32, imm9: i64, rn: u32, rt: u32): bool {
  return storeSingle(size, rn, rt, imm9, ADDR_POST);
}
export function emit_LDR_post(size: u32, imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(size, EXT_ZERO, rn, rt, imm9, ADDR_POST);
}
export function emit_LDRS_post(size: u32, opc0: u32, imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(size, signedExt(opc0), rn, rt, imm9, ADDR_POST);
}
export function emit_LDRSW_post(imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(2, EXT_SX64, rn, rt, imm9, ADDR_POST);
}
export function emit_STR_pre(size: u32, imm9: i64, rn: u32, rt: u32): bool {
  return storeSingle(size, rn, rt, imm9, ADDR_PRE);
}
export function emit_LDR_pre(size: u32, imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(size, EXT_ZERO, rn, rt, imm9, ADDR_PRE);
}
export function emit_LDRS_pre(size: u32, opc0: u32, imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(size, signedExt(opc0), rn, rt, imm9, ADDR_PRE);
}
export function emit_LDRSW_pre(imm9: i64, rn: u32, rt: u32): bool {
  return loadSingle(2, EXT_SX64, rn, rt, imm9, ADDR_PRE);
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

/** Computes Xn|SP + offset register into L_VA; pushes the SP condition like address(). */
function addressReg(rn: u32, rm: u32, option: u32, shift: u32): bool {
  pushXSP(rn);
  pushOffsetReg(rm, option, shift);
  op(OP_I64_ADD);
  localSet(L_VA);
  if (rn != 31) return false;
  pushXSP(31);
  op(OP_I32_WRAP_I64);
  i32Const(15);
  op(OP_I32_AND);
  op(OP_I32_EQZ);
  return true;
}

function loadReg(size: u32, ext: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool {
  if (curBigEndian) return false;
  const spCond = addressReg(rn, rm, option, S ? size : 0);
  beginFastAccess(1 << size, 1, false, spCond);
  beginSet();
  loadValue(size, ext, 0);
  endSetX(rt);
  endFastAccess();
  return true;
}

export function emit_STR_reg(size: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool {
  if (curBigEndian) return false;
  const spCond = addressReg(rn, rm, option, S ? size : 0);
  beginFastAccess(1 << size, 1, true, spCond);
  pushHost(0);
  pushX(rt);
  storeN64(1 << size);
  endFastAccess();
  return true;
}
export function emit_LDR_reg(size: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool {
  return loadReg(size, EXT_ZERO, rm, option, S, rn, rt);
}
export function emit_LDRS_reg(size: u32, opc0: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool {
  return loadReg(size, signedExt(opc0), rm, option, S, rn, rt);
}
export function emit_LDRSW_reg(rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool {
  return loadReg(2, EXT_SX64, rm, option, S, rn, rt);
}

// ---- literal ----
export function emit_LDR_lit(sf: u32, offset: i64, rt: u32): bool {
  if (curBigEndian) return false;
  pushPc(offset);
  localSet(L_VA);
  const size: u32 = sf ? 3 : 2;
  beginFastAccess(1 << size, 1, false, false);
  beginSet();
  loadValue(size, EXT_ZERO, 0);
  endSetX(rt);
  endFastAccess();
  return true;
}

// ---- pairs: both elements in one page; Rt2 written before Rt, the base last ----

function pairMode(wback: u32, postIndex: u32): u32 {
  return wback == 0 ? ADDR_OFFSET : postIndex ? ADDR_POST : ADDR_PRE;
}

function loadPair(size: u32, ext: u32, imm: i64, rt2: u32, rn: u32, rt: u32, mode: u32): bool {
  if (curBigEndian) return false;
  const spCond = address(rn, imm, mode);
  const bytes: u32 = 1 << size;
  beginFastAccess(bytes, 2, false, spCond);
  loadValue(size, ext, 0);
  localSet(L_A);
  beginSet();
  loadValue(size, ext, bytes);
  endSetX(rt2);
  beginSet();
  localGet(L_A);
  endSetX(rt);
  writeback(rn, mode);
  endFastAccess();
  return true;
}

function storePair(size: u32, imm: i64, rt2: u32, rn: u32, rt: u32, mode: u32): bool {
  if (curBigEndian) return false;
  const spCond = address(rn, imm, mode);
  const bytes: u32 = 1 << size;
  beginFastAccess(bytes, 2, true, spCond);
  pushHost(0);
  pushX(rt);
  storeN64(bytes);
  pushHost(bytes);
  pushX(rt2);
  storeN64(bytes);
  writeback(rn, mode);
  endFastAccess();
  return true;
}

export function emit_STNP(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return storePair(2 + sf, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_LDNP(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return loadPair(2 + sf, EXT_ZERO, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_STP_post(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return storePair(2 + sf, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_LDP_post(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return loadPair(2 + sf, EXT_ZERO, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_LDPSW_post(imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return loadPair(2, EXT_SX64, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_STP_off(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return storePair(2 + sf, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_LDP_off(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return loadPair(2 + sf, EXT_ZERO, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_LDPSW_off(imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return loadPair(2, EXT_SX64, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_STP_pre(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return storePair(2 + sf, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_LDP_pre(sf: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return loadPair(2 + sf, EXT_ZERO, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}
export function emit_LDPSW_pre(imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): bool {
  return loadPair(2, EXT_SX64, imm7, rt2, rn, rt, pairMode(wback, postIndex));
}

// ---- no-ops and the acquire/release forms ----
export function emit_PRFM_uimm(imm12: u32, rn: u32, rt: u32): bool { return true; }
export function emit_PRFUM(imm9: u32, rn: u32, rt: u32): bool { return true; }
export function emit_PRFM_reg(rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool { return true; }
export function emit_PRFM_lit(imm19: u32, rt: u32): bool { return true; }

// LDAR/STLR: a plain access on one thread; their alignment fault and syndrome come from the
// handler, which the fast path's alignment check leaves them to.
export function emit_LDAR(size: u32, rn: u32, rt: u32): bool {
  return loadSingle(size, EXT_ZERO, rn, rt, 0, ADDR_OFFSET);
}
export function emit_STLR(size: u32, rn: u32, rt: u32): bool {
  return storeSingle(size, rn, rt, 0, ADDR_OFFSET);
}
