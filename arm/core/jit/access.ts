// Guest memory accesses in translated code: the inline TLB compare and its fast path, with the
// interpreter's handler as the slow path (docs/jit.md).

import {
  byte, i32Const, i64Const, localGet, localSet, localTee, call, memOp, ifVoid, end, op,
  OP_I64_LOAD, OP_I64_ADD, OP_I32_ADD, OP_I32_AND, OP_I64_AND, OP_I32_SHR_U, OP_I64_EQ, OP_I32_WRAP_I64, OP_ELSE,
  OP_I64_LOAD8_U, OP_I64_LOAD16_U, OP_I64_LOAD32_U, OP_I64_STORE, OP_I64_STORE8, OP_I64_STORE16, OP_I64_STORE32,
} from "./wasm-encoder";
import { TLB_ENTRIES } from "../tlb-entry";
import { CMP_EL0, CMP_EL1, CMP_ENTRY_SHIFT, C_READ, C_WRITE, C_ADDEND } from "../tlb-compare";
import { F_MISS, L_VA, L_E, L_F } from "./frame";
import { curEl, curBigEndian, curOp, curInsn, pushPc, returnRetired } from "./context";
import { insnRegs, insnRegsWritten, regsDirty, regsLoaded, storeRegs, loadRegs, SP_BIT, NZCV_BIT } from "./registers";
import { materializeFlags } from "./flags";
import { hintBranch } from "./branch-hints";

/**
 * Emits a load or store of `size` bytes (1, 2, 4, 8) at the address in local L_VA, with the
 * rest of `count` consecutive accesses (count = 2 for pairs): when the TLB's comparator for the
 * block's EL and the access kind matches the page (tlb-compare.ts: the entry allows the access,
 * the page is RAM of Normal memory, for stores holds no translated code, and is global or of
 * the current ASID) with the address aligned to `size`, and the `count` accesses stay in the
 * page, opens the fast path (where pushHost gives wasm addresses); otherwise re-runs the whole
 * instruction through jitExecMiss (which also fills the TLB, for the next time). Big-endian
 * blocks always take jitExec. Returns false when the caller must fall back entirely
 * (big-endian).
 */
export function beginFastAccess(size: u32, count: u32, isWrite: bool, extraCond: bool): bool {
  if (curBigEndian) return false;
  pushProbe(size, count, isWrite, extraCond);
  openFastPath();
  return true;
}

/**
 * As beginFastAccess, for `bytes` bytes from L_VA at any alignment: the fast path needs them
 * in one page, and the caller's condition (pushed before the call) decides whether the
 * alignment is acceptable (the SIMD&FP accesses: SCTLR_EL1.A off, or natural alignment).
 */
export function beginFastAccessAnyAlignment(bytes: u32, isWrite: bool, extraCond: bool): bool {
  if (curBigEndian) return false;
  // The last byte's page against the comparator of L_VA's index: it matches only if both
  // bytes are in the comparator's page (the next page has the next index).
  pushProbeIndex(isWrite);
  localGet(L_VA); i64Const(<i64>(bytes - 1)); op(OP_I64_ADD);
  i64Const(~<i64>0xfff); op(OP_I64_AND); op(OP_I64_EQ);
  if (extraCond) op(OP_I32_AND);
  openFastPath();
  return true;
}

/** Opens the fast path on the probe's condition: L_F = the wasm address of L_VA. */
function openFastPath(): void {
  hintBranch(true); // the miss path is rare: TurboFan keeps its spills there
  ifVoid();
  // L_F = the wasm address of L_VA: L_VA + the page's addend.
  localGet(L_VA); localGet(L_E); memOp(OP_I64_LOAD, 3, comparatorTable() + C_ADDEND); op(OP_I64_ADD);
  op(OP_I32_WRAP_I64); localSet(L_F);
}

/** The comparator table of the block's EL. */
function comparatorTable(): u32 {
  return curEl == 0 ? CMP_EL0 : CMP_EL1;
}

