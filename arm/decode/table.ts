// The A64 decode table: the only place an encoding is written down.
//
// Each row declares one encoding as a pattern of 32 bits, written most-significant bit first as
// space-separated tokens, in the shape of the ARM ARM's encoding diagrams:
//   "0101"       fixed bits
//   "x"/"xx"     don't-care bits (the handler ignores them)
//   "rd:5"       a 5-bit field named rd
//   "sf"         a 1-bit field named sf
// The widths must add up to 32. Field names are the ARM ARM's.
//
// A row names its handler, `exec_<handler>` in arm/core/exec/<module>.ts; the handler defaults
// to the row's name. Rows that are variants of one operation share a handler and differ only in
// what they pass it, as decodetree's patterns feed one trans_ function:
//   fields       the pattern's fields, in pattern order
//   derive       values computed from fields by named transforms (./transforms.ts), e.g.
//                `imm: sext("imm9")`; one named like a field replaces that field
//   set          constants (`set: { wback: 1, post: 1 }`): which variant the row is
// The arguments are the fields, then new derived values, then `set`, unless `args` lists them.
// Every row of a handler must pass the same argument list, name for name and type for type
// (the generator checks), so a shared handler is written once and specialized per row by the
// constants: handlers that want that folding are `@inline`.
//
// Overlaps are explicit: when a word matches two rows, one of them must list the other in
// `overrides` and wins there; an undeclared overlap, a declared one that does not exist, or a
// row left unreachable is an error.
//
// The JIT: a group lists in `emitters` the handlers with an inline emitter, `emit_<handler>` in
// arm/core/jit/<module>.ts, taking the same arguments. A listed emitter that is missing, or an
// emit_ function no group lists, fails the build; rows of other handlers run the interpreter's
// handler from translated code.
//
// The generator is tools/gen-decoder.ts (its checks: tools/decodegen/table-model.ts).

import type { Transform } from "./transforms.ts";

/** Facts the JIT and tests use; the interpreter ignores them. */
export type RowFlag =
  | "branch" // may change the PC other than by +4: ends a translation block
  | "exception" // may generate an exception by design (SVC, HVC, BRK…)
  | "system" // reads or writes system state the JIT must not cache
  | "memory"; // accesses memory (may fault)

export interface Row {
  /** Unique; tests and the generated code's comments name rows by it. */
  name: string;
  /** The ARM ARM's title for the encoding. */
  title: string;
  pattern: string;
  /** exec_<handler> (and emit_<handler>); defaults to name. */
  handler?: string;
  /** Values computed from fields: argument name -> transform. */
  derive?: Record<string, Transform>;
  /** Constant arguments: the variant of a shared handler this row is. */
  set?: Record<string, number>;
  /** The handler's arguments in order, overriding the default (fields, derived, set). */
  args?: string[];
  /** Rows that also match some of this row's words, where this row wins. */
  overrides?: string[];
  flags?: RowFlag[];
}

export interface Group {
  /** Module under arm/core/exec/ (and arm/core/jit/) holding this group's handlers. */
  module: string;
  /** The ARM ARM section the rows come from. */
  section: string;
  /** Handlers with an inline JIT emitter, emit_<handler> in arm/core/jit/<module>.ts. */
  emitters?: string[];
  rows: Row[];
}

export interface ParsedField {
  name: string;
  lsb: number;
  width: number;
}

export interface ParsedPattern {
  /** Bits that are fixed (1 = fixed). */
  mask: number;
  /** Values of the fixed bits. */
  value: number;
  fields: ParsedField[];
}

export function parsePattern(pattern: string): ParsedPattern {
  let bit = 32;
  let mask = 0;
  let value = 0;
  const fields: ParsedField[] = [];
  for (const token of pattern.trim().split(/\s+/)) {
    if (/^[01x]+$/.test(token)) {
      for (const ch of token) {
        bit--;
        if (ch !== "x") {
          mask |= 1 << bit;
          if (ch === "1") value |= 1 << bit;
        }
      }
      continue;
    }
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::(\d+))?$/.exec(token);
    if (!m) throw new Error(`bad pattern token '${token}' in "${pattern}"`);
    const width = m[2] ? Number(m[2]) : 1;
    bit -= width;
    if (fields.some((f) => f.name === m[1])) throw new Error(`field '${m[1]}' appears twice in "${pattern}"`);
    fields.push({ name: m[1]!, lsb: bit, width });
  }
  if (bit !== 0) throw new Error(`pattern "${pattern}" has ${32 - bit} bits, not 32`);
  return { mask: mask >>> 0, value: value >>> 0, fields };
}

/** Does the instruction word match the row's fixed bits? */
export function matches(p: ParsedPattern, insn: number): boolean {
  return ((insn & p.mask) >>> 0) === p.value;
}

export function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

/** A row with its op number (1-based position in table order; 0 is UNALLOCATED). */
export interface NumberedRow {
  op: number;
  row: Row;
  module: string;
  parsed: ParsedPattern;
}

export function numberRows(groups: readonly Group[]): NumberedRow[] {
  const out: NumberedRow[] = [];
  for (const g of groups) {
    for (const row of g.rows) {
      out.push({ op: out.length + 1, row, module: g.module, parsed: parsePattern(row.pattern) });
    }
  }
  return out;
}
