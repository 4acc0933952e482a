// Handlers for ARM ARM C4.1.3: branches, exception generation, hints, barriers, PSTATE
// access, system instructions (DC, IC, AT, TLBI) and system register moves.

import { EXIT_HVC, EXIT_SMC, EXIT_WFI, EXIT_YIELD } from "../../abi";
import { pc, branchTo, getX, setX, getReg, getEL, getDAIF, setDAIF, getSPSel, setELAndSPSel } from "../state";
import { conditionHolds } from "../flags";
import {
  undefinedInstruction, syncException, callException, exceptionReturn,
  EC_SVC64, EC_BRK64, EC_SYSREG, EC_WFX, EC_FP_ACCESS,
} from "../exceptions";
import { readSysreg, writeSysreg, accessResult, ACCESS_OK, ACCESS_UNDEFINED, ACCESS_FP_TRAP, sysregs, SCTLR_EL1, PAR_EL1 } from "../sysregs";
import { requestExit, interruptPending } from "../exit-request";
import { requestAttention } from "../attention";
import { FP_TRAP_ISS } from "../fp-access";
import { clearExclusive, write64, setSyndrome } from "../memory";
import {
  translate, neededPerms, walkFault, walkFlags, walkPa, attrOf, tlbFlushAll, tlbFlushVa, tlbFlushAsid, branchAddress,
  ACC_READ, ACC_WRITE, P_VALID, P_R1, P_R0, P_NOT_EL0, P_RAM,
} from "../mmu";
import { dataAbort, faulted } from "../exceptions";
import { jitInvalidateAll, jitInvalidateVa } from "../jit/cache";
import {
  cacheCheckOn, contextSynchronized, dataCacheByVa, dataCacheBySetWay, instructionCacheByVa, instructionCacheAll,
} from "../cache-check";

// ---- branches ----

export function exec_B_cond(offset: i64, cond: u32): void {
  if (conditionHolds(cond)) branchTo(pc + <u64>offset);
}

/** B, BL (link = 1). */
@inline export function exec_B(offset: i64, link: u32): void {
  if (link) setX(30, pc + 4);
  branchTo(pc + <u64>offset);
}

/** BR, RET (a hint to the branch predictor, nothing more here), BLR (link = 1). */
@inline export function exec_BR(rn: u32, link: u32): void {
  const target = branchAddress(getX(rn)); // before X30 is written: BLR X30 branches to the old value
  if (link) setX(30, pc + 4);
  branchTo(target);
}

export function exec_ERET(): void {
  if (getEL() == 0) { undefinedInstruction(); return; }
  clearExclusive();
  exceptionReturn();
}

export function exec_CBZ(sf: u32, op: u32, offset: i64, rt: u32): void {
  const isZero = getReg(sf, rt) == 0;
  if (isZero != (op != 0)) branchTo(pc + <u64>offset);
}

export function exec_TBZ(b5: u32, op: u32, b40: u32, offset: i64, rt: u32): void {
  const bit = <u32>(getX(rt) >> ((b5 << 5) | b40)) & 1;
  if (bit == op) branchTo(pc + <u64>offset);
}

// ---- exception generation ----

export function exec_SVC(imm16: u32): void {
  callException(EC_SVC64, imm16);
}

export function exec_HVC(imm16: u32): void {
  // No EL2: the VMM plays the hypervisor (PSCI and SMCCC), as KVM does.
  if (getEL() == 0) { undefinedInstruction(); return; }
  requestExit(EXIT_HVC, imm16);
}

export function exec_SMC(imm16: u32): void {
  if (getEL() == 0) { undefinedInstruction(); return; }
  requestExit(EXIT_SMC, imm16);
}

export function exec_BRK(imm16: u32): void {
  syncException(EC_BRK64, imm16);
}

export function exec_HLT(imm16: u32): void {
  // Halting debug is never enabled (no external debugger): HLT is UNDEFINED.
  undefinedInstruction();
}

// ---- hints and barriers ----

const HINT_YIELD: u32 = 1;
const HINT_WFE: u32 = 2;
const HINT_WFI: u32 = 3;

