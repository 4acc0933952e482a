// A handler's request that the run loop return to the VMM once the current instruction is done
// (HVC, SMC, WFI with nothing pending, YIELD). A leaf, so that the handlers the decoder calls
// need not import the run loop that calls the decoder.

import { ACTIVE_STATE, IRQ_LINES, EXIT_RECORD, EXIT_IMM } from "../abi";

/** The EXIT_* reason requested, or 0 to go on. */
export let exitReason: u32 = 0;

@inline export function setExitReason(reason: u32): void { exitReason = reason; }

export function requestExit(reason: u32, imm: u32): void {
  exitReason = reason;
  store<u32>(EXIT_RECORD + EXIT_IMM, imm);
}

/** Whether an interrupt is pending regardless of masking (WFI wakes on these, without an exit). */
export function interruptPending(): bool {
  return (load<u32>(ACTIVE_STATE + IRQ_LINES) & 7) != 0;
}
