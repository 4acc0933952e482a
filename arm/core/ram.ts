// Where guest RAM is: [ramBase, ramEnd) in guest physical space, at RAM_HOST_BASE in wasm memory.

export let ramBase: u64 = 0x80000000;
export let ramEnd: u64 = 0x80000000;
export let ramSize: u64 = 0;

export function setRam(base: u64, sizeBytes: u64): void {
  ramBase = base;
  ramEnd = base + sizeBytes;
  ramSize = sizeBytes;
}
