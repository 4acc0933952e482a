// ARM ARM C4.1.6: Data Processing -- Scalar Floating-Point and Advanced SIMD — the integer
// arithmetic groups with two source registers: AdvSIMD three same and three different, and
// their scalar forms (scalar three same, three different, pairwise ADDP). The one-source groups
// (two-register misc, across lanes) are in simd-misc.ts.
//
// One row per instruction pair that differs only in U (signed/unsigned, or two related
// operations), with U, Q and size passed through. Every row fixes the whole opcode: the
// floating-point opcodes of the same groups (three same 11xxx, two-register misc 01100-01111,
// 10110, 10111, 11xxx, across lanes 01100/01111, scalar pairwise FADDP/FMAXP…) belong to the
// FP/AdvSIMD floating-point tables, and so do URECPE and URSQRTE (two-register misc 11100).
// Reserved size/Q combinations are checked in the handlers, which take UNDEFINED for them.

import type { Group, Row } from "./table.ts";
import { fixedU, opcodeRow } from "./opcode-rows.ts";

const VECTOR_3 = ["Q", "U", "size", "rm", "rn", "rd"];
const SCALAR_3 = ["U", "size", "rm", "rn", "rd"];

/** AdvSIMD three same: 0 Q U 01110 size 1 Rm opcode 1 Rn Rd. */
function same(name: string, title: string, opcode: string, u = "U"): Row {
  return opcodeRow(name, title, "SAME_v", `0 Q ${u} 01110 size:2 1 rm:5 ${opcode} 1 rn:5 rd:5`, opcode, VECTOR_3, fixedU(u));
}

/** AdvSIMD scalar three same: 01 U 11110 size 1 Rm opcode 1 Rn Rd. */
function sameScalar(name: string, title: string, opcode: string): Row {
  return opcodeRow(name, title, "SAME_s", `01 U 11110 size:2 1 rm:5 ${opcode} 1 rn:5 rd:5`, opcode, SCALAR_3);
}

/** AdvSIMD three different: 0 Q U 01110 size 1 Rm opcode 00 Rn Rd. */
function different(name: string, title: string, opcode: string, u = "U"): Row {
  return opcodeRow(name, title, "DIFF_v", `0 Q ${u} 01110 size:2 1 rm:5 ${opcode} 00 rn:5 rd:5`, opcode, VECTOR_3, fixedU(u));
}

/** AdvSIMD scalar three different: 01 U 11110 size 1 Rm opcode 00 Rn Rd (U = 0 only). */
function differentScalar(name: string, title: string, opcode: string): Row {
  return opcodeRow(name, title, "DIFF_s", `01 0 11110 size:2 1 rm:5 ${opcode} 00 rn:5 rd:5`, opcode, SCALAR_3, fixedU("0"));
}

