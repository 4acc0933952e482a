// --check-cache-maintenance: what a real cache would make visible (README, "For firmware and
// device-model developers"). lkvm has no caches, so code that forgets a clean or an invalidate
// works here and fails on hardware or under KVM. This models, per 64-byte line of guest RAM,
// what a write-back data cache and an instruction cache could hold, and reports accesses that
// would see stale data:
//   - a non-cacheable read (MMU or data cache off, Normal-NC or Device attributes, or a
//     non-cacheable table walk) of a line last written through the cache and not cleaned to
//     the Point of Coherency since: memory still holds the old data;
//   - a cacheable read of a line written non-cacheably and not invalidated since: the cache
//     may hold an older copy (from before, or from a speculative fill);
//   - an instruction fetch of a word written as data without the DC CVAU (or a stronger
//     clean), IC IVAU / IC IALLU, and context synchronization (ISB, exception entry or return)
//     that make the new instruction visible. The line state says what a line still needs; a
//     bit per 32-bit word says which words were written, so that code sharing a line with data
//     the program writes (Linux's .idmap.text does) is not taken for modified code (the same
//     bits keep reads of unwritten words in a written line from being reported). Words that
//     now hold B, BL, NOP, ISB, BRK, SVC, HVC or SMC are not reported: the architecture lets
//     those be modified while they may run (ARM ARM B2.2.5, concurrent modification and
//     execution), and Linux's jump labels and alternatives rely on it.
// Each is reported once per line (RAM is coherent with the caches at boot: the VMM's loader and
// device DMA are coherent). Set/way operations are taken to cover the whole cache, as the loops
// that issue them do. While checking is on, every RAM access takes the slow path
// (translateData → physRead/physWrite), which calls in here; with it off nothing here runs.

import { ACTIVE_STATE, VCPU_ID, RAM_HOST_BASE } from "../abi";
import { pc } from "./state";
import { ramBase, ramSize } from "./ram";

/** A finding, for the VMM: which rule the access broke. */
export const FINDING_UNCLEANED: u32 = 1; // non-cacheable read of a dirty line
export const FINDING_STALE: u32 = 2; // cacheable read of a line written around the cache
// An instruction fetch of a word written as data, by the step missing first.
export const FINDING_FETCH_NO_DC: u32 = 3; // no DC CVAU (or clean to PoC) since the write
export const FINDING_FETCH_NO_IC: u32 = 4; // no IC IVAU / IC IALLU since the clean
export const FINDING_FETCH_NO_SYNC: u32 = 5; // no ISB (or exception entry/return) since the IC

@external("env", "cacheFinding")
declare function reportFinding(vcpu: i32, kind: i32, pc: u64, pa: u64): void;

// Line state, one byte a line.
const DIRTY: u8 = 1; // written through the cache, not cleaned to PoC since
const STALE: u8 = 2; // written non-cacheably, not invalidated since
const NEED_DC: u8 = 4; // written through the cache, not cleaned to PoU since (for fetches)
const NEED_IC: u8 = 8; // written, not invalidated from the instruction cache since
const NEED_SYNC: u8 = 16; // invalidated from the instruction cache, no context synchronization since
const REPORTED_UNCLEANED: u8 = 32;
const REPORTED_STALE: u8 = 64;
const REPORTED_FETCH: u8 = 128;

const LINE_SHIFT: u32 = 6;

/** Whether the checker runs (set once, before the guest starts). */
export let cacheCheckOn: bool = false;
/** Wasm address of the line-state bytes (after guest RAM), then of the written-word bits. */
let lines: usize = 0;
let lineCount: u64 = 0;
let words: usize = 0;

/** Lines waiting for a context synchronization event (NEED_SYNC), or `syncSweep` if too many. */
const SYNC_LIST_MAX: u32 = 1024;
const syncList = new StaticArray<u32>(SYNC_LIST_MAX);
let syncListLength: u32 = 0;
let syncSweep: bool = false;
/**
 * Whether a set/way clean or invalidate would change anything: a write since the last sweep of
 * that kind. Software issues set/way operations in loops over every set and way; only the
 * first of a loop sweeps the model.
 */
let cleanSweepDue: bool = true;
let invalidateSweepDue: bool = true;

/**
 * Turns the checker on with its state at wasm address `stateBase`, zeroed: a byte per 64-byte
 * line of RAM, then a bit per 32-bit word (ramSize / 64 + ramSize / 32 bytes).
 */
