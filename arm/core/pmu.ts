// PMUv3 (ARM ARM: "The Performance Monitors Extension"), as KVM presents it to a guest with
// the PMU vCPU feature (lkvm run --pmu): PMCR_EL0, six 32-bit event counters and the 64-bit
// cycle counter, event filtering by EL, chained counters, PMSWINC, and the overflow interrupt
// (an output the VMM routes to PPI 23). Without the feature every PMU register is UNDEFINED.
//
// Counting is exact (docs/architecture.md, "The PMU"): while an enabled counter counts
// something that happens per instruction (CPU_CYCLES, INST_RETIRED, MEM_ACCESS, BR_RETIRED, or
// the cycle counter), pmuArmed keeps `attention` raised, so the run loop accounts for every
// instruction here and runs no translated code. Otherwise the PMU costs nothing per instruction.

import { ACTIVE_STATE, PMU_IRQ_OUT, CPU_FEAT_PMU, EXIT_PMU } from "../abi";
import { getEL } from "./state";
import {
  sysregs, enc, SPSR_EL1, ESR_EL1, PMCR_EL0, PMCNTEN, PMINTEN, PMOVS, PMSELR_EL0, PMUSERENR_EL0,
  PMCCNTR_EL0, PMCCFILTR_EL0, PMCCDIV, PMEVCNTR, PMEVTYPER,
} from "./sysreg-file";
import { faulted } from "./exceptions";
import { hasFeature } from "./cpu-features";
import { requestAttention } from "./attention";
import { requestJitStop } from "./jit/marks";
import { exitReason, setExitReason } from "./exit-request";

/** Event counters (PMCR_EL0.N), as a Cortex-A57 has: Linux reports 7 with the cycle counter. */
export const NUM_COUNTERS: u32 = 6;
const CYCLE_BIT: u32 = 1 << 31;
const COUNTER_BITS: u32 = CYCLE_BIT | ((1 << NUM_COUNTERS) - 1);

// PMCR_EL0 fields.
const PMCR_E: u64 = 1 << 0;
const PMCR_P: u64 = 1 << 1;
const PMCR_C: u64 = 1 << 2;
const PMCR_D: u64 = 1 << 3;
const PMCR_LC: u64 = 1 << 6; // RES1: there is no AArch32, so PMCCNTR overflows at 64 bits
const PMCR_WRITABLE: u64 = PMCR_E | PMCR_D | (1 << 4) | (1 << 5); // E, D, X, DP
/** IMP = Arm, IDCODE and N as a Cortex-A57's, LC set. */
const PMCR_FIXED: u64 = (0x41 << 24) | (0x01 << 16) | (<u64>NUM_COUNTERS << 11) | PMCR_LC;

// PMEVTYPER<n>_EL0 and PMCCFILTR_EL0: P and U filter EL1 and EL0. With no EL2 and no EL3,
// NSK, NSU, NSH and M are RES0 (ARM ARM, PMEVTYPER<n>_EL0; KVM masks them the same way), and PMUv3 for
// ARMv8.0 has a 10-bit event number.
const FILTER_P: u64 = <u64>1 << 31;
const FILTER_U: u64 = 1 << 30;
const EVENT_MASK: u64 = 0x3ff;
const EVTYPER_WRITABLE: u64 = FILTER_P | FILTER_U | EVENT_MASK;

// PMUSERENR_EL0: what EL0 may access.
const USERENR_EN: u64 = 1 << 0; // everything
const USERENR_SW: u64 = 1 << 1; // PMSWINC_EL0 writes
const USERENR_CR: u64 = 1 << 2; // PMCCNTR_EL0 reads
const USERENR_ER: u64 = 1 << 3; // event counter reads, PMSELR_EL0

// The events implemented, and PMCEID0/1_EL0 listing exactly them.
export const EVENT_SW_INCR: u32 = 0x00;
export const EVENT_INST_RETIRED: u32 = 0x08;
export const EVENT_CPU_CYCLES: u32 = 0x11;
export const EVENT_MEM_ACCESS: u32 = 0x13;
export const EVENT_CHAIN: u32 = 0x1e;
export const EVENT_BR_RETIRED: u32 = 0x21;
const PMCEID0: u64 = (1 << EVENT_SW_INCR) | (1 << EVENT_INST_RETIRED) | (1 << EVENT_CPU_CYCLES) |
  (1 << EVENT_MEM_ACCESS) | (1 << EVENT_CHAIN);
const PMCEID1: u64 = 1 << (EVENT_BR_RETIRED - 32);

