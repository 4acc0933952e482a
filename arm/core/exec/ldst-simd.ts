// Handlers for the SIMD&FP loads and stores and the AdvSIMD structure loads and stores
// (arm/decode/ldst-simd.ts).
//
// Order in every handler: the decode-time UNDEFINED checks, the FP access check, the SP
// alignment check (base register 31), the accesses — each followed by `if (faulted) return` —
// and only then the register writes and the base writeback. Loads gather into `scratch` first,
// so a load that faults part-way changes no register. A store that faults part-way has written
// the elements before the fault, as the architecture allows. SIMD&FP accesses have no valid
// instruction syndrome (ISV = 0).
//
// CONSTRAINED UNPREDICTABLE: LDP/LDNP with Rt = Rt2 leaves the value from the higher address,
// as qemu-aarch64 does.

import { pc, getX, getXSP, setXSP, getSP, getEL, vAddr } from "../state";
import { readMem, writeMem, read64, write64, setSyndrome, dataBigEndian, accessSyndrome } from "../memory";
import { faulted, spAlignmentFault, undefinedInstruction, dataAbort } from "../exceptions";
import { sysregs, SCTLR_EL1 } from "../sysregs";
import { translate, neededPerms, walkFlags, ACC_READ, ACC_WRITE, P_DEVICE, FSC_ALIGNMENT } from "../mmu";
import { checkFpEnabled } from "../fp-access";
import { sx64 } from "../bits";
import { scratch, clearScratch, loadElem, storeElem } from "./simd-lanes";
import { baseAligned, extendReg } from "./addressing";

// ---- shared pieces ----


/** The checks every SIMD&FP load/store makes before its first access. */
@inline function start(rn: u32): bool {
  if (!checkFpEnabled()) return false;
  if (!baseAligned(rn)) return false;
  setSyndrome(0);
  return true;
}


// Result of readV: the low and high 64 bits of a register-sized access.
let vlo: u64 = 0;
let vhi: u64 = 0;

/**
 * The alignment check a 128-bit access needs beyond its two 64-bit halves': at va = 8 (mod 16)
 * each half is aligned but the whole is not, which faults under strict alignment (SCTLR_EL1.A,
 * checked before translation) and in Device memory (after it). Takes the fault and returns
 * true if there is one; a translation fault is left to the access itself.
 */
function misaligned128(va: u64, acc: u32): bool {
  if ((va & 15) != 8) return false;
  if ((sysregs[SCTLR_EL1] & 2) == 0) {
    if (!translate(va, acc, neededPerms(acc, false)) || (walkFlags & P_DEVICE) == 0) return false;
  }
  dataAbort(accessSyndrome | (acc == ACC_WRITE ? (1 << 6) : 0) | FSC_ALIGNMENT, va);
  return true;
}

/** Reads 1 << scale bytes (1..16) at va into vlo:vhi (zero-extended). */
function readV(va: u64, scale: u32): void {
  if (scale < 4) {
    vlo = readMem(va, 1 << scale, 0);
    vhi = 0;
    return;
  }
  if (misaligned128(va, ACC_READ)) return;
  // A 128-bit access is two 64-bit ones; big-endian data reverses all 16 bytes.
  const a = read64(va, 0);
  if (faulted) return;
  const b = read64(va + 8, 0);
  if (dataBigEndian()) { vlo = b; vhi = a; } else { vlo = a; vhi = b; }
}

/** Writes the low 1 << scale bytes of Vt to va. */
function writeV(va: u64, scale: u32, t: u32): void {
  const a = vAddr(t);
  if (scale < 4) {
    writeMem(va, 1 << scale, load<u64>(a), 0);
    return;
  }
  if (misaligned128(va, ACC_WRITE)) return;
  const be = dataBigEndian();
  write64(va, load<u64>(a + (be ? 8 : 0)), 0);
  if (faulted) return;
  write64(va + 8, load<u64>(a + (be ? 0 : 8)), 0);
}

/** V[t] = vlo:vhi (a scalar load zeroes the rest of the register). */
@inline function setVFromRead(t: u32): void {
  store<u64>(vAddr(t), vlo);
  store<u64>(vAddr(t) + 8, vhi);
}

