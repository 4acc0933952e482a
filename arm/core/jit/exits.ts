// Leaving a block: writing the registers back, branches (a loop block's back-edge iterates in
// place), direct calls of the next block (chain.ts) or the dispatcher, and the fallback to the
// interpreter's handler for an instruction without an emitter.

import { ACTIVE_STATE, PC, JIT_INFO, JI_LIMIT } from "../../abi";
import {
  pos, reserveSize, byte, u32leb, i32Const, localGet, localSet, localTee, call, memOp, ifVoid, end, op, OP_BR_IF,
  OP_I32_LOAD, OP_I64_STORE, OP_I32_STORE, OP_RETURN, OP_I32_ADD, OP_I32_SUB, OP_I32_AND, OP_I32_EQ, OP_I32_GE_U,
} from "./wasm-encoder";
import { resolveTarget, addPatch, patchCount, targetEntry, targetVersion, TARGET_NONE, TARGET_LOCAL } from "./chain";
import { B_VERSION, B_LEN } from "./cache";
import { F_EXEC, F_NEXT, IMPORTED_FUNCS, L_PC, L_T, L_N, L_COUNT } from "./frame";
import { curIndex, curKey, curOp, curInsn, loopMode, loopBlockLen, pushPc, pushRetired, returnRetired, noteSelfLoop } from "./context";
import { storeRegs, emitReload, regsDirty } from "./registers";
import { materializeFlags, flagsWritten, carryFlagsAround } from "./flags";

/**
 * A taken branch to pc + offset from the last instruction of the block, at wasm nesting depth
 * `depth` below the block's body (0 directly in it, 1 inside one `if`…). A branch back to the
 * block's start iterates in loop mode while another iteration fits in the limit the run loop
 * set (JI_LIMIT: what is left of the budget, at most one timer-poll interval); otherwise, and
 * for any other target, it stores the target as the PC and returns.
 */
export function emitBranchTo(offset: i64, depth: u32): void {
  if (offset == -(<i64>curIndex << 2)) {
    noteSelfLoop();
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

/**
 * Makes the state area current: pending flags into NZCV, and the registers the block writes,
 * from their locals. Every path that leaves the block or calls the core goes through here.
 */
export function emitWriteback(): void {
  materializeFlags(false);
  storeRegs(regsDirty);
}
