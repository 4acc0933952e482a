// Handlers for the AdvSIMD moves and permutes (arm/decode/simd-perm.ts): copy, scalar copy,
// modified immediate, permute, extract and table lookup.
//
// As in simd-int.ts: reserved encodings take UNDEFINED first, then the FP access check; results
// are built in `scratch` and written at the end, so Vd may also be a source.

import { decodeThenCheckFp as ok } from "../fp-access";
import { getX, setX, vAddr } from "../state";
import { sx64 } from "../bits";
import { elem, put, commit, clearScratch, scratchFrom, setScalar, lanes, setV, half, scratch } from "./simd-lanes";

/** The element size named by imm5: its lowest set bit (4 for x0000, which is reserved). */
@inline function imm5Size(imm5: u32): u32 {
  return ctz<u32>(imm5 | 0x10);
}

// ---- AdvSIMD copy ----

export function exec_DUP_elem_v(Q: u32, imm5: u32, rn: u32, rd: u32): void {
  const size = imm5Size(imm5);
  if (!ok(size > 3 || (size == 3 && Q == 0))) return;
  const v = elem(rn, imm5 >> (size + 1), size);
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) put(i, size, v);
  commit(rd, Q);
}

export function exec_DUP_elem_s(imm5: u32, rn: u32, rd: u32): void {
  const size = imm5Size(imm5);
  if (!ok(size > 3)) return;
  setScalar(rd, size, elem(rn, imm5 >> (size + 1), size));
}

export function exec_DUP_gen(Q: u32, imm5: u32, rn: u32, rd: u32): void {
  const size = imm5Size(imm5);
  if (!ok(size > 3 || (size == 3 && Q == 0))) return;
  const v = getX(rn); // the low `size` bits of Wn or Xn
  const n = lanes(Q, size);
  for (let i: u32 = 0; i < n; i++) put(i, size, v);
  commit(rd, Q);
}

export function exec_INS_gen(imm5: u32, rn: u32, rd: u32): void {
  const size = imm5Size(imm5);
  if (!ok(size > 3)) return;
  scratchFrom(rd);
  put(imm5 >> (size + 1), size, getX(rn));
  commit(rd, 1);
}

export function exec_INS_elem(imm5: u32, imm4: u32, rn: u32, rd: u32): void {
  const size = imm5Size(imm5);
  if (!ok(size > 3)) return;
  const v = elem(rn, imm4 >> size, size);
  scratchFrom(rd);
  put(imm5 >> (size + 1), size, v);
  commit(rd, 1);
}

export function exec_SMOV(Q: u32, imm5: u32, rn: u32, rd: u32): void {
  // To Wd (Q = 0) from B or H; to Xd (Q = 1) from B, H or S.
  const size = imm5Size(imm5);
  if (!ok(size >= 2 + Q)) return;
  const v = <u64>sx64(elem(rn, imm5 >> (size + 1), size), <i32>(8 << size));
  setX(rd, Q ? v : v & 0xffffffff);
}

export function exec_UMOV(Q: u32, imm5: u32, rn: u32, rd: u32): void {
  // To Wd (Q = 0) from B, H or S; to Xd (Q = 1) from D only.
  const size = imm5Size(imm5);
  if (!ok(Q ? size != 3 : size > 2)) return;
  setX(rd, elem(rn, imm5 >> (size + 1), size));
}

// ---- AdvSIMD modified immediate ----

/** AdvSIMDExpandImm(op, cmode, imm8) for every cmode but 1111 (FMOV). */
function expandImm(op: u32, cmode: u32, imm8: u32): u64 {
  const b = <u64>imm8;
  switch (cmode >> 1) {
    case 0: return replicate32(b);
    case 1: return replicate32(b << 8);
    case 2: return replicate32(b << 16);
    case 3: return replicate32(b << 24);
    case 4: return replicate16(b);
    case 5: return replicate16(b << 8);
    case 6: return replicate32(cmode & 1 ? (b << 16) | 0xffff : (b << 8) | 0xff);
    default: {
      if (!op) return b * 0x0101010101010101; // 8-bit
      let r: u64 = 0; // 64-bit: each bit of imm8 becomes a byte
      for (let i: u64 = 0; i < 8; i++) if ((b >> i) & 1) r |= <u64>0xff << (i * 8);
      return r;
    }
  }
}

