// What emitters share: the instruction being translated, the block function's locals, the
// imports of generated modules, and helpers that push guest registers, write them back and
// leave the block. Guest registers live in the state area at constant offsets (arm/abi.ts),
// so a register read is `i32.const 0; i64.load offset=ACTIVE_STATE+X_REGS+8n`.
//
// Stack conventions: a `begin…` helper pushes the address operand of a store, the emitter
// pushes the value, and the matching `end…` helper emits the store.

import { ACTIVE_STATE, X_REGS, SP_SLOT, PC, NZCV, TLB_BASE, JIT_INFO, JI_ASID, JI_LIMIT } from "../../abi";
import {
  pos, reserveSize, byte, u32leb, i32Const, i64Const, localGet, localSet, localTee, call, memOp, ifVoid, ifI32, end, op, OP_BR_IF,
  OP_I64_LOAD, OP_I32_LOAD, OP_I64_STORE, OP_I32_STORE, OP_I64_ADD, OP_RETURN, OP_DROP,
  OP_I64_EXTEND_I32_U, OP_I32_ADD, OP_I32_SUB, OP_I64_SUB, OP_I32_AND, OP_I64_AND, OP_I32_OR,
  OP_I64_OR, OP_I32_XOR, OP_I64_XOR, OP_I32_SHL, OP_I64_SHL, OP_I32_SHR_U, OP_I64_SHR_U,
  OP_I32_SHR_S, OP_I64_SHR_S, OP_I32_ROTR, OP_I64_ROTR, OP_I32_MUL, OP_I64_MUL, OP_I32_EQZ,
  OP_I64_EQZ, OP_I32_EQ, OP_I64_EQ, OP_I32_NE, OP_I64_NE, OP_I32_LT_S, OP_I64_LT_S, OP_I32_LT_U,
  OP_I64_LT_U, OP_I32_GE_U, OP_I64_GE_U, OP_I32_WRAP_I64, OP_ELSE, OP_I64_LOAD8_U,
  OP_I64_LOAD16_U, OP_I64_LOAD32_U, OP_I64_STORE8, OP_I64_STORE16, OP_I64_STORE32,
} from "./wasm-encoder";
import { E_TAG, E_ADDEND, E_FLAGS, E_ASID, TLB_ENTRIES, P_VALID, P_R0, P_R1, P_RAM, P_DEVICE, P_CODE, P_GLOBAL } from "../mmu";
import { resolveTarget, addPatch, patchCount, targetEntry, targetVersion, TARGET_NONE, TARGET_LOCAL } from "./chain";
import { B_VERSION, B_LEN } from "./cache";
import { materializeFlags, flagsWritten, carryFlagsAround } from "./flags";

// ---- imports of a generated module (function indices) ----
/** jitExec(op, insn, pc) -> i32: runs one instruction in the interpreter; 1 = leave the block. */
export const F_EXEC: u32 = 0;
/** jitExecMiss(op, insn, pc, va) -> i32: jitExec after an inline TLB probe missed for va. */
export const F_MISS: u32 = 1;
/** next(pc, modeBits) -> i32: the dispatcher (dispatch.ts), tail-called to leave for pc. */
export const F_NEXT: u32 = 2;
/** flags(kind, a, b, r, nzcv) -> i32: NZCV of pending flags (flags.ts; kind 0: nzcv), for the paths that leave. */
export const F_FLAGS: u32 = 3;
export const IMPORTED_FUNCS: u32 = 4;

