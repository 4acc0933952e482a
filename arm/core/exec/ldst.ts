// Handlers for ARM ARM C4.1.4: Loads and Stores (the integer forms; see arm/decode/ldst.ts).
//
// Every handler follows the same order: the SP alignment check (base register 31), the
// syndrome for a data abort, the memory accesses — each followed by `if (faulted) return` —
// and only then the register writes and the base writeback, so a faulting instruction changes
// no register.
//
// CONSTRAINED UNPREDICTABLE cases behave as qemu-aarch64 (the differential-test oracle):
//   - a load with writeback whose base is also a destination (LDR x1, [x1], #8; LDP with Rn = Rt
//     or Rt2) ends with the written-back address in the base;
//   - a store with writeback whose base is also a source stores the register's old value;
//   - LDP/LDPSW/LDNP with Rt = Rt2 leaves the value from the lower address; LDXP/LDAXP with
//     Rt = Rt2 leaves the value from the higher address;
//   - STXR/STXP with Rs = Rt, Rt2 or Rn stores the old register values, then writes the status.

import { pc, getX, setX, setW, getXSP, setXSP, getSP, getEL } from "../state";
import {
  readMem, writeMem, readSized, writeSized, setSyndrome, syndrome, markExclusive, checkExclusive, AF_UNPRIV, AF_ALIGNED,
} from "../memory";
import { faulted, dataAbort, spAlignmentFault } from "../exceptions";
import { sysregs, SCTLR_EL1 } from "../sysregs";
import { FSC_ALIGNMENT } from "../mmu";
import { sx64 } from "../bits";
import { noteLoadExclusive } from "../debug-state";
import { baseAligned, extendReg } from "./addressing";

// ---- shared pieces ----

// How a load widens its data into the register.
const EXT_ZERO: u32 = 0; // LDRB, LDRH, LDR: zero-extended
const EXT_SX64: u32 = 1; // LDRSB, LDRSH, LDRSW to Xt
const EXT_SX32: u32 = 2; // LDRSB, LDRSH to Wt: sign-extended to 32 bits, zero above

/**
 * The widening of a load by its opc (arm/decode/ldst.ts): 01 zero-extended, 10 sign-extended
 * to Xt, 11 to Wt. opc 00 is a store.
 */
@inline function loadExt(opc: u32): u32 {
  return opc == 1 ? EXT_ZERO : opc == 2 ? EXT_SX64 : EXT_SX32;
}

@inline function extend(v: u64, size: u32, ext: u32): u64 {
  if (ext == EXT_ZERO) return v;
  const s = <u64>sx64(v, <i32>(8 << size));
  return ext == EXT_SX64 ? s : s & 0xffffffff;
}

/** The syndrome's SF bit: whether the transfer register is an X register. */
@inline function loadSf(size: u32, ext: u32): u32 {
  return ext == EXT_SX64 || (ext == EXT_ZERO && size == 3) ? 1 : 0;
}

@inline function loadSyndrome(size: u32, ext: u32, rt: u32, acqRel: u32): u32 {
  return syndrome(size, ext != EXT_ZERO ? 1 : 0, rt, loadSf(size, ext), acqRel);
}

@inline function storeSyndrome(size: u32, rt: u32, acqRel: u32): u32 {
  return syndrome(size, 0, rt, size == 3 ? 1 : 0, acqRel);
}



// ---- single register ----

/** A load of 1 << size bytes at va into rt. */
@inline function load(va: u64, size: u32, ext: u32, rt: u32, flags: u32): void {
  const v = readSized(va, size, flags);
  if (faulted) return;
  setX(rt, extend(v, size, ext));
}

/** A load without writeback (base plus offset): a data abort reports a valid syndrome. */
@inline function loadOffset(size: u32, ext: u32, rn: u32, rt: u32, offset: u64, flags: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(loadSyndrome(size, ext, rt, 0));
  load(getXSP(rn) + offset, size, ext, rt, flags);
}

@inline function storeOffset(size: u32, rn: u32, rt: u32, offset: u64, flags: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(storeSyndrome(size, rt, 0));
  writeSized(getXSP(rn) + offset, size, getX(rt), flags);
}

/** A load with writeback: pre-index (post = false) or post-index. No syndrome. */
@inline function loadWriteback(size: u32, ext: u32, rn: u32, rt: u32, imm: i64, post: bool): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const base = getXSP(rn);
  const v = readSized(post ? base : base + <u64>imm, size, 0);
  if (faulted) return;
  setX(rt, extend(v, size, ext));
  setXSP(rn, base + <u64>imm); // after Rt: the address wins when Rn = Rt
}

@inline function storeWriteback(size: u32, rn: u32, rt: u32, imm: i64, post: bool): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const base = getXSP(rn);
  writeSized(post ? base : base + <u64>imm, size, getX(rt), 0);
  if (faulted) return;
  setXSP(rn, base + <u64>imm);
}

// Immediate offset: unsigned (scaled), unscaled, unprivileged, pre- and post-index. Unprivileged
// (LDTR, STTR): at EL1 the access is checked as EL0's would be (at EL0 it is an ordinary one); a
// single register without writeback, so the syndrome is valid.
@inline export function exec_LDST_imm(size: u32, opc: u32, imm: i64, rn: u32, rt: u32, wback: u32, post: u32, unpriv: u32): void {
  if (wback) {
    if (opc == 0) storeWriteback(size, rn, rt, imm, post != 0);
    else loadWriteback(size, loadExt(opc), rn, rt, imm, post != 0);
    return;
  }
  const flags: u32 = unpriv ? AF_UNPRIV : 0;
  if (opc == 0) storeOffset(size, rn, rt, <u64>imm, flags);
  else loadOffset(size, loadExt(opc), rn, rt, <u64>imm, flags);
}

