// Lazy NZCV in translated code (docs/jit.md, "Flags"). A flag-setting instruction (ADDS, SUBS,
// CMP, CMN, ANDS, TST…) does not compute NZCV: it leaves its operands and result in the locals
// L_FA, L_FB, L_FR and the translator remembers what it was (`pending`). Conditions read by
// B.cond, CSEL and friends are computed from those directly (a CMP + B.LO is one unsigned
// compare); NZCV itself is computed only where something needs the architectural value: on
// every path that leaves the block or calls the core (emitWriteback: through the core's
// pendingNZCV, since those paths are cold), before the back-edge of a loop block (inline: the
// loop's head expects NZCV current), and for readers that need the bits (ADC, MRS NZCV).
//
// `pending` is what the translator knows at the current point of a block's straight line.
// Materializing never changes it (it may happen on a side path, and the storage is only a
// copy); a new flag-setter replaces it, and a write of NZCV itself (CCMP, a fallback to the
// interpreter's handler) clears it.
//
// A loop block carries pending flags around its back-edge instead of computing them there:
// every setter also records its kind in the local L_FKIND, and at the loop's head the
// translator knows only that (`DYNAMIC`): until the body's first setter, the paths that need
// NZCV pass L_FKIND to the core's pendingNZCV (kind 0: NZCV is current), and conditions are
// read from NZCV.

import { la, lb, lr, L_FA, L_FB, L_FR, L_FKIND, L_NZCV, L_N, F_FLAGS } from "./frame";
import { Width, tConst, tLtS, tXor, tAnd, tAdd, tSub } from "./width";
import { regsInLocals, noteNZCVWritten, storeNZCV, pushStoredNZCV, beginSet, endSetReg } from "./registers";
import {
  i32Const, localGet, localSet, localTee, call, op, ifVoid, end, OP_I32_SHL, OP_I32_OR, OP_I32_SHR_U, OP_I32_AND,
  OP_I32_XOR, OP_I32_EQZ, OP_I32_EQ, OP_I32_WRAP_I64, OP_I64_EXTEND_I32_U, OP_I64_EQZ, OP_I64_LT_U,
  OP_I64_GE_U, OP_I64_GT_U, OP_I64_GE_S, OP_I64_GT_S, OP_I32_GE_S, OP_I32_GT_S,
} from "./wasm-encoder";
import { FLAGS_ADD, FLAGS_SUB, FLAGS_LOGIC, FLAGS_WIDE } from "../flags";

/** The pending flag-setter: FLAGS_ADD / FLAGS_SUB / FLAGS_LOGIC, | FLAGS_WIDE for X registers; 0: none. */
let pending: u32 = 0;
/** `pending` at a loop's head: the kind is in L_FKIND (and may be 0). */
const DYNAMIC: u32 = 0xff;

/** The head of a loop block's body: pending flags are whatever the back-edge carried. */
export function loopHeadFlags(): void {
  pending = DYNAMIC;
}

/**
 * The head of a member of a region (region.ts): the pending flags are whatever the transfer
 * carried, in L_FKIND; none if no member of the region sets flags (L_FKIND stays 0).
 */
export function regionHeadFlags(anySetter: bool): void {
  pending = anySetter ? DYNAMIC : 0;
}

/** The region's exit: NZCV from what L_FKIND says is pending (every exit carries it there). */
export function materializeCarriedFlags(): void {
  localGet(L_FKIND);
  ifVoid();
  pending = DYNAMIC;
  materializeFlags(false);
  pending = 0;
  end();
}

/** At a loop block's back-edge: makes L_FKIND say what is pending (the setters keep it). */
export function carryFlagsAround(): void {
  if (pending == 0) {
    i32Const(0);
    localSet(L_FKIND);
  }
}

/** A block starts with NZCV current in its storage. */
export function resetFlags(): void {
  pending = 0;
}

/**
 * Materializes the pending flags and forgets them: before an `if` one of whose arms changes
 * what is pending (a fallback to the handler), so that both arms join with nothing pending.
 */
export function settleFlags(): void {
  materializeFlags(false);
  pending = 0;
}

/** NZCV's storage was written directly: nothing is pending. */
export function flagsWritten(): void {
  pending = 0;
}

/** Pushes (i32) NZCV in bits 31:28, computing pending flags into it first. */
export function pushNZCV(): void {
  materializeFlags(false);
  pushStoredNZCV();
}

