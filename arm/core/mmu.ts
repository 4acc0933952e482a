// Stage 1 translation for the EL1&0 regime (ARM ARM D8): TTBR0/TTBR1 split by T0SZ/T1SZ,
// 4K/16K/64K granules, block and page descriptors, hierarchical table permissions, access
// flag faults, ASIDs, and a direct-mapped software TLB of 4 KiB entries.
//
// A TLB entry caches everything about one 4 KiB virtual page that a later access needs: the
// physical page, whether it is RAM (then `addend` turns a VA into a wasm address with one
// add), and permission bits for each EL and access kind. Data accesses do not read the entry
// on their fast path: they compare with the comparators derived from it (tlb-compare.ts).

import { TLB_BASE, RAM_HOST_BASE, JIT_INFO, JI_ASID } from "../abi";
import { getEL, getPAN } from "./state";
import { sysregs, SCTLR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1, MAIR_EL1 } from "./sysreg-file";
import { ramBase, ramEnd, directRamSize } from "./ram";
import { cacheCheckOn, checkRead } from "./cache-check";
import { watchpointsArmed } from "./debug-state";
import { pageHasCode, requestJitStop } from "./jit/marks";
import {
  TLB_ENTRIES, TLB_ENTRY_BYTES, E_TAG, E_ADDEND, E_PA, E_FLAGS, E_ASID, P_VALID, P_R1, P_W1, P_X1, P_R0, P_W0, P_X0,
  P_NOT_EL0, P_RAM, P_DEVICE, P_GLOBAL, P_BLOCK, P_CODE, P_SLOW,
} from "./tlb-entry";
import { clearComparators, refreshComparators, asidSwitched, cmpOffset, CMP_EL0, CMP_EL1, C_READ, C_WRITE, C_ADDEND } from "./tlb-compare";

export {
  TLB_ENTRIES, TLB_ENTRY_BYTES, E_TAG, E_ADDEND, E_PA, E_FLAGS, E_ASID, P_VALID, P_R1, P_W1, P_X1, P_R0, P_W0, P_X0,
  P_NOT_EL0, P_RAM, P_DEVICE, P_GLOBAL, P_BLOCK, P_CODE, P_SLOW,
} from "./tlb-entry";
const ENTRY_BYTES: u32 = TLB_ENTRY_BYTES;

@inline export function attrOf(flags: u32): u32 { return (flags >> 16) & 0xff; }
// The kind of access a lookup is for.
export const ACC_READ: u32 = 0;
export const ACC_WRITE: u32 = 1;
export const ACC_EXEC: u32 = 2;

// ---- translation results ----
/** Fault status code of the last failed translation (DFSC/IFSC), or 0 on success. */
export let walkFault: u32 = 0;
/** Flags of the last translation (P_* bits). */
export let walkFlags: u32 = 0;
/** Physical address of the last translation. */
export let walkPa: u64 = 0;

// Fault status codes (level added in the low two bits).
export const FSC_ADDR_SIZE: u32 = 0x00;
export const FSC_TRANSLATION: u32 = 0x04;
export const FSC_ACCESS_FLAG: u32 = 0x08;
export const FSC_PERMISSION: u32 = 0x0c;
export const FSC_EXTERNAL_WALK: u32 = 0x14;
export const FSC_ALIGNMENT: u32 = 0x21;

let blocksCached: bool = false;
/** log2 of the largest mapping (block or large page) cached as 4K entries since the last flush. */
let maxBlockShift: u32 = 12;
/** log2 of the size of the last translation's mapping (12 for a 4K page). */
let walkShift: u32 = 12;

// ---- the fetch-page cache: the host address of the page the PC is in ----
export let fetchTag: u64 = 1; // VA of the cached code page; never matches while bit 0 is set
export let fetchHost: usize = 0;

@inline export function setFetchPage(va: u64, host: usize): void {
  fetchTag = va & ~<u64>0xfff;
  fetchHost = host - <usize>(va & 0xfff);
}

