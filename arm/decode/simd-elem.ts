// ARM ARM C4.1.6: Data Processing -- Scalar Floating-Point and Advanced SIMD — AdvSIMD vector x
// indexed element and scalar x indexed element, the integer forms.
//
// The element of Vm is Vm[H:L:M] with Rm = 0:Rm<3:0> for 16-bit elements (size = 01), and
// Vm[H:L] with Rm = M:Rm<3:0> for 32-bit ones (size = 10); the other sizes are reserved and the
// handlers take UNDEFINED. The FP forms of the same groups (FMLA, FMLS, FMUL, FMULX, FMLAL…) and
// the later-architecture integer ones (SQRDMLAH, SQRDMLSH: ARMv8.1; SDOT, UDOT: ARMv8.2) match
// no row here.

import type { Group, Row } from "./table.ts";
import { fixedU, opcodeRow } from "./opcode-rows.ts";

/** AdvSIMD vector x indexed element: 0 Q U 01111 size L M Rm<3:0> opcode H 0 Rn Rd. */
function vector(name: string, title: string, opcode: string, u = "U"): Row {
  return opcodeRow(name, title, "ELEM_v", `0 Q ${u} 01111 size:2 L M rm:4 ${opcode} H 0 rn:5 rd:5`, opcode,
    ["Q", "U", "size", "L", "M", "rm", "H", "rn", "rd"], fixedU(u));
}

/** AdvSIMD scalar x indexed element: 01 U 11111 size L M Rm<3:0> opcode H 0 Rn Rd (U = 0 here). */
function scalar(name: string, title: string, opcode: string): Row {
  return opcodeRow(name, title, "ELEM_s", `01 0 11111 size:2 L M rm:4 ${opcode} H 0 rn:5 rd:5`, opcode,
    ["size", "L", "M", "rm", "H", "rn", "rd"]);
}

export const simdByElement: Group = {
  module: "simd-elem",
  section: "C4.1.6 AdvSIMD vector and scalar x indexed element (integer)",
  rows: [
    // ---- AdvSIMD vector x indexed element ----
    vector("MUL_elem", "MUL (by element)", "1000", "0"),
    vector("MLA_elem", "MLA, MLS (by element)", "0 op 00", "1"), // op = 0 MLA, 1 MLS
    vector("MULL_elem", "SMULL, UMULL (by element)", "1010"),
    vector("MLAL_elem", "SMLAL, UMLAL (by element)", "0010"),
    vector("MLSL_elem", "SMLSL, UMLSL (by element)", "0110"),
    vector("QDMULL_elem", "SQDMULL (by element)", "1011", "0"),
    vector("QDMLAL_elem", "SQDMLAL (by element)", "0011", "0"),
    vector("QDMLSL_elem", "SQDMLSL (by element)", "0111", "0"),
    vector("QDMULH_elem", "SQDMULH, SQRDMULH (by element)", "110 op", "0"), // op = 1 rounds

    // ---- AdvSIMD scalar x indexed element ----
    scalar("QDMULL_elem_s", "SQDMULL (by element, scalar)", "1011"),
    scalar("QDMLAL_elem_s", "SQDMLAL (by element, scalar)", "0011"),
    scalar("QDMLSL_elem_s", "SQDMLSL (by element, scalar)", "0111"),
    scalar("QDMULH_elem_s", "SQDMULH, SQRDMULH (by element, scalar)", "110 op"),
  ],
};
