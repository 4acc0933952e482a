// Handlers for the AdvSIMD integer arithmetic groups with two sources (arm/decode/simd-int.ts):
// three same, three different, and their scalar forms. One-source groups: simd-misc.ts.
//
// Every handler: reserved size/Q combinations take UNDEFINED (decode comes first in the ARM
// ARM), then the FP access check, then the lanes, gathered in `scratch` and written to Vd at the
// end (so Vd may also be a source). Element values travel zero-extended in u64; the signed
// operations sign-extend them with the element size. Saturating operations set FPSR.QC exactly
// when a lane saturates.

import { decodeThenCheckFp as ok } from "../fp-access";
import { sx64 } from "../bits";
import {
  sx, ext, part, reservedD1, elem, put, commit, clearScratch, scratchFrom, setScalar, lanes, setQC,
  half, smax, smin, umax, satS, satU, sqadd, sqsub, uqadd, uqsub, qdmulh, qdmull,
} from "./simd-lanes";

// ---- shared pieces ----

/** A shift by a signed register amount (SSHL, USHL, SRSHL, SQSHL, ... on one element). */
export function shiftReg(U: u32, size: u32, a: u64, b: u64, rounding: bool, saturating: bool): u64 {
  const esize: u32 = 8 << size;
  const shift = <i32>sx64(b & 0xff, 8);
  if (shift >= 0) {
    const s = <u32>shift;
    if (!saturating) return s >= esize ? 0 : (a << s) & umax(size);
    if (a == 0) return 0;
    if (U) {
      if (s >= esize) { setQC(); return umax(size); }
      const r = a << s;
      if (esize == 64 && (r >> s) != a) { setQC(); return <u64>-1; }
      return satU(r, size);
    }
    const v = sx(a, size);
    if (s >= esize) { setQC(); return <u64>(v < 0 ? smin(size) : smax(size)) & umax(size); }
    const r = v << s;
    if (esize == 64 && (r >> s) != v) { setQC(); return <u64>(v < 0 ? i64.MIN_VALUE : i64.MAX_VALUE); }
    return satS(r, size) & umax(size);
  }
  const k = <u32>(-shift); // 1..128
  if (U) {
    if (rounding) {
      if (k > esize) return 0;
      const r = a >> (k - 1);
      return (r >> 1) + (r & 1);
    }
    return k >= esize ? 0 : a >> k;
  }
  const v = sx(a, size);
  if (rounding) {
    if (k > esize) return 0;
    const r = v >> (k - 1);
    return <u64>((r >> 1) + (r & 1)) & umax(size);
  }
  return <u64>(v >> (k >= esize ? esize - 1 : k)) & umax(size);
}

/** Polynomial (carry-less) multiplication of two 8-bit values: 16 bits. */
@inline function pmul8(a: u64, b: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 8; i++) if ((b >> i) & 1) r ^= a << i;
  return r;
}

// Lane operations of the three same group: its opcodes.
const OP_HADD: u32 = 0;
const OP_QADD: u32 = 1;
const OP_RHADD: u32 = 2;
const OP_HSUB: u32 = 4;
const OP_QSUB: u32 = 5;
const OP_CMGT: u32 = 6;
const OP_CMGE: u32 = 7;
const OP_SHL: u32 = 8;
const OP_QSHL: u32 = 9;
const OP_RSHL: u32 = 10;
const OP_QRSHL: u32 = 11;
const OP_MAX: u32 = 12;
const OP_MIN: u32 = 13;
const OP_ABD: u32 = 14;
const OP_ABA: u32 = 15;
const OP_ADDSUB: u32 = 16;
const OP_CMTST: u32 = 17;
const OP_MLA: u32 = 18;
const OP_MUL: u32 = 19;
const OP_MAXP: u32 = 20;
const OP_MINP: u32 = 21;
const OP_QDMULH: u32 = 22;
const OP_ADDP: u32 = 23;