/** Writes the i32 on the stack (flags in bits 31:28, the rest zero) to NZCV. */
export function endSetNZCV(): void {
  storeNZCV();
  flagsWritten();
}

/** ADDS/SUBS (CMN/CMP): the flags of la(w) + or - lb(w) = lr(w) become pending. */
export function emitAddSubFlags(w: Width, sub: bool): void {
  keep(la(w), L_FA, w);
  keep(lb(w), L_FB, w);
  keep(lr(w), L_FR, w);
  setPending((sub ? FLAGS_SUB : FLAGS_ADD) | (w ? FLAGS_WIDE : 0));
}

function setPending(kind: u32): void {
  pending = kind;
  noteNZCVWritten();
  if (regsInLocals) {
    // A loop block: the kind goes around the back-edge.
    i32Const(<i32>kind);
    localSet(L_FKIND);
  }
}

/**
 * ADDS/SUBS (CMN/CMP for rd = 31) with its operands in la(w) and lb(w): Rd = a + or - b (the
 * result also in lr(w)), and its flags pending.
 */
export function emitAddSubS(w: Width, sub: bool, rd: u32): void {
  beginSet();
  localGet(la(w));
  localGet(lb(w));
  if (sub) tSub(w);
  else tAdd(w);
  localTee(lr(w));
  endSetReg(w, rd);
  emitAddSubFlags(w, sub);
}

/**
 * The flags of la(w) + or - lb(w) = lr(w) into NZCV now, with nothing left pending: for a
 * flag-setter on one arm of an `if` (CCMP), where what is pending after the join must not
 * depend on the arm.
 */
export function emitAddSubFlagsNow(w: Width, sub: bool): void {
  emitAddSubFlags(w, sub);
  materializeFlags(true);
  pending = 0;
}

/** ANDS/BICS (TST): N and Z of lr(w), C = V = 0, become pending. */
export function emitLogicFlags(w: Width): void {
  keep(lr(w), L_FR, w);
  setPending(FLAGS_LOGIC | (w ? FLAGS_WIDE : 0));
}

/** Copies a width-w local into an i64 flags local (W values zero-extended). */
function keep(from: u32, to: u32, w: Width): void {
  localGet(from);
  if (!w) op(OP_I64_EXTEND_I32_U);
  localSet(to);
}

/**
 * Computes the pending flags into NZCV's storage (if any are pending): inline, or through the
 * core's pendingNZCV (smaller, for cold paths). What is pending stays pending.
 */
export function materializeFlags(inline: bool): void {
  if (pending == 0) return;
  if (!inline || pending == DYNAMIC) {
    beginStore();
    if (pending == DYNAMIC) localGet(L_FKIND);
    else i32Const(<i32>pending);
    localGet(L_FA);
    localGet(L_FB);
    localGet(L_FR);
    if (pending == DYNAMIC) localGet(L_NZCV);
    else i32Const(0);
    call(F_FLAGS);
    storeNZCV();
    return;
  }
  const w: Width = (pending & FLAGS_WIDE) != 0 ? 1 : 0;
  const kind = pending & ~FLAGS_WIDE;
  beginStore();
  pushN(w);
  i32Const(31); op(OP_I32_SHL);
  pushZ(w);
  i32Const(30); op(OP_I32_SHL); op(OP_I32_OR);
  if (kind != FLAGS_LOGIC) {
    pushC(kind == FLAGS_SUB);
    i32Const(29); op(OP_I32_SHL); op(OP_I32_OR);
    pushV(w, kind == FLAGS_SUB);
    i32Const(28); op(OP_I32_SHL); op(OP_I32_OR);
  }
  storeNZCV();
}

/** The address operand of storeNZCV() when NZCV lives in the state area. */
function beginStore(): void {
  // storeNZCV() stores to a local in loop blocks, to memory otherwise (registers.ts).
  if (!regsInLocals) i32Const(0);
}

// The pending operands as values of their width: W ones are wrapped back to i32.
function pushOperand(l: u32, w: Width): void {
  localGet(l);
  if (!w) op(OP_I32_WRAP_I64);
}

/** N (i32 0/1): the result's sign. */
function pushN(w: Width): void {
  pushOperand(L_FR, w); tConst(w, 0); tLtS(w);
}

/** Z (i32 0/1). */
function pushZ(w: Width): void {
  localGet(L_FR); op(OP_I64_EQZ);
}

