// ARM ARM C4.1.6 (Data Processing -- Scalar Floating-Point and Advanced SIMD): the
// floating-point rows of the AdvSIMD groups in ARMv8.0. The integer rows of the same groups
// live in simd-int*.ts; the opcodes here are the floating-point ones only, so the two never
// overlap. Sizes: a (bit 23) and sz (bit 22) of the ARM ARM's size field; sz picks single
// (0) or double (1). FEAT_FP16 forms (their own groups, or a = 0 where a = 1 means
// something else) stay unmatched: UNDEFINED on this core. Reserved field values inside a row
// (sz = 1 with Q = 0, unallocated opcodes) are rejected by the handlers.

import type { Group, Row } from "./table.ts";
import { concat, minus } from "./transforms.ts";

/**
 * The fixed-point conversions of AdvSIMD (scalar) shift by immediate, `opcode` 11100 SCVTF/UCVTF
 * (toInt = 0) or 11111 FCVTZS/FCVTZU: immh = 1xxx is double precision, 01xx single (001x is
 * FEAT_FP16, 0001 reserved, 0000 the modified-immediate group); fbits = 2 * esize - immh:immb.
 */
function fixed(name: string, title: string, scalar: boolean, esize: 32 | 64, opcode: string): Row {
  const immh = esize === 64 ? "1 immh:3" : "01 immh:2";
  const pattern = scalar ? `01 U 111110 ${immh} immb:3 ${opcode} 1 rn:5 rd:5` : `0 Q U 011110 ${immh} immb:3 ${opcode} 1 rn:5 rd:5`;
  return {
    name, title, pattern, handler: scalar ? "SIMD_FP_FIXED_S" : "SIMD_FP_FIXED",
    derive: { fbits: minus(esize, concat("immh", "immb")) }, set: { toInt: opcode === "11111" ? 1 : 0, esize },
    args: [...(scalar ? [] : ["Q"]), "U", "fbits", "rn", "rd", "toInt", "esize"],
  };
}

/** By element: op is 0 FMLA, 1 FMLS, 2 FMUL, 3 FMULX. */
const ELEM_ARGS = ["sz", "L", "M", "rm", "H", "rn", "rd", "op"];

export const simdFloatingPoint: Group = {
  module: "simd-fp",
  section: "C4.1.6 AdvSIMD three same, two-register miscellaneous, across lanes, scalar pairwise (floating point)",
  rows: [
    // ---- vector ----
    { name: "SIMD_FP_3SAME", title: "FMAXNM, FMLA, FADD, FMULX, FCMEQ, FMAX, FRECPS, FMINNM, FMLS, FSUB, FMIN, FRSQRTS, FMAXNMP, FADDP, FMUL, FCMGE, FACGE, FMAXP, FDIV, FMINNMP, FABD, FCMGT, FACGT, FMINP (vector)",
      pattern: "0 Q U 01110 a sz 1 rm:5 11 opcode:3 1 rn:5 rd:5" },
    { name: "SIMD_FP_CMP0", title: "FCMGT, FCMEQ, FCMLT, FCMGE, FCMLE (vector, zero), FABS, FNEG (vector)",
      pattern: "0 Q U 01110 1 sz 10000 011 op:2 10 rn:5 rd:5" },
    { name: "SIMD_FCVT_NL", title: "FCVTN, FCVTN2, FCVTL, FCVTL2, FCVTXN, FCVTXN2",
      pattern: "0 Q U 01110 0 sz 10000 1011 o 10 rn:5 rd:5" },
    { name: "SIMD_FP_2MISC", title: "FRINT[NMPZAXI], FCVT[NMAPZ][SU], SCVTF, UCVTF, URECPE, FRECPE, URSQRTE, FRSQRTE, FSQRT (vector)",
      pattern: "0 Q U 01110 a sz 10000 11 opcode:3 10 rn:5 rd:5" },
    { name: "SIMD_FP_ACROSS", title: "FMAXNMV, FMAXV, FMINNMV, FMINV",
      pattern: "0 Q 1 01110 a sz 11000 011 op:2 10 rn:5 rd:5" },
    // ---- scalar ----
    { name: "SIMD_FP_3SAME_S", title: "FMULX, FCMEQ, FRECPS, FRSQRTS, FCMGE, FACGE, FABD, FCMGT, FACGT (scalar)",
      pattern: "01 U 11110 a sz 1 rm:5 11 opcode:3 1 rn:5 rd:5" },
    { name: "SIMD_FP_CMP0_S", title: "FCMGT, FCMEQ, FCMLT, FCMGE, FCMLE (scalar, zero)",
      pattern: "01 U 11110 1 sz 10000 011 op:2 10 rn:5 rd:5" },
    { name: "SIMD_FCVTXN_S", title: "FCVTXN (scalar)",
      pattern: "01 1 11110 0 sz 10000 10110 10 rn:5 rd:5" },
    { name: "SIMD_FP_2MISC_S", title: "FCVT[NMAPZ][SU], SCVTF, UCVTF, FRECPE, FRECPX, FRSQRTE (scalar)",
      pattern: "01 U 11110 a sz 10000 11 opcode:3 10 rn:5 rd:5" },
    { name: "SIMD_FP_PAIR_S", title: "FMAXNMP, FADDP, FMAXP, FMINNMP, FMINP (scalar)",
      pattern: "01 1 11110 a sz 11000 011 op:2 10 rn:5 rd:5" },
  ],
};

