// Leaving a block: writing the registers back, branches (a loop block's back-edge iterates in
// place), direct calls of the next block (chain.ts) or the dispatcher, and the fallback to the
// interpreter's handler for an instruction without an emitter.

import { ACTIVE_STATE, PC, JIT_INFO, JI_LIMIT } from "../../abi";
import {
  pos, reserveSize, byte, u32leb, i32Const, localGet, localSet, localTee, call, memOp, ifVoid, end, op, OP_BR_IF, OP_BR,
  OP_I32_LOAD, OP_I64_STORE, OP_I32_STORE, OP_RETURN, OP_I32_ADD, OP_I32_SUB, OP_I32_AND, OP_I32_EQ, OP_I32_GE_U,
} from "./wasm-encoder";
import { resolveTarget, addPatch, patchCount, targetEntry, targetVersion, TARGET_NONE, TARGET_LOCAL } from "./chain";
import { B_VERSION, B_LEN } from "./cache";
import { hintBranch } from "./branch-hints";
import { F_EXEC, F_NEXT, IMPORTED_FUNCS, L_PC, L_T, L_N, L_COUNT } from "./frame";
import {
  curIndex, curKey, curOp, curInsn, loopMode, loopBlockLen, pushPc, pushRetired, returnRetired, noteSelfLoop, regionMode,
  curBlockOffset,
} from "./context";
import {
  memberAt, memberLen, memberOffset, curMember, firstWord, topDepth, leaveDepth, forwardDepth, noteRegionLoops,
  memberLoops, noteMemberLoops,
} from "./region-layout";
import { L_IDX } from "./frame";
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
  if (regionMode) {
    emitExit(offset, depth);
    return;
  }
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
      hintBranch(true);
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
  emitExit(offset, depth);
}

/**
 * Leaves the block for pc + offset (from the current instruction), at nesting depth `depth`
 * (see emitBranchTo): writes the registers back, then calls the target block directly when
 * chain.ts can (the target is a fixed address in this page, translated in this module or
 * earlier, still the same translation, and it fits in the budget left), else goes through the
 * dispatcher. In a region, a target that is a member of the region is entered in place
 * (emitTransfer), and any other leaves through the region's exit.
 */
export function emitExit(offset: i64, depth: u32): void {
  if (regionMode) {
    const j = memberAt(<i64>curBlockOffset + (<i64>curIndex << 2) + offset);
    if (j >= 0) {
      emitTransfer(<u32>j, offset, depth);
    } else {
      pushPc(offset);
      localSet(L_T);
      emitLeave(depth);
    }
    return;
  }
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
 * In a region: goes on with member j (at pc + offset) in place, if it fits whole in what is
 * left of the budget (JI_LIMIT); otherwise leaves for it. Forward to a later member is a
 * branch to its start; back to it or an earlier one goes through the br_table at the loop's
 * head. The pending flags go along in L_FKIND (flags.ts), as around a loop block's back-edge.
 */
function emitTransfer(j: u32, offset: i64, depth: u32): void {
  carryFlagsAround();
  localGet(L_COUNT);
  i32Const(<i32>(curIndex + 1));
  op(OP_I32_ADD);
  localTee(L_COUNT);
  i32Const(<i32>memberLen(j));
  op(OP_I32_ADD);
  i32Const(0);
  memOp(OP_I32_LOAD, 2, JIT_INFO + JI_LIMIT);
  byte(0x4d); // i32.le_u
  ifVoid();
  if (j == curMember && memberLoops(j)) {
    noteRegionLoops(false);
    byte(OP_BR);
    u32leb(depth + 1); // the member's own loop
  } else if (j > curMember) {
    byte(OP_BR);
    u32leb(depth + 1 + forwardDepth(j));
  } else {
    if (j == curMember) noteMemberLoops();
    noteRegionLoops(j != curMember);
    i32Const(<i32>((memberOffset(j) >> 2) - firstWord));
    localSet(L_IDX);
    byte(OP_BR);
    u32leb(depth + 1 + topDepth());
  }
  end();
  // Out of budget: leave for it (the dispatcher stores the PC and returns).
  pushPc(offset);
  localSet(L_T);
  localGet(L_COUNT);
  localSet(L_N);
  byte(OP_BR);
  u32leb(depth + leaveDepth());
}

/**
 * Leaves the block for the address in L_T, at nesting depth `depth`: in a region, through its
 * exit (which writes back and dispatches); otherwise writes back and dispatches here.
 */
export function emitLeave(depth: u32): void {
  if (regionMode) {
    carryFlagsAround();
    pushRetired();
    localSet(L_N);
    byte(OP_BR);
    u32leb(depth + leaveDepth());
    return;
  }
  emitWriteback();
  emitDispatch();
}

/**
 * Leaves the block for the address in L_T (registers written back): lowers JI_LIMIT by what
 * this block retired (or the count in local `retiredLocal`) and tail-calls the dispatcher, which enters the next block or stores the
 * PC and returns 0 (dispatch.ts).
 */
export function emitDispatch(retiredLocal: i32 = -1): void {
  i32Const(0);
  i32Const(0);
  memOp(OP_I32_LOAD, 2, JIT_INFO + JI_LIMIT);
  if (retiredLocal >= 0) localGet(<u32>retiredLocal);
  else pushRetired();
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