// ---- single register ----

/** A load or store of 1 << scale bytes at Xn|SP + offset, then the writeback. */
function single(scale: u32, L: u32, rn: u32, rt: u32, offset: u64, wback: bool, postIndex: bool): void {
  if (scale > 4) {
    undefinedInstruction();
    return;
  }
  if (!start(rn)) return;
  const base = getXSP(rn);
  const va = postIndex ? base : base + offset;
  if (L) {
    readV(va, scale);
    if (faulted) return;
    setVFromRead(rt);
  } else {
    writeV(va, scale, rt);
    if (faulted) return;
  }
  if (wback) setXSP(rn, base + offset);
}

// Unscaled, unsigned (scaled), pre- and post-index offsets.
export function exec_LDST_imm_simd(scale: u32, L: u32, imm: i64, rn: u32, rt: u32, wback: u32, post: u32): void {
  single(scale, L, rn, rt, <u64>imm, wback != 0, post != 0);
}

export function exec_LDSTR_reg_simd(scale: u32, L: u32, rm: u32, option: u32, S: u32, rn: u32, rt: u32): void {
  single(scale, L, rn, rt, extendReg(rm, option, S ? scale : 0), false, false);
}

export function exec_LDR_lit_simd(opc: u32, imm19: i64, rt: u32): void {
  if (opc == 3) {
    undefinedInstruction();
    return;
  }
  if (!checkFpEnabled()) return;
  setSyndrome(0);
  readV(pc + <u64>imm19, opc + 2);
  if (faulted) return;
  setVFromRead(rt);
}

// ---- pairs ----

export function exec_LDSTP_simd(opc: u32, L: u32, imm7: i64, rt2: u32, rn: u32, rt: u32, wback: u32, post: u32): void {
  if (opc == 3) {
    undefinedInstruction();
    return;
  }
  if (!start(rn)) return;
  const scale = opc + 2;
  const base = getXSP(rn);
  const va = post ? base : base + <u64>imm7;
  if (L) {
    readV(va, scale);
    if (faulted) return;
    const lo1 = vlo;
    const hi1 = vhi;
    readV(va + (<u64>1 << scale), scale);
    if (faulted) return;
    store<u64>(vAddr(rt), lo1);
    store<u64>(vAddr(rt) + 8, hi1);
    setVFromRead(rt2); // after Rt: with Rt = Rt2 the higher address wins
  } else {
    writeV(va, scale, rt);
    if (faulted) return;
    writeV(va + (<u64>1 << scale), scale, rt2);
    if (faulted) return;
  }
  if (wback) setXSP(rn, base + <u64>imm7);
}

// ---- structures ----

/** Reads one element of 1 << size bytes at va (0 after a fault). */
@inline function readElem(va: u64, size: u32): u64 {
  return readMem(va, 1 << size, 0);
}

/** The base writeback of a post-indexed structure access: Xm, or the transfer size for Rm = 31. */
@inline function postIndex(rn: u32, base: u64, rm: u32, bytes: u64): void {
  setXSP(rn, base + (rm == 31 ? bytes : getX(rm)));
}

/** Copies scratch register slot i (16 bytes) to V[(t + i) mod 32], for i < count. */
function commitList(t: u32, count: u32): void {
  for (let i: u32 = 0; i < count; i++) {
    memory.copy(vAddr((t + i) & 31), scratch + (<usize>i << 4), 16);
  }
}

/** Copies V[(t + i) mod 32] into scratch slot i, for i < count (loads that keep other lanes). */
function scratchFromList(t: u32, count: u32): void {
  for (let i: u32 = 0; i < count; i++) {
    memory.copy(scratch + (<usize>i << 4), vAddr((t + i) & 31), 16);
  }
}