/** One lane of a three same operation: a from Vn, b from Vm, d the old Vd lane. */
@inline function sameOp(op: u32, U: u32, size: u32, a: u64, b: u64, d: u64): u64 {
  const m = umax(size);
  switch (op) {
    case OP_HADD: return <u64>((U ? <i64>(a + b) : sx(a, size) + sx(b, size)) >> 1) & m;
    case OP_RHADD: return <u64>((U ? <i64>(a + b) : sx(a, size) + sx(b, size)) + 1 >> 1) & m;
    case OP_HSUB: return <u64>((U ? <i64>a - <i64>b : sx(a, size) - sx(b, size)) >> 1) & m;
    case OP_QADD: return (U ? uqadd(a, b, size) : sqadd(sx(a, size), sx(b, size), size)) & m;
    case OP_QSUB: return (U ? uqsub(a, b) : sqsub(sx(a, size), sx(b, size), size)) & m;
    case OP_CMGT: return (U ? a > b : sx(a, size) > sx(b, size)) ? m : 0;
    case OP_CMGE: return (U ? a >= b : sx(a, size) >= sx(b, size)) ? m : 0;
    case OP_SHL: return shiftReg(U, size, a, b, false, false);
    case OP_QSHL: return shiftReg(U, size, a, b, false, true);
    case OP_RSHL: return shiftReg(U, size, a, b, true, false);
    case OP_QRSHL: return shiftReg(U, size, a, b, true, true);
    case OP_MAX: case OP_MAXP: return U ? (a > b ? a : b) : (sx(a, size) > sx(b, size) ? a : b);
    case OP_MIN: case OP_MINP: return U ? (a < b ? a : b) : (sx(a, size) < sx(b, size) ? a : b);
    case OP_ABD: return absDiff(U, size, a, b);
    case OP_ABA: return (d + absDiff(U, size, a, b)) & m;
    case OP_ADDSUB: return (U ? a - b : a + b) & m;
    case OP_ADDP: return (a + b) & m;
    case OP_CMTST: return (U ? a == b : (a & b) != 0) ? m : 0;
    case OP_MLA: return (U ? d - a * b : d + a * b) & m;
    case OP_MUL: return U ? pmul8(a, b) & 0xff : (a * b) & m;
    case OP_QDMULH: return qdmulh(a, b, size, U != 0);
    default: return 0;
  }
}

/** |a - b| of two elements (size 0..2), as an unsigned element. */
@inline function absDiff(U: u32, size: u32, a: u64, b: u64): u64 {
  const d = U ? <i64>a - <i64>b : sx(a, size) - sx(b, size);
  return <u64>(d < 0 ? -d : d);
}

/** A whole three same vector operation. */
@inline function sameVector(op: u32, Q: u32, U: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) {
    put(i, size, sameOp(op, U, size, elem(rn, i, size), elem(rm, i, size), elem(rd, i, size)));
  }
  commit(rd, Q);
}

/** A scalar three same operation on element 0. */
@inline function sameScalar(op: u32, U: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  setScalar(rd, size, sameOp(op, U, size, elem(rn, 0, size), elem(rm, 0, size), elem(rd, 0, size)));
}

// ---- AdvSIMD three same ----

/** Reserved sizes of a three same operation (vector, or scalar when `scalar`). */
@inline function sameReserved(op: u32, Q: u32, U: u32, size: u32, scalar: bool): bool {
  switch (op) {
    case OP_QADD: case OP_QSUB: case OP_QSHL: case OP_QRSHL:
      return scalar ? false : reservedD1(Q, size);
    case OP_CMGT: case OP_CMGE: case OP_SHL: case OP_RSHL: case OP_ADDSUB: case OP_CMTST:
      return scalar ? size != 3 : reservedD1(Q, size);
    case OP_ADDP: return reservedD1(Q, size);
    case OP_MUL: return U ? size != 0 : size == 3; // PMUL: bytes only
    case OP_QDMULH: return size == 0 || size == 3;
    default: return size == 3;
  }
}

@inline function isPairwise(op: u32): bool {
  return op == OP_MAXP || op == OP_MINP || op == OP_ADDP;
}

@inline export function exec_SAME_v(Q: u32, U: u32, size: u32, rm: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(sameReserved(opcode, Q, U, size, false))) return;
  if (isPairwise(opcode)) pairwise(opcode, Q, U, size, rm, rn, rd);
  else sameVector(opcode, Q, U, size, rm, rn, rd);
}

