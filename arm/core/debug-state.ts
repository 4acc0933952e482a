// What the run loop, the memory slow path and the exception model need to know about the
// debug architecture, kept in a leaf so that they can read it without importing the checks
// (debug.ts, which takes exceptions and so depends on them).

import { ACTIVE_STATE, STEP_STATE } from "../abi";

/**
 * Something could raise a debug exception: a breakpoint or watchpoint is enabled with
 * MDSCR_EL1.MDE, or MDSCR_EL1.SS asks for software step, and the OS lock is clear. Derived
 * from system registers only (not from EL or PSTATE.D), recomputed by debug.ts whenever they
 * change. While it is set the run loop checks every instruction and runs no translated code.
 */
export let debugArmed: bool = false;
/** A watchpoint is armed: every data access takes the slow path, where it is checked. */
export let watchpointsArmed: bool = false;

// Software step bookkeeping lives in the vCPU's state area (STEP_STATE), so that it follows its
// vCPU across the round-robin switches.
/**
 * The instruction being executed is being stepped (it started in the active-not-pending
 * state; PSTATE.SS was cleared as it started). If it takes an exception before completing,
 * SPSR.SS records that it has not been stepped yet.
 */
const STEP_IN_FLIGHT: u32 = 1;
/** The previous instruction was stepped and completed: the step exception it causes has ISV = 1. */
const STEP_COMPLETED: u32 = 2;
/** The instruction in flight was a load-exclusive (the step exception's EX bit). */
const STEP_LOAD_EXCLUSIVE: u32 = 4;

@inline function stepBits(): u32 { return load<u32>(ACTIVE_STATE + STEP_STATE); }
@inline function setStepBit(bit: u32, v: bool): void {
  store<u32>(ACTIVE_STATE + STEP_STATE, v ? stepBits() | bit : stepBits() & ~bit);
}

export function setDebugArmed(armed: bool, watchpoints: bool): void {
  debugArmed = armed;
  watchpointsArmed = watchpoints;
}
@inline export function stepInFlight(): bool { return (stepBits() & STEP_IN_FLIGHT) != 0; }
@inline export function stepCompleted(): bool { return (stepBits() & STEP_COMPLETED) != 0; }
@inline export function loadExclusiveStepped(): bool { return (stepBits() & STEP_LOAD_EXCLUSIVE) != 0; }
@inline export function setStepInFlight(v: bool): void { setStepBit(STEP_IN_FLIGHT, v); }
@inline export function setStepCompleted(v: bool): void { setStepBit(STEP_COMPLETED, v); }
@inline export function setLoadExclusiveStepped(v: bool): void { setStepBit(STEP_LOAD_EXCLUSIVE, v); }

/** Load-exclusive handlers call this: a step exception after them reports EX = 1. */
@inline export function noteLoadExclusive(): void {
  if (stepInFlight()) setLoadExclusiveStepped(true);
}
