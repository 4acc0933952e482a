// Guest registers in translated code: pushed and written by emitters, kept in wasm locals in
// loop blocks and in the state area otherwise, loaded in the prologue and stored back where
// the block leaves or calls the core (exits.ts, access.ts).

import { ACTIVE_STATE, X_REGS, SP_SLOT, NZCV } from "../../abi";
import {
  i32Const, i64Const, localGet, localSet, memOp, op, OP_I64_LOAD, OP_I32_LOAD, OP_I64_STORE, OP_I32_STORE,
  OP_DROP, OP_I64_EXTEND_I32_U, OP_I32_WRAP_I64,
} from "./wasm-encoder";
import { L_REG, L_NZCV } from "./frame";
import { Width, tConst, tShl, tShrU, tShrS, tRotr } from "./width";

// ---- guest registers: wasm locals within a block (docs/jit.md) ----
//
// X0-X30, SP and NZCV live in locals while a block runs. The translator emits every block
// twice: the first emission (`dry`) only records which registers the block reads and writes;
// the second loads all of those in the prologue, and writes the written ones back to the state
// area wherever control leaves the block (returns) or the state area must be current (before
// a call of the interpreter's handler, after which they are all loaded again). So the locals
// are always valid, memory is current at every exit and call, and a loop block keeps its
// registers in locals across iterations.



/** Register-set bits: 0..30 Xn, 32 SP, 33 NZCV. */
export const SP_BIT: u32 = 32;
export const NZCV_BIT: u32 = 33;

/** Registers the block reads / writes: recorded by every emission. */
export let regsRead: u64 = 0;
export let regsWritten: u64 = 0;
/** What this emission loads in the prologue and reloads after calls (read | written), and writes back. */
export let regsLoaded: u64 = 0;
export let regsDirty: u64 = 0;

/**
 * Whether registers live in locals in this emission. Blocks that loop keep them there (the
 * loads and write-backs pay for themselves over the iterations); straight-line blocks read
 * and write the state area directly, which costs less for the few instructions they run.
 */
export let regsInLocals: bool = false;

/** Starts an emission: `loaded`/`dirty` from the previous (dry) emission, or 0 for a dry one. */
export function beginRegisterEmission(inLocals: bool, loaded: u64, dirty: u64): void {
  regsInLocals = inLocals;
  regsRead = 0;
  regsWritten = 0;
  regsLoaded = inLocals ? loaded : 0;
  regsDirty = inLocals ? dirty : 0;
}

@inline function xOffset(n: u32): u32 {
  return ACTIVE_STATE + X_REGS + (n << 3);
}

/** The state-area offset of register-set bit b. */
@inline function bitOffset(b: u32): u32 {
  return b == SP_BIT ? ACTIVE_STATE + SP_SLOT : xOffset(b);
}

/** Loads the registers of `set` from the state area into their locals. */
export function loadRegs(set: u64): void {
  for (let b: u32 = 0; b <= SP_BIT; b++) {
    if ((set & (<u64>1 << b)) == 0) continue;
    i32Const(0);
    memOp(OP_I64_LOAD, 3, bitOffset(b));
    localSet(L_REG + b);
  }
  if (set & (<u64>1 << NZCV_BIT)) {
    i32Const(0);
    memOp(OP_I32_LOAD, 2, ACTIVE_STATE + NZCV);
    localSet(L_NZCV);
  }
}

/** The block's prologue: its registers into locals. */
export function emitPrologue(): void {
  loadRegs(regsLoaded);
}


/** Stores the registers of `set` (register-set bits) from their locals to the state area. */
export function storeRegs(set: u64): void {
  for (let b: u32 = 0; b <= SP_BIT; b++) {
    if ((set & (<u64>1 << b)) == 0) continue;
    i32Const(0);
    localGet(L_REG + b);
    memOp(OP_I64_STORE, 3, bitOffset(b));
  }
  if (set & (<u64>1 << NZCV_BIT)) {
    i32Const(0);
    localGet(L_NZCV);
    memOp(OP_I32_STORE, 2, ACTIVE_STATE + NZCV);
  }
}

/** After the handler ran and the block goes on: the locals from the state area again. */
export function emitReload(): void {
  loadRegs(regsLoaded);
}

@inline function regLocal(n: u32): u32 {
  return L_REG + (n == 31 ? SP_BIT : n);
}

@inline function noteRead(b: u32): void {
  regsRead |= <u64>1 << b;
  insnRegs |= <u64>1 << b;
}
@inline function noteWrite(b: u32): void {
  regsWritten |= <u64>1 << b;
  insnRegs |= <u64>1 << b;
  insnRegsWritten |= <u64>1 << b;
}

/** The registers the current instruction's code reads or writes, and writes (register-set bits). */
export let insnRegs: u64 = 0;
export let insnRegsWritten: u64 = 0;

/** A new instruction: it has touched no register yet. */
export function beginInsnRegisters(): void {
  insnRegs = 0;
  insnRegsWritten = 0;
}

