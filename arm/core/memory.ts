// Guest virtual memory access for load/store handlers.
//
// Every access goes: TLB fast path (RAM, aligned within a page, permissions cached) -> slow
// path (translation, alignment rules, page-crossing split, MMIO via the VMM's trap bus). A
// failed access takes the data abort itself and sets `faulted`; the handler must then stop
// without writing any register (precise exceptions).

import {
  ACTIVE_STATE, EXIT_RECORD, EXIT_DATA, EXIT_ESR, VCPU_ID, EXCL_STATE, EXCL_ADDR, EXCL_SIZE, EXCL_VALUE, EXCL_VALUE_HI,
  EXIT_MMIO_ABORT, MMIO_DONE, MMIO_EXTERNAL_ABORT, MMIO_FETCH,
} from "../abi";
import { pc } from "./state";
import { sysregs, SCTLR_EL1 } from "./sysreg-file";
import {
  translate, neededPerms, tlbHost, ramHost, walkFault, walkFlags, walkPa,
  ACC_READ, ACC_WRITE, P_RAM, P_DEVICE, FSC_ALIGNMENT, bigEndianData, alignmentChecked, attrOf,
} from "./mmu";
import { dataAbort, faulted, externalDataAbort, abandonInstruction, instructionAbort, FSC_SYNC_EXTERNAL } from "./exceptions";
import { setExitReason } from "./exit-request";
import { pageHasCode } from "./jit/marks";
import { cacheCheckOn, checkRead, checkWrite, attrCacheable, attrWriteBack } from "./cache-check";
import { jitInvalidateHostPage } from "./jit/cache";
import { watchpointsArmed, watchpointHit } from "./debug";

/**
 * The trap bus: data passes through EXIT_RECORD + EXIT_DATA (little-endian), or EXIT_DATA64 for
 * a 64-byte access. Returns MMIO_DONE, MMIO_STOP or MMIO_EXTERNAL_ABORT.
 */
@external("env", "mmio")
export declare function mmioAccess(vcpu: i32, gpa: f64, lengthBytes: i32, isWrite: i32): i32;

// Access flags.
export const AF_UNPRIV: u32 = 1; // LDTR/STTR: checked as EL0 when executed at EL1
export const AF_ALIGNED: u32 = 2; // exclusive, acquire/release, atomic: must be size-aligned

/**
 * Instruction syndrome of the current access (ISS bits 24:14 — ISV, SAS, SSE, SRT, SF, AR), set
 * by single-register load/store handlers; 0 (ISV = 0) for forms hardware gives no syndrome.
 * The architecture reports it only to EL2 ("ISV is 0 for all faults reported in ESR_EL1"), so
 * it never reaches ESR_EL1: it goes to the VMM with each MMIO access (EXIT_ESR), which is
 * where KVM sees it.
 */
export let accessSyndrome: u32 = 0;

/**
 * Acts on what the VMM answered for a trapped access at `va`: an external abort is taken; a
 * stop abandons the instruction and ends run() (as KVM_RUN failing leaves the vCPU).
 * Returns whether the access completed.
 */
export function mmioCompleted(outcome: i32, va: u64): bool {
  if (outcome == MMIO_DONE) return true;
  if (outcome == MMIO_EXTERNAL_ABORT) {
    externalDataAbort(va);
  } else {
    abandonInstruction();
    setExitReason(EXIT_MMIO_ABORT);
  }
  return false;
}

/** Builds the ISV syndrome of a single-register access. */
@inline export function syndrome(sizeLog2: u32, signExtend: u32, rt: u32, sf: u32, acqRel: u32): u32 {
  return (1 << 24) | (sizeLog2 << 22) | (signExtend << 21) | (rt << 16) | (sf << 15) | (acqRel << 14);
}

@inline export function setSyndrome(s: u32): void { accessSyndrome = s; }

/** Whether data accesses at the current EL are big-endian (SCTLR_EL1.EE, or E0E at EL0). */
@inline export function dataBigEndian(): bool {
  return bigEndianData;
}

@inline function swapIfBE(v: u64, size: u32): u64 {
  if (!dataBigEndian()) return v;
  if (size == 8) return bswap<u64>(v);
  if (size == 4) return <u64>bswap<u32>(<u32>v);
  if (size == 2) return <u64>bswap<u16>(<u16>v);
  return v;
}

// ---- the fast paths ----

@inline function readHost(va: u64, alignMask: u32, flags: u32): usize {
  return tlbHost(va, alignMask, false, (flags & AF_UNPRIV) != 0);
}

