// What emitters share: the instruction being translated, the block function's locals, the
// imports of generated modules, and helpers that push guest registers, write them back and
// leave the block. Guest registers live in the state area at constant offsets (arm/abi.ts),
// so a register read is `i32.const 0; i64.load offset=ACTIVE_STATE+X_REGS+8n`.
//
// Stack conventions: a `begin…` helper pushes the address operand of a store, the emitter
// pushes the value, and the matching `end…` helper emits the store.

import { ACTIVE_STATE, X_REGS, SP_SLOT, PC, NZCV } from "../../abi";
import {
  byte, i32Const, i64Const, localGet, call, memOp, ifVoid, end, op,
  OP_I64_LOAD, OP_I32_LOAD, OP_I64_STORE, OP_I32_STORE, OP_I64_ADD, OP_RETURN, OP_DROP,
  OP_I64_EXTEND_I32_U,
} from "./wasm-encoder";

// ---- imports of a generated module (function indices) ----
/** jitExec(op, insn, pc) -> i32: runs one instruction in the interpreter; 1 = leave the block. */
export const F_EXEC: u32 = 0;
/** jitExecMiss(op, insn, pc, va) -> i32: jitExec after an inline TLB probe missed for va. */
export const F_MISS: u32 = 1;
export const IMPORTED_FUNCS: u32 = 2;

// ---- locals of a block function ----
/** The parameter: the virtual address of the block's first instruction. */
export const L_PC: u32 = 0;
export const L_I64_FIRST: u32 = 1;
export const L_I64_COUNT: u32 = 6;
export const L_I32_FIRST: u32 = L_I64_FIRST + L_I64_COUNT;
export const L_I32_COUNT: u32 = 6;

// ---- the instruction being translated ----
export let curIndex: u32 = 0;
export let curOp: u32 = 0;
export let curInsn: u32 = 0;
/** The block's EL (0 or 1) and data endianness: part of its key. */
export let curEl: u32 = 0;
export let curBigEndian: bool = false;

export function setBlockContext(el: u32, bigEndian: bool): void {
  curEl = el;
  curBigEndian = bigEndian;
}

export function setInsnContext(index: u32, opNumber: u32, insn: u32): void {
  curIndex = index;
  curOp = opNumber;
  curInsn = insn;
}

// ---- PC and leaving the block ----

/** Pushes (i64) the address of the current instruction plus `delta`. */
export function pushPc(delta: i64): void {
  localGet(L_PC);
  const off = <i64>curIndex * 4 + delta;
  if (off != 0) {
    i64Const(off);
    op(OP_I64_ADD);
  }
}

/** Returns from the block with the instructions retired up to and including this one. */
export function returnRetired(): void {
  i32Const(<i32>(curIndex + 1));
  op(OP_RETURN);
}

/** The address operand for endSetPc(). */
export function beginSetPc(): void {
  i32Const(0);
}

/** Stores the i64 on the stack as the guest PC. */
export function endSetPc(): void {
  memOp(OP_I64_STORE, 3, ACTIVE_STATE + PC);
}

/**
 * Code for an instruction without an emitter (or one its emitter declined): the interpreter's
 * handler through jitExec, leaving the block when it says so.
 */
export function emitFallback(): void {
  i32Const(<i32>curOp);
  i32Const(<i32>curInsn);
  pushPc(0);
  call(F_EXEC);
  ifVoid();
  returnRetired();
  end();
}

// ---- guest registers ----

@inline function xOffset(n: u32): u32 {
  return ACTIVE_STATE + X_REGS + (n << 3);
}

/** Pushes (i64) Xn, with n = 31 reading as XZR. */
export function pushX(n: u32): void {
  if (n == 31) {
    i64Const(0);
    return;
  }
  i32Const(0);
  memOp(OP_I64_LOAD, 3, xOffset(n));
}

/** Pushes (i32) Wn, with n = 31 reading as WZR. */
export function pushW(n: u32): void {
  if (n == 31) {
    i32Const(0);
    return;
  }
  i32Const(0);
  memOp(OP_I32_LOAD, 2, xOffset(n));
}

/** Pushes (i64) Xn or SP (n = 31). */
export function pushXSP(n: u32): void {
  i32Const(0);
  memOp(OP_I64_LOAD, 3, n == 31 ? ACTIVE_STATE + SP_SLOT : xOffset(n));
}

/** Pushes (i32) Wn or WSP (n = 31). */
export function pushWSP(n: u32): void {
  i32Const(0);
  memOp(OP_I32_LOAD, 2, n == 31 ? ACTIVE_STATE + SP_SLOT : xOffset(n));
}

/** The address operand for endSetX/endSetW/endSetXSP/endSetWSP. */
export function beginSet(): void {
  i32Const(0);
}

/** Writes the i64 on the stack to Xn (discarded for XZR). */
export function endSetX(n: u32): void {
  if (n == 31) {
    op(OP_DROP);
    op(OP_DROP);
    return;
  }
  memOp(OP_I64_STORE, 3, xOffset(n));
}

/** Writes the i32 on the stack to Wn, zero-extending into Xn (discarded for WZR). */
export function endSetW(n: u32): void {
  if (n == 31) {
    op(OP_DROP);
    op(OP_DROP);
    return;
  }
  op(OP_I64_EXTEND_I32_U);
  memOp(OP_I64_STORE, 3, xOffset(n));
}

/** Writes the i64 on the stack to Xn or SP (n = 31). */
export function endSetXSP(n: u32): void {
  memOp(OP_I64_STORE, 3, n == 31 ? ACTIVE_STATE + SP_SLOT : xOffset(n));
}

/** Writes the i32 on the stack to Wn or WSP (n = 31), zero-extending. */
export function endSetWSP(n: u32): void {
  op(OP_I64_EXTEND_I32_U);
  memOp(OP_I64_STORE, 3, n == 31 ? ACTIVE_STATE + SP_SLOT : xOffset(n));
}

/** Pushes (i32) NZCV in bits 31:28. */
export function pushNZCV(): void {
  i32Const(0);
  memOp(OP_I32_LOAD, 2, ACTIVE_STATE + NZCV);
}

/** The address operand for endSetNZCV(). */
export function beginSetNZCV(): void {
  i32Const(0);
}

/** Writes the i32 on the stack (flags in bits 31:28, the rest zero) to NZCV. */
export function endSetNZCV(): void {
  memOp(OP_I32_STORE, 2, ACTIVE_STATE + NZCV);
}

// Keep `byte` referenced for emitters that write raw opcodes through this module.
@inline export function raw(b: u32): void { byte(b); }
