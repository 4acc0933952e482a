// Emitters for the SIMD&FP loads and stores of one or two registers (LDR, STR, LDUR, STUR,
// LDP, STP, LDNP, STNP, LDR literal: arm/decode/ldst-simd.ts). glibc's memcpy, memset and
// string functions move data through Q registers, so in userland these are as hot as the
// integer forms, and through the handler each cost a call into the core and two TLB lookups.
//
// As the integer emitters (ldst.ts), the fast path covers what runs every time and the handler
// re-runs the whole instruction otherwise. Its conditions, checked at run time because the
// registers they read change without a new translation:
//   - CPACR_EL1.FPEN lets the block's EL use the unit (else the handler takes the FP trap);
//   - the bytes are in one page of Normal RAM the TLB allows (beginFastAccessAnyAlignment);
//   - natural alignment of each element, or SCTLR_EL1.A clear: unaligned SIMD&FP accesses to
//     Normal memory are allowed then (the handler takes the alignment faults otherwise);
//   - an SP base is 16-byte aligned, as for the integer forms.
// V registers live in the state area (no emitter keeps them in locals). A scalar load zeroes
// the rest of the 128-bit register; with Rt = Rt2 a pair load leaves the higher element, as
// the handler does.

import { ACTIVE_STATE, SYSREGS, V_REGS } from "../../abi";
import { CPACR_EL1, SCTLR_EL1 } from "../sysreg-file";
import { L_VA } from "./frame";
import { curEl, curBigEndian, pushPc } from "./context";
import { address, addressReg, addrMode, writeback, ADDR_OFFSET } from "./ldst";
import { beginFastAccessAnyAlignment, endFastAccess, pushHost, loadZx64, storeN64 } from "./access";
import {
  i32Const, i64Const, localGet, localSet, memOp, op, OP_I64_LOAD, OP_I64_STORE, OP_I64_SHR_U,
  OP_I32_WRAP_I64, OP_I32_AND, OP_I32_EQ, OP_I32_EQZ, OP_I32_OR,
} from "./wasm-encoder";

/** The wasm address of a system register's slot (the state area is at a fixed address). */
function sysregAddress(slot: u32): u32 {
  return ACTIVE_STATE + SYSREGS + (slot << 3);
}

/** The wasm address of V[t]'s low doubleword. */
function vAddress(t: u32): u32 {
  return ACTIVE_STATE + V_REGS + (t << 4);
}

/** Pushes (i32, 0/1) whether CPACR_EL1.FPEN lets the block's EL use FP/SIMD (01: EL1 only, 11: both). */
function pushFpAllowed(): void {
  i32Const(0); memOp(OP_I64_LOAD, 3, sysregAddress(CPACR_EL1));
  i64Const(20); op(OP_I64_SHR_U); op(OP_I32_WRAP_I64);
  if (curEl == 0) {
    i32Const(3); op(OP_I32_AND); i32Const(3); op(OP_I32_EQ);
  } else {
    i32Const(1); op(OP_I32_AND);
  }
}

/** Pushes (i32, 0/1) whether an element of `size` bytes at L_VA may be accessed: aligned, or SCTLR_EL1.A clear. */
function pushAlignmentAllowed(size: u32): void {
  localGet(L_VA); op(OP_I32_WRAP_I64); i32Const(<i32>(size - 1)); op(OP_I32_AND); op(OP_I32_EQZ);
  i32Const(0); memOp(OP_I64_LOAD, 3, sysregAddress(SCTLR_EL1)); op(OP_I32_WRAP_I64);
  i32Const(2); op(OP_I32_AND); op(OP_I32_EQZ);
  op(OP_I32_OR);
}

/**
 * Opens the fast path for `count` elements of `size` bytes at L_VA (spCond: the address
 * computation pushed the SP condition).
 */
function begin(size: u32, count: u32, isWrite: bool, spCond: bool): void {
  pushFpAllowed();
  if (spCond) op(OP_I32_AND);
  if (size > 1) {
    pushAlignmentAllowed(size);
    op(OP_I32_AND);
  }
  beginFastAccessAnyAlignment(size * count, isWrite, true);
}

/** V[t] = the `size` bytes at the fast path's address + offset, zero-extended to 128 bits. */
function loadV(t: u32, size: u32, offset: u32): void {
  i32Const(0);
  pushHost(offset);
  loadZx64(size < 8 ? size : 8);
  memOp(OP_I64_STORE, 3, vAddress(t));
  i32Const(0);
  if (size == 16) {
    pushHost(offset + 8);
    memOp(OP_I64_LOAD, 3, 0);
  } else {
    i64Const(0);
  }
  memOp(OP_I64_STORE, 3, vAddress(t) + 8);
}

/** Stores the low `size` bytes of V[t] at the fast path's address + offset. */
function storeV(t: u32, size: u32, offset: u32): void {
  pushHost(offset);
  i32Const(0); memOp(OP_I64_LOAD, 3, vAddress(t));
  storeN64(size < 8 ? size : 8);
  if (size == 16) {
    pushHost(offset + 8);
    i32Const(0); memOp(OP_I64_LOAD, 3, vAddress(t) + 8);
    memOp(OP_I64_STORE, 3, 0);
  }
}

/** One register at L_VA behind the fast-path checks, then the base writeback. */
function single(scale: u32, L: u32, rn: u32, rt: u32, mode: u32, spCond: bool): bool {
  const size: u32 = 1 << scale;
  const store = L == 0;
  begin(size, 1, store, spCond);
  if (store) storeV(rt, size, 0);
  else loadV(rt, size, 0);
  writeback(rn, mode);
  endFastAccess();
  return true;
}

// Big-endian blocks take the handler. Scale 5..7 is unallocated (the handler takes UNDEFINED).
export function emit_LDST_imm_simd(scale: u32, L: u32, imm: i64, rn: u32, rt: u32, wback: u32, post: u32): bool {
  if (curBigEndian || scale > 4) return false;
  const mode = addrMode(wback, post);
  return single(scale, L, rn, rt, mode, address(rn, imm, mode));
}

export function emit_LDSTR_reg_simd(scale: u32, L: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): bool {
  if (curBigEndian || scale > 4) return false;
  return single(scale, L, rn, rt, ADDR_OFFSET, addressReg(rn, rm, option, S ? scale : 0));
}

// opc 11 is unallocated.
export function emit_LDR_lit_simd(opc: u32, imm19: i64, rt: u32): bool {
  if (curBigEndian || opc == 3) return false;
  pushPc(imm19);
  localSet(L_VA);
  return single(opc + 2, 1, 0, rt, ADDR_OFFSET, false);
}

// Pairs: opc 00 S, 01 D, 10 Q; 11 unallocated. Both elements in one page.
export function emit_LDSTP_simd(opc: u32, L: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, post: u32): bool {
  if (curBigEndian || opc == 3) return false;
  const size: u32 = 4 << opc;
  const store = L == 0;
  const mode = addrMode(wback, post);
  begin(size, 2, store, address(rn, imm7, mode));
  if (store) {
    storeV(rt, size, 0);
    storeV(rt2, size, size);
  } else {
    loadV(rt, size, 0);
    loadV(rt2, size, size);
  }
  writeback(rn, mode);
  endFastAccess();
  return true;
}