export function enableCacheCheck(stateBase: usize): void {
  cacheCheckOn = true;
  lines = stateBase;
  lineCount = ramSize >> LINE_SHIFT;
  words = lines + <usize>lineCount;
}

/** The written-word bits of a line: 16 bits at the line's index. */
@inline function wordBitsOf(line: usize): usize {
  return words + ((line - lines) << 1);
}

/** The state byte's address for a RAM physical address, or 0 outside RAM. */
@inline function lineAt(pa: u64): usize {
  const off = pa - ramBase;
  return off < ramSize ? lines + <usize>(off >> LINE_SHIFT) : 0;
}

function report(kind: u32, pa: u64): void {
  reportFinding(<i32>load<u32>(ACTIVE_STATE + VCPU_ID), <i32>kind, pc, pa);
}

// ---- data accesses: size bytes at pa, within one page ----

/** A read of RAM; `cacheable`: through the data cache. */
export function checkRead(pa: u64, size: u32, cacheable: bool): void {
  const end = pa + size;
  for (let a = pa & ~<u64>63; a < end; a += 64) {
    const l = lineAt(a);
    if (l == 0) return;
    const s = load<u8>(l);
    const from = max<u64>(a, pa);
    // Words of the line nobody wrote read the same from the cache and from memory.
    if (cacheable) {
      if ((s & (STALE | REPORTED_STALE)) == STALE && anyWordWritten(from, min<u64>(a + 64, end))) {
        store<u8>(l, s | REPORTED_STALE);
        report(FINDING_STALE, from);
      }
    } else if ((s & (DIRTY | REPORTED_UNCLEANED)) == DIRTY && anyWordWritten(from, min<u64>(a + 64, end))) {
      store<u8>(l, s | REPORTED_UNCLEANED);
      report(FINDING_UNCLEANED, from);
    }
  }
}

/** Whether any 32-bit word overlapping [from, to) (RAM addresses) has its written bit set. */
function anyWordWritten(from: u64, to: u64): bool {
  for (let a = from & ~<u64>3; a < to; a += 4) {
    const w = <u32>((a - ramBase) >> 2);
    if ((load<u8>(words + <usize>(w >> 3)) & (1 << (w & 7))) != 0) return true;
  }
  return false;
}

/** A write of RAM; `writeBack`: held by the cache (Normal write-back), else it reaches memory. */
export function checkWrite(pa: u64, size: u32, cacheable: bool, writeBack: bool): void {
  const set: u8 = cacheable ? (writeBack ? DIRTY | NEED_DC | NEED_IC : NEED_IC) : STALE | NEED_IC;
  for (let a = pa & ~<u64>63; a < pa + size; a += 64) {
    const l = lineAt(a);
    if (l == 0) return;
    store<u8>(l, (load<u8>(l) & ~NEED_SYNC) | set);
  }
  // The words written (at most 64 bytes: 8 for a register, 64 for LD64B/ST64B).
  for (let a = pa & ~<u64>3; a < pa + size; a += 4) {
    const off = a - ramBase;
    if (off >= ramSize) break;
    const w = <u32>(off >> 2);
    const b = words + <usize>(w >> 3);
    store<u8>(b, load<u8>(b) | <u8>(<u32>1 << (w & 7)));
  }
  cleanSweepDue = true;
  invalidateSweepDue = true;
}

// ---- instruction fetch ----

/** An instruction fetch from RAM; `cacheable`: through the instruction cache. */
export function checkFetch(pa: u64, cacheable: bool): void {
  const l = lineAt(pa);
  if (l == 0) return;
  const s = load<u8>(l);
  if (!cacheable) {
    // Fetches that bypass the caches read memory, like a non-cacheable data read.
    checkRead(pa, 4, false);
    return;
  }
  if ((s & (NEED_DC | NEED_IC | NEED_SYNC)) == 0 || (s & REPORTED_FETCH) != 0) return;
  if (!anyWordWritten(pa, pa + 4)) return; // code that shares a line with data written
  if (modifiableWhileRunning(load<u32>(RAM_HOST_BASE + <usize>(pa - ramBase)))) return;
  store<u8>(l, s | REPORTED_FETCH);
  report((s & NEED_DC) != 0 ? FINDING_FETCH_NO_DC : (s & NEED_IC) != 0 ? FINDING_FETCH_NO_IC : FINDING_FETCH_NO_SYNC, pa);
}