/** ID_AA64DFR0_EL1.PMUVer: PMUv3 for ARMv8.0 with the feature, else not implemented. */
export function pmuVersion(): u64 {
  return hasFeature(CPU_FEAT_PMU) ? 1 : 0;
}

// ---- what the run loop needs, derived from the registers by pmuRegistersChanged ----

/** An enabled counter counts per instruction: the run loop accounts for each one here. */
export let pmuArmed: bool = false;
// Counters (bit n; bit 31 the cycle counter) counting each per-instruction event, enabled.
let cyclesMask: u32 = 0;
let instMask: u32 = 0;
let memMask: u32 = 0;
let branchMask: u32 = 0;

@inline function pmcrE(): bool { return (sysregs[PMCR_EL0] & PMCR_E) != 0; }

@inline function eventOf(n: u32): u32 {
  return <u32>(sysregs[PMEVTYPER + n] & EVENT_MASK);
}

/** Recomputes pmuArmed and the event masks: after a write to a PMU register, and on every run(). */
export function pmuRegistersChanged(): void {
  cyclesMask = 0;
  instMask = 0;
  memMask = 0;
  branchMask = 0;
  if (hasFeature(CPU_FEAT_PMU) && pmcrE()) {
    const enabled = <u32>sysregs[PMCNTEN];
    cyclesMask = enabled & CYCLE_BIT;
    for (let n: u32 = 0; n < NUM_COUNTERS; n++) {
      if ((enabled & (1 << n)) == 0) continue;
      const event = eventOf(n);
      if (event == EVENT_CPU_CYCLES) cyclesMask |= 1 << n;
      else if (event == EVENT_INST_RETIRED) instMask |= 1 << n;
      else if (event == EVENT_MEM_ACCESS) memMask |= 1 << n;
      else if (event == EVENT_BR_RETIRED) branchMask |= 1 << n;
    }
  }
  const armed = (cyclesMask | instMask | memMask | branchMask) != 0;
  if (armed && !pmuArmed) {
    requestAttention(); // the run loop accounts from the next instruction on
    requestJitStop(); // a running translated block returns
  }
  pmuArmed = armed;
}

// ---- counting ----

/** Whether a counter with this PMEVTYPER/PMCCFILTR value counts events at `el`. */
@inline function countsAt(filter: u64, el: u32): bool {
  return (filter & (el == 0 ? FILTER_U : FILTER_P)) == 0;
}

/** Adds one to event counter n, at `el`; a wrap past 2^32 is an overflow. */
function incrementCounter(n: u32, el: u32): void {
  const v = (sysregs[PMEVCNTR + n] + 1) & 0xffffffff;
  sysregs[PMEVCNTR + n] = v;
  if (v == 0) overflow(n, el);
}

/**
 * Counter n overflowed: PMOVSSET records it, and an even counter's overflow is the CHAIN event
 * of the odd one above it, if that one is enabled and counts at `el`.
 */
function overflow(n: u32, el: u32): void {
  sysregs[PMOVS] = sysregs[PMOVS] | (<u64>1 << n);
  if ((n & 1) == 0 && n + 1 < NUM_COUNTERS) {
    const odd = n + 1;
    if ((sysregs[PMCNTEN] & (1 << odd)) != 0 && eventOf(odd) == EVENT_CHAIN && countsAt(sysregs[PMEVTYPER + odd], el)) {
      incrementCounter(odd, el);
    }
  }
  updateInterrupt();
}

function countEvent(mask: u32, el: u32): void {
  for (let n: u32 = 0; n < NUM_COUNTERS; n++) {
    if ((mask & (1 << n)) != 0 && countsAt(sysregs[PMEVTYPER + n], el)) incrementCounter(n, el);
  }
}

/** One processor cycle at `el` for PMCCNTR_EL0 (every 64th with PMCR.D). */
function countCycle(el: u32): void {
  if (!countsAt(sysregs[PMCCFILTR_EL0], el)) return;
  if (sysregs[PMCR_EL0] & PMCR_D) {
    const div = sysregs[PMCCDIV] + 1;
    sysregs[PMCCDIV] = div & 63;
    if (div < 64) return;
  }
  const v = sysregs[PMCCNTR_EL0] + 1;
  sysregs[PMCCNTR_EL0] = v;
  if (v == 0) overflow(31, el);
}

