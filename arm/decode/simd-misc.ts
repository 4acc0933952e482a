// ARM ARM C4.1.6: Data Processing -- Scalar Floating-Point and Advanced SIMD — the integer
// groups with one source register: AdvSIMD two-register misc and across lanes, and the scalar
// two-register misc forms. The floating-point opcodes of the same groups (two-register misc
// 01100-01111, 10110, 10111, 11xxx; across lanes 01100/01111) and URECPE/URSQRTE belong to the
// floating-point tables. Reserved size/Q combinations are checked in the handlers.

import type { Group, Row } from "./table.ts";
import { fixedU, opcodeRow } from "./opcode-rows.ts";

const VECTOR_2 = ["Q", "U", "size", "rn", "rd"];
const SCALAR_2 = ["U", "size", "rn", "rd"];

/** AdvSIMD two-register misc: 0 Q U 01110 size 10000 opcode 10 Rn Rd. */
function misc(name: string, title: string, handler: string, opcode: string, u = "U"): Row {
  return opcodeRow(name, title, handler, `0 Q ${u} 01110 size:2 10000 ${opcode} 10 rn:5 rd:5`, opcode, VECTOR_2, fixedU(u));
}

/** AdvSIMD scalar two-register misc: 01 U 11110 size 10000 opcode 10 Rn Rd. */
function miscScalar(name: string, title: string, handler: string, opcode: string, u = "U"): Row {
  return opcodeRow(name, title, handler, `01 ${u} 11110 size:2 10000 ${opcode} 10 rn:5 rd:5`, opcode, SCALAR_2, fixedU(u));
}

/** AdvSIMD across lanes: 0 Q U 01110 size 11000 opcode 10 Rn Rd. */
function across(name: string, title: string, handler: string, opcode: string, u = "U"): Row {
  return opcodeRow(name, title, handler, `0 Q ${u} 01110 size:2 11000 ${opcode} 10 rn:5 rd:5`, opcode, VECTOR_2, fixedU(u));
}

export const simdIntegerMisc: Group = {
  module: "simd-misc",
  section: "C4.1.6 AdvSIMD integer two-register misc and across lanes",
  rows: [
    // ---- AdvSIMD two-register misc ----
    misc("REV64_v", "REV64, REV32", "REV_v", "00000"), // U = 0 REV64, U = 1 REV32
    misc("REV16_v", "REV16 (vector)", "REV_v", "00001", "0"),
    misc("ADDLP_v", "SADDLP, UADDLP", "ADDLP_v", "00010"),
    { name: "SQADD_acc_v", title: "SUQADD, USQADD", pattern: "0 Q U 01110 size:2 10000 00011 10 rn:5 rd:5" },
    { name: "CLZ_v", title: "CLS, CLZ (vector)", pattern: "0 Q U 01110 size:2 10000 00100 10 rn:5 rd:5" }, // U = 0 CLS, U = 1 CLZ
    // U = 0 CNT; U = 1 size 00 NOT, 01 RBIT
    { name: "CNT_v", title: "CNT, NOT, RBIT (vector)", pattern: "0 Q U 01110 size:2 10000 00101 10 rn:5 rd:5" },
    misc("ADALP_v", "SADALP, UADALP", "ADDLP_v", "00110"),
    { name: "QABS_v", title: "SQABS, SQNEG (vector)", pattern: "0 Q U 01110 size:2 10000 00111 10 rn:5 rd:5" },
    misc("CMGT0_v", "CMGT, CMGE (zero)", "ZERO_v", "01000"),
    misc("CMEQ0_v", "CMEQ, CMLE (zero)", "ZERO_v", "01001"),
    misc("CMLT0_v", "CMLT (zero)", "ZERO_v", "01010", "0"),
    misc("ABS_v", "ABS, NEG (vector)", "ZERO_v", "01011"),
    misc("XTN_v", "XTN, SQXTUN (vector)", "XTN_v", "10010"), // U = 0 XTN, U = 1 SQXTUN
    { name: "SHLL_v", title: "SHLL", pattern: "0 Q 1 01110 size:2 10000 10011 10 rn:5 rd:5" },
    misc("QXTN_v", "SQXTN, UQXTN (vector)", "XTN_v", "10100"),

    // ---- AdvSIMD scalar two-register misc ----
    { name: "SQADD_acc_s", title: "SUQADD, USQADD (scalar)", pattern: "01 U 11110 size:2 10000 00011 10 rn:5 rd:5" },
    { name: "QABS_s", title: "SQABS, SQNEG (scalar)", pattern: "01 U 11110 size:2 10000 00111 10 rn:5 rd:5" },
    miscScalar("CMGT0_s", "CMGT, CMGE (zero, scalar)", "ZERO_s", "01000"),
    miscScalar("CMEQ0_s", "CMEQ, CMLE (zero, scalar)", "ZERO_s", "01001"),
    miscScalar("CMLT0_s", "CMLT (zero, scalar)", "ZERO_s", "01010", "0"),
    miscScalar("ABS_s", "ABS, NEG (scalar)", "ZERO_s", "01011"),
    miscScalar("SQXTUN_s", "SQXTUN (scalar)", "XTN_s", "10010", "1"),
    miscScalar("QXTN_s", "SQXTN, UQXTN (scalar)", "XTN_s", "10100"),

    // ---- AdvSIMD across lanes ----
    { name: "ADDLV", title: "SADDLV, UADDLV", pattern: "0 Q U 01110 size:2 11000 00011 10 rn:5 rd:5" },
    across("MAXV", "SMAXV, UMAXV", "MINMAXV", "01010"),
    across("MINV", "SMINV, UMINV", "MINMAXV", "11010"),
    { name: "ADDV", title: "ADDV", pattern: "0 Q 0 01110 size:2 11000 11011 10 rn:5 rd:5" },
  ],
};