// Loop blocks used to keep, per access site, the last page and its addend in two locals and
// compare with those first. Against the one-compare probe that costs more than it saves (a
// loop with two loads and a store per 6 instructions: 0.72 s of CPU with the page cache, 0.56 s
// without), so every site probes.

/**
 * Pushes (i32) whether the TLB lets the access at L_VA take the fast path: one compare of the
 * page address with the alignment bits against the comparator (sets L_E to the comparator
 * entry's offset in its table).
 */
function pushProbe(size: u32, count: u32, isWrite: bool, extraCond: bool): void {
  pushProbeIndex(isWrite);
  // The page matches, and the address is aligned (the mask keeps the low bits alignment needs).
  // With count > 1 the address compared is the last access's: the comparator loaded is for
  // L_VA's index, and the next page has the next index, so it can only match when both are in
  // L_VA's page.
  localGet(L_VA);
  if (count > 1) {
    i64Const(<i64>(size * (count - 1))); op(OP_I64_ADD);
  }
  i64Const(~<i64>0xfff | <i64>(size - 1)); op(OP_I64_AND); op(OP_I64_EQ);
  if (extraCond) op(OP_I32_AND); // the caller pushed one more condition before calling
}

/** Sets L_E to L_VA's comparator entry and pushes its comparator for the access kind. */
function pushProbeIndex(isWrite: bool): void {
  // L_E = ((va >> 12) & (TLB_ENTRIES - 1)) << CMP_ENTRY_SHIFT, from the low 32 bits.
  localGet(L_VA); op(OP_I32_WRAP_I64); i32Const(<i32>(12 - CMP_ENTRY_SHIFT)); op(OP_I32_SHR_U);
  i32Const(<i32>((TLB_ENTRIES - 1) << CMP_ENTRY_SHIFT)); op(OP_I32_AND); localTee(L_E);
  memOp(OP_I64_LOAD, 3, comparatorTable() + (isWrite ? C_WRITE : C_READ));
}

/** Closes beginFastAccess: the slow path re-runs the instruction. */
export function endFastAccess(): void {
  byte(OP_ELSE);
  // The handler reads and writes only the registers this instruction's code does (noted while
  // its fast path was emitted), and an exception it takes reads NZCV and banks SP (the current
  // SP becomes another EL's): only those go to the state area first and come back after, so
  // that the loop's other registers stay in locals untouched by the slow path (TurboFan then
  // keeps them in machine registers). If the block must leave, the rest are written back then:
  // X0-X30 are not banked, and the instruction has not changed them.
  materializeFlags(false);
  const touched = insnRegs | (<u64>1 << NZCV_BIT) | (<u64>1 << SP_BIT);
  storeRegs(regsDirty & touched);
  i32Const(<i32>curOp);
  i32Const(<i32>curInsn);
  pushPc(0);
  localGet(L_VA);
  call(F_MISS);
  ifVoid();
  storeRegs(regsDirty & ~touched);
  returnRetired();
  end();
  loadRegs(regsLoaded & insnRegsWritten);
  end();
}

/** Pushes the i32 wasm address of L_VA + offset inside the fast path. */
export function pushHost(offset: u32): void {
  localGet(L_F);
  if (offset != 0) {
    i32Const(<i32>offset);
    op(OP_I32_ADD);
  }
}

/** Loads (zero-extended to i64) `size` bytes from the i32 address on the stack. */
export function loadZx64(size: u32): void {
  if (size == 8) memOp(OP_I64_LOAD, 3, 0);
  else if (size == 4) memOp(OP_I64_LOAD32_U, 2, 0);
  else if (size == 2) memOp(OP_I64_LOAD16_U, 1, 0);
  else memOp(OP_I64_LOAD8_U, 0, 0);
}

/** Stores the low `size` bytes of the i64 on the stack at the i32 address below it. */
export function storeN64(size: u32): void {
  if (size == 8) memOp(OP_I64_STORE, 3, 0);
  else if (size == 4) memOp(OP_I64_STORE32, 2, 0);
  else if (size == 2) memOp(OP_I64_STORE16, 1, 0);
  else memOp(OP_I64_STORE8, 0, 0);
}
