// Emitters for the branches of ARM ARM C4.1.3 (docs/jit.md). They end the block: a taken
// branch stores its target as the PC and returns; a conditional branch not taken falls through
// to the block's epilogue (PC = the next instruction). Indirect branches to an address with a
// tag in its top byte go through the handler, which applies TBI.

import { ACTIVE_STATE, SYSREGS, NZCV, PSTATE_DAIF, PSTATE_SPSEL, SP_EL0, EXCL_STATE } from "../../abi";
import { enc, TPIDR_EL0, TPIDRRO_EL0, TPIDR_EL1 } from "../sysregs";
import { L_T, L_VA } from "./frame";
import { W64, tEqz } from "./width";
import { pushPc, endBlock, curEl, curBigEndian, curIndex, loopMode, regionMode } from "./context";
import { hintBranch } from "./branch-hints";
import { pushReg, pushX, beginSet, endSetX } from "./registers";
import { emitFallback, emitLeave, emitBranchTo } from "./exits";
import { beginFastAccess, endFastAccess, pushHost } from "./access";
import { pushCondition, settleFlags, pushNZCV } from "./flags";
import {
  byte, u32leb, i64Const, i32Const, localSet, localTee, ifVoid, end, op, memOp, OP_I64_SHR_S, OP_I64_SHR_U,
  OP_I64_ADD, OP_I64_AND, OP_I32_WRAP_I64, OP_I32_AND, OP_I32_EQZ, OP_I32_STORE, OP_I32_LOAD, OP_I64_LOAD,
  OP_I64_LOAD32_U, OP_ELSE, OP_I64_EXTEND_I32_U,
} from "./wasm-encoder";

const OP_I64_LE_U: u32 = 0x58;

/**
 * In a loop block, a conditional branch back to its start usually goes (another iteration),
 * and one to anywhere else usually not (it leaves the loop, writing the registers back).
 */
function hintConditional(offset: i64): void {
  if (loopMode && !regionMode) hintBranch(offset == -(<i64>curIndex << 2));
}

export function emit_B(offset: i64, link: u32): bool {
  if (link) {
    beginSet();
    pushPc(4);
    endSetX(30);
  }
  emitBranchTo(offset, 0);
  endBlock();
  return true;
}

export function emit_B_cond(offset: i64, cond: u32): bool {
  if ((cond >> 1) == 7) {
    emitBranchTo(offset, 0);
    endBlock();
    return true;
  }
  pushCondition(cond);
  hintConditional(offset);
  ifVoid();
  emitBranchTo(offset, 1);
  end();
  return true;
}

export function emit_CBZ(sf: u32, opc: u32, offset: i64, rt: u32): bool {
  pushReg(sf, rt);
  tEqz(sf);
  if (opc) op(OP_I32_EQZ); // CBNZ
  hintConditional(offset);
  ifVoid();
  emitBranchTo(offset, 1);
  end();
  return true;
}

export function emit_TBZ(b5: u32, opc: u32, b40: u32, offset: i64, rt: u32): bool {
  pushReg(W64, rt);
  i64Const((b5 << 5) | b40);
  op(OP_I64_SHR_U);
  op(OP_I32_WRAP_I64);
  i32Const(1);
  op(OP_I32_AND);
  if (!opc) op(OP_I32_EQZ); // TBZ branches on a zero bit
  hintConditional(offset);
  ifVoid();
  emitBranchTo(offset, 1);
  end();
  return true;
}

/** BR, BLR, RET: to Xn when its top bits are a plain sign extension, else through the handler. */
export function emit_BR(rn: u32, link: u32): bool {
  pushX(rn);
  localTee(L_T);
  i64Const(55);
  op(OP_I64_SHR_S);
  i64Const(1);
  op(OP_I64_ADD);
  i64Const(1);
  byte(OP_I64_LE_U);
  ifVoid();
  if (link) {
    beginSet();
    pushPc(4);
    endSetX(30);
  }
  emitLeave(1);
  end();
  emitFallback();
  endBlock();
  return true;
}

