// Handlers for ARM ARM C4.1.2: Data Processing -- Immediate.

import { pc, getReg, setReg, getRegSP, setRegSP, getX, setX } from "../state";
import { addWithCarry, setLogicalFlags } from "../flags";
import { undefinedInstruction } from "../exceptions";
import { ones64, ror, replicate } from "../bits";

export function exec_ADR(op: u32, imm: i64, rd: u32): void {
  if (op) setX(rd, (pc & ~<u64>0xfff) + (<u64>imm << 12)); // ADRP
  else setX(rd, pc + <u64>imm);
}

export function exec_ADDSUB_imm(sf: u32, op: u32, S: u32, sh: u32, imm12: u32, rn: u32, rd: u32): void {
  const imm: u64 = <u64>imm12 << (sh * 12);
  const x = getRegSP(sf, rn);
  const r = op ? addWithCarry(sf, x, ~imm, 1, S != 0) : addWithCarry(sf, x, imm, 0, S != 0);
  // The flag-setting forms write XZR for Rd = 31 (CMP, CMN); the others write SP.
  if (S) setReg(sf, rd, r);
  else setRegSP(sf, rd, r);
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

export function exec_LOGIC_imm(sf: u32, opc: u32, N: u32, immr: u32, imms: u32, rn: u32, rd: u32): void {
  const datasize: u32 = sf ? 64 : 32;
  if ((!sf && N) || !decodeBitMasks(N, imms, immr, true, datasize)) {
    undefinedInstruction();
    return;
  }
  const x = getReg(sf, rn);
  let r: u64;
  switch (opc) {
    case 0: r = x & wmask; break; // AND
    case 1: r = x | wmask; break; // ORR
    case 2: r = x ^ wmask; break; // EOR
    default: // ANDS
      r = x & wmask;
      setLogicalFlags(sf, r);
      setReg(sf, rd, r);
      return;
  }
  setRegSP(sf, rd, r);
}

export function exec_MOVE_wide(sf: u32, opc: u32, hw: u32, imm16: u32, rd: u32): void {
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

export function exec_BITFIELD(sf: u32, opc: u32, N: u32, immr: u32, imms: u32, rn: u32, rd: u32): void {
  const datasize: u32 = sf ? 64 : 32;
  if (opc == 3 || N != sf || (!sf && (immr >= 32 || imms >= 32)) ||
      !decodeBitMasks(N, imms, immr, false, datasize)) {
    undefinedInstruction();
    return;
  }
  const inzero = opc != 1; // SBFM, UBFM
  const extend = opc == 0; // SBFM
  const dst = inzero ? 0 : getReg(sf, rd);
  const src = getReg(sf, rn);
  const bot = (dst & ~wmask) | (ror(src, immr, datasize) & wmask);
  const top = extend ? ((src >> imms) & 1 ? ones64(datasize) : 0) : dst;
  setReg(sf, rd, (top & ~tmask) | (bot & tmask));
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
