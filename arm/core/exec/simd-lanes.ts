// Lane access shared by the AdvSIMD handlers (simd-*.ts, ldst-simd.ts).
//
// Elements are addressed by index and size (log2 of the element's bytes: 0 = B, 1 = H, 2 = S,
// 3 = D), little-endian within the 16-byte V register as arm/abi.ts lays it out. A handler
// builds its result in `scratch` (room for four registers) and writes it back at the end, so a
// destination register may also be a source and an exception leaves every register untouched.
//
// Whole-register work (bitwise operations, copies) goes in two 64-bit halves: asconfig.json
// does not enable wasm SIMD, so v128 operations would not validate.

import { ACTIVE_STATE, FPSR } from "../../abi";
import { vAddr } from "../state";
import { sx64 } from "../bits";

/** Four 16-byte result registers. */
export const scratch: usize = memory.data(64, 16);

/** Sign-extends an element value of size `size`. */
@inline export function sx(v: u64, size: u32): i64 {
  return sx64(v, <i32>(8 << size));
}

/** The value of an element, extended to 64 bits as U says (U = 1: unsigned). */
@inline export function ext(U: u32, v: u64, size: u32): i64 {
  return U ? <i64>v : sx(v, size);
}

/** Element i of the Q-selected half of Vn (Q = 1: the upper, for the "2" forms), of size `size`. */
@inline export function part(n: u32, i: u32, Q: u32, size: u32): u64 {
  return elem(n, i + (Q ? (8 >> size) : 0), size);
}

/** Element size and Q combinations: 64-bit lanes need Q = 1. */
@inline export function reservedD1(Q: u32, size: u32): bool {
  return size == 3 && Q == 0;
}

/** Element i of size `size` of Vn, zero-extended. */
@inline export function elem(n: u32, i: u32, size: u32): u64 {
  return loadElem(vAddr(n) + (<usize>i << size), size);
}

/** Element i of size `size` of Vn, sign-extended. */
@inline export function selem(n: u32, i: u32, size: u32): i64 {
  return sx64(elem(n, i, size), <i32>(8 << size));
}

/** The element of size `size` at address a. */
@inline export function loadElem(a: usize, size: u32): u64 {
  if (size == 0) return <u64>load<u8>(a);
  if (size == 1) return <u64>load<u16>(a);
  if (size == 2) return <u64>load<u32>(a);
  return load<u64>(a);
}

/** Stores the low bits of v as an element of size `size` at address a. */
@inline export function storeElem(a: usize, size: u32, v: u64): void {
  if (size == 0) store<u8>(a, <u8>v);
  else if (size == 1) store<u16>(a, <u16>v);
  else if (size == 2) store<u32>(a, <u32>v);
  else store<u64>(a, v);
}

/** Sets element i of the scratch result. */
@inline export function put(i: u32, size: u32, v: u64): void {
  storeElem(scratch + (<usize>i << size), size, v);
}

/** Zeroes the scratch result (all four registers). */
@inline export function clearScratch(): void {
  memory.fill(scratch, 0, 64);
}

/** Copies Vn into the scratch result, for instructions that change only some lanes. */
@inline export function scratchFrom(n: u32): void {
  memory.copy(scratch, vAddr(n), 16);
}

/** Writes the scratch result to Vd: 128 bits, or 64 with the upper half zeroed when Q = 0. */
@inline export function commit(d: u32, Q: u32): void {
  const a = vAddr(d);
  store<u64>(a, load<u64>(scratch));
  store<u64>(a + 8, Q ? load<u64>(scratch + 8) : 0);
}

/** Writes lo:hi to Vd, or lo with the upper half zeroed when Q = 0. */
@inline export function setV(d: u32, Q: u32, lo: u64, hi: u64): void {
  const a = vAddr(d);
  store<u64>(a, lo);
  store<u64>(a + 8, Q ? hi : 0);
}

/** The low (half 0) or high (half 1) 64 bits of Vn. */
@inline export function half(n: u32, h: u32): u64 {
  return load<u64>(vAddr(n) + (<usize>h << 3));
}

/** Writes a scalar result: the low `size` element of Vd, every other bit zero. */
@inline export function setScalar(d: u32, size: u32, v: u64): void {
  const a = vAddr(d);
  store<u64>(a, size == 3 ? v : v & ((<u64>1 << (8 << size)) - 1));
  store<u64>(a + 8, 0);
}

/** Number of elements of size `size` in a 64-bit (Q = 0) or 128-bit (Q = 1) vector. */
@inline export function lanes(Q: u32, size: u32): u32 {
  return (8 << Q) >> size;
}

