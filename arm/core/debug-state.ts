// What the run loop, the memory slow path and the exception model need to know about the
// debug architecture, kept in a leaf so that they can read it without importing the checks
// (debug.ts, which takes exceptions and so depends on them).

/**
 * Something could raise a debug exception: a breakpoint or watchpoint is enabled with
 * MDSCR_EL1.MDE, or MDSCR_EL1.SS asks for software step, and the OS lock is clear. Derived
 * from system registers only (not from EL or PSTATE.D), recomputed by debug.ts whenever they
 * change. While it is set the run loop checks every instruction and runs no translated code.
 */
export let debugArmed: bool = false;
/** A watchpoint is armed: every data access takes the slow path, where it is checked. */
export let watchpointsArmed: bool = false;

/**
 * The instruction being executed is being stepped (it started in the active-not-pending
 * state; PSTATE.SS was cleared as it started). If it takes an exception before completing,
 * SPSR.SS records that it has not been stepped yet.
 */
export let stepInFlight: bool = false;
/** The previous instruction was stepped and completed: the step exception it causes has ISV = 1. */
export let stepCompleted: bool = false;
/** The instruction in flight was a load-exclusive (the step exception's EX bit). */
export let loadExclusiveStepped: bool = false;

export function setDebugArmed(armed: bool, watchpoints: bool): void {
  debugArmed = armed;
  watchpointsArmed = watchpoints;
}
@inline export function setStepInFlight(v: bool): void { stepInFlight = v; }
@inline export function setStepCompleted(v: bool): void { stepCompleted = v; }
@inline export function setLoadExclusiveStepped(v: bool): void { loadExclusiveStepped = v; }

/** Load-exclusive handlers call this: a step exception after them reports EX = 1. */
@inline export function noteLoadExclusive(): void {
  if (stepInFlight) loadExclusiveStepped = true;
}
