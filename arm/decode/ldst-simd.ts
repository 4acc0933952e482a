// ARM ARM C4.1.4: Loads and Stores — the SIMD&FP (V = 1) forms, and the AdvSIMD structure
// loads and stores. The integer forms (V = 0) are in ldst.ts.
//
// `scale` is log2 of the access size in bytes: opc<1>:size for the single-register forms, where
// 0..3 are B, H, S, D, 4 is Q and 5..7 (opc<1> = 1 with size != 00) are unallocated (the handler
// takes UNDEFINED). Pair forms have opc = 00 S, 01 D, 10 Q; opc = 11 is unallocated. The
// unprivileged imm9 form (bits 11:10 = 10) has no SIMD&FP variant and matches no row.
//
// Structure forms (LD1-LD4, ST1-ST4, LD1R-LD4R): `opcode` says how many registers and how they
// interleave; the handlers decode it as the ARM ARM does and take UNDEFINED for the unallocated
// values. Rm = 31 in the post-index forms means "post-index by the transfer size".

import type { Group, Row } from "./table.ts";
import { concat, plus, sext, zext, type Transform } from "./transforms.ts";

const mem: Row["flags"] = ["memory"];
const scale = concat("opc1", "size");
const imm9 = sext("imm9");
// Register offset: option<1> must be 1 (UXTW 010, LSL/UXTX 011, SXTW 110, SXTX 111).
const option = concat("option2", "1", "option0");
/** Pair offsets are scaled by the access size: 4 << opc bytes. */
const imm7 = sext("imm7", plus("opc", 2));

/** The load and store rows of one pair form, whose bits 25:23 are `idx`. */
function pairRow(name: string, idx: string, form: string, wback: number, post: number): Row {
  return {
    name, title: `LDP, STP${idx === "000" ? " (LDNP, STNP)" : ""} (SIMD&FP, ${form})`,
    pattern: `opc:2 101 1 ${idx} L imm7:7 rt2:5 rn:5 rt:5`, handler: "LDSTP_simd", derive: { imm7 },
    set: { wback, post }, flags: mem,
  };
}

/** A single-register immediate form: the offset and how the base is used (ARM ARM wback, postindex). */
function immRow(name: string, title: string, pattern: string, imm: Transform, wback: number, post: number): Row {
  return {
    name, title, pattern, handler: "LDST_imm_simd", derive: { scale, imm }, set: { wback, post },
    args: ["scale", "L", "imm", "rn", "rt", "wback", "post"], flags: mem,
  };
}

// The structure forms pass post = 1 and Rm in their post-index rows, post = 0 otherwise.
const NO_POST = { post: 0, rm: 0 };

