// A disassembler for the loads and stores a VMM reports by name: the ones that reach a device
// without a valid instruction syndrome (writeback, pairs, exclusives, SIMD&FP, LD64B/ST64B…),
// in GNU as syntax ("ldr x1, [x0], #8"). It classifies the word with the decode table (the one
// place encodings are written) and formats the arguments the row's handler would get; words of
// other rows print as ".inst 0x…" with the row's ARM ARM title.

import { groups } from "../decode/index.ts";
import { argumentValues, resolveTable, type ResolvedRow } from "../../tools/decodegen/table-model.ts";

type Args = Record<string, bigint>;

let table: ResolvedRow[] | undefined;

/** The row the core executes for `insn` (by op number, as Core.decodeOp returns it). */
function rowOf(op: number): ResolvedRow | undefined {
  table ??= resolveTable(groups).rows;
  return op > 0 ? table[op - 1] : undefined;
}

/** The decode table's name of row `op` (decodeOp's numbering). */
export function rowName(op: number): string {
  return rowOf(op)?.row.name ?? "UNALLOCATED";
}

const x = (n: bigint, sp = false): string => (n === 31n ? (sp ? "sp" : "xzr") : `x${n}`);
const w = (n: bigint): string => (n === 31n ? "wzr" : `w${n}`);
const reg = (n: bigint, wide: boolean): string => (wide ? x(n) : w(n));
/** Immediates in decimal, as objdump prints them. */
const imm = (v: bigint): string => `#${v}`;

/** "[x0, #8]", "[x0, #8]!" or "[x0], #8" as wback and post say. */
function address(a: Args, offset: bigint): string {
  const base = x(a.rn!, true);
  if (a.wback === 1n && a.post === 1n) return `[${base}], ${imm(offset)}`;
  if (a.wback === 1n) return `[${base}, ${imm(offset)}]!`;
  return offset === 0n ? `[${base}]` : `[${base}, ${imm(offset)}]`;
}

/** "[x0, x2, lsl #3]" for the register-offset forms. */
function registerOffset(a: Args, scale: bigint): string {
  const option = a.option!;
  const m = option & 1n ? x(a.rm!) : w(a.rm!);
  const kind = ["", "", "uxtw", "lsl", "", "", "sxtw", "sxtx"][Number(option)] ?? "?";
  const shift = a.S === 1n ? ` #${scale}` : "";
  return kind === "lsl" && shift === "" ? `[${x(a.rn!, true)}, ${m}]` : `[${x(a.rn!, true)}, ${m}, ${kind}${shift}]`;
}

/** The size suffix and transfer register of an integer load/store of 1 << size bytes. */
function integerForm(size: bigint, opc: bigint): { suffix: string; wide: boolean; signed: boolean } {
  const signed = opc >= 2n;
  const suffix = size === 0n ? "b" : size === 1n ? "h" : size === 2n && signed ? "w" : "";
  const wide = opc === 2n || (opc === 1n && size === 3n) || (opc === 0n && size === 3n);
  return { suffix, wide, signed };
}

const SIMD_REG = ["b", "h", "s", "d", "q"];