// Derived from system registers and PSTATE, cached because every access needs them; all
// recomputed by regimeChanged().
/** SCTLR_EL1.M. */
export let mmuOn: bool = false;
/** Data accesses at the current EL are big-endian (SCTLR_EL1.EE, or E0E at EL0). */
export let bigEndianData: bool = false;
/** SCTLR_EL1.A: every unaligned data access faults. */
export let alignmentChecked: bool = false;
/** The current ASID (from TTBR0 or TTBR1 as TCR_EL1.A1 says; 8 or 16 bits by TCR_EL1.AS). */
export let curAsid: u32 = 0;
/**
 * The comparator table for data accesses at the current EL (tlb-compare.ts), or 0 when they
 * must not use one: MMU off, or PSTATE.PAN set (never today: not implemented, and exception
 * entry from EL1 does not call regimeChanged).
 */
let dataComparators: usize = 0;

/**
 * Called when anything that affects translation, permissions or data endianness changes:
 * SCTLR/TCR/TTBR/MAIR writes, exception entry and return, a vCPU switch, and every run()
 * (the VMM may have written state directly).
 */
export function regimeChanged(): void {
  fetchTag = 1;
  requestJitStop();
  const sctlr = sysregs[SCTLR_EL1];
  const on = (sctlr & 1) != 0;
  // Generated code probes the TLB whatever the MMU state (with the MMU off it holds flat
  // entries, see tlbFillFlat), so entries never survive a change of SCTLR_EL1.M.
  if (on != mmuOn) tlbFlushAll();
  mmuOn = on;
  dataComparators = !on ? 0 : getEL() == 0 ? <usize>CMP_EL0 : getPAN() != 0 ? 0 : <usize>CMP_EL1;
  alignmentChecked = (sctlr & 2) != 0;
  bigEndianData = (sctlr & (getEL() == 0 ? (<u64>1 << 24) : (<u64>1 << 25))) != 0;
  const tcr = sysregs[TCR_EL1];
  const ttbr = (tcr & (<u64>1 << 22)) ? sysregs[TTBR1_EL1] : sysregs[TTBR0_EL1];
  const asid = <u32>(ttbr >> 48);
  const newAsid = (tcr & (<u64>1 << 36)) ? asid : asid & 0xff;
  if (newAsid != curAsid) {
    curAsid = newAsid;
    asidSwitched(curAsid);
  }
  store<u32>(JIT_INFO + JI_ASID, curAsid);
}

export function tlbFlushAll(): void {
  memory.fill(TLB_BASE, 0, TLB_ENTRIES * ENTRY_BYTES);
  clearComparators();
  blocksCached = false;
  maxBlockShift = 12;
  fetchTag = 1;
  requestJitStop();
}

@inline function entryIndex(va: u64): u32 {
  return <u32>(va >> 12) & (TLB_ENTRIES - 1);
}

@inline function entryAddr(va: u64): usize {
  return TLB_BASE + <usize>(entryIndex(va) * ENTRY_BYTES);
}

/** The index of the TLB entry at wasm address e. */
@inline function indexOf(e: usize): u32 {
  return <u32>(e - TLB_BASE) / ENTRY_BYTES;
}

@inline export function mmuEnabled(): bool {
  return mmuOn;
}

@inline function currentAsid(): u32 {
  return curAsid;
}

/** Permission bits an access needs at the current EL. `unpriv` is LDTR/STTR at EL1. */
@inline export function neededPerms(acc: u32, unpriv: bool): u32 {
  const el0 = getEL() == 0 || unpriv;
  let need: u32 = el0 ? (P_R0 << acc) : (P_R1 << acc);
  if (!el0 && acc != ACC_EXEC && getPAN() != 0) need |= P_NOT_EL0;
  return need | P_VALID;
}

/**
 * Translates va for an access needing `need` (from neededPerms). On success returns true with
 * walkPa and walkFlags set; on failure returns false with walkFault set.
 */