// Register offset: Xm extended by option, shifted left by the access size when S = 1.
@inline export function exec_LDST_reg(size: u32, opc: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): void {
  const offset = extendReg(rm, option, S ? size : 0);
  if (opc == 0) storeOffset(size, rn, rt, offset, 0);
  else loadOffset(size, loadExt(opc), rn, rt, offset, 0);
}

// Literal: PC-relative, never SP-based.
@inline export function exec_LDR_lit(size: u32, opc: u32, offset: i64, rt: u32): void {
  const ext = loadExt(opc);
  setSyndrome(loadSyndrome(size, ext, rt, 0));
  load(pc + <u64>offset, size, ext, rt, 0);
}

// Prefetch: a hint with no architectural effect; it never faults (nor checks SP alignment).
export function exec_PRFM(): void {}

// ---- pairs ----

/**
 * LDP/LDPSW/LDNP of two 1 << size byte elements. Both reads happen before any register is
 * written; Rt is written last (Rt = Rt2 keeps the lower element) and the base after that.
 */
@inline function loadPair(size: u32, ext: u32, imm: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const base = getXSP(rn);
  const va = postIndex ? base : base + <u64>imm;
  const bytes: u32 = 1 << size;
  const first = readSized(va, size, 0);
  if (faulted) return;
  const second = readSized(va + bytes, size, 0);
  if (faulted) return;
  setX(rt2, extend(second, size, ext));
  setX(rt, extend(first, size, ext));
  if (wback) setXSP(rn, base + <u64>imm);
}

@inline function storePair(size: u32, imm: i64, rt2: u32, rn: u32, rt: u32, wback: u32, postIndex: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const base = getXSP(rn);
  const va = postIndex ? base : base + <u64>imm;
  const bytes: u32 = 1 << size;
  writeSized(va, size, getX(rt), 0);
  if (faulted) return;
  writeSized(va + bytes, size, getX(rt2), 0);
  if (faulted) return;
  if (wback) setXSP(rn, base + <u64>imm);
}

// LDP/STP/LDNP/STNP of W or X registers, and LDPSW: opc as for a single register.
@inline export function exec_LDSTP(size: u32, opc: u32, imm: i64, rt2: u32, rn: u32, rt: u32, wback: u32, post: u32): void {
  if (opc == 0) storePair(size, imm, rt2, rn, rt, wback, post);
  else loadPair(size, loadExt(opc), imm, rt2, rn, rt, wback, post);
}

// ---- exclusives, load-acquire, store-release ----
// Memory is sequentially consistent on one thread, so acquire/release (o0) adds only the
// syndrome's AR bit. Exclusives give no instruction syndrome (ISV = 0), as the ARM ARM lists
// them among the accesses without one; LDAR/STLR do give one. All of them need natural alignment.

export function exec_LDXR(size: u32, o0: u32, rn: u32, rt: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const va = getXSP(rn);
  const bytes: u32 = 1 << size;
  const v = readMem(va, bytes, AF_ALIGNED);
  if (faulted) return;
  markExclusive(va, bytes);
  noteLoadExclusive();
  setX(rt, v);
}

export function exec_STXR(size: u32, rs: u32, o0: u32, rn: u32, rt: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const va = getXSP(rn);
  const bytes: u32 = 1 << size;
  const data = getX(rt);
  if (!checkExclusive(va, bytes)) {
    if (!faulted) setW(rs, 1);
    return;
  }
  writeMem(va, bytes, data, AF_ALIGNED);
  if (faulted) return;
  setW(rs, 0);
}

/** An alignment fault for an exclusive pair, which must be aligned to its total size. */
function pairAlignmentFault(va: u64, isWrite: bool): void {
  setSyndrome(0);
  dataAbort(FSC_ALIGNMENT | (isWrite ? (1 << 6) : 0), va);
}

export function exec_LDXP(sz: u32, o0: u32, rt2: u32, rn: u32, rt: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const va = getXSP(rn);
  const bytes: u32 = 4 << sz;
  if ((va & <u64>(2 * bytes - 1)) != 0) {
    pairAlignmentFault(va, false);
    return;
  }
  const first = readMem(va, bytes, AF_ALIGNED);
  if (faulted) return;
  const second = readMem(va + bytes, bytes, AF_ALIGNED);
  if (faulted) return;
  markExclusive(va, 2 * bytes);
  noteLoadExclusive();
  setX(rt, first);
  setX(rt2, second);
}

export function exec_STXP(sz: u32, rs: u32, o0: u32, rt2: u32, rn: u32, rt: u32): void {
  if (!baseAligned(rn)) return;
  setSyndrome(0);
  const va = getXSP(rn);
  const bytes: u32 = 4 << sz;
  const first = getX(rt);
  const second = getX(rt2);
  if (!checkExclusive(va, 2 * bytes)) {
    if (!faulted) setW(rs, 1);
    return;
  }
  writeMem(va, bytes, first, AF_ALIGNED);
  if (faulted) return;
  writeMem(va + bytes, bytes, second, AF_ALIGNED);
  if (faulted) return;
  setW(rs, 0);
}

// LDAR (opc 01), STLR (opc 00).
@inline export function exec_LDST_acqrel(size: u32, rn: u32, rt: u32, opc: u32): void {
  if (!baseAligned(rn)) return;
  if (opc == 0) {
    setSyndrome(storeSyndrome(size, rt, 1));
    writeMem(getXSP(rn), 1 << size, getX(rt), AF_ALIGNED);
  } else {
    setSyndrome(loadSyndrome(size, EXT_ZERO, rt, 1));
    load(getXSP(rn), size, EXT_ZERO, rt, AF_ALIGNED);
  }
}
