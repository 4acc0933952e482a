// AdvSIMD floating point (ARM ARM C4.1.6) against qemu-aarch64: every row of
// simdFloatingPoint in arm/decode/simd-fp.ts, each operation on its own, over all lane
// arrangements (Q, sz; sz = 1 with Q = 0 is reserved and must be UNDEFINED on both sides).

import { simdFloatingPoint } from "../../arm/decode/simd-fp.ts";
import { type Case, type V128, makeCase } from "../support/diff/case.ts";
import { describeCases, describeRows, type Fields, type RowTest, type Width } from "../support/diff/fp.ts";

const bySz = (f: Fields): Width => (f.sz ? 64 : 32);
const Q_SZ = { Q: [0, 1, 1], sz: [0, 0, 1] };

/** [name, U, a, opcode<2:0>] of the three-same operations. */
const THREE_SAME: [string, number, number, number][] = [
  ["FMAXNM", 0, 0, 0], ["FMLA", 0, 0, 1], ["FADD", 0, 0, 2], ["FMULX", 0, 0, 3], ["FCMEQ", 0, 0, 4],
  ["FMAX", 0, 0, 6], ["FRECPS", 0, 0, 7], ["FMINNM", 0, 1, 0], ["FMLS", 0, 1, 1], ["FSUB", 0, 1, 2],
  ["FMIN", 0, 1, 6], ["FRSQRTS", 0, 1, 7], ["FMAXNMP", 1, 0, 0], ["FADDP", 1, 0, 2], ["FMUL", 1, 0, 3],
  ["FCMGE", 1, 0, 4], ["FACGE", 1, 0, 5], ["FMAXP", 1, 0, 6], ["FDIV", 1, 0, 7], ["FMINNMP", 1, 1, 0],
  ["FABD", 1, 1, 2], ["FCMGT", 1, 1, 4], ["FACGT", 1, 1, 5], ["FMINP", 1, 1, 6],
];
const THREE_SAME_SCALAR = ["FMULX", "FCMEQ", "FRECPS", "FRSQRTS", "FCMGE", "FACGE", "FABD", "FCMGT", "FACGT"];

/** [name, U, a, opcode<2:0>] of the two-register miscellaneous operations (opcode 11xxx). */
const TWO_MISC: [string, number, number, number][] = [
  ["FRINTN", 0, 0, 0], ["FRINTM", 0, 0, 1], ["FCVTNS", 0, 0, 2], ["FCVTMS", 0, 0, 3], ["FCVTAS", 0, 0, 4],
  ["SCVTF", 0, 0, 5], ["FRINTP", 0, 1, 0], ["FRINTZ", 0, 1, 1], ["FCVTPS", 0, 1, 2], ["FCVTZS", 0, 1, 3],
  ["URECPE", 0, 1, 4], ["FRECPE", 0, 1, 5], ["FRINTA", 1, 0, 0], ["FRINTX", 1, 0, 1], ["FCVTNU", 1, 0, 2],
  ["FCVTMU", 1, 0, 3], ["FCVTAU", 1, 0, 4], ["UCVTF", 1, 0, 5], ["FRINTI", 1, 1, 1], ["FCVTPU", 1, 1, 2],
  ["FCVTZU", 1, 1, 3], ["URSQRTE", 1, 1, 4], ["FRSQRTE", 1, 1, 5], ["FSQRT", 1, 1, 7],
];
const TWO_MISC_SCALAR = ["FCVTNS", "FCVTMS", "FCVTAS", "SCVTF", "FCVTPS", "FCVTZS", "FRECPE", "FCVTNU",
  "FCVTMU", "FCVTAU", "UCVTF", "FCVTPU", "FCVTZU", "FRSQRTE"];

const PER_OP = 100;

describeRows("AdvSIMD FP three same (vector) agrees with qemu", simdFloatingPoint, [
  ...THREE_SAME.map(([name, U, a, opcode]): RowTest => ({
    row: "SIMD_FP_3SAME", label: `${name} (vector)`, fields: { ...Q_SZ, U: [U], a: [a], opcode: [opcode] }, width: bySz, perMode: PER_OP,
  })),
  { row: "SIMD_FP_3SAME", label: "unallocated three-same keys", perMode: 10, minCompleted: 0, width: bySz,
    fields: { U: [0, 0, 0, 1, 1, 1, 1], a: (rng, f) => (f.U ? rng.pick([0, 1, 1, 1]) : rng.pick([0, 1, 1, 1])),
      opcode: (rng, f) => (f.U ? (f.a ? rng.pick([1, 3, 7]) : 1) : f.a ? rng.pick([3, 4, 5]) : 5) } },
], "simd-fp-3same");

describeRows("AdvSIMD FP three same (scalar) agrees with qemu", simdFloatingPoint, [
  ...THREE_SAME.filter(([name]) => THREE_SAME_SCALAR.includes(name)).map(([name, U, a, opcode]): RowTest => ({
    row: "SIMD_FP_3SAME_S", label: `${name} (scalar)`, fields: { U: [U], a: [a], opcode: [opcode] }, width: bySz, perMode: PER_OP,
  })),
  { row: "SIMD_FP_3SAME_S", label: "vector-only keys in the scalar group", perMode: 10, minCompleted: 0, width: bySz,
    fields: { U: [0, 1], a: [0, 1], opcode: [0, 1, 2, 6] } },
], "simd-fp-3same-scalar");