// Instruction classes, from the word (ARM ARM C4.1 encoding groups).
@inline function isBranch(insn: u32): bool {
  return (insn & 0x7c000000) == 0x14000000 || // B, BL
    (insn & 0x7c000000) == 0x34000000 || // CBZ, CBNZ, TBZ, TBNZ
    (insn & 0xff000010) == 0x54000000 || // B.cond
    (insn & 0xfe000000) == 0xd6000000; // BR, BLR, RET, ERET
}

@inline function isPrefetch(insn: u32): bool {
  return (insn & 0xffc00000) == 0xf9800000 || // PRFM (immediate)
    (insn & 0xff000000) == 0xd8000000 || // PRFM (literal)
    (insn & 0xffe00c00) == 0xf8800000 || // PRFUM
    (insn & 0xffe00c00) == 0xf8a00800; // PRFM (register)
}

/** A load, store, atomic or exclusive: one data memory access (MEM_ACCESS) when it completes. */
@inline function isMemoryAccess(insn: u32): bool {
  return (insn & 0x0a000000) == 0x08000000 && !isPrefetch(insn);
}

/** ERET: executed at EL1, whatever EL it returns to. */
const ERET: u32 = 0xd69f03e0;

/**
 * The run loop, while armed, once the instruction `insn` is over: counts its cycle, and if it
 * retired (completed, or was an SVC/HVC/SMC, which retire as they take their exception) the
 * events it was. An overflow that changes the interrupt's level requests EXIT_PMU.
 */
export function pmuInstruction(insn: u32): void {
  let retired = !faulted;
  let el = getEL();
  if (faulted) {
    // The exception taken recorded the EL the instruction ran at.
    el = <u32>(sysregs[SPSR_EL1] >> 2) & 3;
    const ec = <u32>(sysregs[ESR_EL1] >> 26);
    retired = ec >= 0x15 && ec <= 0x17; // SVC, HVC, SMC
  } else if (insn == ERET) {
    el = 1;
  }
  if (cyclesMask & CYCLE_BIT) countCycle(el);
  if (cyclesMask & ~CYCLE_BIT) countEvent(cyclesMask, el);
  if (retired) {
    if (instMask) countEvent(instMask, el);
    if (memMask && isMemoryAccess(insn)) countEvent(memMask, el);
    if (branchMask && isBranch(insn)) countEvent(branchMask, el);
  }
}

// ---- the overflow interrupt ----

/** PMUIRQ (ARM ARM CheckForPMUOverflow): PMCR.E and an overflow with its interrupt enabled. */
function interruptLevel(): u32 {
  return pmcrE() && (sysregs[PMOVS] & sysregs[PMINTEN]) != 0 ? 1 : 0;
}

/**
 * Publishes the level in the state area. On a change the run loop exits (unless it exits for
 * another reason already), so the VMM routes it now; the VMM reads it after every exit.
 */
function updateInterrupt(): void {
  const level = interruptLevel();
  if (level == load<u32>(ACTIVE_STATE + PMU_IRQ_OUT)) return;
  store<u32>(ACTIVE_STATE + PMU_IRQ_OUT, level);
  if (exitReason == 0) setExitReason(EXIT_PMU);
}

// ---- register access (MRS/MSR; sysregs.ts dispatches op0 = 3, CRn = 9, and PMEV* here) ----

/** Result of an access: done, or UNDEFINED (KVM injects UNDEFINED for a denied EL0 access too). */
export let pmuAccessUndefined: bool = false;

/** PMU registers: op0 = 3, CRn = 9 (op1 0 or 3), and op1 = 3, CRn = 14, CRm >= 8 (PMEVCNTR/PMEVTYPER). */
export function isPmuRegister(e: u32): bool {
  if ((e >> 14) != 3) return false;
  const op1 = (e >> 11) & 7;
  const crn = (e >> 7) & 0xf;
  if (crn == 9) return op1 == 3 || (op1 == 0 && ((e >> 3) & 0xf) == 14);
  return crn == 14 && op1 == 3 && ((e >> 3) & 0xf) >= 8;
}

/** EL0 may make an access that PMUSERENR_EL0.EN, or the other bits in `extra`, allow. */
function el0Allowed(extra: u64): bool {
  const userenr = sysregs[PMUSERENR_EL0];
  return (userenr & USERENR_EN) != 0 || (userenr & extra) != 0;
}

/** The counter PMXEVCNTR/PMXEVTYPER select: n < N, 31 (the cycle counter), or -1. */
function selected(): i32 {
  const sel = <u32>sysregs[PMSELR_EL0] & 31;
  return sel < NUM_COUNTERS || sel == 31 ? <i32>sel : -1;
}

