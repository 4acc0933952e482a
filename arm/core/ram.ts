// Where guest RAM is: [ramBase, ramEnd) in guest physical space, at RAM_HOST_BASE in wasm memory.

export let ramBase: u64 = 0x80000000;
export let ramEnd: u64 = 0x80000000;
export let ramSize: u64 = 0;
/**
 * The RAM the MMU-off fast paths may touch directly: all of it, or none while every access
 * must take the slow path (--check-cache-maintenance, cache-check.ts; armed watchpoints, debug.ts).
 */
export let directRamSize: u64 = 0;

export function setRam(base: u64, sizeBytes: u64): void {
  ramBase = base;
  ramEnd = base + sizeBytes;
  ramSize = sizeBytes;
  directRamSize = sizeBytes;
}

/** Sends every RAM access through the slow path. */
export function disableDirectRam(): void {
  directRamSize = 0;
}

/** Lets the MMU-off fast paths touch RAM again (watchpoints disarmed, no cache checker). */
export function enableDirectRam(): void {
  directRamSize = ramSize;
}
