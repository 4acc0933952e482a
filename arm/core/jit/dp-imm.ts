// Emitters for ARM ARM C4.1.2: Data Processing -- Immediate (docs/jit.md). Each emit_<Name>
// takes the fields exec_<Name> takes (arm/core/exec/dp-imm.ts) and emits the same operation
// as inline wasm, or returns false (reserved encodings: the handler takes UNDEFINED).

import { la, lb, lr } from "./frame";
import { W64, Width, tConst, tAdd, tSub, tAnd, tOr, tXor, tShl, tShrU, tShrS, tRotr } from "./width";
import { pushPc } from "./context";
import { pushReg, pushRegSP, beginSet, endSetReg, endSetRegSP, endSetX } from "./registers";
import { i64Const, localSet, localTee, op, OP_I64_AND, OP_I64_ADD } from "./wasm-encoder";
import { emitAddSubS, emitLogicFlags } from "./flags";
import { decodeBitMasks, wmask, tmask } from "../exec/dp-imm";

export function emit_ADR(opc: u32, imm: i64, rd: u32): bool {
  beginSet();
  if (opc) {
    // ADRP: the page of this instruction plus imm pages.
    pushPc(0);
    i64Const(~<i64>0xfff);
    op(OP_I64_AND);
    i64Const(imm << 12);
    op(OP_I64_ADD);
  } else {
    pushPc(imm);
  }
  endSetX(rd);
  return true;
}

export function emit_ADDSUB_imm(sf: u32, opc: u32, S: u32, sh: u32, imm12: u32, rn: u32, rd: u32): bool {
  const w: Width = sf;
  const imm: i64 = <i64>imm12 << (sh * 12);
  if (S == 0) {
    // ADD/SUB: Rn and Rd may be SP.
    beginSet();
    pushRegSP(w, rn);
    if (imm != 0) {
      tConst(w, imm);
      if (opc) tSub(w);
      else tAdd(w);
    }
    endSetRegSP(w, rd);
    return true;
  }
  // ADDS/SUBS (CMN/CMP for Rd = 31): Rn may be SP, Rd is ZR.
  pushRegSP(w, rn);
  localSet(la(w));
  tConst(w, imm);
  localSet(lb(w));
  emitAddSubS(w, opc != 0, rd);
  return true;
}

/** The logical-immediate mask, or 0 for a reserved encoding (no valid mask is 0). */
function logicMask(n: u32, imms: u32, immr: u32, datasize: u32): u64 {
  return decodeBitMasks(n, imms, immr, true, datasize) ? wmask : 0;
}

export function emit_LOGIC_imm(sf: u32, opc: u32, N: u32, immr: u32, imms: u32, rn: u32, rd: u32): bool {
  if (!sf && N) return false;
  const w: Width = sf;
  const mask = logicMask(N, imms, immr, sf ? 64 : 32);
  if (mask == 0) return false; // reserved: UNDEFINED through the handler
  beginSet();
  pushReg(w, rn);
  tConst(w, <i64>mask);
  if (opc == 1) tOr(w);
  else if (opc == 2) tXor(w);
  else tAnd(w);
  if (opc == 3) {
    // ANDS: Rd = 31 is ZR, and the flags.
    localTee(lr(w));
    endSetReg(w, rd);
    emitLogicFlags(w);
  } else {
    endSetRegSP(w, rd);
  }
  return true;
}

export function emit_MOVE_wide(sf: u32, opc: u32, hw: u32, imm16: u32, rd: u32): bool {
  if (opc == 1 || (!sf && hw >= 2)) return false;
  const shift = <u64>(hw * 16);
  const imm: u64 = <u64>imm16 << shift;
  beginSet();
  if (opc == 0) {
    i64Const(<i64>(sf ? ~imm : ~imm & 0xffffffff)); // MOVN
  } else if (opc == 2) {
    i64Const(<i64>imm); // MOVZ
  } else {
    // MOVK: keep the other bits of Xd (of Wd, zero-extended, for sf = 0).
    pushReg(W64, rd);
    i64Const(<i64>(~(<u64>0xffff << shift) & (sf ? <u64>-1 : 0xffffffff)));
    op(OP_I64_AND);
    if (imm != 0) {
      i64Const(<i64>imm);
      tOr(W64);
    }
  }
  endSetX(rd);
  return true;
}

export function emit_BITFIELD(sf: u32, opc: u32, N: u32, immr: u32, imms: u32, rn: u32, rd: u32): bool {
  if (opc == 3 || N != sf || (!sf && (immr >= 32 || imms >= 32))) return false;
  const w: Width = sf;
  const size: u32 = sf ? 64 : 32;
  if (opc == 1) {
    // BFM (BFI, BFXIL): Rd keeps its bits outside wmask AND tmask, which come from Rn rotated.
    if (!decodeBitMasks(N, imms, immr, false, size)) return false;
    const m = wmask & tmask;
    beginSet();
    pushReg(w, rd);
    tConst(w, <i64>~m);
    tAnd(w);
    pushReg(w, rn);
    if (immr != 0) {
      tConst(w, <i64>immr);
      tRotr(w);
    }
    tConst(w, <i64>m);
    tAnd(w);
    tOr(w);
    endSetReg(w, rd);
    return true;
  }
  beginSet();
  if (imms >= immr) {
    // UBFX/SBFX (LSR, ASR for imms = size - 1): bits imms..immr of Rn to the bottom.
    const width = imms - immr + 1;
    pushReg(w, rn);
    tConst(w, <i64>(size - 1 - imms));
    tShl(w);
    tConst(w, <i64>(size - width));
    if (opc == 0) tShrS(w);
    else tShrU(w);
  } else {
    // UBFIZ/SBFIZ (LSL for imms + 1 = immr): bits imms..0 of Rn to position size - immr.
    const width = imms + 1;
    const pos = size - immr;
    pushReg(w, rn);
    tConst(w, <i64>(size - width));
    tShl(w);
    tConst(w, <i64>(size - width - pos));
    if (opc == 0) tShrS(w);
    else tShrU(w);
  }
  endSetReg(w, rd);
  return true;
}

export function emit_EXTR(sf: u32, N: u32, rm: u32, imms: u32, rn: u32, rd: u32): bool {
  if (N != sf || (!sf && imms >= 32)) return false;
  const w: Width = sf;
  const size: u32 = sf ? 64 : 32;
  beginSet();
  if (rn == rm) {
    // ROR (immediate).
    pushReg(w, rm);
    tConst(w, <i64>imms);
    tRotr(w);
  } else if (imms == 0) {
    pushReg(w, rm);
  } else {
    pushReg(w, rm);
    tConst(w, <i64>imms);
    tShrU(w);
    pushReg(w, rn);
    tConst(w, <i64>(size - imms));
    tShl(w);
    tOr(w);
  }
  endSetReg(w, rd);
  return true;
}