function undefinedAccess(): u64 {
  pmuAccessUndefined = true;
  return 0;
}

/** MRS of a PMU register (isPmuRegister); pmuAccessUndefined says the access is UNDEFINED. */
export function pmuRead(e: u32): u64 {
  pmuAccessUndefined = false;
  if (!hasFeature(CPU_FEAT_PMU)) return undefinedAccess();
  const el0 = getEL() == 0;
  const crn = (e >> 7) & 0xf;
  const crm = (e >> 3) & 0xf;
  const op2 = e & 7;
  if (crn == 14) {
    // PMEVCNTR<n> (CRm 8-11) and PMEVTYPER<n> (CRm 12-15); n = 31 of the latter is PMCCFILTR.
    const n = ((crm & 3) << 3) | op2;
    const isType = crm >= 12;
    if (el0 && !el0Allowed(isType ? 0 : USERENR_ER)) return undefinedAccess();
    if (isType && n == 31) return sysregs[PMCCFILTR_EL0];
    if (n >= NUM_COUNTERS) return undefinedAccess();
    return sysregs[(isType ? PMEVTYPER : PMEVCNTR) + n];
  }
  if (e == enc(3, 3, 9, 14, 0)) return sysregs[PMUSERENR_EL0]; // readable at EL0 always
  if ((e >> 11 & 7) == 0) { // PMINTENSET_EL1, PMINTENCLR_EL1: EL1 only
    if (el0 || (op2 != 1 && op2 != 2)) return undefinedAccess();
    return sysregs[PMINTEN];
  }
  switch (e) {
    case enc(3, 3, 9, 12, 0): // PMCR_EL0
      if (el0 && !el0Allowed(0)) return undefinedAccess();
      return PMCR_FIXED | (sysregs[PMCR_EL0] & PMCR_WRITABLE);
    case enc(3, 3, 9, 12, 1): // PMCNTENSET_EL0
    case enc(3, 3, 9, 12, 2): // PMCNTENCLR_EL0
      if (el0 && !el0Allowed(0)) return undefinedAccess();
      return sysregs[PMCNTEN];
    case enc(3, 3, 9, 12, 3): // PMOVSCLR_EL0
    case enc(3, 3, 9, 14, 3): // PMOVSSET_EL0
      if (el0 && !el0Allowed(0)) return undefinedAccess();
      return sysregs[PMOVS];
    case enc(3, 3, 9, 12, 5): // PMSELR_EL0
      if (el0 && !el0Allowed(USERENR_ER)) return undefinedAccess();
      return sysregs[PMSELR_EL0];
    case enc(3, 3, 9, 12, 6): // PMCEID0_EL0
    case enc(3, 3, 9, 12, 7): // PMCEID1_EL0
      if (el0 && !el0Allowed(0)) return undefinedAccess();
      return op2 == 6 ? PMCEID0 : PMCEID1;
    case enc(3, 3, 9, 13, 0): // PMCCNTR_EL0
      if (el0 && !el0Allowed(USERENR_CR)) return undefinedAccess();
      return sysregs[PMCCNTR_EL0];
    case enc(3, 3, 9, 13, 1): { // PMXEVTYPER_EL0
      if (el0 && !el0Allowed(0)) return undefinedAccess();
      const n = selected();
      if (n < 0) return undefinedAccess();
      return n == 31 ? sysregs[PMCCFILTR_EL0] : sysregs[PMEVTYPER + n];
    }
    case enc(3, 3, 9, 13, 2): { // PMXEVCNTR_EL0: SEL = 31 reads PMCCNTR, as KVM does
      if (el0 && !el0Allowed(USERENR_ER)) return undefinedAccess();
      const n = selected();
      if (n < 0) return undefinedAccess();
      return n == 31 ? sysregs[PMCCNTR_EL0] : sysregs[PMEVCNTR + n];
    }
    default: return undefinedAccess(); // PMSWINC_EL0 is write-only; the rest are unallocated
  }
}