/** FPSR.QC: set by a saturating instruction that saturated (cumulative). */
@inline export function setQC(): void {
  store<u32>(ACTIVE_STATE + FPSR, load<u32>(ACTIVE_STATE + FPSR) | (1 << 27));
}

// ---- element arithmetic (values held in 64 bits) ----

/** The largest signed value of an element of size `size`. */
@inline export function smax(size: u32): i64 {
  return <i64>((<u64>-1) >> (64 - (8 << size) + 1));
}

/** The smallest signed value of an element of size `size`. */
@inline export function smin(size: u32): i64 {
  return ~smax(size);
}

/** All ones in an element of size `size`. */
@inline export function umax(size: u32): u64 {
  return (<u64>-1) >> (64 - (8 << size));
}

/** SignedSatQ: v clamped to the signed range of `size`, setting QC when clamped. */
@inline export function satS(v: i64, size: u32): u64 {
  const hi = smax(size);
  const lo = smin(size);
  if (v > hi) { setQC(); return <u64>hi; }
  if (v < lo) { setQC(); return <u64>lo; }
  return <u64>v;
}

/** UnsignedSatQ of a signed value: clamped to [0, all ones of `size`], setting QC when clamped. */
@inline export function satUfromS(v: i64, size: u32): u64 {
  if (v < 0) { setQC(); return 0; }
  const hi = umax(size);
  if (<u64>v > hi) { setQC(); return hi; }
  return <u64>v;
}

/** UnsignedSatQ of an unsigned value. */
@inline export function satU(v: u64, size: u32): u64 {
  const hi = umax(size);
  if (v > hi) { setQC(); return hi; }
  return v;
}

/** Saturating signed addition of two sign-extended elements (any size, including 64 bits). */
export function sqadd(a: i64, b: i64, size: u32): u64 {
  const r = a + b;
  if (size < 3) return satS(r, size);
  if (((a ^ r) & (b ^ r)) < 0) { setQC(); return a < 0 ? <u64>i64.MIN_VALUE : <u64>i64.MAX_VALUE; }
  return <u64>r;
}

/** Saturating signed subtraction. */
export function sqsub(a: i64, b: i64, size: u32): u64 {
  const r = a - b;
  if (size < 3) return satS(r, size);
  if (((a ^ b) & (a ^ r)) < 0) { setQC(); return a < 0 ? <u64>i64.MIN_VALUE : <u64>i64.MAX_VALUE; }
  return <u64>r;
}

/** Saturating unsigned addition of two zero-extended elements. */
export function uqadd(a: u64, b: u64, size: u32): u64 {
  const r = a + b;
  if (size < 3) return satU(r, size);
  if (r < a) { setQC(); return <u64>-1; }
  return r;
}

/** Saturating unsigned subtraction. */
export function uqsub(a: u64, b: u64): u64 {
  if (a < b) { setQC(); return 0; }
  return a - b;
}

/** SUQADD: signed a plus unsigned b, saturated to the signed range. */
export function suqadd(a: i64, b: u64, size: u32): u64 {
  if (size < 3) return satS(a + <i64>b, size);
  // b >= 0, so the sum can only overflow upwards: past INT64_MAX when b > INT64_MAX - a.
  if (b > <u64>i64.MAX_VALUE - <u64>a) { setQC(); return <u64>i64.MAX_VALUE; }
  return <u64>a + b;
}

/** USQADD: unsigned a plus signed b, saturated to the unsigned range. */
export function usqadd(a: u64, b: i64, size: u32): u64 {
  if (size < 3) {
    const r = <i64>a + b;
    return satUfromS(r, size);
  }
  const r = a + <u64>b;
  if (b >= 0) {
    if (r < a) { setQC(); return <u64>-1; }
  } else if (<u64>(-b) > a) {
    setQC();
    return 0;
  }
  return r;
}

/** SQDMULH / SQRDMULH of one element (size 1 or 2). */
export function qdmulh(a: u64, b: u64, size: u32, round: bool): u64 {
  const esize: u32 = 8 << size;
  const x = sx64(a, <i32>(8 << size));
  const y = sx64(b, <i32>(8 << size));
  if (x == smin(size) && y == smin(size)) { setQC(); return <u64>smax(size) & umax(size); }
  let p = 2 * x * y;
  if (round) p += <i64>1 << (esize - 1);
  return <u64>(p >> esize) & umax(size);
}

/** 2 * a * b of two signed elements (size 1 or 2), saturated to twice the size. */
export function qdmull(a: u64, b: u64, size: u32): i64 {
  const x = sx64(a, <i32>(8 << size));
  const y = sx64(b, <i32>(8 << size));
  if (x == smin(size) && y == smin(size)) {
    setQC();
    return smax(size + 1);
  }
  return 2 * x * y;
}