// ---- locals of a block function ----
/** The parameter: the virtual address of the block's first instruction. */
export const L_PC: u32 = 0;
export const L_I64_FIRST: u32 = 1;
export const L_I64_COUNT: u32 = 9;
export const L_I32_FIRST: u32 = L_I64_FIRST + L_I64_COUNT;
export const L_I32_COUNT: u32 = 8;
// Their uses: i64 operands and result, the address of a memory access, scratch, the operands
// and result of the pending flags (flags.ts); i32 ones for 32-bit operands (W registers), the
// TLB entry, and scratch.
export const L_A: u32 = 1;
export const L_B: u32 = 2;
export const L_R: u32 = 3;
export const L_VA: u32 = 4;
export const L_T: u32 = 5;
export const L_U: u32 = 6;
export const L_FA: u32 = 7;
export const L_FB: u32 = 8;
export const L_FR: u32 = 9;
export const L_A32: u32 = 10;
export const L_B32: u32 = 11;
export const L_R32: u32 = 12;
export const L_E: u32 = 13;
export const L_F: u32 = 14;
export const L_N: u32 = 15;
/** In a looping block: instructions retired by the iterations before this one. */
export const L_COUNT: u32 = 16;
/** In a looping block: the kind of the pending flags carried around the loop (flags.ts). */
export const L_FKIND: u32 = 17;

/** Operand width: W (32-bit, computed in i32) or X (64-bit, in i64). */
export type Width = u32;
export const W32: Width = 0;
export const W64: Width = 1;

/** The local holding operand a, b or the result r for a width. */
@inline export function la(w: Width): u32 { return w ? L_A : L_A32; }
@inline export function lb(w: Width): u32 { return w ? L_B : L_B32; }
@inline export function lr(w: Width): u32 { return w ? L_R : L_R32; }

// ---- the instruction being translated ----
export let curIndex: u32 = 0;
export let curOp: u32 = 0;
export let curInsn: u32 = 0;
/** The block's EL (0 or 1) and data endianness: part of its key. */
export let curEl: u32 = 0;
export let curBigEndian: bool = false;

/**
 * Loop mode: the block ends in a branch back to its own start, and its body sits in a wasm
 * `loop` so that it iterates without returning to the run loop (see emitBranchTo). The
 * translator learns this from a first emission (selfLoopSeen) and emits the block again.
 */
export let loopMode: bool = false;
export let selfLoopSeen: bool = false;
/** In loop mode: the block's length, the most one more iteration can retire. */
let loopBlockLen: u32 = 0;

/** The block's key: the wasm address of its first instruction, with the mode bits. */
let curKey: u32 = 0;

export function setBlockContext(key: u32, loop: bool, blockLen: u32): void {
  curKey = key;
  const el = key & 1;
  const bigEndian = (key & 2) != 0;
  curEl = el;
  curBigEndian = bigEndian;
  loopMode = loop;
  loopBlockLen = blockLen;
  selfLoopSeen = false;
}

export function setInsnContext(index: u32, opNumber: u32, insn: u32): void {
  curIndex = index;
  curOp = opNumber;
  curInsn = insn;
  insnEndsBlock = false;
  insnRegs = 0;
  insnRegsWritten = 0;
}

/**
 * Set by an emitter whose instruction never falls through (B, BL, BR, BLR, RET) or must end
 * the block (ISB). A branch row whose emitter does not set it (B.cond, CBZ, TBZ…) lets the
 * block go on after it: the not-taken path falls through (docs/jit.md).
 */
export let insnEndsBlock: bool = false;

