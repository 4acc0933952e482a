// Handlers for AdvSIMD vector and scalar x indexed element, integer forms
// (arm/decode/simd-elem.ts).
//
// As in simd-int.ts: reserved sizes take UNDEFINED first, then the FP access check; lanes are
// gathered in `scratch` and written at the end (Vd may also be Vn or Vm).

import { checkFpEnabled } from "../fp-access";
import { undefinedInstruction } from "../exceptions";
import { elem, part, ext, put, commit, setScalar, lanes, umax, qdmulh, qdmull } from "./simd-lanes";
import { qdAccumulate, QD_MULL, QD_MLAL, QD_MLSL } from "./simd-int";

// The decoded element of Vm, set by element().
let mReg: u32 = 0;
let mIndex: u32 = 0;

/**
 * Decodes size, L, M, Rm<3:0> and H into mReg and mIndex. Takes UNDEFINED (and returns false)
 * for the reserved sizes, else makes the FP access check.
 */
function element(size: u32, L: u32, M: u32, rm: u32, H: u32): bool {
  if (size == 1) {
    mIndex = (H << 2) | (L << 1) | M;
    mReg = rm;
  } else if (size == 2) {
    mIndex = (H << 1) | L;
    mReg = (M << 4) | rm;
  } else {
    undefinedInstruction();
    return false;
  }
  return checkFpEnabled();
}

// The operations are named by their opcodes (bits 15:12): opcode<1:0> = 10 is a widening
// multiply(-accumulate), 11 a saturating doubling one, anything else same-size.

// ---- same-size: MUL, MLA, MLS, SQDMULH, SQRDMULH ----

const E_MLA: u32 = 0b0000;
const E_MLS: u32 = 0b0100;
const E_MUL: u32 = 0b1000;
const E_QDMULH: u32 = 0b1100;
const E_QRDMULH: u32 = 0b1101;

@inline function sameOp(kind: u32, size: u32, a: u64, b: u64, d: u64): u64 {
  switch (kind) {
    case E_MUL: return (a * b) & umax(size);
    case E_MLA: return (d + a * b) & umax(size);
    case E_MLS: return (d - a * b) & umax(size);
    default: return qdmulh(a, b, size, kind == E_QRDMULH);
  }
}

@inline function sameVector(kind: u32, Q: u32, size: u32, rn: u32, rd: u32): void {
  const b = elem(mReg, mIndex, size);
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) put(i, size, sameOp(kind, size, elem(rn, i, size), b, elem(rd, i, size)));
  commit(rd, Q);
}

// ---- long: SMULL, UMULL, SMLAL, UMLAL, SMLSL, UMLSL ----

const L_MLAL: u32 = 0b0010;
const L_MLSL: u32 = 0b0110;
const L_MULL: u32 = 0b1010;

@inline function longVector(kind: u32, Q: u32, U: u32, size: u32, rn: u32, rd: u32): void {
  const b = ext(U, elem(mReg, mIndex, size), size);
  const n: u32 = 8 >> size;
  const wide = size + 1;
  for (let i: u32 = 0; i < n; i++) {
    const p = ext(U, part(rn, i, Q, size), size) * b;
    const d = <i64>elem(rd, i, wide);
    const r = kind == L_MULL ? p : kind == L_MLAL ? d + p : d - p;
    put(i, wide, <u64>r & umax(wide));
  }
  commit(rd, 1);
}

// ---- saturating doubling long: SQDMLAL (0011), SQDMLSL (0111), SQDMULL (1011) ----

@inline function qdKind(opcode: u32): u32 {
  return opcode == 0b0011 ? QD_MLAL : opcode == 0b0111 ? QD_MLSL : QD_MULL;
}

@inline function qdLongVector(kind: u32, Q: u32, size: u32, rn: u32, rd: u32): void {
  const b = elem(mReg, mIndex, size);
  const n: u32 = 8 >> size;
  const wide = size + 1;
  for (let i: u32 = 0; i < n; i++) {
    put(i, wide, qdAccumulate(kind, qdmull(part(rn, i, Q, size), b, size), elem(rd, i, wide), wide));
  }
  commit(rd, 1);
}

@inline function qdLongScalar(kind: u32, size: u32, rn: u32, rd: u32): void {
  const wide = size + 1;
  const p = qdmull(elem(rn, 0, size), elem(mReg, mIndex, size), size);
  setScalar(rd, wide, qdAccumulate(kind, p, elem(rd, 0, wide), wide));
}

// ---- the handlers ----

@inline export function exec_ELEM_v(Q: u32, U: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!element(size, L, M, rm, H)) return;
  const kind = opcode & 3;
  if (kind == 2) longVector(opcode, Q, U, size, rn, rd);
  else if (kind == 3) qdLongVector(qdKind(opcode), Q, size, rn, rd);
  else sameVector(opcode, Q, size, rn, rd);
}

/** The scalar forms: SQDMULH, SQRDMULH and the saturating doubling long ones. */
@inline export function exec_ELEM_s(size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!element(size, L, M, rm, H)) return;
  if ((opcode & 3) == 3) qdLongScalar(qdKind(opcode), size, rn, rd);
  else setScalar(rd, size, qdmulh(elem(rn, 0, size), elem(mReg, mIndex, size), size, opcode == E_QRDMULH));
}
