// ARM ARM C4.1.6 (Data Processing -- Scalar Floating-Point and Advanced SIMD): the scalar
// floating-point rows of ARMv8.0. Half precision exists only as a conversion format (FCVT);
// every other ftype = 11 encoding is FEAT_FP16 and, like ftype = 10, UNDEFINED here (the
// handlers check ftype). M (bit 31) and S (bit 29) are fixed at 0: other values are
// unallocated and match no row.

import type { Group } from "./table.ts";

export const scalarFloatingPoint: Group = {
  module: "fp",
  section: "C4.1.6 Data Processing -- Scalar Floating-Point (floating-point data-processing)",
  rows: [
    { name: "FP_1SRC", title: "FMOV (register), FABS, FNEG, FSQRT (scalar)",
      pattern: "0 0 0 11110 ftype:2 1 0000 opc:2 10000 rn:5 rd:5" },
    { name: "FCVT_prec", title: "FCVT (between half, single and double precision)",
      pattern: "0 0 0 11110 ftype:2 1 0001 opc:2 10000 rn:5 rd:5" },
    { name: "FRINT", title: "FRINTN, FRINTP, FRINTM, FRINTZ, FRINTA, FRINTX, FRINTI (scalar)",
      pattern: "0 0 0 11110 ftype:2 1 001 rmode:3 10000 rn:5 rd:5" },
    { name: "FCMP", title: "FCMP, FCMPE (register and zero forms)",
      pattern: "0 0 0 11110 ftype:2 1 rm:5 00 1000 rn:5 E Z 000" },
    { name: "FMOV_imm", title: "FMOV (scalar, immediate)",
      pattern: "0 0 0 11110 ftype:2 1 imm8:8 100 00000 rd:5" },
    { name: "FCCMP", title: "FCCMP, FCCMPE",
      pattern: "0 0 0 11110 ftype:2 1 rm:5 cond:4 01 rn:5 op nzcv:4" },
    { name: "FP_2SRC", title: "FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL (scalar)",
      pattern: "0 0 0 11110 ftype:2 1 rm:5 opcode:4 10 rn:5 rd:5" },
    { name: "FCSEL", title: "FCSEL",
      pattern: "0 0 0 11110 ftype:2 1 rm:5 cond:4 11 rn:5 rd:5" },
    { name: "FP_3SRC", title: "FMADD, FMSUB, FNMADD, FNMSUB",
      pattern: "0 0 0 11111 ftype:2 o1 rm:5 o0 ra:5 rn:5 rd:5" },
  ],
};

export const fpConversions: Group = {
  module: "fp-convert",
  section: "C4.1.6 Data Processing -- Scalar Floating-Point (conversions to and from integers and fixed point)",
  rows: [
    { name: "FCVT_fixed", title: "SCVTF, UCVTF, FCVTZS, FCVTZU (scalar, fixed-point)",
      pattern: "sf 0 0 11110 ftype:2 0 rmode:2 opcode:3 scale:6 rn:5 rd:5" },
    { name: "FCVT_int", title: "FCVT[NPMZA][SU], SCVTF, UCVTF (scalar, integer), FMOV (general)",
      pattern: "sf 0 0 11110 ftype:2 1 rmode:2 opcode:3 000000 rn:5 rd:5" },
  ],
};