/** Pushes (i32) NZCV's storage, bits 31:28; flags.ts's pushNZCV materializes pending flags first. */
export function pushStoredNZCV(): void {
  noteRead(NZCV_BIT);
  if (regsInLocals) {
    localGet(L_NZCV);
  } else {
    i32Const(0);
    memOp(OP_I32_LOAD, 2, ACTIVE_STATE + NZCV);
  }
}

/** Pushes (i64) Xn, with n = 31 reading as XZR. */
export function pushX(n: u32): void {
  if (n == 31) {
    i64Const(0);
    return;
  }
  noteRead(n);
  if (regsInLocals) {
    localGet(L_REG + n);
  } else {
    i32Const(0);
    memOp(OP_I64_LOAD, 3, xOffset(n));
  }
}

/** Pushes (i32) Wn, with n = 31 reading as WZR. */
export function pushW(n: u32): void {
  if (n == 31) {
    i32Const(0);
    return;
  }
  noteRead(n);
  if (regsInLocals) {
    localGet(L_REG + n);
    op(OP_I32_WRAP_I64);
  } else {
    i32Const(0);
    memOp(OP_I32_LOAD, 2, xOffset(n));
  }
}

/** Pushes (i64) Xn or SP (n = 31). */
export function pushXSP(n: u32): void {
  const b = n == 31 ? SP_BIT : n;
  noteRead(b);
  if (regsInLocals) {
    localGet(regLocal(n));
  } else {
    i32Const(0);
    memOp(OP_I64_LOAD, 3, bitOffset(b));
  }
}

/** Pushes (i32) Wn or WSP (n = 31). */
export function pushWSP(n: u32): void {
  pushXSP(n);
  op(OP_I32_WRAP_I64);
}

/** Opens a register write: pushes the store's address operand when registers are in memory. */
export function beginSet(): void {
  if (!regsInLocals) i32Const(0);
}

/** Writes the i64 on the stack to Xn (discarded for XZR). */
export function endSetX(n: u32): void {
  if (n == 31) {
    op(OP_DROP);
    if (!regsInLocals) op(OP_DROP);
    return;
  }
  endSetXSP(n);
}

/** Writes the i32 on the stack to Wn, zero-extending into Xn (discarded for WZR). */
export function endSetW(n: u32): void {
  if (n == 31) {
    op(OP_DROP);
    if (!regsInLocals) op(OP_DROP);
    return;
  }
  op(OP_I64_EXTEND_I32_U);
  endSetXSP(n);
}

/** Writes the i64 on the stack to Xn or SP (n = 31). */
export function endSetXSP(n: u32): void {
  const b = n == 31 ? SP_BIT : n;
  noteWrite(b);
  if (regsInLocals) localSet(regLocal(n));
  else memOp(OP_I64_STORE, 3, bitOffset(b));
}

/** Writes the i32 on the stack to Wn or WSP (n = 31), zero-extending. */
export function endSetWSP(n: u32): void {
  op(OP_I64_EXTEND_I32_U);
  endSetXSP(n);
}


/** Opens an NZCV write. */
export function beginSetNZCV(): void {
  if (!regsInLocals) i32Const(0);
}

/** endSetNZCV without touching the pending flags (flags.ts materializes them with it). */
export function storeNZCV(): void {
  noteWrite(NZCV_BIT);
  if (regsInLocals) localSet(L_NZCV);
  else memOp(OP_I32_STORE, 2, ACTIVE_STATE + NZCV);
}

/** Notes that the block writes NZCV (pending flags count: a write-back stores them). */
export function noteNZCVWritten(): void {
  noteWrite(NZCV_BIT);
}

/** Pushes Xn (w = 64) or Wn (w = 32); register 31 is the zero register. */
export function pushReg(w: Width, n: u32): void {
  if (w) pushX(n);
  else pushW(n);
}

/** Pushes Xn|SP or Wn|WSP. */
export function pushRegSP(w: Width, n: u32): void {
  if (w) pushXSP(n);
  else pushWSP(n);
}

/** Writes the value on the stack to Xn or Wn (zero-extended); discarded for register 31. */
export function endSetReg(w: Width, n: u32): void {
  if (w) endSetX(n);
  else endSetW(n);
}

/** Writes the value on the stack to Xn|SP or Wn|WSP (zero-extended). */
export function endSetRegSP(w: Width, n: u32): void {
  if (w) endSetXSP(n);
  else endSetWSP(n);
}

/** Pushes a shifted register operand: LSL, LSR, ASR or ROR by a constant amount. */
export function pushShifted(w: Width, n: u32, shift: u32, amount: u32): void {
  pushReg(w, n);
  if (amount == 0 || n == 31) return;
  tConst(w, amount);
  if (shift == 0) tShl(w);
  else if (shift == 1) tShrU(w);
  else if (shift == 2) tShrS(w);
  else tRotr(w);
}
