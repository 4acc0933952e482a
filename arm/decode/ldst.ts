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
import { concat, plus, sext, zext, type Transform } from "./transforms.ts";

const mem: Row["flags"] = ["memory"];

// A single register's and a pair's `opc`, as the handlers take it (the ARM ARM's decode of
// size:opc): 00 store, 01 load zero-extended, 10 load sign-extended to Xt, 11 sign-extended to
// Wt. The signed loads fix opc<1> and leave opc<0> a field; LDRSW and LDPSW fix size too.
const STORE = { opc: 0 };
const LOAD = { opc: 1 };
const LOAD_SIGNED = { opc: concat("1", "opc0") }; // a derived value, not a constant
const LOAD_SW = { size: 2, opc: 2 };

// How the base is used and updated: the ARM ARM's wback and postindex.
const OFFSET = { wback: 0, post: 0 };
const POST = { wback: 1, post: 1 };
const PRE = { wback: 1, post: 0 };

const IMM_ARGS = ["size", "opc", "imm", "rn", "rt", "wback", "post", "unpriv"];

/**
 * The store, load, signed-load (B/H) and LDRSW rows of one single-register immediate form:
 * bits 25:24 are `op`, `tail` the pattern below opc, `imm` the offset for an access size, `mode`
 * the base's use and whether the access is unprivileged (LDTR/STTR). `mnemonic` is the form's
 * STR/LDR spelling: "R" (LDR), "UR" (LDUR), "TR" (LDTR).
 */
function singleRows(
  mnemonic: string, suffix: string, form: string, op: string, tail: string,
  imm: (size: number | string) => Transform, mode: Record<string, number>,
): Row[] {
  const m = mnemonic;
  const row = (name: string, title: string, pattern: string, size: number | string, set: Record<string, number>, derive = {}): Row => ({
    name, title: `${title} (${form})`, pattern, handler: "LDST_imm", derive: { imm: imm(size), ...derive },
    set: { ...set, ...mode }, args: IMM_ARGS, flags: mem,
  });
  return [
    row(`ST${m}${suffix}`, `ST${m}B, ST${m}H, ST${m}`, `size:2 111 0 ${op} 00 ${tail}`, "size", STORE),
    row(`LD${m}${suffix}`, `LD${m}B, LD${m}H, LD${m}`, `size:2 111 0 ${op} 01 ${tail}`, "size", LOAD),
    // size<1> = 0: LD*SB, LD*SH; opc<0> selects a W (1) or X (0) destination.
    row(`LD${m}S${suffix}`, `LD${m}SB, LD${m}SH`, `0 size 111 0 ${op} 1 opc0 ${tail}`, "size", {}, LOAD_SIGNED),
    row(`LD${m}SW${suffix}`, `LD${m}SW`, `10 111 0 ${op} 10 ${tail}`, 2, LOAD_SW),
  ];
}

/** The rows of one imm9 form, whose bits 11:10 are `type`. */
function imm9Rows(mnemonic: string, suffix: string, type: string, form: string, mode: Record<string, number>): Row[] {
  return singleRows(mnemonic, suffix, form, "00", `0 imm9:9 ${type} rn:5 rt:5`, () => sext("imm9"), mode);
}

const PAIR_ARGS = ["size", "opc", "imm", "rt2", "rn", "rt", "wback", "post"];

/**
 * The store, load and LDPSW rows of one pair form, whose bits 25:23 are `idx`: opc<1> (`sf`)
 * selects W or X registers, and imm7 is scaled by the element size. There is no no-allocate
 * LDPSW.
 */
function pairRows(st: string, ld: string, ldpsw: string | undefined, idx: string, form: string, mode: Record<string, number>): Row[] {
  const size = plus("sf", 2);
  const row = (name: string, title: string, pattern: string, set: Record<string, number>, derive: Row["derive"]): Row => ({
    name, title: `${title} (${form})`, pattern, handler: "LDSTP", derive, set: { ...set, ...mode }, args: PAIR_ARGS, flags: mem,
  });
  const rows = [
    row(st, st.replace(/_.*/, ""), `sf 0 101 0 ${idx} 0 imm7:7 rt2:5 rn:5 rt:5`, STORE, { size, imm: sext("imm7", size) }),
    row(ld, ld.replace(/_.*/, ""), `sf 0 101 0 ${idx} 1 imm7:7 rt2:5 rn:5 rt:5`, LOAD, { size, imm: sext("imm7", size) }),
  ];
  if (ldpsw) rows.push(row(ldpsw, "LDPSW", `01 101 0 ${idx} 1 imm7:7 rt2:5 rn:5 rt:5`, LOAD_SW, { imm: sext("imm7", 2) }));
  return rows;
}

// Register offset: option<1> must be 1 (UXTW 010, LSL/UXTX 011, SXTW 110, SXTX 111); Xm
// extended by option, shifted left by the access size when S = 1.
const option = concat("option2", "1", "option0");
const regTail = "1 rm:5 option2 1 option0 S 10 rn:5 rt:5";
const regRow = (name: string, title: string, pattern: string, set: Record<string, number>, derive = {}): Row => ({
  name, title, pattern, handler: "LDST_reg", derive: { option, ...derive }, set,
  args: ["size", "opc", "rm", "option", "S", "rn", "rt"], flags: mem,
});

