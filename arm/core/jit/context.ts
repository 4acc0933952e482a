// The block and the instruction being translated (set by translate.ts for each), and the
// helpers that depend only on them: the guest PC of the instruction and the count of
// instructions retired up to it, which every path that leaves the block returns.

import { i32Const, i64Const, localGet, op, OP_I64_ADD, OP_I32_ADD, OP_RETURN } from "./wasm-encoder";
import { L_PC, L_COUNT } from "./frame";
import { beginInsnRegisters } from "./registers";

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
export let loopBlockLen: u32 = 0;

/** The block's key: the wasm address of its first instruction, with the mode bits. */
export let curKey: u32 = 0;

/**
 * Region mode (region.ts): the block is one of several of its page in one function, L_PC holds
 * the page's virtual address, and the block's page offset is curBlockOffset.
 */
export let regionMode: bool = false;
export let curBlockOffset: u32 = 0;

export function setRegionMode(on: bool): void {
  regionMode = on;
}

export function setBlockContext(key: u32, loop: bool, blockLen: u32): void {
  curKey = key;
  curBlockOffset = regionMode ? key & 0xffc : 0;
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
  beginInsnRegisters();
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

/** The instruction being emitted branches back to the block's start (see exits.ts, emitBranchTo). */
export function noteSelfLoop(): void {
  selfLoopSeen = true;
}

// ---- PC and leaving the block ----

/** Pushes (i64) the address of the current instruction plus `delta`. */
export function pushPc(delta: i64): void {
  localGet(L_PC);
  const off = <i64>curBlockOffset + <i64>curIndex * 4 + delta;
  if (off != 0) {
    i64Const(off);
    op(OP_I64_ADD);
  }
}

/** Pushes the instructions retired up to and including this one. */
export function pushRetired(): void {
  i32Const(<i32>(curIndex + 1));
  if (loopMode || regionMode) {
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