@inline function writeHost(va: u64, alignMask: u32, flags: u32): usize {
  return tlbHost(va, alignMask, true, (flags & AF_UNPRIV) != 0);
}

@inline export function read8(va: u64, flags: u32): u64 {
  const h = readHost(va, 0, flags);
  if (h) return <u64>load<u8>(h);
  return slowRead(va, 1, flags);
}

@inline export function read16(va: u64, flags: u32): u64 {
  const h = readHost(va, 1, flags);
  if (h && !dataBigEndian()) return <u64>load<u16>(h);
  return slowRead(va, 2, flags);
}

@inline export function read32(va: u64, flags: u32): u64 {
  const h = readHost(va, 3, flags);
  if (h && !dataBigEndian()) return <u64>load<u32>(h);
  return slowRead(va, 4, flags);
}

@inline export function read64(va: u64, flags: u32): u64 {
  const h = readHost(va, 7, flags);
  if (h && !dataBigEndian()) return load<u64>(h);
  return slowRead(va, 8, flags);
}

@inline export function write8(va: u64, v: u64, flags: u32): void {
  const h = writeHost(va, 0, flags);
  if (h) { store<u8>(h, <u8>v); return; }
  slowWrite(va, 1, v, flags);
}

@inline export function write16(va: u64, v: u64, flags: u32): void {
  const h = writeHost(va, 1, flags);
  if (h && !dataBigEndian()) { store<u16>(h, <u16>v); return; }
  slowWrite(va, 2, v, flags);
}

@inline export function write32(va: u64, v: u64, flags: u32): void {
  const h = writeHost(va, 3, flags);
  if (h && !dataBigEndian()) { store<u32>(h, <u32>v); return; }
  slowWrite(va, 4, v, flags);
}

@inline export function write64(va: u64, v: u64, flags: u32): void {
  const h = writeHost(va, 7, flags);
  if (h && !dataBigEndian()) { store<u64>(h, v); return; }
  slowWrite(va, 8, v, flags);
}

/** A read of 1, 2, 4 or 8 bytes. */
export function readMem(va: u64, size: u32, flags: u32): u64 {
  if (size == 8) return read64(va, flags);
  if (size == 4) return read32(va, flags);
  if (size == 2) return read16(va, flags);
  return read8(va, flags);
}

/** A write of 1, 2, 4 or 8 bytes. */
export function writeMem(va: u64, size: u32, v: u64, flags: u32): void {
  if (size == 8) write64(va, v, flags);
  else if (size == 4) write32(va, v, flags);
  else if (size == 2) write16(va, v, flags);
  else write8(va, v, flags);
}

/**
 * readMem of 1 << sizeLog2 bytes with the fast path inline (the interpreter's single-register
 * loads and stores, whose size is a field of the word): the TLB probe and a sized load, else
 * the call.
 */
@inline export function readSized(va: u64, sizeLog2: u32, flags: u32): u64 {
  const h = readHost(va, (1 << sizeLog2) - 1, flags);
  if (h != 0 && !dataBigEndian()) {
    if (sizeLog2 == 3) return load<u64>(h);
    if (sizeLog2 == 2) return <u64>load<u32>(h);
    if (sizeLog2 == 1) return <u64>load<u16>(h);
    return <u64>load<u8>(h);
  }
  return readMem(va, 1 << sizeLog2, flags);
}

/** writeMem of 1 << sizeLog2 bytes with the fast path inline (see readSized). */
@inline export function writeSized(va: u64, sizeLog2: u32, v: u64, flags: u32): void {
  const h = writeHost(va, (1 << sizeLog2) - 1, flags);
  if (h != 0 && !dataBigEndian()) {
    if (sizeLog2 == 3) store<u64>(h, v);
    else if (sizeLog2 == 2) store<u32>(h, <u32>v);
    else if (sizeLog2 == 1) store<u16>(h, <u16>v);
    else store<u8>(h, <u8>v);
    return;
  }
  writeMem(va, 1 << sizeLog2, v, flags);
}

// ---- the slow path ----

@inline function strictAlign(): bool {
  return alignmentChecked; // SCTLR_EL1.A
}

function abort(va: u64, fsc: u32, isWrite: bool): void {
  dataAbort((isWrite ? (1 << 6) : 0) | fsc, va);
}