export function translate(va: u64, acc: u32, need: u32): bool {
  if (!mmuEnabled()) return translateFlat(va, acc);
  const e = entryAddr(va);
  const tag = va >> 12;
  let flags = load<u32>(e + E_FLAGS);
  if (load<u64>(e + E_TAG) != tag || (flags & P_VALID) == 0 ||
      ((flags & P_GLOBAL) == 0 && load<u32>(e + E_ASID) != currentAsid())) {
    if (!walk(va, acc)) return false;
    fillEntry(e, tag);
    flags = walkFlags;
  } else {
    walkPa = load<u64>(e + E_PA) | (va & 0xfff);
    walkFlags = flags;
  }
  if ((flags & need) != need) {
    walkFault = FSC_PERMISSION | lastLevelOf(flags);
    return false;
  }
  return true;
}

// The walk level is kept in the spare top bits of flags for permission-fault syndromes.
@inline function lastLevelOf(flags: u32): u32 { return (flags >> 28) & 3; }

function translateFlat(va: u64, acc: u32): bool {
  // MMU off: VA = PA; addresses beyond the 48-bit PA range give an address size fault at level 0.
  if ((va >> 48) != 0) {
    walkFault = FSC_ADDR_SIZE;
    return false;
  }
  walkPa = va;
  const isRam = va >= ramBase && va < ramEnd;
  // With the MMU off, data accesses are Device-nGnRnE; instruction fetches are Normal.
  walkFlags = P_VALID | P_R1 | P_W1 | P_X1 | P_R0 | P_W0 | P_X0 | P_NOT_EL0 |
    (isRam ? P_RAM : 0) | (acc == ACC_EXEC ? 0xff << 16 : P_DEVICE);
  return true;
}

function fillEntry(e: usize, tag: u64): void {
  store<u64>(e + E_TAG, tag);
  const pa = walkPa & ~<u64>0xfff;
  store<u64>(e + E_PA, pa);
  let flags = walkFlags;
  if (flags & P_RAM) {
    store<u64>(e + E_ADDEND, (<u64>RAM_HOST_BASE + pa - ramBase) - (tag << 12));
    if (pageHasCode(ramHost(pa))) flags |= P_CODE;
    if (cacheCheckOn || watchpointsArmed) flags |= P_SLOW;
  } else {
    store<u64>(e + E_ADDEND, 0);
  }
  store<u32>(e + E_FLAGS, flags);
  store<u32>(e + E_ASID, currentAsid());
  refreshComparators(indexOf(e), curAsid);
  if (walkFlags & P_BLOCK) {
    blocksCached = true;
    if (walkShift > maxBlockShift) maxBlockShift = walkShift;
  }
}

/**
 * With the MMU off, fills the TLB entry for va with the flat mapping, so that the TLB probe in
 * JIT-generated code (which does not look at the MMU state) finds RAM pages. The interpreter
 * never reads these entries: translate() does not consult the TLB with the MMU off.
 */
export function tlbFillFlat(va: u64): void {
  if (mmuOn || va < ramBase || va >= ramEnd) return;
  const e = entryAddr(va);
  const tag = va >> 12;
  const pa = tag << 12;
  store<u64>(e + E_TAG, tag);
  store<u64>(e + E_PA, pa);
  store<u64>(e + E_ADDEND, <u64>RAM_HOST_BASE - ramBase);
  let flags = P_VALID | P_R1 | P_W1 | P_X1 | P_R0 | P_W0 | P_X0 | P_NOT_EL0 | P_RAM | P_GLOBAL;
  if (pageHasCode(ramHost(pa))) flags |= P_CODE;
  if (cacheCheckOn || watchpointsArmed) flags |= P_SLOW;
  store<u32>(e + E_FLAGS, flags);
  store<u32>(e + E_ASID, 0);
  refreshComparators(indexOf(e), curAsid);
}

/** Sets or clears P_CODE on every valid entry mapping the physical page `pa`. */
export function tlbMarkCode(pa: u64, code: bool): void {
  for (let i: u32 = 0; i < TLB_ENTRIES; i++) {
    const p = TLB_BASE + <usize>(i * ENTRY_BYTES);
    const flags = load<u32>(p + E_FLAGS);
    if ((flags & (P_VALID | P_RAM)) == (P_VALID | P_RAM) && load<u64>(p + E_PA) == pa) {
      store<u32>(p + E_FLAGS, code ? flags | P_CODE : flags & ~P_CODE);
      refreshComparators(i, curAsid);
    }
  }
}

