// The layout of a software TLB entry (mmu.ts fills it; the dispatcher in generated code probes
// it for instruction fetches: arm/core/jit/dispatch.ts) and its permission and attribute bits.

import { TLB_BASE } from "../abi";

export const TLB_ENTRIES: u32 = 4096;
export const TLB_ENTRY_BYTES: u32 = 32;
export const E_TAG = 0; // u64: VA >> 12
export const E_ADDEND = 8; // u64: wasm address - VA, for RAM pages
export const E_PA = 16; // u64: physical page address
export const E_FLAGS = 24; // u32: P_* bits
export const E_ASID = 28; // u32: ASID for non-global entries

// Permission and attribute bits in E_FLAGS.
export const P_VALID: u32 = 1 << 0;
export const P_R1: u32 = 1 << 1; // EL1 read
export const P_W1: u32 = 1 << 2; // EL1 write
export const P_X1: u32 = 1 << 3; // EL1 execute
export const P_R0: u32 = 1 << 4; // EL0 read
export const P_W0: u32 = 1 << 5; // EL0 write
export const P_X0: u32 = 1 << 6; // EL0 execute
export const P_NOT_EL0: u32 = 1 << 7; // no EL0 data access: required by PAN for EL1 accesses
export const P_RAM: u32 = 1 << 8; // backed by guest RAM (else the trap bus)
export const P_DEVICE: u32 = 1 << 9; // Device memory type: unaligned accesses fault
export const P_GLOBAL: u32 = 1 << 10;
export const P_BLOCK: u32 = 1 << 11; // from a block or a larger-than-4K page
// The physical page holds translated code: stores must take the slow path, which drops the
// code (docs/jit.md, Invalidation). Set on fill from the JIT's page marks, and on every entry
// for the page when it gets its first block.
export const P_CODE: u32 = 1 << 12;
// Accesses must take the slow path, where the cache-maintenance checker or the watchpoints see them.
export const P_SLOW: u32 = 1 << 13;
// Bits 23:16 hold the MAIR attribute byte; bits 29:28 the level of the leaf descriptor.

/** Wasm address of TLB entry `i`. */
@inline export function tlbEntry(i: u32): usize {
  return TLB_BASE + <usize>(i * TLB_ENTRY_BYTES);
}
