// Handlers for the AdvSIMD integer groups with one source (arm/decode/simd-misc.ts): two-register
// misc, across lanes, and the scalar two-register misc forms. Conventions as in simd-int.ts:
// reserved size/Q combinations take UNDEFINED, then the FP access check, then the lanes,
// gathered in `scratch` and written to Vd at the end.

import { decodeThenCheckFp as ok } from "../fp-access";
import {
  sx, ext, part, reservedD1, elem, put, commit, clearScratch, scratchFrom, setScalar, lanes, setQC,
  half, smax, smin, umax, satS, satU, satUfromS, suqadd, usqadd,
} from "./simd-lanes";

// ---- AdvSIMD two-register misc ----

/** REV64 (opcode 00000, U = 0), REV32 (U = 1), REV16 (00001): the container is 8, 4 or 2 bytes. */
@inline export function exec_REV_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32, opcode: u32): void {
  const container: u32 = opcode == 1 ? 1 : U ? 2 : 3; // log2 bytes
  if (!ok(size >= container)) return;
  reverse(Q, size, container, rn, rd);
}

/** Reverses the order of the elements within each container of 1 << container bytes. */
function reverse(Q: u32, size: u32, container: u32, rn: u32, rd: u32): void {
  const n = lanes(Q, size);
  const flip: u32 = (1 << (container - size)) - 1;
  for (let i: u32 = 0; i < n; i++) put(i, size, elem(rn, i ^ flip, size));
  commit(rd, Q);
}

/** SADDLP, UADDLP, SADALP, UADALP: sums of adjacent pairs, widened (and accumulated). */
function addPairsLong(Q: u32, U: u32, size: u32, rn: u32, rd: u32, acc: bool): void {
  const n = lanes(Q, size) >> 1;
  const wide = size + 1;
  for (let i: u32 = 0; i < n; i++) {
    let r = ext(U, elem(rn, 2 * i, size), size) + ext(U, elem(rn, 2 * i + 1, size), size);
    if (acc) r += <i64>elem(rd, i, wide);
    put(i, wide, <u64>r & umax(wide));
  }
  commit(rd, Q);
}

/** SADDLP, UADDLP (opcode 00010), SADALP, UADALP (00110). */
@inline export function exec_ADDLP_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(size == 3)) return;
  addPairsLong(Q, U, size, rn, rd, opcode == 0b00110);
}

/** SUQADD (U = 0) / USQADD (U = 1) of one element: Vd's element plus Vn's. */
@inline function accumulateSat(U: u32, size: u32, d: u64, a: u64): u64 {
  return (U ? usqadd(d, sx(a, size), size) : suqadd(sx(d, size), a, size)) & umax(size);
}

export function exec_SQADD_acc_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(reservedD1(Q, size))) return;
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) put(i, size, accumulateSat(U, size, elem(rd, i, size), elem(rn, i, size)));
  commit(rd, Q);
}

export function exec_SQADD_acc_s(U: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(false)) return;
  setScalar(rd, size, accumulateSat(U, size, elem(rd, 0, size), elem(rn, 0, size)));
}

export function exec_CLZ_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(size == 3)) return;
  const n = lanes(Q, size);
  const esize: u64 = 8 << size;
  for (let i: u32 = 0; i < n; i++) {
    const a = elem(rn, i, size);
    let r: u64;
    if (U) {
      r = clz<u64>(a) - (64 - esize); // CLZ
    } else {
      // CLS: leading bits equal to the sign bit, not counting it.
      const y = (a ^ (a >> 1)) & umax(size) & ~(<u64>1 << (esize - 1));
      r = clz<u64>(y) - (64 - esize) - 1;
    }
    put(i, size, r);
  }
  commit(rd, Q);
}

export function exec_CNT_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(U ? size > 1 : size != 0)) return;
  for (let h: u32 = 0; h <= Q; h++) {
    const a = half(rn, h);
    let r: u64;
    if (!U) {
      r = 0;
      for (let b: u64 = 0; b < 64; b += 8) r |= <u64>popcnt<u64>((a >> b) & 0xff) << b; // CNT
    } else if (size == 0) {
      r = ~a; // NOT
    } else {
      r = bswap<u64>(rbit64(a)); // RBIT: each byte's bits reversed, bytes in place
    }
    put(h, 3, r);
  }
  commit(rd, Q);
}

/** The 64 bits of v in reverse order. */
function rbit64(v: u64): u64 {
  v = ((v >> 1) & 0x5555555555555555) | ((v & 0x5555555555555555) << 1);
  v = ((v >> 2) & 0x3333333333333333) | ((v & 0x3333333333333333) << 2);
  v = ((v >> 4) & 0x0f0f0f0f0f0f0f0f) | ((v & 0x0f0f0f0f0f0f0f0f) << 4);
  return bswap<u64>(v);
}

/** SQABS (U = 0) / SQNEG (U = 1) of one element. */
function qabs(U: u32, size: u32, a: u64): u64 {
  const v = sx(a, size);
  const neg = U ? true : v < 0;
  if (!neg) return a;
  if (v == smin(size)) { setQC(); return <u64>smax(size) & umax(size); }
  return <u64>(-v) & umax(size);
}

export function exec_QABS_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(reservedD1(Q, size))) return;
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) put(i, size, qabs(U, size, elem(rn, i, size)));
  commit(rd, Q);
}

export function exec_QABS_s(U: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(false)) return;
  setScalar(rd, size, qabs(U, size, elem(rn, 0, size)));
}