/** Clears P_CODE everywhere (the JIT dropped all its code). */
export function tlbClearCodeMarks(): void {
  for (let i: u32 = 0; i < TLB_ENTRIES; i++) {
    const p = TLB_BASE + <usize>(i * ENTRY_BYTES);
    const flags = load<u32>(p + E_FLAGS);
    if (flags & P_CODE) {
      store<u32>(p + E_FLAGS, flags & ~P_CODE);
      refreshComparators(i, curAsid);
    }
  }
}

/**
 * The fast path for RAM (read, or write when `write`): the wasm address of va if the TLB's
 * comparators let an access aligned by `alignMask` (size - 1) go straight to RAM, else 0.
 * With the MMU off (data is Device memory, where only unaligned accesses are special), RAM
 * needs no TLB: it is checked directly, pages holding translated code excepted for writes.
 */
@inline export function tlbHost(va: u64, alignMask: u32, write: bool, unpriv: bool): usize {
  if (!mmuOn) {
    const off = va - ramBase;
    if ((<u32>va & alignMask) != 0 || off >= directRamSize) return 0;
    const h = RAM_HOST_BASE + <usize>off;
    return write && pageHasCode(h) ? 0 : h;
  }
  // LDTR/STTR are checked as EL0's; PAN is not in the comparators (the slow path checks it).
  const table = unpriv ? <usize>CMP_EL0 : dataComparators;
  if (table == 0) return 0;
  const c = table + cmpOffset(va);
  if ((va & (~<u64>0xfff | <u64>alignMask)) != load<u64>(c + (write ? C_WRITE : C_READ))) return 0;
  return <usize>(va + load<u64>(c + C_ADDEND));
}

/** Wasm address of a RAM physical address. */
@inline export function ramHost(pa: u64): usize {
  return <usize>(pa - ramBase) + RAM_HOST_BASE;
}

// ---- the table walk ----

function readDescriptor(pa: u64): u64 {
  // Descriptors are little-endian unless SCTLR_EL1.EE says otherwise.
  const v = load<u64>(ramHost(pa));
  return (sysregs[SCTLR_EL1] & (1 << 25)) ? bswap<u64>(v) : v;
}

/**
 * Whether table walks through TTBR1 (`upper`) or TTBR0 go through the data cache: TCR_EL1's
 * IRGN1/IRGN0 says a cacheable inner type, and SCTLR_EL1.C is set (with C = 0 walks are
 * Non-cacheable).
 */
function walkCacheable(tcr: u64, upper: bool): bool {
  const irgn = <u32>(upper ? tcr >> 24 : tcr >> 8) & 3;
  return irgn != 0 && (sysregs[SCTLR_EL1] & (1 << 2)) != 0;
}