describeRows("AdvSIMD FP two-register miscellaneous agrees with qemu", simdFloatingPoint, [
  ...TWO_MISC.map(([name, U, a, opcode]): RowTest => ({
    row: "SIMD_FP_2MISC", label: `${name} (vector)`, fields: { ...Q_SZ, U: [U], a: [a], opcode: [opcode] },
    width: (f) => (name.startsWith("U") && name.endsWith("E") ? 32 : bySz(f)), perMode: PER_OP,
  })),
  ...TWO_MISC.filter(([name]) => TWO_MISC_SCALAR.includes(name)).map(([name, U, a, opcode]): RowTest => ({
    row: "SIMD_FP_2MISC_S", label: `${name} (scalar)`, fields: { U: [U], a: [a], opcode: [opcode] }, width: bySz, perMode: PER_OP,
  })),
  { row: "SIMD_FP_2MISC_S", label: "FRECPX (scalar)", fields: { U: [0], a: [1], opcode: [7] }, width: bySz, perMode: PER_OP },
  { row: "SIMD_FP_2MISC", label: "unallocated two-register keys", perMode: 10, minCompleted: 0, width: bySz,
    fields: { U: [0, 1], a: [0, 1], opcode: (rng, f) => (f.U && f.a ? rng.pick([0, 6]) : rng.pick([6, 7])) } },
  { row: "SIMD_FP_CMP0", label: "FCMGT/FCMEQ/FCMLT/FCMGE/FCMLE #0, FABS, FNEG (vector)", fields: Q_SZ, width: bySz, perMode: 300 },
  { row: "SIMD_FP_CMP0_S", label: "FCMGT/FCMEQ/FCMLT/FCMGE/FCMLE #0 (scalar)", fields: { op: [0, 1, 2, 0, 1, 2, 3] }, width: bySz, perMode: 200 },
  { row: "SIMD_FCVT_NL", label: "FCVTN/FCVTN2/FCVTL/FCVTL2", fields: { U: [0] },
    width: (f) => (f.o ? (f.sz ? 32 : 16) : f.sz ? 64 : 32), perMode: 300 },
  { row: "SIMD_FCVT_NL", label: "FCVTXN/FCVTXN2", fields: { U: [1], sz: [1, 1, 1, 0], o: [0, 0, 0, 1] }, width: () => 64, perMode: 150 },
  { row: "SIMD_FCVTXN_S", label: "FCVTXN (scalar)", fields: { sz: [1, 1, 1, 0] }, width: () => 64, perMode: 150 },
  { row: "SIMD_FP_ACROSS", label: "FMAXNMV/FMINNMV/FMAXV/FMINV", fields: { Q: [1, 1, 1, 1, 1, 0], sz: [0, 0, 0, 0, 0, 1], op: [0, 3, 0, 3, 0, 3, 1, 2] }, width: () => 32, perMode: 300 },
  { row: "SIMD_FP_PAIR_S", label: "FMAXNMP/FADDP/FMAXP/FMINNMP/FMINP (scalar)", fields: { op: [0, 1, 3, 0, 1, 3, 2] }, width: bySz, perMode: 300 },
], "simd-fp-2misc");

// Every entry of the ARM ARM's RecipEstimate (inputs 256..511) and RecipSqrtEstimate
// (128..511) tables, through the integer estimates (the table index is operand<31:23>) and
// the floating-point ones (fraction<22:15> of singles with even and odd exponents, and of
// denormals). Four inputs per instruction (Vn.4S of V1), FPCR = 0.
const URECPE_V0_V1 = 0x4ea1c820; // urecpe v0.4s, v1.4s
const URSQRTE_V0_V1 = 0x6ea1c820; // ursqrte v0.4s, v1.4s
const FRECPE_V0_V1 = 0x4ea1d820; // frecpe v0.4s, v1.4s
const FRSQRTE_V0_V1 = 0x6ea1d820; // frsqrte v0.4s, v1.4s

function estimateCases(insn: number, inputs: number[]): Case[] {
  const out: Case[] = [];
  for (let i = 0; i < inputs.length; i += 4) {
    const lane = (j: number) => BigInt((inputs[i + j] ?? inputs[i]!) >>> 0);
    const v = Array.from({ length: 32 }, () => [0n, 0n] as V128);
    v[1] = [lane(0) | (lane(1) << 32n), lane(2) | (lane(3) << 32n)];
    out.push(makeCase([insn], { v }));
  }
  return out;
}
const range = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, i) => lo + i);

describeCases("reciprocal estimate tables agree with qemu", "URECPE, URSQRTE, FRECPE, FRSQRTE over every table entry", () => [
  ...estimateCases(URECPE_V0_V1, range(256, 512).map((a) => (a << 23) | 0x7fffff)),
  ...estimateCases(URSQRTE_V0_V1, range(128, 512).map((a) => (a << 23) | 0x12345)),
  ...estimateCases(FRECPE_V0_V1, range(0, 256).flatMap((f) => [(127 << 23) | (f << 15), (200 << 23) | (f << 15) | 0x7fff, (f << 14) | 1])),
  ...estimateCases(FRSQRTE_V0_V1, range(0, 256).flatMap((f) => [(127 << 23) | (f << 15), (128 << 23) | (f << 15), (f << 14) | 1, (f << 6) | 3])),
]);
