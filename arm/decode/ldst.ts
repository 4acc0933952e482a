// ARM ARM C4.1.4: Loads and Stores — the integer (V = 0) forms of ARMv8.0-A.
//
// Every row fixes V (bit 26) = 0: the SIMD&FP forms belong to the FP/SIMD group. Unallocated
// combinations match no row, so they are UNDEFINED without a check in any handler:
//   - size/opc: LDRS* with size = 10 and opc = 11, any opc = 11 with size = 11, the pre/post-index
//     and unprivileged forms of PRFM, LDPSW's store form (STGP, ARMv8.5), LDNP/STNP with
//     opc = 01, and pairs with opc = 11;
//   - register offset with option<1> = 0;
//   - exclusives: CASP (o1 = 1 with size 0x), STLLR/LDLAR (LORegions, o2 = 1 with o0 = 0) and
//     CAS (o2 = 1, o1 = 1) are ARMv8.1;
//   - LSE atomics (bit 21 = 1 with bits 11:10 = 00), LDAPR, the RCpc LDAPUR/STLUR forms and the
//     pointer-authenticated LDRAA/LDRAB (bit 21 = 1 with bit 10 = 1) are later extensions the ID
//     registers don't advertise.
// Fields the ARM ARM marks should-be-one in v8.0 (Rs and Rt2 of LDXR/LDAR/STLR, Rs of LDXP) are
// don't-care, as qemu-aarch64 treats them.

import type { Group, Row } from "./table.ts";
import { concat, plus, sext, zext } from "./transforms.ts";

const imm9 = sext("imm9");
const mem: Row["flags"] = ["memory"];

/**
 * The store, load, signed-load (B/H) and LDRSW rows of one imm9 addressing form, whose bits 11:10
 * are `type`. `mnemonic` is the form's STR/LDR spelling: "R" (LDR), "UR" (LDUR), "TR" (LDTR).
 */
function imm9Rows(mnemonic: string, suffix: string, type: string, form: string): Row[] {
  const m = mnemonic;
  return [
    { name: `ST${m}${suffix}`, title: `ST${m}B, ST${m}H, ST${m} (${form})`, pattern: `size:2 111 0 00 00 0 imm9:9 ${type} rn:5 rt:5`, derive: { imm9 }, flags: mem },
    { name: `LD${m}${suffix}`, title: `LD${m}B, LD${m}H, LD${m} (${form})`, pattern: `size:2 111 0 00 01 0 imm9:9 ${type} rn:5 rt:5`, derive: { imm9 }, flags: mem },
    // size<1> = 0: LD*SB, LD*SH; opc<0> selects a W (1) or X (0) destination.
    { name: `LD${m}S${suffix}`, title: `LD${m}SB, LD${m}SH (${form})`, pattern: `0 size 111 0 00 1 opc0 0 imm9:9 ${type} rn:5 rt:5`, derive: { imm9 }, flags: mem },
    { name: `LD${m}SW${suffix}`, title: `LD${m}SW (${form})`, pattern: `10 111 0 00 10 0 imm9:9 ${type} rn:5 rt:5`, derive: { imm9 }, flags: mem },
  ];
}

// Register offset: option<1> must be 1 (UXTW 010, LSL/UXTX 011, SXTW 110, SXTX 111).
const option = concat("option2", "1", "option0");
const regArgs = ["rm", "option", "S", "rn", "rt"];

/** Scaled imm7 of a pair: 4 << opc<1> bytes per unit. */
const imm7 = (scale: number | ReturnType<typeof plus>) => sext("imm7", scale);

/**
 * The store and load rows of one pair form, whose bits 25:23 are `idx`; opc<1> (`sf`) selects W or
 * X registers. `wback` and `postIndex` say how the base is used and updated.
 */
function pairRows(st: string, ld: string, idx: string, form: string, wback: number, postIndex: number): Row[] {
  const set = { wback, postIndex };
  return [
    { name: st, title: `${st.replace(/_.*/, "")} (${form})`, pattern: `sf 0 101 0 ${idx} 0 imm7:7 rt2:5 rn:5 rt:5`, derive: { imm7: imm7(plus("sf", 2)) }, set, flags: mem },
    { name: ld, title: `${ld.replace(/_.*/, "")} (${form})`, pattern: `sf 0 101 0 ${idx} 1 imm7:7 rt2:5 rn:5 rt:5`, derive: { imm7: imm7(plus("sf", 2)) }, set, flags: mem },
  ];
}

/** LDPSW (opc = 01, L = 1) of one pair form; there is no no-allocate LDPSW. */
function ldpswRow(name: string, idx: string, form: string, wback: number, postIndex: number): Row {
  return { name, title: `LDPSW (${form})`, pattern: `01 101 0 ${idx} 1 imm7:7 rt2:5 rn:5 rt:5`, derive: { imm7: imm7(2) }, set: { wback, postIndex }, flags: mem };
}

