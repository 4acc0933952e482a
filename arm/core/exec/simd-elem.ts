// Handlers for AdvSIMD vector and scalar x indexed element, integer forms
// (arm/decode/simd-elem.ts).
//
// As in simd-int.ts: reserved sizes take UNDEFINED first, then the FP access check; lanes are
// gathered in `scratch` and written at the end (Vd may also be Vn or Vm).

import { checkFpEnabled } from "../fp-access";
import { undefinedInstruction } from "../exceptions";
import { elem, put, commit, setScalar, lanes, umax, qdmulh, qdmull } from "./simd-lanes";
import { part, ext, qdAccumulate, QD_MULL, QD_MLAL, QD_MLSL } from "./simd-int";

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

// ---- same-size: MUL, MLA, MLS, SQDMULH, SQRDMULH ----

const E_MUL: u32 = 0;
const E_MLA: u32 = 1;
const E_MLS: u32 = 2;
const E_QDMULH: u32 = 3;
const E_QRDMULH: u32 = 4;

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

export function exec_MUL_elem(Q: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  sameVector(E_MUL, Q, size, rn, rd);
}

export function exec_MLA_elem(Q: u32, size: u32, L: u32, M: u32, rm: u32, op: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  sameVector(op ? E_MLS : E_MLA, Q, size, rn, rd);
}

export function exec_QDMULH_elem(Q: u32, size: u32, L: u32, M: u32, rm: u32, op: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  sameVector(op ? E_QRDMULH : E_QDMULH, Q, size, rn, rd);
}

export function exec_QDMULH_elem_s(size: u32, L: u32, M: u32, rm: u32, op: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  setScalar(rd, size, qdmulh(elem(rn, 0, size), elem(mReg, mIndex, size), size, op != 0));
}

// ---- long: SMULL, UMULL, SMLAL, UMLAL, SMLSL, UMLSL ----

const L_MULL: u32 = 0;
const L_MLAL: u32 = 1;
const L_MLSL: u32 = 2;

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

export function exec_MULL_elem(Q: u32, U: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  longVector(L_MULL, Q, U, size, rn, rd);
}

export function exec_MLAL_elem(Q: u32, U: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  longVector(L_MLAL, Q, U, size, rn, rd);
}

export function exec_MLSL_elem(Q: u32, U: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  longVector(L_MLSL, Q, U, size, rn, rd);
}

// ---- saturating doubling long: SQDMULL, SQDMLAL, SQDMLSL ----

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

export function exec_QDMULL_elem(Q: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  qdLongVector(QD_MULL, Q, size, rn, rd);
}

export function exec_QDMLAL_elem(Q: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  qdLongVector(QD_MLAL, Q, size, rn, rd);
}

export function exec_QDMLSL_elem(Q: u32, size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  qdLongVector(QD_MLSL, Q, size, rn, rd);
}

export function exec_QDMULL_elem_s(size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  qdLongScalar(QD_MULL, size, rn, rd);
}

export function exec_QDMLAL_elem_s(size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  qdLongScalar(QD_MLAL, size, rn, rd);
}

export function exec_QDMLSL_elem_s(size: u32, L: u32, M: u32, rm: u32, H: u32, rn: u32, rd: u32): void {
  if (!element(size, L, M, rm, H)) return;
  qdLongScalar(QD_MLSL, size, rn, rd);
}