export function exec_LOGIC_v(Q: u32, U: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  if (!ok(false)) return;
  for (let h: u32 = 0; h <= Q; h++) {
    const n = half(rn, h);
    const m = half(rm, h);
    const d = half(rd, h);
    let r: u64;
    switch ((U << 2) | size) {
      case 0: r = n & m; break; // AND
      case 1: r = n & ~m; break; // BIC
      case 2: r = n | m; break; // ORR
      case 3: r = n | ~m; break; // ORN
      case 4: r = n ^ m; break; // EOR
      case 5: r = (d & n) | (~d & m); break; // BSL: Vd selects Vn (1) or Vm (0)
      case 6: r = (m & n) | (~m & d); break; // BIT: insert Vn where Vm is 1
      default: r = (~m & n) | (m & d); break; // BIF: insert Vn where Vm is 0
    }
    put(h, 3, r);
  }
  commit(rd, Q);
}

/** Pairwise: the lanes of Vn then Vm, taken two at a time. */
@inline function pairwise(op: u32, Q: u32, U: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  const n = lanes(Q, size);
  const h = n >> 1;
  for (let i: u32 = 0; i < n; i++) {
    const src = i < h ? rn : rm;
    const j = (i < h ? i : i - h) << 1;
    put(i, size, sameOp(op, U, size, elem(src, j, size), elem(src, j + 1, size), 0));
  }
  commit(rd, Q);
}

// ---- AdvSIMD scalar three same ----

@inline export function exec_SAME_s(U: u32, size: u32, rm: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(sameReserved(opcode, 0, U, size, true))) return;
  sameScalar(opcode, U, size, rm, rn, rd);
}

export function exec_ADDP_s(size: u32, rn: u32, rd: u32): void {
  if (!ok(size != 3)) return;
  setScalar(rd, 3, elem(rn, 0, 3) + elem(rn, 1, 3));
}

// ---- AdvSIMD three different ----
// Narrow operands come from the lower (Q = 0) or upper (Q = 1, the "2" forms) half of Vn/Vm;
// wide operands and results have elements of twice the size.

// The three different group's opcodes.
const OP_ADDL: u32 = 0;
const OP_ADDW: u32 = 1;
const OP_SUBL: u32 = 2;
const OP_SUBW: u32 = 3;
const OP_ADDHN: u32 = 4;
const OP_ABAL: u32 = 5;
const OP_SUBHN: u32 = 6;
const OP_ABDL: u32 = 7;
const OP_MLAL: u32 = 8;
const OP_SQDMLAL: u32 = 9;
const OP_MLSL: u32 = 10;
const OP_SQDMLSL: u32 = 11;
const OP_MULL: u32 = 12;
const OP_SQDMULL: u32 = 13;

/** The widening operations: 8 >> size lanes of 2 * esize bits. */
@inline function widening(op: u32, Q: u32, U: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  const n: u32 = 8 >> size;
  const wide = size + 1;
  const m = umax(wide);
  for (let i: u32 = 0; i < n; i++) {
    const b = ext(U, part(rm, i, Q, size), size);
    const d = elem(rd, i, wide);
    let r: i64;
    switch (op) {
      case OP_ADDL: r = ext(U, part(rn, i, Q, size), size) + b; break;
      case OP_SUBL: r = ext(U, part(rn, i, Q, size), size) - b; break;
      case OP_ADDW: r = <i64>elem(rn, i, wide) + b; break;
      case OP_SUBW: r = <i64>elem(rn, i, wide) - b; break;
      case OP_ABDL: r = absL(ext(U, part(rn, i, Q, size), size) - b); break;
      case OP_ABAL: r = <i64>d + absL(ext(U, part(rn, i, Q, size), size) - b); break;
      case OP_MULL: r = ext(U, part(rn, i, Q, size), size) * b; break;
      case OP_MLAL: r = <i64>d + ext(U, part(rn, i, Q, size), size) * b; break;
      default: r = <i64>d - ext(U, part(rn, i, Q, size), size) * b; break; // MLSL
    }
    put(i, wide, <u64>r & m);
  }
  commit(rd, 1);
}

