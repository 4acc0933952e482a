// The self-hosted debug architecture at EL1/EL0 (ARM ARM D2, AArch64 self-hosted debug):
// hardware breakpoints (DBGBVR/DBGBCR), watchpoints (DBGWVR/DBGWCR), software step
// (MDSCR_EL1.SS with PSTATE.SS), the OS lock and the OS double lock.
//
// Cost when nothing is armed: none per instruction. The run loop looks here only while
// debugArmed (debug-state.ts) is set, which keeps `attention` raised, so the check rides on
// the loop's existing attention test; armed watchpoints send data accesses to the slow path
// (P_SLOW TLB entries, no direct RAM with the MMU off), where watchpointHit runs.

import { ACTIVE_STATE, PSTATE_SS } from "../abi";
import { pc, getEL, getDAIF } from "./state";
import {
  sysregs, MDSCR_EL1, OSLSR_EL1, OSDLR_EL1, DBGPRCR_EL1, CONTEXTIDR_EL1, FAR_EL1,
  DBG_BVR, DBG_BCR, DBG_WVR, DBG_WCR,
} from "./sysreg-file";
import { syncException } from "./exceptions";
import { tlbFlushAll, translate, neededPerms, ACC_EXEC } from "./mmu";
import { disableDirectRam, enableDirectRam } from "./ram";
import { cacheCheckOn } from "./cache-check";
import { requestAttention } from "./attention";
import { requestJitStop } from "./jit/marks";
import {
  debugArmed, watchpointsArmed, stepInFlight, stepCompleted, loadExclusiveStepped, setDebugArmed,
  setStepInFlight, setStepCompleted, setLoadExclusiveStepped,
} from "./debug-state";

export const NUM_BREAKPOINTS: u32 = 6;
export const NUM_WATCHPOINTS: u32 = 4;
/** Context-aware breakpoints are the highest-numbered ones (ID_AA64DFR0_EL1.CTX_CMPs + 1). */
export const NUM_CONTEXT_BREAKPOINTS: u32 = 2;

const MDSCR_SS: u64 = 1 << 0;
const MDSCR_KDE: u64 = 1 << 13;
const MDSCR_MDE: u64 = 1 << 15;
const OSLSR_OSLK: u64 = 1 << 1;
const PSTATE_D: u32 = 1 << 9;

// Exception classes for the lower EL; the current-EL class is one more.
const EC_BREAKPOINT_LOWER: u32 = 0x30;
const EC_SOFTWARE_STEP_LOWER: u32 = 0x32;
const EC_WATCHPOINT_LOWER: u32 = 0x34;
/** IFSC/DFSC of every debug exception: "debug event". */
const FSC_DEBUG: u32 = 0x22;
const ISS_ISV: u32 = 1 << 24;
const ISS_EX: u32 = 1 << 6;
const ISS_WNR: u32 = 1 << 6;

// DBGBCR_EL1.BT: breakpoint types.
const BT_ADDRESS: u32 = 0b0000;
const BT_ADDRESS_LINKED: u32 = 0b0001;
const BT_CONTEXT: u32 = 0b0010;
const BT_CONTEXT_LINKED: u32 = 0b0011;

/** DBGBCR/DBGWCR bits that exist; the rest are RES0. */
export const DBGBCR_WRITABLE: u64 = 0x00ffe1e7; // BT, LBN, SSC, HMC, BAS[8:5], PMC, E
export const DBGWCR_WRITABLE: u64 = 0x1f1fffff; // MASK, WT, LBN, SSC, HMC, BAS, LSC, PAC, E
/** DBGWVR bits 1:0 are RES0. */
export const DBGWVR_WRITABLE: u64 = ~<u64>3;

/** Address bits a breakpoint or watchpoint compares: VA[48:0]. */
const VA_BITS_MASK: u64 = 0x0001ffffffffffff;

/** The OS lock or the OS double lock disables every debug exception but BRK. */
function debugLocked(): bool {
  if (sysregs[OSLSR_EL1] & OSLSR_OSLK) return true;
  return (sysregs[OSDLR_EL1] & 1) != 0 && (sysregs[DBGPRCR_EL1] & 1) == 0;
}

/** Debug exceptions (to EL1) may be taken from `el`: from EL0 always, from EL1 with KDE and PSTATE.D clear. */
function debugExceptionsEnabled(el: u32): bool {
  if (debugLocked()) return false;
  if (el == 0) return true;
  return (sysregs[MDSCR_EL1] & MDSCR_KDE) != 0 && (getDAIF() & PSTATE_D) == 0;
}

/**
 * Recomputes debugArmed after a write to MDSCR_EL1, a DBG*CR, OSLAR/OSDLR/DBGPRCR, and on
 * every run() (the VMM resets and switches vCPUs by writing their state directly).
 */