// Literal: PC-relative, in words.
const litRow = (name: string, title: string, pattern: string, set: Record<string, number>, derive = {}): Row => ({
  name, title, pattern, handler: "LDR_lit", derive: { imm: sext("imm19", 2), ...derive }, set,
  args: ["size", "opc", "imm", "rt"], flags: mem,
});

/** Prefetch: a hint with no architectural effect, whatever its fields. */
const prfm = (name: string, title: string, pattern: string): Row => ({ name, title, pattern, handler: "PRFM", args: [] });

export const loadsAndStores: Group = {
  module: "ldst",
  section: "C4.1.4 Loads and Stores",
  emitters: ["LDST_imm", "LDST_reg", "LDR_lit", "LDSTP", "PRFM", "LDST_acqrel"],
  rows: [
    // Load/store exclusive, load-acquire/store-release (size 001000 o2 L o1 Rs o0 Rt2 Rn Rt).
    { name: "STXR", title: "STXRB, STXRH, STXR, STLXRB, STLXRH, STLXR", pattern: "size:2 001000 0 0 0 rs:5 o0 xxxxx rn:5 rt:5", flags: mem },
    { name: "LDXR", title: "LDXRB, LDXRH, LDXR, LDAXRB, LDAXRH, LDAXR", pattern: "size:2 001000 0 1 0 xxxxx o0 xxxxx rn:5 rt:5", flags: mem },
    { name: "STXP", title: "STXP, STLXP", pattern: "1 sz 001000 0 0 1 rs:5 o0 rt2:5 rn:5 rt:5", flags: mem },
    { name: "LDXP", title: "LDXP, LDAXP", pattern: "1 sz 001000 0 1 1 xxxxx o0 rt2:5 rn:5 rt:5", flags: mem },
    { name: "STLR", title: "STLRB, STLRH, STLR", pattern: "size:2 001000 1 0 0 xxxxx 1 xxxxx rn:5 rt:5", handler: "LDST_acqrel", set: STORE, flags: mem },
    { name: "LDAR", title: "LDARB, LDARH, LDAR", pattern: "size:2 001000 1 1 0 xxxxx 1 xxxxx rn:5 rt:5", handler: "LDST_acqrel", set: LOAD, flags: mem },

    // Load register (literal).
    litRow("LDR_lit", "LDR (literal)", "0 sf 011 0 00 imm19:19 rt:5", LOAD, { size: plus("sf", 2) }),
    litRow("LDRSW_lit", "LDRSW (literal)", "10 011 0 00 imm19:19 rt:5", LOAD_SW),
    prfm("PRFM_lit", "PRFM (literal)", "11 011 0 00 imm19:19 rt:5"),

    // Load/store pair: no-allocate (offset), post-indexed, signed offset, pre-indexed.
    ...pairRows("STNP", "LDNP", undefined, "000", "signed offset, non-temporal", OFFSET),
    ...pairRows("STP_post", "LDP_post", "LDPSW_post", "001", "post-index", POST),
    ...pairRows("STP_off", "LDP_off", "LDPSW_off", "010", "signed offset", OFFSET),
    ...pairRows("STP_pre", "LDP_pre", "LDPSW_pre", "011", "pre-index", PRE),

    // Load/store register: unscaled immediate, post-index, unprivileged, pre-index.
    ...imm9Rows("UR", "", "00", "unscaled immediate", { ...OFFSET, unpriv: 0 }),
    prfm("PRFUM", "PRFUM", "11 111 0 00 10 0 imm9:9 00 rn:5 rt:5"),
    ...imm9Rows("R", "_post", "01", "immediate, post-index", { ...POST, unpriv: 0 }),
    ...imm9Rows("TR", "", "10", "unprivileged", { ...OFFSET, unpriv: 1 }),
    ...imm9Rows("R", "_pre", "11", "immediate, pre-index", { ...PRE, unpriv: 0 }),

    // Load/store register (register offset).
    regRow("STR_reg", "STRB, STRH, STR (register)", `size:2 111 0 00 00 ${regTail}`, STORE),
    regRow("LDR_reg", "LDRB, LDRH, LDR (register)", `size:2 111 0 00 01 ${regTail}`, LOAD),
    regRow("LDRS_reg", "LDRSB, LDRSH (register)", `0 size 111 0 00 1 opc0 ${regTail}`, {}, LOAD_SIGNED),
    regRow("LDRSW_reg", "LDRSW (register)", `10 111 0 00 10 ${regTail}`, LOAD_SW),
    prfm("PRFM_reg", "PRFM (register)", `11 111 0 00 10 ${regTail}`),

    // Load/store register (unsigned immediate): imm12 scaled by the access size.
    ...singleRows("R", "_uimm", "immediate, unsigned offset", "01", "imm12:12 rn:5 rt:5", (size) => zext("imm12", size), { ...OFFSET, unpriv: 0 }),
    prfm("PRFM_uimm", "PRFM (immediate)", "11 111 0 01 10 imm12:12 rn:5 rt:5"),
  ],
};