/** C (i32 0/1): no borrow (a >= b) for a subtraction, carry out (r < a) for an addition. */
function pushC(sub: bool): void {
  // The i64 locals hold W values zero-extended, so 64-bit unsigned compares serve both widths.
  if (sub) { localGet(L_FA); localGet(L_FB); op(OP_I64_GE_U); }
  else { localGet(L_FR); localGet(L_FA); op(OP_I64_LT_U); }
}

/** V (i32 0/1): the operands' signs agree (add) or differ (sub), and the result's differs from a's. */
function pushV(w: Width, sub: bool): void {
  pushOperand(L_FA, w); pushOperand(L_FB, w); tXor(w);
  if (!sub) { tConst(w, -1); tXor(w); }
  pushOperand(L_FA, w); pushOperand(L_FR, w); tXor(w); tAnd(w);
  tConst(w, 0); tLtS(w);
}

/** Pushes (i32, 0 or 1) ConditionHolds(cond): from the pending flags when it can, else from NZCV. */
export function pushCondition(cond: u32): void {
  const base = cond >> 1;
  if (base == 7) {
    i32Const(1);
    return;
  }
  if (pending == 0 || pending == DYNAMIC || !pushPendingCondition(base)) pushStoredCondition(base);
  if ((cond & 1) != 0) op(OP_I32_EQZ);
}

/** ConditionHolds for cond = base << 1 straight from the pending operands; false if it cannot. */
function pushPendingCondition(base: u32): bool {
  const w: Width = (pending & FLAGS_WIDE) != 0 ? 1 : 0;
  const kind = pending & ~FLAGS_WIDE;
  if (base == 2) { pushN(w); return true; } // MI
  if (base == 0) { pushZ(w); return true; } // EQ
  if (kind == FLAGS_LOGIC) {
    switch (base) {
      case 1: case 3: case 4: i32Const(0); return true; // C, V and C && !Z are all 0
      case 5: pushOperand(L_FR, w); tConst(w, 0); op(w ? OP_I64_GE_S : OP_I32_GE_S); return true; // N == V (= 0)
      case 6: pushOperand(L_FR, w); tConst(w, 0); op(w ? OP_I64_GT_S : OP_I32_GT_S); return true; // !Z && N == 0
    }
    return false;
  }
  if (base == 1) { pushC(kind == FLAGS_SUB); return true; }
  if (base == 3) { pushV(w, kind == FLAGS_SUB); return true; }
  if (kind != FLAGS_SUB) return false; // HI, GE, GT after an addition: from the bits
  // A subtraction a - b: the conditions are comparisons of a and b.
  switch (base) {
    case 4: localGet(L_FA); localGet(L_FB); op(OP_I64_GT_U); return true; // HI: a > b unsigned
    case 5: pushOperand(L_FA, w); pushOperand(L_FB, w); op(w ? OP_I64_GE_S : OP_I32_GE_S); return true; // GE
    case 6: pushOperand(L_FA, w); pushOperand(L_FB, w); op(w ? OP_I64_GT_S : OP_I32_GT_S); return true; // GT
  }
  return false;
}

/** ConditionHolds for cond = base << 1 from NZCV's bits (materialized first if pending). */
function pushStoredCondition(base: u32): void {
  pushNZCV();
  switch (base) {
    case 0: i32Const(30); op(OP_I32_SHR_U); i32Const(1); op(OP_I32_AND); break; // EQ: Z
    case 1: i32Const(29); op(OP_I32_SHR_U); i32Const(1); op(OP_I32_AND); break; // CS: C
    case 2: i32Const(31); op(OP_I32_SHR_U); break; // MI: N
    case 3: i32Const(28); op(OP_I32_SHR_U); i32Const(1); op(OP_I32_AND); break; // VS: V
    case 4: i32Const(29); op(OP_I32_SHR_U); i32Const(3); op(OP_I32_AND); i32Const(1); op(OP_I32_EQ); break; // HI: C && !Z
    case 5: // GE: N == V
      localTee(L_N); i32Const(31); op(OP_I32_SHR_U);
      localGet(L_N); i32Const(28); op(OP_I32_SHR_U); op(OP_I32_XOR); i32Const(1); op(OP_I32_AND); op(OP_I32_EQZ);
      break;
    default: // GT: N == V && !Z
      localTee(L_N); i32Const(31); op(OP_I32_SHR_U);
      localGet(L_N); i32Const(28); op(OP_I32_SHR_U); op(OP_I32_XOR);
      localGet(L_N); i32Const(30); op(OP_I32_SHR_U); op(OP_I32_OR); i32Const(1); op(OP_I32_AND); op(OP_I32_EQZ);
  }
}