@inline function replicate32(v: u64): u64 {
  return v | (v << 32);
}

@inline function replicate16(v: u64): u64 {
  return v * 0x0001000100010001;
}

/** MOVI, MVNI, ORR, BIC (vector, immediate); each row's case folds what its cmode fixes. */
@inline export function exec_MOVI(Q: u32, op: u32, cmode: u32, imm8: u32, rd: u32): void {
  if (!ok(false)) return;
  const imm = expandImm(op, cmode, imm8);
  const shifted = cmode < 12; // the 32-bit and 16-bit shifted forms have ORR/BIC
  if (shifted && (cmode & 1)) {
    const lo = half(rd, 0);
    const hi = half(rd, 1);
    if (op) setV(rd, Q, lo & ~imm, hi & ~imm); // BIC
    else setV(rd, Q, lo | imm, hi | imm); // ORR
    return;
  }
  // MVNI inverts, except cmode = 1110 with op = 1, the 64-bit MOVI.
  const r = op && cmode != 14 ? ~imm : imm;
  setV(rd, Q, r, r);
}

// ---- AdvSIMD permute ----

export function exec_UZP(Q: u32, size: u32, rm: u32, op: u32, rn: u32, rd: u32): void {
  if (!ok(size == 3 && Q == 0)) return;
  const n = lanes(Q, size);
  const h = n >> 1;
  // The even (UZP1) or odd (UZP2) elements of Vn then Vm.
  for (let i: u32 = 0; i < n; i++) {
    const j = 2 * (i < h ? i : i - h) + op;
    put(i, size, elem(i < h ? rn : rm, j, size));
  }
  commit(rd, Q);
}

export function exec_TRN(Q: u32, size: u32, rm: u32, op: u32, rn: u32, rd: u32): void {
  if (!ok(size == 3 && Q == 0)) return;
  const n = lanes(Q, size);
  for (let p: u32 = 0; p < n; p += 2) {
    put(p, size, elem(rn, p + op, size));
    put(p + 1, size, elem(rm, p + op, size));
  }
  commit(rd, Q);
}

export function exec_ZIP(Q: u32, size: u32, rm: u32, op: u32, rn: u32, rd: u32): void {
  if (!ok(size == 3 && Q == 0)) return;
  const n = lanes(Q, size);
  const base = op ? n >> 1 : 0; // ZIP2 takes the upper halves
  for (let i: u32 = 0; i < n >> 1; i++) {
    put(2 * i, size, elem(rn, base + i, size));
    put(2 * i + 1, size, elem(rm, base + i, size));
  }
  commit(rd, Q);
}

// ---- AdvSIMD extract ----

export function exec_EXT(Q: u32, rm: u32, imm4: u32, rn: u32, rd: u32): void {
  if (!ok(Q == 0 && imm4 >= 8)) return;
  const bytes: u32 = 8 << Q;
  // Bytes imm4 … imm4 + bytes - 1 of Vm:Vn (Vn the low half of the concatenation).
  for (let i: u32 = 0; i < bytes; i++) {
    const j = i + imm4;
    put(i, 0, j < bytes ? elem(rn, j, 0) : elem(rm, j - bytes, 0));
  }
  commit(rd, Q);
}

// ---- AdvSIMD table lookup ----

export function exec_TBL(Q: u32, rm: u32, len: u32, op: u32, rn: u32, rd: u32): void {
  if (!ok(false)) return;
  const bytes: u32 = 8 << Q;
  const tableBytes: u32 = (len + 1) << 4;
  if (op) scratchFrom(rd); // TBX keeps Vd's byte for an index out of range
  else clearScratch();
  for (let i: u32 = 0; i < bytes; i++) {
    const idx = <u32>elem(rm, i, 0);
    if (idx < tableBytes) store<u8>(scratch + i, load<u8>(vAddr((rn + (idx >> 4)) & 31) + (idx & 15)));
    else if (!op) store<u8>(scratch + i, 0);
  }
  commit(rd, Q);
}
