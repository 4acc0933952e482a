// Architectural register state of the active vCPU. It lives in linear memory at ACTIVE_STATE
// (layout in arm/abi.ts) so the VMM can read and write it without calls, and so JIT code can
// address every register at a constant offset.

import {
  ACTIVE_STATE, X_REGS, SP_SLOT, NZCV, PSTATE_DAIF, PSTATE_EL, PSTATE_SPSEL, PSTATE_PAN,
  PSTATE_SS, PSTATE_IL, SP_EL0, SP_EL1, V_REGS,
} from "../abi";

const XBASE: usize = ACTIVE_STATE + X_REGS;

// ---- the PC: kept in globals while an instruction runs ----

/** Address of the instruction being executed. */
export let pc: u64 = 0;
/** Where execution continues after it: pc + 4 unless a branch or exception changes it. */
export let nextPc: u64 = 0;

@inline export function setPc(v: u64): void { pc = v; }
@inline export function branchTo(target: u64): void { nextPc = target; }

// ---- general-purpose registers ----
// Slot 31 of X_REGS always holds zero, so reads of XZR need no branch; SP is slot 32.

/** Xn, with n = 31 reading as XZR. */
@inline export function getX(n: u32): u64 {
  return load<u64>(XBASE + (<usize>n << 3));
}

/** Writes Xn; a write to n = 31 (XZR) is discarded. */
@inline export function setX(n: u32, v: u64): void {
  if (n != 31) store<u64>(XBASE + (<usize>n << 3), v);
}

/** Wn (low 32 bits of Xn). */
@inline export function getW(n: u32): u32 {
  return load<u32>(XBASE + (<usize>n << 3));
}

/** Writes Wn, zero-extending into Xn. */
@inline export function setW(n: u32, v: u32): void {
  if (n != 31) store<u64>(XBASE + (<usize>n << 3), <u64>v);
}

/** Xn or SP: register 31 names the current stack pointer (slot 32). */
@inline export function getXSP(n: u32): u64 {
  return load<u64>(XBASE + (<usize>(n + ((n + 1) >> 5)) << 3));
}

@inline export function setXSP(n: u32, v: u64): void {
  store<u64>(XBASE + (<usize>(n + ((n + 1) >> 5)) << 3), v);
}

/** Reads a register as sf selects: 64-bit, or 32-bit zero-extended. */
@inline export function getReg(sf: u32, n: u32): u64 {
  const v = getX(n);
  return sf ? v : v & 0xffffffff;
}

/** Writes a register as sf selects: 64-bit, or 32-bit zero-extended. */
@inline export function setReg(sf: u32, n: u32, v: u64): void {
  setX(n, sf ? v : v & 0xffffffff);
}

@inline export function getRegSP(sf: u32, n: u32): u64 {
  const v = getXSP(n);
  return sf ? v : v & 0xffffffff;
}

@inline export function setRegSP(sf: u32, n: u32, v: u64): void {
  setXSP(n, sf ? v : v & 0xffffffff);
}

@inline export function getSP(): u64 { return load<u64>(ACTIVE_STATE + SP_SLOT); }
@inline export function setSP(v: u64): void { store<u64>(ACTIVE_STATE + SP_SLOT, v); }

// ---- PSTATE ----

@inline export function getNZCV(): u32 { return load<u32>(ACTIVE_STATE + NZCV); }
@inline export function setNZCV(v: u32): void { store<u32>(ACTIVE_STATE + NZCV, v & 0xf0000000); }
@inline export function getEL(): u32 { return load<u32>(ACTIVE_STATE + PSTATE_EL); }
@inline export function getSPSel(): u32 { return load<u32>(ACTIVE_STATE + PSTATE_SPSEL); }
@inline export function getDAIF(): u32 { return load<u32>(ACTIVE_STATE + PSTATE_DAIF); }
@inline export function setDAIF(v: u32): void { store<u32>(ACTIVE_STATE + PSTATE_DAIF, v & 0x3c0); }
@inline export function getPAN(): u32 { return load<u32>(ACTIVE_STATE + PSTATE_PAN); }
@inline export function setPAN(v: u32): void { store<u32>(ACTIVE_STATE + PSTATE_PAN, v & 1); }

/** The SP slot in use for an (EL, SPSel) pair: SP_EL0 unless at EL1 with SPSel = 1. */
@inline function bankFor(el: u32, spsel: u32): usize {
  return ACTIVE_STATE + (el != 0 && spsel != 0 ? SP_EL1 : SP_EL0);
}

/** Changes EL and SPSel, swapping the banked stack pointer into the current SP slot. */
export function setELAndSPSel(el: u32, spsel: u32): void {
  const oldBank = bankFor(getEL(), getSPSel());
  store<u64>(oldBank, getSP());
  store<u32>(ACTIVE_STATE + PSTATE_EL, el);
  store<u32>(ACTIVE_STATE + PSTATE_SPSEL, spsel);
  setSP(load<u64>(bankFor(el, spsel)));
}

/** Reads a banked SP (0 = SP_EL0, 1 = SP_EL1), whether or not it is the current one. */
export function getBankedSP(el: u32): u64 {
  const bank = ACTIVE_STATE + (el ? SP_EL1 : SP_EL0);
  return bank == bankFor(getEL(), getSPSel()) ? getSP() : load<u64>(bank);
}

export function setBankedSP(el: u32, v: u64): void {
  const bank = ACTIVE_STATE + (el ? SP_EL1 : SP_EL0);
  if (bank == bankFor(getEL(), getSPSel())) setSP(v);
  else store<u64>(bank, v);
}

/** PSTATE packed as an SPSR value (AArch64 layout). */
export function packPstate(): u32 {
  return getNZCV() |
    (load<u32>(ACTIVE_STATE + PSTATE_PAN) << 22) |
    (load<u32>(ACTIVE_STATE + PSTATE_SS) << 21) |
    (load<u32>(ACTIVE_STATE + PSTATE_IL) << 20) |
    getDAIF() |
    (getEL() << 2) | getSPSel();
}

/** Restores PSTATE from an SPSR value; the caller has checked that M names EL0t, EL1t or EL1h. */
export function unpackPstate(spsr: u32): void {
  setNZCV(spsr);
  setDAIF(spsr);
  store<u32>(ACTIVE_STATE + PSTATE_PAN, (spsr >> 22) & 1);
  store<u32>(ACTIVE_STATE + PSTATE_SS, (spsr >> 21) & 1);
  store<u32>(ACTIVE_STATE + PSTATE_IL, (spsr >> 20) & 1);
  setELAndSPSel((spsr >> 2) & 3, spsr & 1);
}

// ---- SIMD&FP registers ----

@inline export function vAddr(n: u32): usize { return ACTIVE_STATE + V_REGS + (<usize>n << 4); }