@inline export function endBlock(): void {
  insnEndsBlock = true;
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

/** Pushes the instructions retired up to and including this one. */
export function pushRetired(): void {
  i32Const(<i32>(curIndex + 1));
  if (loopMode) {
    localGet(L_COUNT);
    op(OP_I32_ADD);
  }
}

/**
 * Returns from the block with the instructions retired up to and including this one. The
 * caller has made the state area current (emitWriteback) where that is needed.
 */
export function returnRetired(): void {
  pushRetired();
  op(OP_RETURN);
}

/**
 * A taken branch to pc + offset from the last instruction of the block, at wasm nesting depth
 * `depth` below the block's body (0 directly in it, 1 inside one `if`…). A branch back to the
 * block's start iterates in loop mode while another iteration fits in the limit the run loop
 * set (JI_LIMIT: what is left of the budget, at most one timer-poll interval); otherwise, and
 * for any other target, it stores the target as the PC and returns.
 */
export function emitBranchTo(offset: i64, depth: u32): void {
  if (offset == -(<i64>curIndex << 2)) {
    selfLoopSeen = true;
    if (loopMode) {
      // Another iteration may run to the block's end (the back-edge need not be its last
      // instruction): it must fit whole.
      const len = curIndex + 1;
      // The loop's head takes the pending flags as they are (flags.ts).
      carryFlagsAround();
      localGet(L_COUNT);
      i32Const(<i32>len);
      op(OP_I32_ADD);
      localTee(L_COUNT);
      i32Const(<i32>loopBlockLen);
      op(OP_I32_ADD);
      i32Const(0);
      memOp(OP_I32_LOAD, 2, JIT_INFO + JI_LIMIT);
      byte(0x4d); // i32.le_u
      byte(OP_BR_IF);
      u32leb(depth);
      // Out of budget: continue at the block's start next time.
      emitWriteback();
      beginSetPc();
      localGet(L_PC);
      endSetPc();
      localGet(L_COUNT);
      op(OP_RETURN);
      return;
    }
  }
  emitExit(offset);
}

/**
 * Leaves the block for pc + offset (from the current instruction): writes the registers back,
 * then calls the target block directly when chain.ts can (the target is a fixed address in
 * this page, translated in this module or earlier, still the same translation, and it fits in
 * the budget left), else goes through the dispatcher.
 */
export function emitExit(offset: i64): void {
  emitWriteback();
  const here = <i64>(curKey & ~3) + (<i64>curIndex << 2);
  const target = here + offset;
  if ((target >> 12) == (here >> 12) && (target & 3) == 0) {
    const t = resolveTarget(<u32>target | (curKey & 3));
    if (t != TARGET_NONE && (t < TARGET_LOCAL || patchCount < 0x4000)) emitChainCall(t, offset);
  }
  pushPc(offset);
  localSet(L_T);
  emitDispatch();
}

/**
 * Leaves the block for the address in L_T (registers written back): lowers JI_LIMIT by what
 * this block retired and tail-calls the dispatcher, which enters the next block or stores the
 * PC and returns 0 (dispatch.ts).
 */
export function emitDispatch(): void {
  i32Const(0);
  i32Const(0);
  memOp(OP_I32_LOAD, 2, JIT_INFO + JI_LIMIT);
  pushRetired();
  op(OP_I32_SUB);
  memOp(OP_I32_STORE, 2, JIT_INFO + JI_LIMIT);
  localGet(L_T);
  i32Const(<i32>(curKey & 3));
  byte(0x12); // return_call
  u32leb(F_NEXT);
}

/** The guarded tail call of target t (an import index, or TARGET_LOCAL + block index). */
function emitChainCall(t: i32, offset: i64): void {
  // The target is still the translation resolved now, and fits in what is left of the budget
  // once this block's instructions are counted.
  i32Const(0);
  memOp(OP_I32_LOAD, 2, <u32>targetEntry + B_VERSION);
  i32Const(<i32>targetVersion);
  op(OP_I32_EQ);
  i32Const(0);
  memOp(OP_I32_LOAD, 2, JIT_INFO + JI_LIMIT);
  pushRetired();
  op(OP_I32_SUB);
  localTee(L_N);
  i32Const(0);
  memOp(OP_I32_LOAD, 2, <u32>targetEntry + B_LEN);
  op(OP_I32_GE_U);
  op(OP_I32_AND);
  ifVoid();
  i32Const(0);
  localGet(L_N);
  memOp(OP_I32_STORE, 2, JIT_INFO + JI_LIMIT);
  pushPc(offset);
  byte(0x12); // return_call
  if (t >= TARGET_LOCAL) {
    addPatch(pos, <u32>(t - TARGET_LOCAL));
    reserveSize(); // patched to the block's function index when the module is complete
  } else {
    u32leb(IMPORTED_FUNCS + <u32>t);
  }
  end();
  chainsEmitted++;
}

/** Direct calls emitted (statistics). */
export let chainsEmitted: u32 = 0;

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
 * handler through jitExec, leaving the block when it says so. It forgets pending flags (the
 * handler may set NZCV), so an emitter that puts it on one arm of an `if` must call
 * settleFlags() (flags.ts) before the `if`.
 */
export function emitFallback(): void {
  emitWriteback();
  i32Const(<i32>curOp);
  i32Const(<i32>curInsn);
  pushPc(0);
  call(F_EXEC);
  ifVoid();
  returnRetired();
  end();
  emitReload();
  flagsWritten(); // the handler may have set NZCV: the state area has it now
}

// ---- guest registers: wasm locals within a block (docs/jit.md) ----
//
// X0-X30, SP and NZCV live in locals while a block runs. The translator emits every block
// twice: the first emission (`dry`) only records which registers the block reads and writes;
// the second loads all of those in the prologue, and writes the written ones back to the state
// area wherever control leaves the block (returns) or the state area must be current (before
// a call of the interpreter's handler, after which they are all loaded again). So the locals
// are always valid, memory is current at every exit and call, and a loop block keeps its
// registers in locals across iterations.

/** The first local of the register file: X0..X30, then an unused slot, then SP (32). */
export const L_REG: u32 = L_I32_FIRST + L_I32_COUNT;
export const L_REG_COUNT: u32 = 33;
/** NZCV (i32, bits 31:28). */
export const L_NZCV: u32 = L_REG + L_REG_COUNT;
/**
 * In a loop block: per memory access site, the page its last access hit and that page's
 * addend (two i64 locals from here; see beginFastAccess).
 */
export const L_SITES: u32 = L_NZCV + 1;
/** Most access sites with a page cache in one block (further ones probe the TLB every time). */
export const MAX_SITES: u32 = 16;

/** Memory access sites emitted so far in this emission (the dry one counts them). */
export let accessSites: u32 = 0;
/** Sites with a page cache in this emission (loop mode; from the dry emission's count). */
let cachedSites: u32 = 0;
/** Register-set bits: 0..30 Xn, 32 SP, 33 NZCV. */
const SP_BIT: u32 = 32;
const NZCV_BIT: u32 = 33;

/** Registers the block reads / writes: recorded by every emission. */
export let regsRead: u64 = 0;
export let regsWritten: u64 = 0;
/** What this emission loads in the prologue and reloads after calls (read | written), and writes back. */
let regsLoaded: u64 = 0;
let regsDirty: u64 = 0;

/**
 * Whether registers live in locals in this emission. Blocks that loop keep them there (the
 * loads and write-backs pay for themselves over the iterations); straight-line blocks read
 * and write the state area directly, which costs less for the few instructions they run.
 */
export let regsInLocals: bool = false;

/**
 * Starts an emission: `loaded`/`dirty` from the previous (dry) emission, or 0 for a dry one;
 * `sites`: the access sites that get a page cache (loop mode).
 */
export function beginRegisterEmission(inLocals: bool, loaded: u64, dirty: u64, sites: u32): void {
  regsInLocals = inLocals;
  accessSites = 0;
  cachedSites = inLocals ? min<u32>(sites, MAX_SITES) : 0;
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
function loadRegs(set: u64): void {
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

/** The block's prologue: its registers into locals, and no page cached for any access site. */
export function emitPrologue(): void {
  loadRegs(regsLoaded);
  for (let i: u32 = 0; i < cachedSites; i++) {
    i64Const(-1); // matches no address: masked addresses have bits 11:1 clear
    localSet(L_SITES + 2 * i);
  }
}

/** Locals a loop block declares for its access sites' page caches (i64). */
export function siteLocals(): u32 {
  return 2 * cachedSites;
}

/**
 * Makes the state area current: pending flags into NZCV, and the registers the block writes,
 * from their locals. Every path that leaves the block or calls the core goes through here.
 */
export function emitWriteback(): void {
  materializeFlags(false);
  storeRegs(regsDirty);
}

/** Stores the registers of `set` (register-set bits) from their locals to the state area. */
function storeRegs(set: u64): void {
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
let insnRegs: u64 = 0;
let insnRegsWritten: u64 = 0;

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

/** Pushes (i32) NZCV in bits 31:28. */
export function pushNZCV(): void {
  materializeFlags(false);
  noteRead(NZCV_BIT);
  if (regsInLocals) {
    localGet(L_NZCV);
  } else {
    i32Const(0);
    memOp(OP_I32_LOAD, 2, ACTIVE_STATE + NZCV);
  }
}

/** Opens an NZCV write. */
export function beginSetNZCV(): void {
  if (!regsInLocals) i32Const(0);
}

/** Writes the i32 on the stack (flags in bits 31:28, the rest zero) to NZCV. */
export function endSetNZCV(): void {
  storeNZCV();
  flagsWritten();
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

// ---- typed operations: one helper per operation, the width picks the i32 or i64 opcode ----

@inline export function tOp(w: Width, op32: u32, op64: u32): void { byte(w ? op64 : op32); }
export function tConst(w: Width, v: i64): void {
  if (w) i64Const(v);
  else i32Const(<i32>v);
}
@inline export function tAdd(w: Width): void { tOp(w, OP_I32_ADD, OP_I64_ADD); }
@inline export function tSub(w: Width): void { tOp(w, OP_I32_SUB, OP_I64_SUB); }
@inline export function tAnd(w: Width): void { tOp(w, OP_I32_AND, OP_I64_AND); }
@inline export function tOr(w: Width): void { tOp(w, OP_I32_OR, OP_I64_OR); }
@inline export function tXor(w: Width): void { tOp(w, OP_I32_XOR, OP_I64_XOR); }
@inline export function tShl(w: Width): void { tOp(w, OP_I32_SHL, OP_I64_SHL); }
@inline export function tShrU(w: Width): void { tOp(w, OP_I32_SHR_U, OP_I64_SHR_U); }
@inline export function tShrS(w: Width): void { tOp(w, OP_I32_SHR_S, OP_I64_SHR_S); }
@inline export function tRotr(w: Width): void { tOp(w, OP_I32_ROTR, OP_I64_ROTR); }
@inline export function tMul(w: Width): void { tOp(w, OP_I32_MUL, OP_I64_MUL); }
@inline export function tEqz(w: Width): void { tOp(w, OP_I32_EQZ, OP_I64_EQZ); }
@inline export function tEq(w: Width): void { tOp(w, OP_I32_EQ, OP_I64_EQ); }
@inline export function tNe(w: Width): void { tOp(w, OP_I32_NE, OP_I64_NE); }
@inline export function tLtS(w: Width): void { tOp(w, OP_I32_LT_S, OP_I64_LT_S); }
@inline export function tLtU(w: Width): void { tOp(w, OP_I32_LT_U, OP_I64_LT_U); }
@inline export function tGeU(w: Width): void { tOp(w, OP_I32_GE_U, OP_I64_GE_U); }

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

// ---- NZCV ----

// ---- memory: the inline TLB probe (docs/jit.md) ----

/**
 * Emits a load or store of `size` bytes (1, 2, 4, 8) at the address in local L_VA, with the
 * rest of `count` consecutive accesses (count = 2 for pairs): when the TLB entry of the page
 * allows the access at the block's EL, the page is RAM of Normal memory (and, for stores, holds
 * no translated code), the address is aligned to `size` and the `count` accesses stay in the
 * page, runs `fast` (which finds the page's wasm address minus the VA in local L_T); otherwise
 * re-runs the whole instruction through jitExecMiss (which also fills the TLB, for the next
 * time). Big-endian blocks always take jitExec. Returns false when the caller must fall back
 * entirely (big-endian).
 */
export function beginFastAccess(size: u32, count: u32, isWrite: bool, extraCond: bool): bool {
  if (curBigEndian) return false;
  const site = accessSites++;
  if (site < cachedSites && !extraCond) return beginCachedAccess(site, size, count, isWrite);
  pushProbe(size, count, isWrite, extraCond);
  ifVoid();
  localGet(L_E); memOp(OP_I64_LOAD, 3, TLB_BASE + E_ADDEND); localSet(L_T);
  return true;
}

/**
 * beginFastAccess for access site `site` of a loop block: the page the site's last access
 * probed, and its addend, stay in two locals, so while the site stays in that page an access
 * costs a compare instead of a TLB probe. The locals live for one call of the block; nothing
 * that could make the cached entry wrong (TLB maintenance, a new translation regime, a page
 * becoming code) happens without the block returning first (jitStop).
 */
function beginCachedAccess(site: u32, size: u32, count: u32, isWrite: bool): bool {
  const page = L_SITES + 2 * site;
  const addend = page + 1;
  // Same page, aligned (the mask keeps the low bits alignment needs), and for pairs in the page.
  localGet(L_VA); i64Const(~<i64>0xfff | <i64>(size - 1)); op(OP_I64_AND); localGet(page); op(OP_I64_EQ);
  if (count > 1) {
    localGet(L_VA); op(OP_I32_WRAP_I64); i32Const(0xfff); op(OP_I32_AND);
    i32Const(<i32>(0x1000 - size * count)); byte(0x4d); /* i32.le_u */ op(OP_I32_AND);
  }
  ifI32();
  localGet(addend); localSet(L_T);
  i32Const(1);
  byte(OP_ELSE);
  // Another page: the full probe, remembered when it passes.
  pushProbe(size, count, isWrite, false);
  ifI32();
  localGet(L_E); memOp(OP_I64_LOAD, 3, TLB_BASE + E_ADDEND); localTee(L_T); localSet(addend);
  localGet(L_VA); i64Const(~<i64>0xfff); op(OP_I64_AND); localSet(page);
  i32Const(1);
  byte(OP_ELSE);
  i32Const(0);
  end();
  end();
  ifVoid();
  return true;
}

/** Pushes (i32) whether the TLB allows the access at L_VA on the fast path (sets L_E, L_F). */
function pushProbe(size: u32, count: u32, isWrite: bool, extraCond: bool): void {
  const need: u32 = P_VALID | (curEl == 0 ? (isWrite ? P_R0 << 1 : P_R0) : (isWrite ? P_R1 << 1 : P_R1));
  const mask: u32 = need | P_RAM | P_DEVICE | (isWrite ? P_CODE : 0);
  // e = (va >> 12) & (TLB_ENTRIES - 1), scaled: the entry's offset from TLB_BASE.
  localGet(L_VA); i64Const(12); op(OP_I64_SHR_U); op(OP_I32_WRAP_I64);
  i32Const(<i32>(TLB_ENTRIES - 1)); op(OP_I32_AND); i32Const(5); op(OP_I32_SHL); localSet(L_E);
  // The tag matches.
  localGet(L_E); memOp(OP_I64_LOAD, 3, TLB_BASE + E_TAG);
  localGet(L_VA); i64Const(12); op(OP_I64_SHR_U); op(OP_I64_EQ);
  // The permissions and memory type allow it.
  localGet(L_E); memOp(OP_I32_LOAD, 2, TLB_BASE + E_FLAGS); localTee(L_F);
  i32Const(<i32>mask); op(OP_I32_AND); i32Const(<i32>(need | P_RAM)); op(OP_I32_EQ); op(OP_I32_AND);
  // The entry is global or of the current ASID.
  localGet(L_F); i32Const(<i32>ctz<u32>(P_GLOBAL)); op(OP_I32_SHR_U);
  localGet(L_E); memOp(OP_I32_LOAD, 2, TLB_BASE + E_ASID);
  i32Const(0); memOp(OP_I32_LOAD, 2, JIT_INFO + JI_ASID); op(OP_I32_EQ); op(OP_I32_OR); op(OP_I32_AND);
  // Aligned, and the accesses stay in the page.
  if (size > 1) {
    localGet(L_VA); op(OP_I32_WRAP_I64); i32Const(<i32>(size - 1)); op(OP_I32_AND); op(OP_I32_EQZ); op(OP_I32_AND);
  }
  if (count > 1) {
    localGet(L_VA); op(OP_I32_WRAP_I64); i32Const(0xfff); op(OP_I32_AND);
    i32Const(<i32>(0x1000 - size * count)); byte(0x4d); /* i32.le_u */ op(OP_I32_AND);
  }
  if (extraCond) op(OP_I32_AND); // the caller pushed one more condition before calling
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
  localGet(L_VA);
  localGet(L_T);
  op(OP_I64_ADD);
  op(OP_I32_WRAP_I64);
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