// Comparisons with zero and ABS/NEG: one element. Their opcodes are 010xx, xx the operation.
const Z_GT: u32 = 0; // CMGT #0 (U = 0) / CMGE #0 (U = 1)
const Z_EQ: u32 = 1; // CMEQ #0 (U = 0) / CMLE #0 (U = 1)
const Z_LT: u32 = 2; // CMLT #0
const Z_ABS: u32 = 3; // ABS (U = 0) / NEG (U = 1)

@inline function zeroOp(op: u32, U: u32, size: u32, a: u64): u64 {
  const v = sx(a, size);
  const m = umax(size);
  switch (op) {
    case Z_GT: return (U ? v >= 0 : v > 0) ? m : 0;
    case Z_EQ: return (U ? v <= 0 : v == 0) ? m : 0;
    case Z_LT: return v < 0 ? m : 0;
    default: return <u64>(U != 0 || v < 0 ? -v : v) & m;
  }
}

@inline function zeroVector(op: u32, Q: u32, U: u32, size: u32, rn: u32, rd: u32): void {
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) put(i, size, zeroOp(op, U, size, elem(rn, i, size)));
  commit(rd, Q);
}

@inline export function exec_ZERO_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(reservedD1(Q, size))) return;
  zeroVector(opcode & 3, Q, U, size, rn, rd);
}

@inline export function exec_ZERO_s(U: u32, size: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(size != 3)) return;
  setScalar(rd, 3, zeroOp(opcode & 3, U, 3, elem(rn, 0, 3)));
}

// Narrowing: elements of twice `size` from Vn, each narrowed to `size`.
const N_XTN: u32 = 0;
const N_SQXTN: u32 = 1;
const N_UQXTN: u32 = 2;
const N_SQXTUN: u32 = 3;

@inline function narrow(kind: u32, size: u32, a: u64): u64 {
  const wide = size + 1;
  switch (kind) {
    case N_XTN: return a & umax(size);
    case N_SQXTN: return satS(sx(a, wide), size) & umax(size);
    case N_UQXTN: return satU(a, size);
    default: return satUfromS(sx(a, wide), size); // SQXTUN
  }
}

/** XTN/XTN2 and the saturating forms: into the Q-selected half of Vd, the other half kept (Q = 1). */
@inline function narrowVector(kind: u32, Q: u32, size: u32, rn: u32, rd: u32): void {
  const n: u32 = 8 >> size;
  if (Q) scratchFrom(rd);
  else clearScratch();
  const base: u32 = Q ? n : 0;
  for (let i: u32 = 0; i < n; i++) put(base + i, size, narrow(kind, size, elem(rn, i, size + 1)));
  commit(rd, 1);
}

/** XTN, SQXTUN (opcode 10010, U = 0 and 1); SQXTN, UQXTN (10100). */
@inline function narrowKind(opcode: u32, U: u32): u32 {
  if (opcode == 0b10010) return U ? N_SQXTUN : N_XTN;
  return U ? N_UQXTN : N_SQXTN;
}

@inline export function exec_XTN_v(Q: u32, U: u32, size: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(size == 3)) return;
  narrowVector(narrowKind(opcode, U), Q, size, rn, rd);
}

@inline export function exec_XTN_s(U: u32, size: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(size == 3)) return;
  setScalar(rd, size, narrow(narrowKind(opcode, U), size, elem(rn, 0, size + 1)));
}

export function exec_SHLL_v(Q: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(size == 3)) return;
  const n: u32 = 8 >> size;
  const esize: u64 = 8 << size;
  for (let i: u32 = 0; i < n; i++) put(i, size + 1, part(rn, i, Q, size) << esize);
  commit(rd, 1);
}

// ---- AdvSIMD across lanes ----

export function exec_ADDV(Q: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(size == 3 || (size == 2 && Q == 0))) return;
  const n = lanes(Q, size);
  let r: u64 = 0;
  for (let i: u32 = 0; i < n; i++) r += elem(rn, i, size);
  setScalar(rd, size, r);
}

export function exec_ADDLV(Q: u32, U: u32, size: u32, rn: u32, rd: u32): void {
  if (!ok(size == 3 || (size == 2 && Q == 0))) return;
  const n = lanes(Q, size);
  let r: i64 = 0;
  for (let i: u32 = 0; i < n; i++) r += ext(U, elem(rn, i, size), size);
  setScalar(rd, size + 1, <u64>r);
}

/** SMAXV, UMAXV, SMINV, UMINV. */
function minMaxAcross(Q: u32, U: u32, size: u32, rn: u32, rd: u32, max: bool): void {
  const n = lanes(Q, size);
  let best = elem(rn, 0, size);
  for (let i: u32 = 1; i < n; i++) {
    const a = elem(rn, i, size);
    const greater = U ? a > best : sx(a, size) > sx(best, size);
    const less = U ? a < best : sx(a, size) < sx(best, size);
    if (max ? greater : less) best = a;
  }
  setScalar(rd, size, best);
}

/** SMAXV, UMAXV (opcode 01010), SMINV, UMINV (11010). */
@inline export function exec_MINMAXV(Q: u32, U: u32, size: u32, rn: u32, rd: u32, opcode: u32): void {
  if (!ok(size == 3 || (size == 2 && Q == 0))) return;
  minMaxAcross(Q, U, size, rn, rd, opcode == 0b01010);
}
