// AdvSIMD floating point by element, FMOV (vector, immediate) and the fixed-point
// conversions of the shift-by-immediate groups against qemu-aarch64: every row of
// simdFloatingPointIndexed in arm/decode/simd-fp.ts.

import { simdFloatingPointIndexed } from "../../arm/decode/simd-fp.ts";
import { describeRows, type Fields, type RowTest, type Width } from "../support/diff/fp.ts";

const bySz = (f: Fields): Width => (f.sz ? 64 : 32);
const Q_SZ = { Q: [0, 1, 1], sz: [0, 0, 1] };
/** L is reserved (must be 0) for double precision: set it mostly right. */
const L = (rng: { chance(p?: number): boolean; below(n: number): number }, f: Fields) => (f.sz && rng.chance(0.9) ? 0 : rng.below(2));

const FIXED: RowTest[] = [];
for (const scalar of [false, true]) {
  for (const [kind, unsigned] of [["CVTF", 0], ["CVTF", 1], ["FCVTZ", 0], ["FCVTZ", 1]] as const) {
    for (const esize of [64, 32] as const) {
      const name = `SIMD_${kind}_fix${esize}${scalar ? "_S" : ""}`;
      const insn = kind === "CVTF" ? (unsigned ? "UCVTF" : "SCVTF") : unsigned ? "FCVTZU" : "FCVTZS";
      FIXED.push({
        row: name, label: `${insn} (${scalar ? "scalar" : "vector"}, fixed-point, ${esize === 64 ? "double" : "single"})`,
        fields: { U: [unsigned], ...(scalar ? {} : { Q: esize === 64 ? [1, 1, 1, 0] : [0, 1] }) },
        width: () => esize, perMode: 100,
      });
    }
  }
}

describeRows("AdvSIMD FP by element, immediate and fixed point agree with qemu", simdFloatingPointIndexed, [
  { row: "SIMD_FP_ELEM_MLA", label: "FMLA (by element, vector)", fields: { ...Q_SZ, L, o2: [0] }, width: bySz, perMode: 200 },
  { row: "SIMD_FP_ELEM_MLA", label: "FMLS (by element, vector)", fields: { ...Q_SZ, L, o2: [1] }, width: bySz, perMode: 200 },
  { row: "SIMD_FP_ELEM_MUL", label: "FMUL (by element, vector)", fields: { ...Q_SZ, L, U: [0] }, width: bySz, perMode: 200 },
  { row: "SIMD_FP_ELEM_MUL", label: "FMULX (by element, vector)", fields: { ...Q_SZ, L, U: [1] }, width: bySz, perMode: 200 },
  { row: "SIMD_FP_ELEM_MLA_S", label: "FMLA/FMLS (by element, scalar)", fields: { L }, width: bySz, perMode: 200 },
  { row: "SIMD_FP_ELEM_MUL_S", label: "FMUL/FMULX (by element, scalar)", fields: { L }, width: bySz, perMode: 200 },
  { row: "SIMD_FMOV_imm", label: "FMOV (vector, immediate)", fields: { Q: [0, 1, 1], op: [0, 0, 1] }, width: () => 32, perMode: 40 },
  ...FIXED,
], "simd-fp-indexed");