/** B, BL, NOP, ISB, BRK, SVC, HVC, SMC: the instructions concurrent modification allows. */
function modifiableWhileRunning(insn: u32): bool {
  if ((insn & 0x7c000000) == 0x14000000) return true; // B (0x14000000), BL (0x94000000)
  if (insn == 0xd503201f) return true; // NOP
  if ((insn & 0xfffff0ff) == 0xd50330df) return true; // ISB
  const exc = insn & 0xffe0001f;
  return exc == 0xd4200000 || exc == 0xd4000001 || exc == 0xd4000002 || exc == 0xd4000003; // BRK, SVC, HVC, SMC
}

// ---- maintenance ----

/** DC by VA on the line holding pa: `clean` to PoC (or only to PoU: `pouOnly`), `invalidate`. */
export function dataCacheByVa(pa: u64, clean: bool, pouOnly: bool, invalidate: bool): void {
  const l = lineAt(pa);
  if (l == 0) return;
  let s = load<u8>(l);
  if (clean) s &= pouOnly ? ~NEED_DC : ~(DIRTY | NEED_DC);
  // Invalidating discards a dirty line (its data is lost to memory): nothing is left to clean.
  if (invalidate) s &= ~(DIRTY | STALE | NEED_DC);
  store<u8>(l, s);
}

/** DC ISW/CSW/CISW: taken to cover every line (software walks all sets and ways in a loop). */
export function dataCacheBySetWay(clean: bool, invalidate: bool): void {
  if (!(clean && cleanSweepDue) && !(invalidate && invalidateSweepDue)) return;
  let mask: u8 = 0xff;
  if (clean) mask &= ~(DIRTY | NEED_DC);
  if (invalidate) mask &= ~(DIRTY | STALE | NEED_DC);
  for (let i: u64 = 0; i < lineCount; i++) {
    const l = lines + <usize>i;
    store<u8>(l, load<u8>(l) & mask);
  }
  // Invalidating discards dirty data too: nothing is left to clean after it.
  cleanSweepDue = false;
  if (invalidate) invalidateSweepDue = false;
}

/** IC IVAU on the line holding pa: effective only once the data reached the PoU. */
export function instructionCacheByVa(pa: u64): void {
  const l = lineAt(pa);
  if (l == 0) return;
  const s = load<u8>(l);
  if ((s & (NEED_IC | NEED_DC)) != NEED_IC) return;
  store<u8>(l, (s & ~NEED_IC) | NEED_SYNC);
  if (syncListLength < SYNC_LIST_MAX) syncList[syncListLength++] = <u32>((pa - ramBase) >> LINE_SHIFT);
  else syncSweep = true;
}

/** IC IALLU / IALLUIS. */
export function instructionCacheAll(): void {
  for (let i: u64 = 0; i < lineCount; i++) {
    const l = lines + <usize>i;
    const s = load<u8>(l);
    if ((s & (NEED_IC | NEED_DC)) == NEED_IC) store<u8>(l, (s & ~NEED_IC) | NEED_SYNC);
  }
  syncSweep = true;
}

/**
 * A context synchronization event (ISB, exception entry, exception return) on any vCPU. One
 * vCPU's ISB stands for all: the model does not track which vCPU fetches next.
 */
export function contextSynchronized(): void {
  if (syncSweep) {
    for (let i: u64 = 0; i < lineCount; i++) synchronizeLine(lines + <usize>i);
    syncSweep = false;
  } else {
    for (let i: u32 = 0; i < syncListLength; i++) synchronizeLine(lines + <usize>syncList[i]);
  }
  syncListLength = 0;
}

/** A line's new instructions are visible now (unless it was written again meanwhile). */
@inline function synchronizeLine(l: usize): void {
  const s = load<u8>(l);
  if ((s & (NEED_SYNC | NEED_DC | NEED_IC)) != NEED_SYNC) return;
  store<u8>(l, s & ~NEED_SYNC);
  store<u16>(wordBitsOf(l), 0);
}

// ---- memory types ----

/**
 * Whether a MAIR attribute byte is cacheable in the inner (L1) cache, and write-back. Device
 * (0b0000xxxx) and Normal Non-cacheable (inner 0b0100) are not; inner 0b00RW and 0b10RW are
 * write-through, 0b01RW and 0b11RW write-back (RW != 00 for the transient forms).
 */
@inline export function attrCacheable(attr: u32): bool {
  const inner = attr & 0xf;
  return (attr & 0xf0) != 0 && inner != 4 && inner != 0;
}

@inline export function attrWriteBack(attr: u32): bool {
  return (attr & 0x4) != 0;
}
