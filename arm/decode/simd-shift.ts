// ARM ARM C4.1.6: Data Processing -- Scalar Floating-Point and Advanced SIMD — AdvSIMD shift by
// immediate and scalar shift by immediate (integer forms).
//
// immh's highest set bit gives the element size; immh:immb encodes the shift (2 * esize - it
// for right shifts, it - esize for left shifts), as the handlers decode. immh = 0000 is the
// modified-immediate space in the vector encoding (those rows override these)
// and unallocated in the scalar one; the handlers take UNDEFINED for it, and for the reserved
// immh/Q combinations. The fixed-point conversions of the same groups (SCVTF, UCVTF, FCVTZS,
// FCVTZU, opcodes 11100 and 11111) are floating-point encodings and match no row here.

import type { Group, Row } from "./table.ts";
import { fixedU, opcodeRow } from "./opcode-rows.ts";

/** AdvSIMD shift by immediate: 0 Q U 011110 immh immb opcode 1 Rn Rd. */
function vector(name: string, title: string, handler: string, opcode: string): Row {
  return opcodeRow(name, title, handler, `0 Q U 011110 immh:4 immb:3 ${opcode} 1 rn:5 rd:5`, opcode, ["Q", "U", "immh", "immb", "rn", "rd"]);
}

/** AdvSIMD scalar shift by immediate: 01 U 111110 immh immb opcode 1 Rn Rd. */
function scalar(name: string, title: string, handler: string, opcode: string, u = "U"): Row {
  return opcodeRow(name, title, handler, `01 ${u} 111110 immh:4 immb:3 ${opcode} 1 rn:5 rd:5`, opcode, ["U", "immh", "immb", "rn", "rd"], fixedU(u));
}

export const simdShift: Group = {
  module: "simd-shift",
  section: "C4.1.6 AdvSIMD shift by immediate, scalar shift by immediate",
  rows: [
    // ---- AdvSIMD shift by immediate ----
    vector("SHR_v", "SSHR, USHR", "SHIFT_imm_v", "00000"),
    vector("SRA_v", "SSRA, USRA", "SHIFT_imm_v", "00010"),
    vector("RSHR_v", "SRSHR, URSHR", "SHIFT_imm_v", "00100"),
    vector("RSRA_v", "SRSRA, URSRA", "SHIFT_imm_v", "00110"),
    // SRI and SQSHLU exist only with U = 1; U is a field here (the handler takes UNDEFINED for
    // U = 0) so that the modified-immediate rows keep immh = 0000 whatever U.
    vector("SRI_v", "SRI", "SHIFT_imm_v", "01000"),
    vector("SHL_v", "SHL, SLI", "SHIFT_imm_v", "01010"), // U = 0 SHL, U = 1 SLI
    vector("SQSHLU_v", "SQSHLU", "SHIFT_imm_v", "01100"),
    vector("QSHL_imm_v", "SQSHL, UQSHL (immediate)", "SHIFT_imm_v", "01110"),
    vector("SHRN_v", "SHRN, SQSHRUN", "NARROW_imm_v", "10000"), // U = 0 SHRN, U = 1 SQSHRUN
    vector("RSHRN_v", "RSHRN, SQRSHRUN", "NARROW_imm_v", "10001"), // U = 0 RSHRN, U = 1 SQRSHRUN
    vector("QSHRN_v", "SQSHRN, UQSHRN", "NARROW_imm_v", "10010"),
    vector("QRSHRN_v", "SQRSHRN, UQRSHRN", "NARROW_imm_v", "10011"),
    { name: "SHLL_imm_v", title: "SSHLL, USHLL", pattern: "0 Q U 011110 immh:4 immb:3 10100 1 rn:5 rd:5" },

    // ---- AdvSIMD scalar shift by immediate ----
    scalar("SHR_s", "SSHR, USHR (scalar)", "SHIFT_imm_s", "00000"),
    scalar("SRA_s", "SSRA, USRA (scalar)", "SHIFT_imm_s", "00010"),
    scalar("RSHR_s", "SRSHR, URSHR (scalar)", "SHIFT_imm_s", "00100"),
    scalar("RSRA_s", "SRSRA, URSRA (scalar)", "SHIFT_imm_s", "00110"),
    scalar("SRI_s", "SRI (scalar)", "SHIFT_imm_s", "01000", "1"),
    scalar("SHL_s", "SHL, SLI (scalar)", "SHIFT_imm_s", "01010"),
    scalar("SQSHLU_s", "SQSHLU (scalar)", "SHIFT_imm_s", "01100", "1"),
    scalar("QSHL_imm_s", "SQSHL, UQSHL (immediate, scalar)", "SHIFT_imm_s", "01110"),
    scalar("SQSHRUN_s", "SQSHRUN (scalar)", "NARROW_imm_s", "10000", "1"),
    scalar("SQRSHRUN_s", "SQRSHRUN (scalar)", "NARROW_imm_s", "10001", "1"),
    scalar("QSHRN_s", "SQSHRN, UQSHRN (scalar)", "NARROW_imm_s", "10010"),
    scalar("QRSHRN_s", "SQRSHRN, UQRSHRN (scalar)", "NARROW_imm_s", "10011"),
  ],
};