export const simdFloatingPointIndexed: Group = {
  module: "simd-fp-indexed",
  section: "C4.1.6 AdvSIMD by element, modified immediate, shift by immediate (floating point)",
  rows: [
    { name: "SIMD_FP_ELEM_MLA", title: "FMLA, FMLS (by element, vector)",
      pattern: "0 Q 0 01111 1 sz L M rm:4 0 o2 01 H 0 rn:5 rd:5",
      handler: "SIMD_FP_ELEM", derive: { op: concat("0", "o2") }, args: ["Q", ...ELEM_ARGS] },
    { name: "SIMD_FP_ELEM_MUL", title: "FMUL, FMULX (by element, vector)",
      pattern: "0 Q U 01111 1 sz L M rm:4 1001 H 0 rn:5 rd:5",
      handler: "SIMD_FP_ELEM", derive: { op: concat("1", "U") }, args: ["Q", ...ELEM_ARGS] },
    { name: "SIMD_FP_ELEM_MLA_S", title: "FMLA, FMLS (by element, scalar)",
      pattern: "01 0 11111 1 sz L M rm:4 0 o2 01 H 0 rn:5 rd:5",
      handler: "SIMD_FP_ELEM_S", derive: { op: concat("0", "o2") }, args: ELEM_ARGS },
    { name: "SIMD_FP_ELEM_MUL_S", title: "FMUL, FMULX (by element, scalar)",
      pattern: "01 U 11111 1 sz L M rm:4 1001 H 0 rn:5 rd:5",
      handler: "SIMD_FP_ELEM_S", derive: { op: concat("1", "U") }, args: ELEM_ARGS },
    { name: "SIMD_FMOV_imm", title: "FMOV (vector, immediate): single (op = 0) and double (op = 1) precision",
      pattern: "0 Q op 0111100000 abc:3 1111 01 defgh:5 rd:5" },
    fixed("SIMD_CVTF_fix64", "SCVTF, UCVTF (vector, fixed-point), double", false, 64, "11100"),
    fixed("SIMD_CVTF_fix32", "SCVTF, UCVTF (vector, fixed-point), single", false, 32, "11100"),
    fixed("SIMD_FCVTZ_fix64", "FCVTZS, FCVTZU (vector, fixed-point), double", false, 64, "11111"),
    fixed("SIMD_FCVTZ_fix32", "FCVTZS, FCVTZU (vector, fixed-point), single", false, 32, "11111"),
    fixed("SIMD_CVTF_fix64_S", "SCVTF, UCVTF (scalar, fixed-point), double", true, 64, "11100"),
    fixed("SIMD_CVTF_fix32_S", "SCVTF, UCVTF (scalar, fixed-point), single", true, 32, "11100"),
    fixed("SIMD_FCVTZ_fix64_S", "FCVTZS, FCVTZU (scalar, fixed-point), double", true, 64, "11111"),
    fixed("SIMD_FCVTZ_fix32_S", "FCVTZS, FCVTZU (scalar, fixed-point), single", true, 32, "11111"),
  ],
};