/** MSR to a PMU register (isPmuRegister); pmuAccessUndefined says the access is UNDEFINED. */
export function pmuWrite(e: u32, v: u64): void {
  pmuAccessUndefined = false;
  if (!hasFeature(CPU_FEAT_PMU)) { undefinedAccess(); return; }
  const el0 = getEL() == 0;
  const crn = (e >> 7) & 0xf;
  const crm = (e >> 3) & 0xf;
  const op2 = e & 7;
  if (crn == 14) {
    const n = ((crm & 3) << 3) | op2;
    const isType = crm >= 12;
    if (el0 && !el0Allowed(0)) { undefinedAccess(); return; }
    if (isType && n == 31) sysregs[PMCCFILTR_EL0] = v & (FILTER_P | FILTER_U);
    else if (n >= NUM_COUNTERS) { undefinedAccess(); return; }
    else if (isType) sysregs[PMEVTYPER + n] = v & EVTYPER_WRITABLE;
    else sysregs[PMEVCNTR + n] = v & 0xffffffff;
    pmuRegistersChanged();
    return;
  }
  if (e == enc(3, 3, 9, 14, 0)) { // PMUSERENR_EL0: EL1 only
    if (el0) { undefinedAccess(); return; }
    sysregs[PMUSERENR_EL0] = v & 0xf;
    return;
  }
  if ((e >> 11 & 7) == 0) { // PMINTENSET_EL1, PMINTENCLR_EL1
    if (el0 || (op2 != 1 && op2 != 2)) { undefinedAccess(); return; }
    setBits(PMINTEN, v, op2 == 1);
    updateInterrupt();
    return;
  }
  // Every other PMU register needs PMUSERENR_EL0.EN at EL0, except PMSWINC (SW) and PMSELR (ER).
  const extra: u64 = e == enc(3, 3, 9, 12, 4) ? USERENR_SW : e == enc(3, 3, 9, 12, 5) ? USERENR_ER : 0;
  if (el0 && !el0Allowed(extra)) { undefinedAccess(); return; }
  switch (e) {
    case enc(3, 3, 9, 12, 0): writePmcr(v); break;
    case enc(3, 3, 9, 12, 1): setBits(PMCNTEN, v, true); break;
    case enc(3, 3, 9, 12, 2): setBits(PMCNTEN, v, false); break;
    case enc(3, 3, 9, 12, 3): setBits(PMOVS, v, false); break;
    case enc(3, 3, 9, 14, 3): setBits(PMOVS, v, true); break;
    case enc(3, 3, 9, 12, 4): softwareIncrement(<u32>v); break;
    case enc(3, 3, 9, 12, 5): sysregs[PMSELR_EL0] = v & 31; break;
    case enc(3, 3, 9, 13, 0): sysregs[PMCCNTR_EL0] = v; break;
    case enc(3, 3, 9, 13, 1): { // PMXEVTYPER_EL0
      const n = selected();
      if (n < 0) { undefinedAccess(); return; }
      if (n == 31) sysregs[PMCCFILTR_EL0] = v & (FILTER_P | FILTER_U);
      else sysregs[PMEVTYPER + n] = v & EVTYPER_WRITABLE;
      break;
    }
    case enc(3, 3, 9, 13, 2): { // PMXEVCNTR_EL0
      const n = selected();
      if (n < 0) { undefinedAccess(); return; }
      if (n == 31) sysregs[PMCCNTR_EL0] = v;
      else sysregs[PMEVCNTR + n] = v & 0xffffffff;
      break;
    }
    default: undefinedAccess(); return; // PMCEID0/1 are read-only
  }
  pmuRegistersChanged();
  updateInterrupt();
}

/** PMCNTENSET/CLR, PMINTENSET/CLR, PMOVSSET/CLR: set or clear the implemented counters' bits. */
function setBits(slot: i32, v: u64, set: bool): void {
  const bits = v & COUNTER_BITS;
  sysregs[slot] = set ? sysregs[slot] | bits : sysregs[slot] & ~bits;
}

function writePmcr(v: u64): void {
  sysregs[PMCR_EL0] = v & PMCR_WRITABLE;
  if (v & PMCR_P) for (let n: u32 = 0; n < NUM_COUNTERS; n++) sysregs[PMEVCNTR + n] = 0;
  if (v & PMCR_C) {
    sysregs[PMCCNTR_EL0] = 0;
    sysregs[PMCCDIV] = 0;
  }
}

/** PMSWINC_EL0: the SW_INCR event on each enabled counter whose bit is set. */
function softwareIncrement(bits: u32): void {
  if (!pmcrE()) return;
  const el = getEL();
  const enabled = <u32>sysregs[PMCNTEN];
  for (let n: u32 = 0; n < NUM_COUNTERS; n++) {
    const bit: u32 = 1 << n;
    if ((bits & enabled & bit) != 0 && eventOf(n) == EVENT_SW_INCR && countsAt(sysregs[PMEVTYPER + n], el)) {
      incrementCounter(n, el);
    }
  }
}