export function debugRegistersChanged(): void {
  const mdscr = sysregs[MDSCR_EL1];
  const unlocked = !debugLocked();
  let breakpoints = false;
  let watchpoints = false;
  if (unlocked && (mdscr & MDSCR_MDE) != 0) {
    for (let n: u32 = 0; n < NUM_BREAKPOINTS; n++) if (sysregs[DBG_BCR + n] & 1) breakpoints = true;
    for (let n: u32 = 0; n < NUM_WATCHPOINTS; n++) if (sysregs[DBG_WCR + n] & 1) watchpoints = true;
  }
  const armed = breakpoints || watchpoints || (unlocked && (mdscr & MDSCR_SS) != 0);
  if (watchpoints != watchpointsArmed) {
    // TLB entries filled from now on say P_SLOW (mmu.ts) or not; the old ones must go.
    tlbFlushAll();
    if (watchpoints) disableDirectRam();
    else if (!cacheCheckOn) enableDirectRam();
  }
  if (armed && !debugArmed) {
    requestAttention(); // the run loop checks from the next instruction on
    requestJitStop(); // a running translated block returns
  }
  if (!armed) {
    setStepInFlight(false);
    setStepCompleted(false);
  }
  setDebugArmed(armed, watchpoints);
}

/** The run loop, while armed, after each instruction: a stepped instruction has completed. */
export function debugAfterInstruction(): void {
  if (stepInFlight()) {
    setStepInFlight(false);
    setStepCompleted(true);
  }
}

/**
 * The run loop, while armed, before each instruction (after interrupts): takes a pending
 * software step or a breakpoint (in that priority), or starts stepping this instruction.
 * Returns true if an exception was taken.
 */
export function debugBeforeInstruction(): bool {
  const completed = stepCompleted();
  setStepCompleted(false);
  const el = getEL();
  if (!debugExceptionsEnabled(el)) return false;
  const mdscr = sysregs[MDSCR_EL1];
  const stepActive = (mdscr & MDSCR_SS) != 0;
  if (stepActive && load<u32>(ACTIVE_STATE + PSTATE_SS) == 0) {
    // Active-pending: entered by completing a step (ISV = 1, EX says whether it was a
    // load-exclusive), or by enabling step with PSTATE.SS = 0 (ISV = 0).
    const iss = completed ? ISS_ISV | (loadExclusiveStepped() ? ISS_EX : 0) | FSC_DEBUG : FSC_DEBUG;
    syncException(EC_SOFTWARE_STEP_LOWER + (el != 0 ? 1 : 0), iss);
    return true;
  }
  if ((mdscr & MDSCR_MDE) != 0 && breakpointAt(pc, el) && !fetchFaults()) {
    syncException(EC_BREAKPOINT_LOWER + (el != 0 ? 1 : 0), FSC_DEBUG);
    return true;
  }
  if (stepActive) {
    // Active-not-pending: this instruction is stepped; completing it clears PSTATE.SS.
    // Cleared now; an exception that stops it restores SPSR.SS (exceptions.ts).
    store<u32>(ACTIVE_STATE + PSTATE_SS, 0);
    setStepInFlight(true);
    setLoadExclusiveStepped(false);
  }
  return false;
}

/**
 * A PC alignment fault or an instruction abort on fetching the instruction comes before a
 * breakpoint on it (ARM ARM D1, synchronous exception priority): the fetch then takes it.
 */
function fetchFaults(): bool {
  return (pc & 3) != 0 || !translate(pc, ACC_EXEC, neededPerms(ACC_EXEC, false));
}

/** DBGBCR.PMC/DBGWCR.PAC (with HMC = 0, SSC = 0): bit 0 matches EL1, bit 1 EL0. */
@inline function privilegeMatches(pmc: u32, el: u32): bool {
  return (pmc & (el == 0 ? 2 : 1)) != 0;
}

@inline function isContextAware(n: u32): bool {
  return n >= NUM_BREAKPOINTS - NUM_CONTEXT_BREAKPOINTS && n < NUM_BREAKPOINTS;
}

/** Context ID match: CONTEXTIDR_EL1 equals DBGBVR<n>[31:0]. */
function contextMatches(n: u32): bool {
  return <u32>sysregs[CONTEXTIDR_EL1] == <u32>sysregs[DBG_BVR + n];
}

/** The context breakpoint a linked breakpoint or watchpoint names (LBN) matches. */
function linkedContextMatches(lbn: u32): bool {
  if (!isContextAware(lbn)) return false;
  const bcr = sysregs[DBG_BCR + lbn];
  return (bcr & 1) != 0 && <u32>((bcr >> 20) & 0xf) == BT_CONTEXT_LINKED && contextMatches(lbn);
}