export function exec_LDST_multi(Q: u32, L: u32, opcode: u32, size: u32, rn: u32, rt: u32, post: u32, rm: u32): void {
  let rpt: u32;
  let selem: u32;
  switch (opcode) {
    case 0b0000: rpt = 1; selem = 4; break;
    case 0b0010: rpt = 4; selem = 1; break;
    case 0b0100: rpt = 1; selem = 3; break;
    case 0b0110: rpt = 3; selem = 1; break;
    case 0b0111: rpt = 1; selem = 1; break;
    case 0b1000: rpt = 1; selem = 2; break;
    case 0b1010: rpt = 2; selem = 1; break;
    default: undefinedInstruction(); return;
  }
  if (size == 3 && Q == 0 && selem != 1) {
    undefinedInstruction();
    return;
  }
  if (!start(rn)) return;
  const elements: u32 = (8 << Q) >> size;
  const ebytes: u64 = <u64>1 << size;
  const base = getXSP(rn);
  let offs: u64 = 0;
  if (L) clearScratch();
  for (let r: u32 = 0; r < rpt; r++) {
    for (let e: u32 = 0; e < elements; e++) {
      for (let s: u32 = 0; s < selem; s++) {
        const slot = r + s; // register (t + r + s) mod 32; rpt or selem is 1
        if (L) {
          const v = readElem(base + offs, size);
          if (faulted) return;
          storeElem(scratch + (<usize>slot << 4) + (<usize>e << size), size, v);
        } else {
          writeMem(base + offs, <u32>ebytes, loadElem(vAddr((rt + slot) & 31) + (<usize>e << size), size), 0);
          if (faulted) return;
        }
        offs += ebytes;
      }
    }
  }
  if (L) commitList(rt, rpt * selem);
  if (post) postIndex(rn, base, rm, offs);
}

export function exec_LDST_single(Q: u32, L: u32, R: u32, opcode: u32, S: u32, size: u32, rn: u32, rt: u32, post: u32, rm: u32): void {
  let scale = opcode >> 1;
  const selem = (((opcode & 1) << 1) | R) + 1;
  let index: u32;
  switch (scale) {
    case 0:
      index = (Q << 3) | (S << 2) | size;
      break;
    case 1:
      if (size & 1) { undefinedInstruction(); return; }
      index = (Q << 2) | (S << 1) | (size >> 1);
      break;
    case 2:
      if (size & 2) { undefinedInstruction(); return; }
      if ((size & 1) == 0) {
        index = (Q << 1) | S;
      } else {
        if (S) { undefinedInstruction(); return; }
        index = Q;
        scale = 3;
      }
      break;
    default: // 11x: the replicating loads have their own rows (L = 1, S = 0)
      undefinedInstruction();
      return;
  }
  if (!start(rn)) return;
  const ebytes: u64 = <u64>1 << scale;
  const base = getXSP(rn);
  let offs: u64 = 0;
  if (L) scratchFromList(rt, selem);
  for (let s: u32 = 0; s < selem; s++) {
    if (L) {
      const v = readElem(base + offs, scale);
      if (faulted) return;
      storeElem(scratch + (<usize>s << 4) + (<usize>index << scale), scale, v);
    } else {
      writeMem(base + offs, <u32>ebytes, loadElem(vAddr((rt + s) & 31) + (<usize>index << scale), scale), 0);
      if (faulted) return;
    }
    offs += ebytes;
  }
  if (L) commitList(rt, selem);
  if (post) postIndex(rn, base, rm, offs);
}

export function exec_LDnR(Q: u32, R: u32, o0: u32, size: u32, rn: u32, rt: u32, post: u32, rm: u32): void {
  const selem = ((o0 << 1) | R) + 1;
  if (!start(rn)) return;
  const ebytes: u64 = <u64>1 << size;
  const base = getXSP(rn);
  const elements: u32 = (8 << Q) >> size;
  clearScratch();
  let offs: u64 = 0;
  for (let s: u32 = 0; s < selem; s++) {
    const v = readElem(base + offs, size);
    if (faulted) return;
    for (let e: u32 = 0; e < elements; e++) storeElem(scratch + (<usize>s << 4) + (<usize>e << size), size, v);
    offs += ebytes;
  }
  commitList(rt, selem);
  if (post) postIndex(rn, base, rm, offs);
}
