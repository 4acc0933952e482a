// The self-hosted debug architecture at EL1/EL0, seen from a bare-metal guest (test/guests/debug.c):
// breakpoints, watchpoints, software step and the OS lock, with the ESR/ELR/FAR/SPSR values the
// ARM ARM gives. Run interpreted and with every block translated before it first runs, so the
// checks also show that translated code never runs past an armed breakpoint, watchpoint or step.

import { describe, it } from "vitest";
import { expectPassed, runGuest } from "../support/run-guest.ts";

const EXPECTED = [
  "ID_AA64DFR0_EL1.BRPs = 5: six breakpoints",
  "ID_AA64DFR0_EL1.WRPs = 3: four watchpoints",
  "OSLSR_EL1: the OS lock is implemented and locked at reset",
  "OS lock set: no breakpoint exception",
  "OS lock clear: the breakpoint is taken",
  "OS double lock set: no breakpoint exception",
  "  EC 0x31 (breakpoint, current EL)",
  "  ELR = the breakpointed instruction, not yet run",
  "breakpoint 5 at dbg_3",
  "PSTATE.D = 1: none at EL1",
  "linked address breakpoint, linked context differs: no exception",
  "linked address breakpoint, linked context matches: taken at the address",
  "a tagged address (TBI) matches the watchpoint on its VA",
  "MDSCR_EL1.KDE = 0: none at EL1",
  "breakpoint on an unmapped page: the instruction abort is taken",
  "breakpoint on a misaligned PC: the PC alignment fault is taken",
  "EL0 breakpoint: EC 0x30 (breakpoint, lower EL)",
  "context ID breakpoint, CONTEXTIDR_EL1 matches: EC 0x30 at the first EL0 instruction",
  "  EC 0x35 (watchpoint, current EL)",
  "  FAR = the watched address",
  "  memory is unchanged when the exception is taken",
  "BAS byte 4: a doubleword load covering it matches",
  "  FAR = the watched byte",
  "MASK = 5: a store at +24 matches, FAR = its address",
  "PAC = EL0: STTR at EL1 matches",
  "MDSCR_EL1.SS: seven exceptions",
  "unmasking with PSTATE.SS = 0 (active-pending): step exception before the next instruction, ISV = 0",
  "ERET with SPSR.SS = 1 steps one instruction: EC 0x33, ISV = 1, EX = 0, ELR = the next one",
  "a stepped LDXR: EX = 1",
  "a stepped instruction that faults: the abort is taken with SPSR.SS = 1 (not yet stepped)",
  "the next one, stepped, is an SVC: taken with SPSR.SS = 0 (stepped)",
  "returning from the SVC with SPSR.SS = 0: step exception at once, ISV = 0",
  "EL0 step: EC 0x32 (software step, lower EL)",
  "  exactly one instruction ran",
  "OS lock set: EL0 runs unstepped to its SVC",
];

describe("debug architecture, from a guest", () => {
  it("breakpoints, watchpoints, software step and the OS lock, interpreted", async () => {
    expectPassed(await runGuest("debug", { extra: ["--no-jit"] }), EXPECTED);
  });

  it("the same with every block translated before it first runs (--jit-threshold 0)", async () => {
    expectPassed(await runGuest("debug", { extra: ["--jit", "--jit-threshold", "0"] }), EXPECTED);
  });
});
