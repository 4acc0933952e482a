// The two facts about the JIT that the MMU and memory code need, kept apart from the rest of
// the JIT so that those modules import nothing else from it: which guest RAM pages hold
// translated code, and the flag that makes a running block return to the run loop.

import { JIT_PAGES, RAM_HOST_BASE } from "../../abi";

/**
 * Set when something a running block depends on changed (its code was written, the
 * translation regime or the TLB changed): the block returns after the current instruction.
 * The run loop clears it before entering a block.
 */
export let jitStop: bool = false;

@inline export function requestJitStop(): void { jitStop = true; }
@inline export function clearJitStop(): void { jitStop = false; }

/** The page-marks slot of the guest RAM page holding wasm address `host`. */
@inline export function pageSlot(host: usize): usize {
  return JIT_PAGES + (((host - RAM_HOST_BASE) >> 12) << 2);
}

/** Whether the guest RAM page holding wasm address `host` has translated code. */
@inline export function pageHasCode(host: usize): bool {
  return load<u32>(pageSlot(host)) != 0;
}
