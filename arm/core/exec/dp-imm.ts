// Handlers for ARM ARM C4.1.2: Data Processing -- Immediate.

import { pc, getReg, setReg, getRegSP, setRegSP, getX, setX } from "../state";
import { addWithCarry, setLogicalFlags } from "../flags";
import { undefinedInstruction } from "../exceptions";
import { ones64, ror, replicate, sx64 } from "../bits";

export function exec_ADR(op: u32, imm: i64, rd: u32): void {
  if (op) setX(rd, (pc & ~<u64>0xfff) + (<u64>imm << 12)); // ADRP
  else setX(rd, pc + <u64>imm);
}

@inline export function exec_ADDSUB_imm(sf: u32, op: u32, S: u32, sh: u32, imm12: u32, rn: u32, rd: u32): void {
  const imm: u64 = <u64>imm12 << (sh * 12);
  const x = getRegSP(sf, rn);
  // The flag-setting forms write XZR for Rd = 31 (CMP, CMN); the others write SP (and need
  // no AddWithCarry: setRegSP truncates a 32-bit sum).
  if (S) setReg(sf, rd, op ? addWithCarry(sf, x, ~imm, 1, true) : addWithCarry(sf, x, imm, 0, true));
  else setRegSP(sf, rd, op ? x - imm : x + imm);
}

// The logical immediates the interpreter decoded last, direct-mapped: 64 entries of u64 value
// and u32 key (sf:N:imms:immr, plus bit 14 so that no key is 0).
const LOGICAL_IMM_CACHE = memory.data(64 * 16);

/** The bitmask immediate of AND/ORR/EOR/ANDS (immediate), or 0 if reserved (no valid one is 0). */
@inline function logicalImmediate(sf: u32, N: u32, imms: u32, immr: u32): u64 {
  const key = (1 << 14) | (sf << 13) | (N << 12) | (imms << 6) | immr;
  const e = LOGICAL_IMM_CACHE + <usize>(((imms ^ immr) & 63) << 4);
  if (load<u32>(e + 8) == key) return load<u64>(e);
  return fillLogicalImmediate(e, key, sf, N, imms, immr);
}

function fillLogicalImmediate(e: usize, key: u32, sf: u32, N: u32, imms: u32, immr: u32): u64 {
  const v = decodeBitMasks(N, imms, immr, true, sf ? 64 : 32) ? wmask : 0;
  store<u64>(e, v);
  store<u32>(e + 8, key);
  return v;
}

// DecodeBitMasks results (the JIT's emitters use them too).
export let wmask: u64 = 0;
export let tmask: u64 = 0;

/** DecodeBitMasks(N, imms, immr, immediate) from the ARM ARM; false for reserved values. */
export function decodeBitMasks(n: u32, imms: u32, immr: u32, immediate: bool, datasize: u32): bool {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined == 0) return false;
  const len: u32 = 31 - clz<u32>(combined);
  if (len < 1 || (<u32>1 << len) > datasize) return false;
  const levels: u32 = (1 << len) - 1;
  if (immediate && (imms & levels) == levels) return false;
  const s = imms & levels;
  const r = immr & levels;
  const esize: u32 = 1 << len;
  const d = (s - r) & levels;
  const welem = ones64(s + 1);
  const rotated = esize == 64 ? rotr<u64>(welem, <u64>r) :
    ((welem >> r) | (welem << (esize - r))) & ones64(esize);
  wmask = replicate(rotated, esize) & ones64(datasize);
  tmask = replicate(ones64(d + 1), esize) & ones64(datasize);
  return true;
}

@inline export function exec_LOGIC_imm(sf: u32, opc: u32, N: u32, immr: u32, imms: u32, rn: u32, rd: u32): void {
  const imm = (!sf && N) ? 0 : logicalImmediate(sf, N, imms, immr);
  if (imm == 0) {
    undefinedInstruction();
    return;
  }
  const x = getReg(sf, rn);
  let r: u64;
  switch (opc) {
    case 0: r = x & imm; break; // AND
    case 1: r = x | imm; break; // ORR
    case 2: r = x ^ imm; break; // EOR
    default: // ANDS
      r = x & imm;
      setLogicalFlags(sf, r);
      setReg(sf, rd, r);
      return;
  }
  setRegSP(sf, rd, r);
}

@inline export function exec_MOVE_wide(sf: u32, opc: u32, hw: u32, imm16: u32, rd: u32): void {
  if (opc == 1 || (!sf && hw >= 2)) {
    undefinedInstruction();
    return;
  }
  const shift = <u64>(hw * 16);
  const imm = <u64>imm16 << shift;
  if (opc == 0) setReg(sf, rd, ~imm); // MOVN
  else if (opc == 2) setReg(sf, rd, imm); // MOVZ
  else setReg(sf, rd, (getX(rd) & ~(<u64>0xffff << shift)) | imm); // MOVK
}

@inline export function exec_BITFIELD(sf: u32, opc: u32, N: u32, immr: u32, imms: u32, rn: u32, rd: u32): void {
  if (opc == 3 || N != sf || (!sf && (immr >= 32 || imms >= 32))) {
    undefinedInstruction();
    return;
  }
  if (opc == 1) {
    bitfieldMove(sf, immr, imms, rn, rd);
    return;
  }
  // SBFM, UBFM (LSL, LSR, ASR, UBFX, SBFX, UXTB, SXTW, ...): the ARM ARM's masks reduce to a
  // field of the source, zero- or sign-extended, moved down (imms >= immr) or up.
  const src = getX(rn);
  let r: u64;
  if (imms >= immr) {
    const width = imms - immr + 1;
    const field = src >> immr;
    r = opc == 0 ? <u64>sx64(field, <i32>width) : field & ones64(width);
  } else {
    const width = imms + 1;
    const low = opc == 0 ? <u64>sx64(src, <i32>width) : src & ones64(width);
    r = low << <u64>((sf ? 64 : 32) - immr);
  }
  setReg(sf, rd, r);
}

/** BFM: the general form, through DecodeBitMasks. */
function bitfieldMove(sf: u32, immr: u32, imms: u32, rn: u32, rd: u32): void {
  const datasize: u32 = sf ? 64 : 32;
  decodeBitMasks(sf, imms, immr, false, datasize); // cannot fail for N = sf and in-range fields
  const dst = getReg(sf, rd);
  const src = getReg(sf, rn);
  const bot = (dst & ~wmask) | (ror(src, immr, datasize) & wmask);
  setReg(sf, rd, (dst & ~tmask) | (bot & tmask));
}

export function exec_EXTR(sf: u32, N: u32, rm: u32, imms: u32, rn: u32, rd: u32): void {
  if (N != sf || (!sf && imms >= 32)) {
    undefinedInstruction();
    return;
  }
  const datasize: u32 = sf ? 64 : 32;
  const lo = getReg(sf, rm);
  const hi = getReg(sf, rn);
  if (imms == 0) {
    setReg(sf, rd, lo);
    return;
  }
  const r = (lo >> imms) | (hi << (datasize - imms));
  setReg(sf, rd, r & ones64(datasize));
}