// ---- hints, barriers, CLREX: memory is sequentially consistent on one thread, so barriers
// order nothing; WFI and WFE need the handler (they may exit to the VMM) ----

export function emit_HINT(crm: u32, op2: u32): bool {
  const hint = (crm << 3) | op2;
  return hint != 2 && hint != 3; // WFE, WFI: the handler; NOP, YIELD, SEV… do nothing
}

// ISB (op2 110) ends the block: the run loop looks the next PC up afresh (a context
// synchronization).
export function emit_BARRIER(crm: u32, op2: u32): bool {
  if (op2 == 0b110) endBlock();
  return true;
}

export function emit_CLREX(crm: u32): bool {
  i32Const(0);
  i32Const(0);
  memOp(OP_I32_STORE, 2, ACTIVE_STATE + EXCL_STATE);
  return true;
}

// ---- MRS of the registers the kernel reads all the time (current, per-CPU data, masks) ----

/** Pushes (i64) a u32 field of the state area, zero-extended. */
function pushState32(offset: u32): void {
  i32Const(0);
  memOp(OP_I64_LOAD32_U, 2, ACTIVE_STATE + offset);
}

function pushSysreg(slot: u32): void {
  i32Const(0);
  memOp(OP_I64_LOAD, 3, ACTIVE_STATE + SYSREGS + (slot << 3));
}

export function emit_MRS(encoding: u32, rt: u32): bool {
  const el1 = curEl == 1;
  if (encoding == enc(3, 3, 4, 2, 0)) { // NZCV
    beginSet(); pushNZCV(); op(OP_I64_EXTEND_I32_U); endSetX(rt);
  } else if (encoding == enc(3, 3, 13, 0, 2)) { // TPIDR_EL0
    beginSet(); pushSysreg(TPIDR_EL0); endSetX(rt);
  } else if (encoding == enc(3, 3, 13, 0, 3)) { // TPIDRRO_EL0
    beginSet(); pushSysreg(TPIDRRO_EL0); endSetX(rt);
  } else if (el1 && encoding == enc(3, 0, 13, 0, 4)) { // TPIDR_EL1
    beginSet(); pushSysreg(TPIDR_EL1); endSetX(rt);
  } else if (el1 && encoding == enc(3, 3, 4, 2, 1)) { // DAIF
    beginSet(); pushState32(PSTATE_DAIF); endSetX(rt);
  } else if (el1 && encoding == enc(3, 0, 4, 2, 2)) { // CurrentEL
    beginSet(); i64Const(4); endSetX(rt);
  } else if (el1 && encoding == enc(3, 0, 4, 1, 0)) {
    // SP_EL0: banked while SPSel = 1 (at EL1 with SPSel = 0 it is the current SP, and reading
    // it is UNDEFINED: the handler).
    settleFlags(); // the handler's arm forgets pending flags: the other arm must too
    i32Const(0);
    memOp(OP_I32_LOAD, 2, ACTIVE_STATE + PSTATE_SPSEL);
    ifVoid();
    beginSet();
    i32Const(0);
    memOp(OP_I64_LOAD, 3, ACTIVE_STATE + SP_EL0);
    endSetX(rt);
    byte(OP_ELSE);
    emitFallback();
    end();
  } else {
    return false;
  }
  return true;
}

// ---- SYS: DC ZVA at EL1 zeroes 64 bytes inline; everything else takes the handler ----

export function emit_SYS(op1: u32, crn: u32, crm: u32, op2: u32, rt: u32): bool {
  if (curEl != 1 || op1 != 3 || crn != 7 || crm != 4 || op2 != 1 || curBigEndian) return false;
  pushX(rt);
  i64Const(~<i64>63);
  op(OP_I64_AND);
  localSet(L_VA);
  // The 64-byte block: eight aligned doublewords in one page, writable, RAM, no code.
  beginFastAccess(8, 8, true, false);
  pushHost(0);
  i32Const(0);
  i32Const(64);
  byte(0xfc); // memory.fill
  u32leb(11);
  u32leb(0);
  endFastAccess();
  return true;
}