export function exec_HINT(crm: u32, op2: u32): void {
  const hint = (crm << 3) | op2;
  if (hint == HINT_WFI || hint == HINT_WFE) {
    // SCTLR_EL1.nTWI (bit 16) / nTWE (bit 18) = 0 trap EL0 WFI/WFE to EL1.
    const allowBit: u64 = hint == HINT_WFI ? (1 << 16) : (1 << 18);
    if (getEL() == 0 && (sysregs[SCTLR_EL1] & allowBit) == 0) {
      // ISS: CV = 1, COND = 0b1110 (as for any AArch64 trap), TI = 1 for WFE.
      syncException(EC_WFX, (1 << 24) | (0xe << 20) | (hint == HINT_WFE ? 1 : 0));
      return;
    }
    if (interruptPending()) return;
    // WFI waits for an interrupt; WFE may wake spuriously, so it only yields the thread.
    requestExit(hint == HINT_WFI ? EXIT_WFI : EXIT_YIELD, 0);
    return;
  }
  if (hint == HINT_YIELD) return;
  // NOP, SEV, SEVL, and every other hint (ESB, CSDB, PAC and BTI hints): no effect here.
}

export function exec_CLREX(crm: u32): void {
  clearExclusive();
}

// DSB, DMB, ISB (op2 100, 101, 110). Memory is sequentially consistent on one thread: barriers
// have nothing to order. ISB matters only to the cache-maintenance checker.
export function exec_BARRIER(crm: u32, op2: u32): void {
  if (cacheCheckOn && op2 == 6) contextSynchronized();
}

// ---- PSTATE ----

export function exec_MSR_imm(op1: u32, crm: u32, op2: u32): void {
  const field = (op1 << 3) | op2;
  const el = getEL();
  if (field == 0b000101) { // SPSel
    if (el == 0) { undefinedInstruction(); return; }
    setELAndSPSel(el, crm & 1);
    return;
  }
  if (field == 0b011110 || field == 0b011111) { // DAIFSet, DAIFClr
    if (el == 0 && (sysregs[SCTLR_EL1] & (1 << 9)) == 0) {
      trapSysreg((op2 << 17) | (op1 << 14) | (4 << 10) | (31 << 5) | (crm << 1));
      return;
    }
    const bits = (crm & 0xf) << 6;
    setDAIF(field == 0b011110 ? getDAIF() | bits : getDAIF() & ~bits);
    requestAttention();
    return;
  }
  undefinedInstruction();
}

function trapSysreg(iss: u32): void {
  syncException(EC_SYSREG, iss);
}

/** ISS of a trapped MRS/MSR/SYS: Op0, Op2, Op1, CRn, Rt, CRm, Direction (1 = read). */
function sysregIss(encoding: u32, rt: u32, isRead: u32): u32 {
  const op0 = encoding >> 14;
  const op1 = (encoding >> 11) & 7;
  const crn = (encoding >> 7) & 0xf;
  const crm = (encoding >> 3) & 0xf;
  const op2 = encoding & 7;
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | isRead;
}

function raiseAccessResult(encoding: u32, rt: u32, isRead: u32): void {
  if (accessResult == ACCESS_UNDEFINED) undefinedInstruction();
  else if (accessResult == ACCESS_FP_TRAP) syncException(EC_FP_ACCESS, FP_TRAP_ISS);
  else trapSysreg(sysregIss(encoding, rt, isRead));
}

export function exec_MRS(encoding: u32, rt: u32): void {
  const v = readSysreg(encoding);
  if (accessResult != ACCESS_OK) { raiseAccessResult(encoding, rt, 1); return; }
  setX(rt, v);
}

export function exec_MSR_reg(encoding: u32, rt: u32): void {
  writeSysreg(encoding, getX(rt));
  if (accessResult != ACCESS_OK) raiseAccessResult(encoding, rt, 0);
}

// ---- SYS: cache maintenance, address translation, TLB maintenance ----