export const loadsAndStores: Group = {
  module: "ldst",
  section: "C4.1.4 Loads and Stores",
  emitters: [
    "STR_uimm", "LDR_uimm", "LDRS_uimm", "LDRSW_uimm", "STUR", "LDUR", "LDURS", "LDURSW", "STR_post", "LDR_post", "LDRS_post",
    "LDRSW_post", "STR_pre", "LDR_pre", "LDRS_pre", "LDRSW_pre", "STR_reg", "LDR_reg", "LDRS_reg", "LDRSW_reg", "LDR_lit",
    "STNP", "LDNP", "STP_post", "LDP_post", "LDPSW_post", "STP_off", "LDP_off", "LDPSW_off", "STP_pre", "LDP_pre",
    "LDPSW_pre", "PRFM_uimm", "PRFUM", "PRFM_reg", "PRFM_lit", "LDAR", "STLR",
  ],
  rows: [
    // Load/store exclusive, load-acquire/store-release (size 001000 o2 L o1 Rs o0 Rt2 Rn Rt).
    { name: "STXR", title: "STXRB, STXRH, STXR, STLXRB, STLXRH, STLXR", pattern: "size:2 001000 0 0 0 rs:5 o0 xxxxx rn:5 rt:5", flags: mem },
    { name: "LDXR", title: "LDXRB, LDXRH, LDXR, LDAXRB, LDAXRH, LDAXR", pattern: "size:2 001000 0 1 0 xxxxx o0 xxxxx rn:5 rt:5", flags: mem },
    { name: "STXP", title: "STXP, STLXP", pattern: "1 sz 001000 0 0 1 rs:5 o0 rt2:5 rn:5 rt:5", flags: mem },
    { name: "LDXP", title: "LDXP, LDAXP", pattern: "1 sz 001000 0 1 1 xxxxx o0 rt2:5 rn:5 rt:5", flags: mem },
    { name: "STLR", title: "STLRB, STLRH, STLR", pattern: "size:2 001000 1 0 0 xxxxx 1 xxxxx rn:5 rt:5", flags: mem },
    { name: "LDAR", title: "LDARB, LDARH, LDAR", pattern: "size:2 001000 1 1 0 xxxxx 1 xxxxx rn:5 rt:5", flags: mem },

    // Load register (literal).
    { name: "LDR_lit", title: "LDR (literal)", pattern: "0 sf 011 0 00 imm19:19 rt:5", derive: { imm19: sext("imm19", 2) }, flags: mem },
    { name: "LDRSW_lit", title: "LDRSW (literal)", pattern: "10 011 0 00 imm19:19 rt:5", derive: { imm19: sext("imm19", 2) }, flags: mem },
    { name: "PRFM_lit", title: "PRFM (literal)", pattern: "11 011 0 00 imm19:19 rt:5" },

    // Load/store pair: no-allocate (offset), post-indexed, signed offset, pre-indexed.
    ...pairRows("STNP", "LDNP", "000", "signed offset, non-temporal", 0, 0),
    ...pairRows("STP_post", "LDP_post", "001", "post-index", 1, 1),
    ldpswRow("LDPSW_post", "001", "post-index", 1, 1),
    ...pairRows("STP_off", "LDP_off", "010", "signed offset", 0, 0),
    ldpswRow("LDPSW_off", "010", "signed offset", 0, 0),
    ...pairRows("STP_pre", "LDP_pre", "011", "pre-index", 1, 0),
    ldpswRow("LDPSW_pre", "011", "pre-index", 1, 0),

    // Load/store register: unscaled immediate, post-index, unprivileged, pre-index.
    ...imm9Rows("UR", "", "00", "unscaled immediate"),
    { name: "PRFUM", title: "PRFUM", pattern: "11 111 0 00 10 0 imm9:9 00 rn:5 rt:5" },
    ...imm9Rows("R", "_post", "01", "immediate, post-index"),
    ...imm9Rows("TR", "", "10", "unprivileged"),
    ...imm9Rows("R", "_pre", "11", "immediate, pre-index"),

    // Load/store register (register offset).
    { name: "STR_reg", title: "STRB, STRH, STR (register)", pattern: "size:2 111 0 00 00 1 rm:5 option2 1 option0 S 10 rn:5 rt:5", derive: { option }, args: ["size", ...regArgs], flags: mem },
    { name: "LDR_reg", title: "LDRB, LDRH, LDR (register)", pattern: "size:2 111 0 00 01 1 rm:5 option2 1 option0 S 10 rn:5 rt:5", derive: { option }, args: ["size", ...regArgs], flags: mem },
    { name: "LDRS_reg", title: "LDRSB, LDRSH (register)", pattern: "0 size 111 0 00 1 opc0 1 rm:5 option2 1 option0 S 10 rn:5 rt:5", derive: { option }, args: ["size", "opc0", ...regArgs], flags: mem },
    { name: "LDRSW_reg", title: "LDRSW (register)", pattern: "10 111 0 00 10 1 rm:5 option2 1 option0 S 10 rn:5 rt:5", derive: { option }, args: regArgs, flags: mem },
    { name: "PRFM_reg", title: "PRFM (register)", pattern: "11 111 0 00 10 1 rm:5 option2 1 option0 S 10 rn:5 rt:5", derive: { option }, args: regArgs },

    // Load/store register (unsigned immediate): imm12 scaled by the access size.
    { name: "STR_uimm", title: "STRB, STRH, STR (immediate, unsigned offset)", pattern: "size:2 111 0 01 00 imm12:12 rn:5 rt:5", derive: { imm12: zext("imm12", "size") }, flags: mem },
    { name: "LDR_uimm", title: "LDRB, LDRH, LDR (immediate, unsigned offset)", pattern: "size:2 111 0 01 01 imm12:12 rn:5 rt:5", derive: { imm12: zext("imm12", "size") }, flags: mem },
    { name: "LDRS_uimm", title: "LDRSB, LDRSH (immediate, unsigned offset)", pattern: "0 size 111 0 01 1 opc0 imm12:12 rn:5 rt:5", derive: { imm12: zext("imm12", "size") }, flags: mem },
    { name: "LDRSW_uimm", title: "LDRSW (immediate, unsigned offset)", pattern: "10 111 0 01 10 imm12:12 rn:5 rt:5", derive: { imm12: zext("imm12", 2) }, flags: mem },
    { name: "PRFM_uimm", title: "PRFM (immediate)", pattern: "11 111 0 01 10 imm12:12 rn:5 rt:5" },
  ],
};