/** Translates one access that does not cross a page; returns false after taking the abort. */
function translateData(va: u64, size: u32, acc: u32, flags: u32): bool {
  const misaligned = (va & <u64>(size - 1)) != 0;
  if (misaligned && ((flags & AF_ALIGNED) != 0 || strictAlign())) {
    abort(va, FSC_ALIGNMENT, acc == ACC_WRITE);
    return false;
  }
  // Watchpoints come after alignment faults and before MMU faults (ARM ARM D1, exception priority).
  if (watchpointsArmed && watchpointHit(va, size, acc == ACC_WRITE, (flags & AF_UNPRIV) != 0)) return false;
  if (!translate(va, acc, neededPerms(acc, (flags & AF_UNPRIV) != 0))) {
    abort(va, walkFault, acc == ACC_WRITE);
    return false;
  }
  if (misaligned && (walkFlags & P_DEVICE) != 0) {
    abort(va, FSC_ALIGNMENT, acc == ACC_WRITE);
    return false;
  }
  return true;
}

@inline function crossesPage(va: u64, size: u32): bool {
  return ((va & 0xfff) + size) > 0x1000;
}

function slowRead(va: u64, size: u32, flags: u32): u64 {
  if (crossesPage(va, size)) {
    if ((flags & AF_ALIGNED) != 0 || strictAlign()) {
      abort(va, FSC_ALIGNMENT, false);
      return 0;
    }
    if (watchpointsArmed && watchpointHit(va, size, false, (flags & AF_UNPRIV) != 0)) return 0;
    // Translate both pages before reading anything, so a fault leaves no partial effect.
    const split = <u32>(0x1000 - (va & 0xfff));
    if (!translateData(va, 1, ACC_READ, flags)) return 0;
    if (!translateData(va + split, 1, ACC_READ, flags)) return 0;
    let v: u64 = 0;
    for (let i: u32 = 0; i < size; i++) {
      if (!translateData(va + i, 1, ACC_READ, flags)) return 0;
      v |= physRead(walkPa, 1, walkFlags, va + i) << (<u64>i * 8);
      if (faulted) return 0;
    }
    return swapIfBE(v, size);
  }
  if (!translateData(va, size, ACC_READ, flags)) return 0;
  return swapIfBE(physRead(walkPa, size, walkFlags, va), size);
}

function slowWrite(va: u64, size: u32, v: u64, flags: u32): void {
  v = swapIfBE(v, size);
  if (crossesPage(va, size)) {
    if ((flags & AF_ALIGNED) != 0 || strictAlign()) {
      abort(va, FSC_ALIGNMENT, true);
      return;
    }
    // The whole access first: a watchpoint on a later byte must stop it before any byte is written.
    if (watchpointsArmed && watchpointHit(va, size, true, (flags & AF_UNPRIV) != 0)) return;
    const split = <u32>(0x1000 - (va & 0xfff));
    if (!translateData(va, 1, ACC_WRITE, flags)) return;
    if (!translateData(va + split, 1, ACC_WRITE, flags)) return;
    for (let i: u32 = 0; i < size; i++) {
      translateData(va + i, 1, ACC_WRITE, flags);
      physWrite(walkPa, 1, v >> (<u64>i * 8), walkFlags, va + i);
      if (faulted) return;
    }
    return;
  }
  if (!translateData(va, size, ACC_WRITE, flags)) return;
  physWrite(walkPa, size, v, walkFlags, va);
}

/** Whether a data access with these translation flags goes through the data cache. */
function dataCacheable(pflags: u32): bool {
  return (pflags & P_DEVICE) == 0 && (sysregs[SCTLR_EL1] & (1 << 2)) != 0 && attrCacheable(attrOf(pflags));
}

/**
 * A little-endian read of guest physical memory (RAM or the trap bus); `va` is the address
 * the guest used, for an abort if the VMM refuses the access (then `faulted` is set).
 */
export function physRead(pa: u64, size: u32, pflags: u32, va: u64): u64 {
  if (pflags & P_RAM) {
    if (cacheCheckOn) checkRead(pa, size, dataCacheable(pflags));
    const h = ramHost(pa);
    if (size == 8) return load<u64>(h);
    if (size == 4) return <u64>load<u32>(h);
    if (size == 2) return <u64>load<u16>(h);
    return <u64>load<u8>(h);
  }
  const data = EXIT_RECORD + EXIT_DATA;
  store<u64>(data, 0);
  store<u32>(EXIT_RECORD + EXIT_ESR, accessSyndrome);
  if (!mmioCompleted(mmioAccess(<i32>load<u32>(ACTIVE_STATE + VCPU_ID), <f64>pa, size, 0), va)) return 0;
  const v = load<u64>(data);
  return size == 8 ? v : v & ((<u64>1 << (size * 8)) - 1);
}

/**
 * An instruction fetch at pc from a device: the VMM answers for memory it maps there (flash in
 * read-array mode, which kvmtool maps as a memory slot) and refuses anything else, as KVM does:
 * the guest then takes a synchronous external instruction abort. Returns the word, or -1 after
 * an abort or a stop.
 */