@inline function absL(v: i64): i64 {
  return v < 0 ? -v : v;
}

/** ADDHN, RADDHN, SUBHN, RSUBHN: the high halves of wide sums, into the Q-selected half of Vd. */
function narrowHigh(Q: u32, round: u32, sub: bool, size: u32, rm: u32, rn: u32, rd: u32): void {
  const n: u32 = 8 >> size;
  const wide = size + 1;
  const esize: u64 = 8 << size;
  const rc: u64 = round ? <u64>1 << (esize - 1) : 0;
  if (Q) scratchFrom(rd);
  else clearScratch();
  const base: u32 = Q ? n : 0;
  for (let i: u32 = 0; i < n; i++) {
    const a = elem(rn, i, wide);
    const b = elem(rm, i, wide);
    const r = (sub ? a - b : a + b) + rc;
    put(base + i, size, r >> esize);
  }
  commit(rd, 1);
}

// SQDMLAL, SQDMLSL, SQDMULL: 2 * a * b saturated, then accumulated with saturation.
export const QD_MULL: u32 = 0;
export const QD_MLAL: u32 = 1;
export const QD_MLSL: u32 = 2;

@inline export function qdAccumulate(kind: u32, p: i64, d: u64, wide: u32): u64 {
  if (kind == QD_MULL) return <u64>p & umax(wide);
  const acc = sx(d, wide);
  return (kind == QD_MLAL ? sqadd(acc, p, wide) : sqsub(acc, p, wide)) & umax(wide);
}

function qdLong(kind: u32, Q: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  const n: u32 = 8 >> size;
  const wide = size + 1;
  for (let i: u32 = 0; i < n; i++) {
    const p = qdmull(part(rn, i, Q, size), part(rm, i, Q, size), size);
    put(i, wide, qdAccumulate(kind, p, elem(rd, i, wide), wide));
  }
  commit(rd, 1);
}

/** Scalar SQDMLAL/SQDMLSL/SQDMULL: element 0, result of twice the size. */
function qdLongScalar(kind: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  const wide = size + 1;
  const p = qdmull(elem(rn, 0, size), elem(rm, 0, size), size);
  setScalar(rd, wide, qdAccumulate(kind, p, elem(rd, 0, wide), wide));
}

/** The QD_ kind of a saturating doubling opcode (1001, 1011, 1101). */
@inline function qdKind(opcode: u32): u32 {
  return opcode == OP_SQDMLAL ? QD_MLAL : opcode == OP_SQDMLSL ? QD_MLSL : QD_MULL;
}

@inline function isDoubling(opcode: u32): bool {
  return opcode == OP_SQDMLAL || opcode == OP_SQDMLSL || opcode == OP_SQDMULL;
}

@inline export function exec_DIFF_v(Q: u32, U: u32, size: u32, rm: u32, rn: u32, rd: u32, opcode: u32): void {
  if (isDoubling(opcode)) {
    if (!ok(size == 0 || size == 3)) return;
    qdLong(qdKind(opcode), Q, size, rm, rn, rd);
    return;
  }
  if (!ok(size == 3)) return;
  if (opcode == OP_ADDHN || opcode == OP_SUBHN) narrowHigh(Q, U, opcode == OP_SUBHN, size, rm, rn, rd);
  else widening(opcode, Q, U, size, rm, rn, rd);
}

@inline export function exec_DIFF_s(U: u32, size: u32, rm: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(size == 0 || size == 3)) return;
  qdLongScalar(qdKind(opcode), size, rm, rn, rd);
}

export function exec_PMULL_v(Q: u32, size: u32, rm: u32, rn: u32, rd: u32): void {
  // size = 11 is the 64-bit PMULL of the Cryptographic Extension, which ID_AA64ISAR0_EL1
  // does not advertise here: UNDEFINED, like the other sizes.
  if (!ok(size != 0)) return;
  for (let i: u32 = 0; i < 8; i++) put(i, 1, pmul8(part(rn, i, Q, 0), part(rm, i, Q, 0)));
  commit(rd, 1);
}