function walk(va: u64, acc: u32): bool {
  const tcr = sysregs[TCR_EL1];
  const upper = ((va >> 55) & 1) != 0;
  // Top-byte-ignore: TBI0 (bit 37) / TBI1 (bit 38) exclude bits 63:56 from the checks below.
  const tbi = upper ? (tcr >> 38) & 1 : (tcr >> 37) & 1;
  const tsz = <u32>(upper ? (tcr >> 16) & 0x3f : tcr & 0x3f);
  const epd = upper ? (tcr >> 23) & 1 : (tcr >> 7) & 1;
  const tg = <u32>(upper ? (tcr >> 30) & 3 : (tcr >> 14) & 3);
  // Granule: TG0 00=4K 01=64K 10=16K; TG1 01=16K 10=4K 11=64K.
  let pageShift: u32 = 12;
  if (upper) pageShift = tg == 1 ? 14 : tg == 3 ? 16 : 12;
  else pageShift = tg == 1 ? 16 : tg == 2 ? 14 : 12;
  const inputBits: u32 = 64 - max<u32>(tsz, 16);
  const stride = pageShift - 3;

  // Every bit above the input range must equal bit 55 (top byte excluded with TBI).
  const topBit: u32 = tbi ? 56 : 64;
  const high = topBit > inputBits ? (va << (64 - topBit)) >> (64 - topBit + inputBits) : 0;
  const expect: u64 = upper ? ones(topBit - inputBits) : 0;
  if (high != expect || epd != 0 || tsz > 39) {
    walkFault = FSC_TRANSLATION | 0;
    return false;
  }

  const levels = (inputBits - pageShift + stride - 1) / stride;
  let level: u32 = 4 - levels;
  const ttbr = upper ? sysregs[TTBR1_EL1] : sysregs[TTBR0_EL1];
  // BADDR; bit 0 is CnP, and the low bits below the table's alignment are RES0.
  let table: u64 = ttbr & 0x0000fffffffffffe;
  // Output addresses (tables, blocks, pages) beyond TCR_EL1.IPS, capped at the implemented 48
  // bits, give an Address size fault: at level 0 for the TTBR, else at the descriptor's level.
  const ips = <u32>(tcr >> 32) & 7;
  const paBits: u32 = ips == 0 ? 32 : ips == 1 ? 36 : ips == 2 ? 40 : ips == 3 ? 42 : ips == 4 ? 44 : 48;
  const paTooHigh: u64 = 0x0000ffffffffffff & ~ones(paBits);
  if ((table & paTooHigh) != 0) {
    walkFault = FSC_ADDR_SIZE | 0;
    return false;
  }
  // Hierarchical permission limits from table descriptors.
  let apTable: u32 = 0;
  let pxnTable: u32 = 0;
  let uxnTable: u32 = 0;
  const hpd = upper ? (tcr >> 42) & 1 : (tcr >> 41) & 1;
  let bitsLeft = inputBits;

  while (true) {
    const shift = pageShift + stride * (3 - level);
    const indexBits = bitsLeft - shift;
    const index = (va >> shift) & ones(indexBits);
    bitsLeft = shift;
    const descPa = table + (index << 3);
    if (descPa < ramBase || descPa + 8 > ramEnd) {
      walkFault = FSC_EXTERNAL_WALK | level;
      return false;
    }
    if (cacheCheckOn) checkRead(descPa, 8, walkCacheable(tcr, upper));
    const desc = readDescriptor(descPa);
    const kind = desc & 3;
    if ((kind & 1) == 0) {
      walkFault = FSC_TRANSLATION | level;
      return false;
    }
    if (level < 3 && kind == 3) {
      // Table descriptor.
      if ((desc & paTooHigh) != 0) {
        walkFault = FSC_ADDR_SIZE | level;
        return false;
      }
      if (!hpd) {
        apTable |= <u32>(desc >> 61) & 3;
        uxnTable |= <u32>(desc >> 60) & 1;
        pxnTable |= <u32>(desc >> 59) & 1;
      }
      table = desc & 0x0000fffffffff000 & ~ones(pageShift);
      level++;
      continue;
    }
    // Block (levels 1-2, kind 01) or page (level 3, kind 11).
    if (level == 3 && kind != 3) {
      walkFault = FSC_TRANSLATION | level;
      return false;
    }
    const blockOk = level == 2 || (level == 1 && pageShift == 12);
    if (level < 3 && !blockOk) {
      walkFault = FSC_TRANSLATION | level;
      return false;
    }
    if ((desc & paTooHigh) != 0) {
      walkFault = FSC_ADDR_SIZE | level;
      return false;
    }
    const outMask = ones(shift);
    const pa = (desc & 0x0000ffffffffffff & ~outMask) | (va & outMask);
    if ((desc & (1 << 10)) == 0) {
      walkFault = FSC_ACCESS_FLAG | level;
      return false;
    }
    walkPa = pa;
    walkShift = shift;
    walkFlags = leafFlags(desc, apTable, pxnTable, uxnTable, level) |
      (shift > 12 ? P_BLOCK : 0) | (level << 28);
    if (pa >= ramBase && pa < ramEnd) walkFlags |= P_RAM;
    return true;
  }
  return false;
}

@inline function ones(n: u32): u64 {
  return n >= 64 ? <u64>-1 : (<u64>1 << n) - 1;
}