export function fetchFromDevice(pa: u64): i64 {
  store<u64>(EXIT_RECORD + EXIT_DATA, 0);
  store<u32>(EXIT_RECORD + EXIT_ESR, MMIO_FETCH);
  const outcome = mmioAccess(<i32>load<u32>(ACTIVE_STATE + VCPU_ID), <f64>pa, 4, 0);
  if (outcome == MMIO_DONE) return <i64>load<u32>(EXIT_RECORD + EXIT_DATA);
  if (outcome == MMIO_EXTERNAL_ABORT) instructionAbort(FSC_SYNC_EXTERNAL, pc);
  else {
    abandonInstruction();
    setExitReason(EXIT_MMIO_ABORT);
  }
  return -1;
}

/** A little-endian write of guest physical memory (RAM or the trap bus); `va` as for physRead. */
export function physWrite(pa: u64, size: u32, v: u64, pflags: u32, va: u64): void {
  if (pflags & P_RAM) {
    if (cacheCheckOn) {
      const cacheable = dataCacheable(pflags);
      checkWrite(pa, size, cacheable, cacheable && attrWriteBack(attrOf(pflags)));
    }
    const h = ramHost(pa);
    // A store to a page holding translated code drops that code (docs/jit.md).
    if (pageHasCode(h)) jitInvalidateHostPage(h);
    if (size == 8) store<u64>(h, v);
    else if (size == 4) store<u32>(h, <u32>v);
    else if (size == 2) store<u16>(h, <u16>v);
    else store<u8>(h, <u8>v);
    return;
  }
  store<u64>(EXIT_RECORD + EXIT_DATA, v);
  store<u32>(EXIT_RECORD + EXIT_ESR, accessSyndrome | (1 << 6));
  mmioCompleted(mmioAccess(<i32>load<u32>(ACTIVE_STATE + VCPU_ID), <f64>pa, size, 1), va);
}

// ---- exclusives (LDXR/STXR and friends) ----
// The local monitor records the physical address, size and the value read. A store-exclusive
// succeeds only if the monitor is open for the same address and memory still holds the value
// read — which also catches stores by other vCPUs run in between on this thread.

/** Opens the monitor after a successful exclusive load of `size` (1..16) bytes at va. */
export function markExclusive(va: u64, size: u32): void {
  if (!translate(va, ACC_READ, neededPerms(ACC_READ, false)) || (walkFlags & P_RAM) == 0) return;
  store<u32>(ACTIVE_STATE + EXCL_STATE, 1);
  store<u64>(ACTIVE_STATE + EXCL_ADDR, walkPa);
  store<u32>(ACTIVE_STATE + EXCL_SIZE, size);
  // Snapshot the raw bytes (an aligned access never crosses a page).
  const h = ramHost(walkPa);
  store<u64>(ACTIVE_STATE + EXCL_VALUE, rawBytes(h, min<u32>(size, 8)));
  store<u64>(ACTIVE_STATE + EXCL_VALUE_HI, size > 8 ? load<u64>(h + 8) : 0);
}

@inline function rawBytes(h: usize, size: u32): u64 {
  if (size == 8) return load<u64>(h);
  if (size == 4) return <u64>load<u32>(h);
  if (size == 2) return <u64>load<u16>(h);
  return <u64>load<u8>(h);
}

export function clearExclusive(): void {
  store<u32>(ACTIVE_STATE + EXCL_STATE, 0);
}

/**
 * Checks the monitor for a store-exclusive of `size` bytes at va. Takes any fault the store
 * would take (the access is checked even when the monitor fails). Returns true if the store
 * may proceed; the monitor is cleared either way.
 */
export function checkExclusive(va: u64, size: u32): bool {
  if (!translateData(va, size, ACC_WRITE, AF_ALIGNED)) return false;
  const open = load<u32>(ACTIVE_STATE + EXCL_STATE) != 0 &&
    load<u64>(ACTIVE_STATE + EXCL_ADDR) == walkPa &&
    load<u32>(ACTIVE_STATE + EXCL_SIZE) == size;
  clearExclusive();
  if (!open || (walkFlags & P_RAM) == 0) return false;
  // Compare what memory holds now with what the exclusive load saw.
  const h = ramHost(walkPa);
  if (rawBytes(h, min<u32>(size, 8)) != load<u64>(ACTIVE_STATE + EXCL_VALUE)) return false;
  return size <= 8 || load<u64>(h + 8) == load<u64>(ACTIVE_STATE + EXCL_VALUE_HI);
}

export { faulted };