/** Instruction address match: VA[48:2] against DBGBVR, with BAS = 0b1111 for A64 code. */
function addressMatches(n: u32, va: u64, bcr: u64): bool {
  if (((bcr >> 5) & 0xf) == 0) return false;
  return ((va ^ sysregs[DBG_BVR + n]) & VA_BITS_MASK & ~<u64>3) == 0;
}

function breakpointMatches(n: u32, va: u64, el: u32): bool {
  const bcr = sysregs[DBG_BCR + n];
  if ((bcr & 1) == 0 || !privilegeMatches(<u32>(bcr >> 1) & 3, el)) return false;
  const type = <u32>(bcr >> 20) & 0xf;
  if (type == BT_ADDRESS) return addressMatches(n, va, bcr);
  if (type == BT_ADDRESS_LINKED) return addressMatches(n, va, bcr) && linkedContextMatches(<u32>(bcr >> 16) & 0xf);
  if (type == BT_CONTEXT) return isContextAware(n) && contextMatches(n);
  return false; // a linked context breakpoint matches only through the breakpoint linked to it
}

function breakpointAt(va: u64, el: u32): bool {
  for (let n: u32 = 0; n < NUM_BREAKPOINTS; n++) if (breakpointMatches(n, va, el)) return true;
  return false;
}

/** Sign-extends an address from bit 48: DBGWVR and the access's VA are compared as VA[48:0]. */
@inline function watchedVa(wvr: u64): u64 {
  return <u64>((<i64>(wvr << 15)) >> 15);
}

/**
 * The lowest byte of [va, va + size) that watchpoint n watches for this access, or -1.
 * DBGWCR.MASK (3..31) watches a 2^MASK range; otherwise BAS selects bytes of the doubleword
 * (of the word, when DBGWVR[2] is set) at DBGWVR.
 */
function watchedByte(n: u32, va: u64, size: u32, isWrite: bool, el: u32): i64 {
  const wcr = sysregs[DBG_WCR + n];
  if ((wcr & 1) == 0 || !privilegeMatches(<u32>(wcr >> 1) & 3, el)) return -1;
  if (((wcr >> 3) & (isWrite ? 2 : 1)) == 0) return -1; // LSC: bit 0 loads, bit 1 stores
  if ((wcr & (1 << 20)) != 0 && !linkedContextMatches(<u32>(wcr >> 16) & 0xf)) return -1;
  const wvr = watchedVa(sysregs[DBG_WVR + n]);
  const mask = <u32>(wcr >> 24) & 0x1f;
  const end = va + size;
  if (mask >= 3) {
    const lo = wvr & ~((<u64>1 << mask) - 1);
    const hi = lo + ((<u64>1 << mask) - 1);
    const first = va > lo ? va : lo;
    return first <= hi && first < end ? <i64>first : -1;
  }
  let bas = <u32>(wcr >> 5) & 0xff;
  if (wvr & 4) bas = (bas & 0xf) << 4;
  const base = wvr & ~<u64>7;
  for (let i: u32 = 0; i < 8; i++) {
    const byte = base + i;
    if ((bas & (1 << i)) != 0 && byte >= va && byte < end) return <i64>byte;
  }
  return -1;
}

/**
 * The memory slow path, while watchpoints are armed, before an access of `size` bytes at va:
 * takes the watchpoint exception (FAR = the lowest watched byte accessed) and returns true if
 * one matches. `unpriv` (LDTR/STTR at EL1) matches watchpoints as an EL0 access would.
 */
export function watchpointHit(va: u64, size: u32, isWrite: bool, unpriv: bool): bool {
  const el = getEL();
  if ((sysregs[MDSCR_EL1] & MDSCR_MDE) == 0 || !debugExceptionsEnabled(el)) return false;
  const matchEl: u32 = unpriv ? 0 : el;
  va = watchedVa(va); // compared as VA[48:0]: a tag in the top byte does not hide the access
  let hit: i64 = -1;
  for (let n: u32 = 0; n < NUM_WATCHPOINTS; n++) {
    const byte = watchedByte(n, va, size, isWrite, matchEl);
    if (byte >= 0 && (hit < 0 || <u64>byte < <u64>hit)) hit = byte;
  }
  if (hit < 0) return false;
  sysregs[FAR_EL1] = <u64>hit;
  syncException(EC_WATCHPOINT_LOWER + (el != 0 ? 1 : 0), (isWrite ? ISS_WNR : 0) | FSC_DEBUG);
  return true;
}

export { debugArmed, watchpointsArmed };
