// ARM ARM C4.1.6: Data Processing -- Scalar Floating-Point and Advanced SIMD — moves and
// permutes: AdvSIMD copy (DUP, INS, SMOV, UMOV) and scalar copy (DUP element), modified
// immediate (MOVI, MVNI, ORR, BIC), permute (UZP, TRN, ZIP), extract (EXT) and table lookup
// (TBL, TBX).
//
// imm5 of the copy forms names the element size by its lowest set bit (x0000 is reserved) and
// the index by the bits above it; the handlers decode it and take UNDEFINED for the reserved
// values and size/Q combinations. Modified immediate: cmode = 1111 is FMOV (vector, immediate),
// an FP encoding, and matches no row here; so does o2 = 1 (FMOV half precision, ARMv8.2).

import type { Group, Row } from "./table.ts";
import { concat } from "./transforms.ts";

/** AdvSIMD copy: 0 Q op 01110000 imm5 0 imm4 1 Rn Rd. */
function copy(name: string, title: string, q: string, imm4: string): Row {
  return { name, title, pattern: `0 ${q} 0 01110000 imm5:5 0 ${imm4} 1 rn:5 rd:5` };
}

/**
 * AdvSIMD modified immediate with the cmode bits `cmodeBits` (fixed bits and a field cm);
 * imm8 = abc:defgh. It is the immh = 0000 corner of AdvSIMD shift by immediate, and wins there
 * over the shift rows it `overrides`.
 */
function modImm(name: string, title: string, cmodeBits: string, overrides: string[] = []): Row {
  const cmode = concat(...cmodeBits.split(" ").map((t) => t.replace(/:\d+$/, "")));
  return {
    name, title,
    pattern: `0 Q op 0111100000 abc:3 ${cmodeBits} 0 1 defgh:5 rd:5`, handler: "MOVI",
    derive: { imm8: concat("abc", "defgh"), cmode },
    args: ["Q", "op", "cmode", "imm8", "rd"],
    overrides,
  };
}

/** AdvSIMD permute: 0 Q 001110 size 0 Rm 0 opcode 10 Rn Rd, opcode = op:kind. */
function permute(name: string, title: string, kind: string): Row {
  return { name, title, pattern: `0 Q 001110 size:2 0 rm:5 0 op ${kind} 10 rn:5 rd:5` };
}

export const simdPermute: Group = {
  module: "simd-perm",
  section: "C4.1.6 AdvSIMD copy, modified immediate, permute, extract, table lookup",
  rows: [
    // ---- AdvSIMD copy ----
    copy("DUP_elem_v", "DUP (element, vector)", "Q", "0000"),
    copy("DUP_gen", "DUP (general)", "Q", "0001"),
    copy("INS_gen", "INS (general)", "1", "0011"), // Q = 0 is unallocated
    copy("SMOV", "SMOV", "Q", "0101"),
    copy("UMOV", "UMOV", "Q", "0111"),
    { name: "INS_elem", title: "INS (element)", pattern: "0 1 1 01110000 imm5:5 0 imm4:4 1 rn:5 rd:5" },

    // ---- AdvSIMD scalar copy ----
    { name: "DUP_elem_s", title: "DUP (element, scalar)", pattern: "01 0 11110000 imm5:5 0 0000 1 rn:5 rd:5" },

    // ---- AdvSIMD modified immediate (o2 = 0) ----
    // op = 0: MOVI, ORR; op = 1: MVNI, BIC (cmode<0> = 1 selects ORR/BIC in the shifted forms).
    modImm("MOVI_32", "MOVI, MVNI, ORR, BIC (32-bit shifted immediate)", "0 cm:3",
      ["SHR_v", "SRA_v", "RSHR_v", "RSRA_v", "SRI_v", "SHL_v", "SQSHLU_v", "QSHL_imm_v"]),
    modImm("MOVI_16", "MOVI, MVNI, ORR, BIC (16-bit shifted immediate)", "10 cm:2", ["SHRN_v", "QSHRN_v", "SHLL_imm_v"]),
    modImm("MOVI_msl", "MOVI, MVNI (32-bit shifting ones)", "110 cm"),
    modImm("MOVI_bytes", "MOVI (8-bit, 64-bit scalar and 2D)", "1110"),

    // ---- AdvSIMD permute ----
    permute("UZP", "UZP1, UZP2", "01"),
    permute("TRN", "TRN1, TRN2", "10"),
    permute("ZIP", "ZIP1, ZIP2", "11"),

    // ---- AdvSIMD extract ----
    { name: "EXT", title: "EXT", pattern: "0 Q 101110 00 0 rm:5 0 imm4:4 0 rn:5 rd:5" },

    // ---- AdvSIMD table lookup: len + 1 table registers from Rn; op = 0 TBL, 1 TBX ----
    { name: "TBL", title: "TBL, TBX", pattern: "0 Q 001110 00 0 rm:5 0 len:2 op 00 rn:5 rd:5" },
  ],
};