export const simdLoadsStores: Group = {
  module: "ldst-simd",
  section: "C4.1.4 Loads and Stores (SIMD&FP)",
  emitters: ["LDR_lit_simd", "LDSTP_simd", "LDST_imm_simd", "LDSTR_reg_simd"],
  rows: [
    // Load register (literal): opc 00 S, 01 D, 10 Q; 11 unallocated.
    { name: "LDR_lit_simd", title: "LDR (literal, SIMD&FP)", pattern: "opc:2 011 1 00 imm19:19 rt:5",
      derive: { imm19: sext("imm19", 2) }, flags: mem },

    // Load/store pair.
    pairRow("LDSTNP_simd", "000", "signed offset, non-temporal", 0, 0),
    pairRow("LDSTP_post_simd", "001", "post-index", 1, 1),
    pairRow("LDSTP_off_simd", "010", "signed offset", 0, 0),
    pairRow("LDSTP_pre_simd", "011", "pre-index", 1, 0),

    // Load/store register: unscaled immediate, post-index, pre-index.
    immRow("LDSTUR_simd", "LDUR, STUR (SIMD&FP)", "size:2 111 1 00 opc1 L 0 imm9:9 00 rn:5 rt:5", imm9, 0, 0),
    immRow("LDSTR_post_simd", "LDR, STR (immediate, SIMD&FP, post-index)", "size:2 111 1 00 opc1 L 0 imm9:9 01 rn:5 rt:5", imm9, 1, 1),
    immRow("LDSTR_pre_simd", "LDR, STR (immediate, SIMD&FP, pre-index)", "size:2 111 1 00 opc1 L 0 imm9:9 11 rn:5 rt:5", imm9, 1, 0),
    // Register offset, Xm extended by option and shifted by the access size when S = 1.
    { name: "LDSTR_reg_simd", title: "LDR, STR (register, SIMD&FP)", pattern: "size:2 111 1 00 opc1 L 1 rm:5 option2 1 option0 S 10 rn:5 rt:5",
      derive: { scale, option }, args: ["scale", "L", "rm", "option", "S", "rn", "rt"], flags: mem },
    // Unsigned offset: imm12 scaled by the access size.
    immRow("LDSTR_uimm_simd", "LDR, STR (immediate, SIMD&FP, unsigned offset)", "size:2 111 1 01 opc1 L imm12:12 rn:5 rt:5",
      zext("imm12", scale), 0, 0),

    // AdvSIMD load/store multiple structures: opcode 0000 LD4/ST4, 0010 LD1/ST1 (4 registers),
    // 0100 LD3/ST3, 0110 LD1/ST1 (3), 0111 LD1/ST1 (1), 1000 LD2/ST2, 1010 LD1/ST1 (2).
    { name: "LDST_multi", title: "LD1-LD4, ST1-ST4 (multiple structures)", pattern: "0 Q 0011000 L 000000 opcode:4 size:2 rn:5 rt:5",
      set: NO_POST, args: ["Q", "L", "opcode", "size", "rn", "rt", "post", "rm"], flags: mem },
    { name: "LDST_multi_post", title: "LD1-LD4, ST1-ST4 (multiple structures, post-index)", pattern: "0 Q 0011001 L 0 rm:5 opcode:4 size:2 rn:5 rt:5",
      handler: "LDST_multi", set: { post: 1 }, args: ["Q", "L", "opcode", "size", "rn", "rt", "post", "rm"], flags: mem },

    // AdvSIMD load/store single structure: opcode<2:1> is the element size (00 B, 01 H, 10 S or
    // D), opcode<0>:R + 1 the number of registers; opcode 11x with L = 1, S = 0 is LD1R-LD4R.
    { name: "LDST_single", title: "LD1-LD4, ST1-ST4 (single structure)", pattern: "0 Q 0011010 L R 00000 opcode:3 S size:2 rn:5 rt:5",
      set: NO_POST, args: ["Q", "L", "R", "opcode", "S", "size", "rn", "rt", "post", "rm"], flags: mem },
    { name: "LDST_single_post", title: "LD1-LD4, ST1-ST4 (single structure, post-index)", pattern: "0 Q 0011011 L R rm:5 opcode:3 S size:2 rn:5 rt:5",
      handler: "LDST_single", set: { post: 1 }, args: ["Q", "L", "R", "opcode", "S", "size", "rn", "rt", "post", "rm"], flags: mem },
    { name: "LDnR", title: "LD1R, LD2R, LD3R, LD4R", pattern: "0 Q 0011010 1 R 00000 11 o0 0 size:2 rn:5 rt:5",
      set: NO_POST, overrides: ["LDST_single"], args: ["Q", "R", "o0", "size", "rn", "rt", "post", "rm"], flags: mem },
    { name: "LDnR_post", title: "LD1R, LD2R, LD3R, LD4R (post-index)", pattern: "0 Q 0011011 1 R rm:5 11 o0 0 size:2 rn:5 rt:5",
      handler: "LDnR", set: { post: 1 }, overrides: ["LDST_single_post"], args: ["Q", "R", "o0", "size", "rn", "rt", "post", "rm"], flags: mem },
  ],
};