@inline function sysOp(op1: u32, crn: u32, crm: u32, op2: u32): u32 {
  return (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

export function exec_SYS(op1: u32, crn: u32, crm: u32, op2: u32, rt: u32): void {
  const el = getEL();
  // Every op1 = 0 operation (IC IALLU*, DC IVAC and set/way, AT, TLBI) is EL1-only.
  if (op1 == 0 && el == 0) { undefinedInstruction(); return; }
  const op = sysOp(op1, crn, crm, op2);
  const sctlr = sysregs[SCTLR_EL1];
  const uci = (sctlr & (1 << 26)) != 0;
  switch (op) {
    // Instruction cache: the interpreter caches no instructions, the JIT drops translated code
    // (docs/jit.md, Invalidation).
    case sysOp(0, 7, 1, 0): // IC IALLUIS
    case sysOp(0, 7, 5, 0): // IC IALLU
      jitInvalidateAll();
      if (cacheCheckOn) instructionCacheAll();
      return;
    case sysOp(3, 7, 5, 1): // IC IVAU
      if (el == 0 && !uci) { trapSys(op, rt); return; }
      jitInvalidateVa(getX(rt));
      if (cacheCheckOn && translate(getX(rt), ACC_READ, P_VALID) && (walkFlags & P_RAM) != 0) instructionCacheByVa(walkPa);
      return;
    // Data cache by VA: the address is checked as the access would be; there is no cache to
    // maintain, except the checker's model of one.
    case sysOp(0, 7, 6, 1): // DC IVAC: needs write permission
      if (cacheMaintenanceCheck(getX(rt), ACC_WRITE) && cacheCheckOn) dataCacheByVa(walkPa, false, false, true);
      return;
    case sysOp(3, 7, 10, 1): // DC CVAC
    case sysOp(3, 7, 11, 1): // DC CVAU
    case sysOp(3, 7, 14, 1): // DC CIVAC
      if (el == 0 && !uci) { trapSys(op, rt); return; }
      if (cacheMaintenanceCheck(getX(rt), ACC_READ) && cacheCheckOn) {
        dataCacheByVa(walkPa, true, crm == 11, crm == 14);
      }
      return;
    case sysOp(3, 7, 4, 1): // DC ZVA
      if (el == 0 && (sctlr & (1 << 14)) == 0) { trapSys(op, rt); return; }
      dcZva(getX(rt));
      return;
    case sysOp(0, 7, 6, 2): // DC ISW
    case sysOp(0, 7, 10, 2): // DC CSW
    case sysOp(0, 7, 14, 2): // DC CISW
      if (cacheCheckOn) dataCacheBySetWay(crm != 6, crm != 10);
      return;
    case sysOp(0, 7, 8, 0): addressTranslate(getX(rt), ACC_READ, false); return; // AT S1E1R
    case sysOp(0, 7, 8, 1): addressTranslate(getX(rt), ACC_WRITE, false); return; // AT S1E1W
    case sysOp(0, 7, 8, 2): addressTranslate(getX(rt), ACC_READ, true); return; // AT S1E0R
    case sysOp(0, 7, 8, 3): addressTranslate(getX(rt), ACC_WRITE, true); return; // AT S1E0W
    default:
      if (op1 == 0 && crn == 8 && (crm == 3 || crm == 7)) tlbi(op2, getX(rt));
      else undefinedInstruction();
  }
}

function trapSys(op: u32, rt: u32): void {
  trapSysreg(sysregIss((1 << 14) | op, rt, 0));
}

/** Translates the address of a DC by VA, taking the abort it gives; true with walkPa set if RAM. */
function cacheMaintenanceCheck(va: u64, acc: u32): bool {
  // PAN does not apply to cache maintenance.
  if (!translate(va, acc, neededPerms(acc, false) & ~P_NOT_EL0)) {
    // Cache maintenance faults report CM = 1 and WnR = 1.
    dataAbort((1 << 8) | (1 << 6) | walkFault, va);
    return false;
  }
  return (walkFlags & P_RAM) != 0;
}

function dcZva(va: u64): void {
  // One 64-byte block never crosses a page, so either the first store faults or none does.
  const base = va & ~<u64>63;
  setSyndrome(0);
  for (let i: u64 = 0; i < 64; i += 8) {
    write64(base + i, 0, 0);
    if (faulted) return;
  }
}

/** AT S1E1R/W, S1E0R/W: the result goes to PAR_EL1. */
function addressTranslate(va: u64, acc: u32, asEl0: bool): void {
  const need: u32 = P_VALID | (asEl0 ? (P_R0 << acc) : (P_R1 << acc));
  if (translate(va, acc, need)) {
    // PA, the MAIR attribute, inner shareable.
    sysregs[PAR_EL1] = (walkPa & 0x0000fffffffff000) | (<u64>attrOf(walkFlags) << 56) | (3 << 7);
  } else {
    sysregs[PAR_EL1] = 1 | (<u64>walkFault << 1);
  }
}

function tlbi(op2: u32, operand: u64): void {
  const va = (operand & 0x00000fffffffffff) << 12;
  const asid = <i32>(operand >> 48);
  switch (op2) {
    case 0: tlbFlushAll(); break; // VMALLE1(IS)
    case 1: case 5: tlbFlushVa(va, asid); break; // VAE1(IS), VALE1(IS)
    case 2: tlbFlushAsid(<u32>asid); break; // ASIDE1(IS)
    case 3: case 7: tlbFlushVa(va, -1); break; // VAAE1(IS), VAALE1(IS)
    default: undefinedInstruction();
  }
}