/** The mnemonic and operands of one instruction word, or null if it is no load or store we name. */
function formatRow(row: ResolvedRow, a: Args): string | null {
  const name = row.row.name;
  switch (row.handler) {
    case "LDST_imm": {
      const f = integerForm(a.size!, a.opc!);
      const infix = name.includes("UR") ? "u" : a.unpriv === 1n ? "t" : "";
      const op = a.opc === 0n ? `st${infix}r` : `ld${infix}r${f.signed ? "s" : ""}`;
      return `${op}${f.suffix} ${reg(a.rt!, f.wide)}, ${address(a, a.imm!)}`;
    }
    case "LDST_reg": {
      const f = integerForm(a.size!, a.opc!);
      return `${a.opc === 0n ? "str" : f.signed ? "ldrs" : "ldr"}${f.suffix} ${reg(a.rt!, f.wide)}, ${registerOffset(a, a.size!)}`;
    }
    case "LDSTP": {
      const nt = name.includes("NP");
      const op = a.opc === 0n ? (nt ? "stnp" : "stp") : a.opc === 2n ? "ldpsw" : nt ? "ldnp" : "ldp";
      const wide = a.size === 3n || a.opc === 2n;
      return `${op} ${reg(a.rt!, wide)}, ${reg(a.rt2!, wide)}, ${address(a, a.imm!)}`;
    }
    case "LDXR":
    case "STXR": {
      const f = integerForm(a.size!, a.size === 3n ? 1n : 0n);
      const acq = a.o0 === 1n ? (row.handler === "LDXR" ? "a" : "l") : "";
      const data = reg(a.rt!, a.size === 3n);
      return row.handler === "LDXR"
        ? `ld${acq}xr${f.suffix} ${data}, [${x(a.rn!, true)}]`
        : `st${acq}xr${f.suffix} ${w(a.rs!)}, ${data}, [${x(a.rn!, true)}]`;
    }
    case "LDXP":
    case "STXP": {
      const acq = a.o0 === 1n ? (row.handler === "LDXP" ? "a" : "l") : "";
      const wide = a.sz === 1n;
      const pair = `${reg(a.rt!, wide)}, ${reg(a.rt2!, wide)}`;
      return row.handler === "LDXP" ? `ld${acq}xp ${pair}, [${x(a.rn!, true)}]` : `st${acq}xp ${w(a.rs!)}, ${pair}, [${x(a.rn!, true)}]`;
    }
    case "LDST_acqrel": {
      const f = integerForm(a.size!, a.size === 3n ? 1n : 0n);
      return `${a.opc === 0n ? "stlr" : "ldar"}${f.suffix} ${reg(a.rt!, a.size === 3n)}, [${x(a.rn!, true)}]`;
    }
    case "LDST_imm_simd": {
      const r = `${SIMD_REG[Number(a.scale!)] ?? "?"}${a.rt}`;
      const op = name.includes("UR") ? (a.L === 1n ? "ldur" : "stur") : a.L === 1n ? "ldr" : "str";
      return `${op} ${r}, ${address(a, a.imm!)}`;
    }
    case "LDSTR_reg_simd":
      return `${a.L === 1n ? "ldr" : "str"} ${SIMD_REG[Number(a.scale!)] ?? "?"}${a.rt}, ${registerOffset(a, a.scale!)}`;
    case "LDSTP_simd": {
      const r = ["s", "d", "q"][Number(a.opc!)] ?? "?";
      const op = (a.L === 1n ? "ld" : "st") + (name.includes("NP") ? "np" : "p");
      return `${op} ${r}${a.rt}, ${r}${a.rt2}, ${address(a, a.imm7!)}`;
    }
    case "LD64B":
      return `ld64b ${x(a.rt!)}, [${x(a.rn!, true)}]`;
    case "ST64B":
      return `st64b ${x(a.rt!)}, [${x(a.rn!, true)}]`;
    case "ST64BV":
      return `st64bv${a.accdata === 1n ? "0" : ""} ${x(a.rs!)}, ${x(a.rt!)}, [${x(a.rn!, true)}]`;
    default:
      return null;
  }
}

/**
 * GNU as syntax for a load or store: `op` is the decode table's op number for `insn`
 * (Core.decodeOp).
 */
export function ldstMnemonic(insn: number, op: number): string {
  const word = `.inst 0x${(insn >>> 0).toString(16).padStart(8, "0")}`;
  const row = rowOf(op);
  if (row === undefined) return `${word} (unallocated)`;
  const text = formatRow(row, argumentValues(row, insn));
  if (text !== null) return text;
  const DC_ZVA = 0xd50b7420; // SYS #3, C7, C4, #1, Xt
  if (((insn & ~31) >>> 0) === DC_ZVA) return `dc zva, ${x(BigInt(insn & 31))}`;
  return `${word} (${row.row.title})`;
}
