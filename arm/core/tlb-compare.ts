// The comparators of the software TLB, in the QEMU softmmu style: for every TLB entry, per EL
// and per access kind (read, write), the one value a data access's page address must equal for
// the access to go straight to RAM, next to the page's addend. Everything that forces the slow
// path is folded in when the comparator is computed: an invalid entry, no permission for that
// kind at that EL, memory that is not RAM or is Device, a page holding translated code (for
// writes), watchpoints or the cache checker (P_SLOW), a non-global entry of another ASID. A
// forbidden kind gets NO_MATCH, which no masked address equals. So a fast access is: index,
// load the comparator, compare (va & (page mask | alignment mask)), add the addend. Generated
// code (arm/core/jit/access.ts) and the interpreter (memory.ts) both use them.
//
// The comparators are derived from the TLB entries (tlb-entry.ts) and nothing else: every path
// that changes an entry (fill, flush, code marks) calls refreshComparators for it, and an ASID
// switch refreshes the non-global entries (kept in a bitmap, so a switch costs what is cached
// of other address spaces, not the whole TLB). PSTATE.PAN is not folded in: it is not
// implemented (exceptions.ts, panImplemented), and the interpreter checks it anyway.

import { TLB_BASE } from "../abi";
import {
  TLB_ENTRIES, TLB_ENTRY_BYTES, E_TAG, E_ADDEND, E_FLAGS, E_ASID, tlbEntry,
  P_VALID, P_R0, P_W0, P_R1, P_W1, P_RAM, P_DEVICE, P_SLOW, P_CODE, P_GLOBAL,
} from "./tlb-entry";

export const CMP_ENTRY_BYTES: u32 = 32;
/** log2 of CMP_ENTRY_BYTES. */
export const CMP_ENTRY_SHIFT: u32 = 5;
const TABLE_BYTES: u32 = TLB_ENTRIES * CMP_ENTRY_BYTES;
/** The comparator table for accesses at EL1 (entry i for TLB entry i). */
export const CMP_EL1: u32 = TLB_BASE + TLB_ENTRIES * TLB_ENTRY_BYTES;
/** The comparator table for accesses at EL0 (and LDTR/STTR). */
export const CMP_EL0: u32 = CMP_EL1 + TABLE_BYTES;
// Fields of a comparator entry.
export const C_READ = 0; // u64: page VA if a read may go fast, else NO_MATCH
export const C_WRITE = 8; // u64: page VA if a write may go fast, else NO_MATCH
export const C_ADDEND = 16; // u64: wasm address - VA
/** Bit i: TLB entry i is valid and not global (its comparators depend on the current ASID). */
const NON_GLOBAL_BITMAP: usize = CMP_EL0 + TABLE_BYTES;
const BITMAP_WORDS: u32 = TLB_ENTRIES / 64;

/** Never equal to a page address masked with a page mask and an alignment mask below 0x800. */
export const NO_MATCH: u64 = <u64>-1;

/** Byte offset of va's comparator entry inside a comparator table. */
@inline export function cmpOffset(va: u64): usize {
  return <usize>((<u32>va >> (12 - CMP_ENTRY_SHIFT)) & ((TLB_ENTRIES - 1) << CMP_ENTRY_SHIFT));
}

/** Every comparator says no (the TLB was flushed). */
export function clearComparators(): void {
  memory.fill(CMP_EL1, 0xff, 2 * TABLE_BYTES);
  memory.fill(NON_GLOBAL_BITMAP, 0, BITMAP_WORDS * 8);
}

/** Recomputes the comparators of TLB entry i from the entry, for the current ASID `asid`. */
export function refreshComparators(i: u32, asid: u32): void {
  const e = tlbEntry(i);
  const flags = load<u32>(e + E_FLAGS);
  const word = NON_GLOBAL_BITMAP + <usize>((i >> 6) << 3);
  const bit = <u64>1 << <u64>(i & 63);
  const nonGlobal = (flags & (P_VALID | P_GLOBAL)) == P_VALID;
  store<u64>(word, nonGlobal ? load<u64>(word) | bit : load<u64>(word) & ~bit);
  const usable = (flags & (P_VALID | P_RAM | P_DEVICE | P_SLOW)) == (P_VALID | P_RAM) &&
    (!nonGlobal || load<u32>(e + E_ASID) == asid);
  const page = load<u64>(e + E_TAG) << 12;
  const addend = load<u64>(e + E_ADDEND);
  const writable = usable && (flags & P_CODE) == 0;
  const off = <usize>(i * CMP_ENTRY_BYTES);
  store<u64>(CMP_EL1 + off + C_READ, usable && (flags & P_R1) != 0 ? page : NO_MATCH);
  store<u64>(CMP_EL1 + off + C_WRITE, writable && (flags & P_W1) != 0 ? page : NO_MATCH);
  store<u64>(CMP_EL1 + off + C_ADDEND, addend);
  store<u64>(CMP_EL0 + off + C_READ, usable && (flags & P_R0) != 0 ? page : NO_MATCH);
  store<u64>(CMP_EL0 + off + C_WRITE, writable && (flags & P_W0) != 0 ? page : NO_MATCH);
  store<u64>(CMP_EL0 + off + C_ADDEND, addend);
}

/** The current ASID changed: the non-global entries of the old one close, those of the new one open. */
export function asidSwitched(asid: u32): void {
  for (let w: u32 = 0; w < BITMAP_WORDS; w++) {
    let bits = load<u64>(NON_GLOBAL_BITMAP + <usize>(w << 3));
    while (bits != 0) {
      const i = (w << 6) + <u32>ctz<u64>(bits);
      bits &= bits - 1;
      refreshComparators(i, asid);
    }
  }
}

// Fresh memory is zeros, and a zero comparator would match page 0: start closed.
clearComparators();
