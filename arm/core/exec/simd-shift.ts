// Handlers for AdvSIMD shift by immediate and scalar shift by immediate
// (arm/decode/simd-shift.ts).
//
// As in simd-int.ts: reserved encodings take UNDEFINED first, then the FP access check; lanes
// are gathered in `scratch` and written at the end. Right shifts are by 1..esize, left shifts
// by 0..esize - 1; rounding adds 2^(shift - 1) first, computed without overflow as
// ceil((x >> (shift - 1)) / 2).

import { decodeThenCheckFp as ok } from "../fp-access";

import {
  sx, elem, put, commit, clearScratch, scratchFrom, setScalar, lanes, setQC, smax, smin, umax, satS, satU, satUfromS,
} from "./simd-lanes";

/** The element size immh names (its highest set bit); immh must not be 0. */
@inline function immhSize(immh: u32): u32 {
  return 31 - clz<u32>(immh);
}

/** The right shift amount of immh:immb for elements of `size`: 1..esize. */
@inline function rightShift(immh: u32, immb: u32, size: u32): u32 {
  return (16 << size) - ((immh << 3) | immb);
}

/** The left shift amount: 0..esize - 1. */
@inline function leftShift(immh: u32, immb: u32, size: u32): u32 {
  return ((immh << 3) | immb) - (8 << size);
}

/** a >> s (1 <= s <= 64) of an element of `size`, signed or unsigned, optionally rounding. */
function shiftRight(U: u32, size: u32, a: u64, s: u32, round: bool): i64 {
  if (U) {
    if (round) {
      const r = a >> (s - 1);
      return <i64>((r >> 1) + (r & 1));
    }
    return s >= 64 ? 0 : <i64>(a >> s);
  }
  const v = sx(a, size);
  if (round) {
    const r = v >> (s - 1);
    return (r >> 1) + (r & 1);
  }
  return v >> (s >= 64 ? 63 : s);
}

/** Saturating left shift by s (< esize): signed (SQSHL), unsigned (UQSHL) or signed to unsigned (SQSHLU). */
function qshl(kind: u32, size: u32, a: u64, s: u32): u64 {
  const esize: u32 = 8 << size;
  if (kind == Q_UNSIGNED) {
    const r = a << s;
    if ((r >> s) != a) { setQC(); return umax(size); }
    return satU(r, size);
  }
  const v = sx(a, size);
  if (kind == Q_SIGNED_TO_UNSIGNED) {
    if (v < 0) { setQC(); return 0; }
    const r = <u64>v << s;
    if ((r >> s) != <u64>v) { setQC(); return umax(size); }
    return satU(r, size);
  }
  const r = v << s;
  if (esize == 64 && (r >> s) != v) { setQC(); return <u64>(v < 0 ? smin(3) : smax(3)); }
  return satS(r, size) & umax(size);
}

const Q_SIGNED: u32 = 0;
const Q_UNSIGNED: u32 = 1;
const Q_SIGNED_TO_UNSIGNED: u32 = 2;

// Same-size operations: opcode<4:1> of the shift-by-immediate encodings (bits 15:12).
const K_SHR: u32 = 0; // SSHR, USHR
const K_SRA: u32 = 1; // SSRA, USRA
const K_RSHR: u32 = 2; // SRSHR, URSHR
const K_RSRA: u32 = 3; // SRSRA, URSRA
const K_SRI: u32 = 4; // U = 1 only
const K_SHL: u32 = 5; // SHL (U = 0), SLI (U = 1)
const K_SQSHLU: u32 = 6; // U = 1 only
const K_QSHL: u32 = 7; // SQSHL (U = 0), UQSHL (U = 1)

/** One element of a same-size shift: a from Vn, d the old Vd element, s the decoded shift. */
@inline function shiftOp(kind: u32, U: u32, size: u32, a: u64, d: u64, s: u32): u64 {
  const m = umax(size);
  switch (kind) {
    case K_SHR: return <u64>shiftRight(U, size, a, s, false) & m;
    case K_SRA: return (d + <u64>shiftRight(U, size, a, s, false)) & m;
    case K_RSHR: return <u64>shiftRight(U, size, a, s, true) & m;
    case K_RSRA: return (d + <u64>shiftRight(U, size, a, s, true)) & m;
    case K_SRI: {
      const mask = s >= 64 ? 0 : m >> s;
      return (d & ~mask) | (s >= 64 ? 0 : a >> s);
    }
    case K_SHL: {
      if (!U) return (a << s) & m;
      const mask = (m << s) & m; // SLI
      return (d & ~mask) | ((a << s) & m);
    }
    case K_QSHL: return qshl(U ? Q_UNSIGNED : Q_SIGNED, size, a, s);
    default: return qshl(Q_SIGNED_TO_UNSIGNED, size, a, s);
  }
}

@inline function isLeft(kind: u32): bool {
  return kind >= K_SHL;
}

