// The tail profile (LKVM_JIT_TAIL=1 with --debug-jit; docs/jit.md, Measuring): why
// instructions run interpreted while the JIT is on, and which rows translated blocks still
// hand to jitExec at run time. Off by default: classifying a missed lookup probes the block
// map, which costs a host cache miss.
//
// The run loop reports each block boundary at which it goes on interpreting (tailOpen, with
// the reason) and the next boundary (tailClose); the instructions between them are charged to
// that reason. (While debug or the PMU is armed no block runs, and those instructions go to
// the reason of the last boundary before.)

import { JIT_INFO, JI_TAIL, JI_EXEC_MISSES, JI_EXEC_BY_OP, JI_EXEC_BY_OP_ENTRIES } from "../../abi";
import { findBlock, heatQueued, B_PENDING } from "./cache";

/** pc cannot start a block (not executable RAM, misaligned, PAN set). */
export const TAIL_NO_KEY: u32 = 0;
/** Below the threshold: not queued yet. */
export const TAIL_COLD: u32 = 1;
/** Queued, waiting for jitBuild (modules in flight are at their limit). */
export const TAIL_QUEUED: u32 = 2;
/** Built into a module that is still compiling. */
export const TAIL_COMPILING: u32 = 3;
/** Translated, but longer than what is left of the budget. */
export const TAIL_BUDGET: u32 = 4;

export let tailProfile: bool = false;
let openReason: i32 = -1;
let openAt: u32 = 0;

export function setTailProfile(on: bool): void {
  tailProfile = on;
}

/** The run loop goes on interpreting at instruction count n because of `reason`. */
export function tailOpen(n: u32, reason: u32): void {
  openReason = <i32>reason;
  openAt = n;
}

/** The reason a missed lookup of key goes on interpreting. */
export function tailReasonForMiss(key: u32): u32 {
  const e = findBlock(key);
  if (e != 0 && load<u32>(e + B_PENDING) != 0) return TAIL_COMPILING;
  return heatQueued(key) ? TAIL_QUEUED : TAIL_COLD;
}

/** A block boundary (or the end of run()) at instruction count n. */
export function tailClose(n: u32): void {
  if (openReason < 0) return;
  const at = JIT_INFO + JI_TAIL + (<usize>openReason << 3);
  store<u64>(at, load<u64>(at) + <u64>(n - openAt));
  openReason = -1;
}

/** A load or store in a translated block took its slow path (jitExecMiss). */
export function tailMiss(): void {
  store<u64>(JIT_INFO + JI_EXEC_MISSES, load<u64>(JIT_INFO + JI_EXEC_MISSES) + 1);
}

/** jitExec ran op from a translated block (a row without an emitter, or one it declined). */
export function tailExec(op: u32): void {
  if (op >= <u32>JI_EXEC_BY_OP_ENTRIES) return;
  const at = JIT_INFO + JI_EXEC_BY_OP + (<usize>op << 2);
  store<u32>(at, load<u32>(at) + 1);
}