export const simdInteger: Group = {
  module: "simd-int",
  section: "C4.1.6 AdvSIMD integer arithmetic (three same, three different)",
  rows: [
    // ---- AdvSIMD three same ----
    same("HADD_v", "SHADD, UHADD", "00000"),
    same("QADD_v", "SQADD, UQADD", "00001"),
    same("RHADD_v", "SRHADD, URHADD", "00010"),
    // size is opc2: AND, BIC, ORR, ORN (U = 0); EOR, BSL, BIT, BIF (U = 1).
    { name: "LOGIC_v", title: "AND, BIC, ORR, ORN, EOR, BSL, BIT, BIF (vector)", pattern: "0 Q U 01110 size:2 1 rm:5 00011 1 rn:5 rd:5" },
    same("HSUB_v", "SHSUB, UHSUB", "00100"),
    same("QSUB_v", "SQSUB, UQSUB", "00101"),
    same("CMGT_v", "CMGT, CMHI (register)", "00110"),
    same("CMGE_v", "CMGE, CMHS (register)", "00111"),
    same("SHL_reg_v", "SSHL, USHL", "01000"),
    same("QSHL_reg_v", "SQSHL, UQSHL (register)", "01001"),
    same("RSHL_reg_v", "SRSHL, URSHL", "01010"),
    same("QRSHL_reg_v", "SQRSHL, UQRSHL", "01011"),
    same("MAX_v", "SMAX, UMAX", "01100"),
    same("MIN_v", "SMIN, UMIN", "01101"),
    same("ABD_v", "SABD, UABD", "01110"),
    same("ABA_v", "SABA, UABA", "01111"),
    same("ADDSUB_v", "ADD, SUB (vector)", "10000"),
    same("CMTST_v", "CMTST, CMEQ (register)", "10001"),
    same("MLA_v", "MLA, MLS (vector)", "10010"),
    same("MUL_v", "MUL, PMUL", "10011"),
    same("MAXP_v", "SMAXP, UMAXP", "10100"),
    same("MINP_v", "SMINP, UMINP", "10101"),
    same("QDMULH_v", "SQDMULH, SQRDMULH (vector)", "10110"),
    same("ADDP_v", "ADDP (vector)", "10111", "0"),

    // ---- AdvSIMD scalar three same ----
    sameScalar("QADD_s", "SQADD, UQADD (scalar)", "00001"),
    sameScalar("QSUB_s", "SQSUB, UQSUB (scalar)", "00101"),
    sameScalar("CMGT_s", "CMGT, CMHI (register, scalar)", "00110"),
    sameScalar("CMGE_s", "CMGE, CMHS (register, scalar)", "00111"),
    sameScalar("SHL_reg_s", "SSHL, USHL (scalar)", "01000"),
    sameScalar("QSHL_reg_s", "SQSHL, UQSHL (register, scalar)", "01001"),
    sameScalar("RSHL_reg_s", "SRSHL, URSHL (scalar)", "01010"),
    sameScalar("QRSHL_reg_s", "SQRSHL, UQRSHL (scalar)", "01011"),
    sameScalar("ADDSUB_s", "ADD, SUB (scalar)", "10000"),
    sameScalar("CMTST_s", "CMTST, CMEQ (register, scalar)", "10001"),
    sameScalar("QDMULH_s", "SQDMULH, SQRDMULH (scalar)", "10110"),

    // ---- AdvSIMD scalar pairwise ----
    { name: "ADDP_s", title: "ADDP (scalar)", pattern: "01 0 11110 size:2 11000 11011 10 rn:5 rd:5" },

    // ---- AdvSIMD three different ----
    different("ADDL_v", "SADDL, UADDL", "0000"),
    different("ADDW_v", "SADDW, UADDW", "0001"),
    different("SUBL_v", "SSUBL, USUBL", "0010"),
    different("SUBW_v", "SSUBW, USUBW", "0011"),
    different("ADDHN_v", "ADDHN, RADDHN", "0100"),
    different("ABAL_v", "SABAL, UABAL", "0101"),
    different("SUBHN_v", "SUBHN, RSUBHN", "0110"),
    different("ABDL_v", "SABDL, UABDL", "0111"),
    different("MLAL_v", "SMLAL, UMLAL (vector)", "1000"),
    different("QDMLAL_v", "SQDMLAL (vector)", "1001", "0"),
    different("MLSL_v", "SMLSL, UMLSL (vector)", "1010"),
    different("QDMLSL_v", "SQDMLSL (vector)", "1011", "0"),
    different("MULL_v", "SMULL, UMULL (vector)", "1100"),
    different("QDMULL_v", "SQDMULL (vector)", "1101", "0"),
    { name: "PMULL_v", title: "PMULL (8-bit polynomials)", pattern: "0 Q 0 01110 size:2 1 rm:5 1110 00 rn:5 rd:5" },

    // ---- AdvSIMD scalar three different ----
    differentScalar("QDMLAL_s", "SQDMLAL (scalar)", "1001"),
    differentScalar("QDMLSL_s", "SQDMLSL (scalar)", "1011"),
    differentScalar("QDMULL_s", "SQDMULL (scalar)", "1101"),

  ],
};