/** SRI and SQSHLU exist only with U = 1. */
@inline function needsU(kind: u32, U: u32): bool {
  return (kind == K_SRI || kind == K_SQSHLU) && U == 0;
}

// ---- AdvSIMD shift by immediate ----

/** The same-size vector shifts (opcode 0xxx0). */
@inline export function exec_SHIFT_imm_v(Q: u32, U: u32, immh: u32, immb: u32, rn: u32, rd: u32, opcode: u32): void {
  const kind = opcode >> 1;
  if (!ok(immh == 0 || (immh >= 8 && Q == 0) || needsU(kind, U))) return;
  const size = immhSize(immh);
  const s = isLeft(kind) ? leftShift(immh, immb, size) : rightShift(immh, immb, size);
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) put(i, size, shiftOp(kind, U, size, elem(rn, i, size), elem(rd, i, size), s));
  commit(rd, Q);
}

// Narrowing right shifts: elements of twice the size from Vn, into the Q-selected half of Vd.
const N_TRUNC: u32 = 0; // SHRN, RSHRN
const N_SIGNED: u32 = 1; // SQSHRN, SQRSHRN
const N_UNSIGNED: u32 = 2; // UQSHRN, UQRSHRN
const N_SIGNED_TO_UNSIGNED: u32 = 3; // SQSHRUN, SQRSHRUN

/** The narrowing of opcode 100sr (s: saturating; r: rounding) with U. */
@inline function narrowKind(opcode: u32, U: u32): u32 {
  if (opcode & 2) return U ? N_UNSIGNED : N_SIGNED;
  return U ? N_SIGNED_TO_UNSIGNED : N_TRUNC;
}

@inline function narrowElem(kind: u32, size: u32, a: u64, s: u32, round: bool): u64 {
  const wide = size + 1;
  const r = shiftRight(kind == N_UNSIGNED ? 1 : 0, wide, a, s, round);
  switch (kind) {
    case N_TRUNC: return <u64>r & umax(size);
    case N_SIGNED: return satS(r, size) & umax(size);
    case N_UNSIGNED: return satU(<u64>r, size);
    default: return satUfromS(r, size);
  }
}

/** SHRN, RSHRN, SQSHRUN, SQRSHRUN, SQSHRN, UQSHRN, SQRSHRN, UQRSHRN (opcode 100xx). */
@inline export function exec_NARROW_imm_v(Q: u32, U: u32, immh: u32, immb: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(immh == 0 || immh >= 8)) return;
  const kind = narrowKind(opcode, U);
  const round = (opcode & 1) != 0;
  const size = immhSize(immh);
  const s = rightShift(immh, immb, size);
  const n: u32 = 8 >> size;
  if (Q) scratchFrom(rd);
  else clearScratch();
  const base: u32 = Q ? n : 0;
  for (let i: u32 = 0; i < n; i++) put(base + i, size, narrowElem(kind, size, elem(rn, i, size + 1), s, round));
  commit(rd, 1);
}

export function exec_SHLL_imm_v(Q: u32, U: u32, immh: u32, immb: u32, rn: u32, rd: u32): void {
  if (!ok(immh == 0 || immh >= 8)) return;
  const size = immhSize(immh);
  const s = leftShift(immh, immb, size);
  const n: u32 = 8 >> size;
  const off: u32 = Q ? n : 0; // SSHLL2/USHLL2 take the upper half
  for (let i: u32 = 0; i < n; i++) {
    const a = elem(rn, off + i, size);
    const v = U ? a : <u64>sx(a, size);
    put(i, size + 1, v << s);
  }
  commit(rd, 1);
}

// ---- AdvSIMD scalar shift by immediate ----

/** The same-size scalar shifts; the non-saturating ones exist for D only. */
@inline export function exec_SHIFT_imm_s(U: u32, immh: u32, immb: u32, rn: u32, rd: u32, opcode: u32): void {
  const kind = opcode >> 1;
  const saturating = kind >= K_SQSHLU;
  if (!ok(saturating ? immh == 0 : immh < 8)) return;
  const size = immhSize(immh);
  const s = isLeft(kind) ? leftShift(immh, immb, size) : rightShift(immh, immb, size);
  setScalar(rd, size, shiftOp(kind, U, size, elem(rn, 0, size), elem(rd, 0, size), s));
}

/** SQSHRUN, SQRSHRUN (U = 1), SQSHRN, UQSHRN, SQRSHRN, UQRSHRN (scalar). */
@inline export function exec_NARROW_imm_s(U: u32, immh: u32, immb: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(immh == 0 || immh >= 8)) return;
  const size = immhSize(immh);
  const s = rightShift(immh, immb, size);
  setScalar(rd, size, narrowElem(narrowKind(opcode, U), size, elem(rn, 0, size + 1), s, (opcode & 1) != 0));
}