function leafFlags(desc: u64, apTable: u32, pxnTable: u32, uxnTable: u32, level: u32): u32 {
  const ap = <u32>(desc >> 6) & 3; // AP[2:1]
  let el0Access = (ap & 1) != 0 && (apTable & 1) == 0;
  let readOnly = (ap & 2) != 0 || (apTable & 2) != 0;
  let f: u32 = P_VALID | P_R1;
  if (!readOnly) f |= P_W1;
  if (el0Access) {
    f |= P_R0;
    if (!readOnly) f |= P_W0;
  } else {
    f |= P_NOT_EL0;
  }
  const uxn = ((desc >> 54) & 1) != 0 || uxnTable != 0;
  let pxn = ((desc >> 53) & 1) != 0 || pxnTable != 0;
  // Memory writable at EL0 is never executable at EL1.
  if (el0Access && !readOnly) pxn = true;
  const wxn = (sysregs[SCTLR_EL1] & (1 << 19)) != 0;
  if (!pxn && !(wxn && (f & P_W1))) f |= P_X1;
  if (!uxn && !(wxn && (f & P_W0))) f |= P_X0;
  if ((desc & (1 << 11)) == 0) f |= P_GLOBAL; // nG = 0
  // MAIR attribute: 0b0000xx00 is Device memory.
  const attrIndx = <u32>(desc >> 2) & 7;
  const attr = <u32>(sysregs[MAIR_EL1] >> (attrIndx * 8)) & 0xff;
  if ((attr & 0xf0) == 0) f |= P_DEVICE;
  return f | (attr << 16);
}

// ---- TLB maintenance ----

/** Drops the entries for one VA (all ASIDs when asid < 0), including entries cached from blocks. */
export function tlbFlushVa(va: u64, asid: i32): void {
  const e = entryAddr(va);
  flushIfMatch(e, asid);
  if (blocksCached) {
    // A block can be cached under any of its 4K pages: drop the block entries of every page of
    // the naturally aligned region, as large as the largest mapping cached, that holds va
    // (any block holding va lies inside it). Its pages sit at consecutive TLB indices.
    const pages: u32 = maxBlockShift - 12 >= 12 ? TLB_ENTRIES : <u32>1 << (maxBlockShift - 12);
    const first = <u32>(va >> 12) & ~(pages - 1);
    for (let k: u32 = 0; k < pages; k++) {
      const p = TLB_BASE + <usize>(((first + k) & (TLB_ENTRIES - 1)) * ENTRY_BYTES);
      if (load<u32>(p + E_FLAGS) & P_BLOCK) flushIfMatch(p, asid);
    }
  }
  fetchTag = 1;
  requestJitStop();
}

@inline function flushIfMatch(e: usize, asid: i32): void {
  const flags = load<u32>(e + E_FLAGS);
  if (asid < 0 || (flags & P_GLOBAL) != 0 || load<u32>(e + E_ASID) == <u32>asid) {
    store<u32>(e + E_FLAGS, 0);
    refreshComparators(indexOf(e), curAsid);
  }
}

/** Drops every non-global entry of one ASID. */
export function tlbFlushAsid(asid: u32): void {
  for (let i: u32 = 0; i < TLB_ENTRIES; i++) {
    const p = TLB_BASE + <usize>(i * ENTRY_BYTES);
    const flags = load<u32>(p + E_FLAGS);
    if ((flags & (P_VALID | P_GLOBAL)) == P_VALID && load<u32>(p + E_ASID) == asid) {
      store<u32>(p + E_FLAGS, 0);
      refreshComparators(i, curAsid);
    }
  }
  fetchTag = 1;
  requestJitStop();
}

/**
 * AArch64.BranchAddr for the EL1&0 regime: with top-byte-ignore in force for the target's
 * half of the address space (TCR_EL1.TBI0/TBI1), the tag is dropped by sign-extending bit 55.
 */
export function branchAddress(target: u64): u64 {
  const tbi = (target >> 55) & 1 ? (sysregs[TCR_EL1] >> 38) & 1 : (sysregs[TCR_EL1] >> 37) & 1;
  return tbi ? <u64>((<i64>(target << 8)) >> 8) : target;
}
