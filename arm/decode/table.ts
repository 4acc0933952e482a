// The A64 decode table: the only place an encoding is written down.
//
// Each row names one handler and declares its encoding as a pattern of 32 bits, written
// most-significant bit first as space-separated tokens, in the shape of the ARM ARM's
// encoding diagrams:
//   "0101"       fixed bits
//   "x"/"xx"     don't-care bits (the handler ignores them)
//   "rd:5"       a 5-bit field named rd
//   "sf"         a 1-bit field named sf
// The widths must add up to 32. Field names are the ARM ARM's.
//
// The generator (tools/gen-decoder.ts) turns the rows into arm/core/gen/decoder.ts: a
// decision tree returning an op number, and a dispatcher that extracts the fields and calls
// `exec_<name>` from arm/core/exec/<group>.ts (a missing handler fails the build).
//
// Handler arguments, in order: the pattern's fields in pattern order (a field with a
// `derive` entry of the same name is passed transformed), then new derived fields, then
// `consts`. `args` overrides that list. Every argument is a u32 unless its `derive` entry
// names another type ("i64:expr").
//
// Match order: when a word matches more than one row, the row with more fixed bits wins;
// rows with the same number of fixed bits must not overlap (the generator checks).

export type FieldType = "u32" | "i32" | "u64" | "i64";

/** Facts the JIT and tests use; the interpreter ignores them. */
export type RowFlag =
  | "branch" // may change the PC other than by +4: ends a translation block
  | "exception" // may generate an exception by design (SVC, HVC, BRK…)
  | "system" // reads or writes system state the JIT must not cache
  | "memory"; // accesses memory (may fault)

export interface Row {
  /** Handler name: exec_<name>. */
  name: string;
  /** The ARM ARM's title for the encoding. */
  title: string;
  pattern: string;
  /** Derived or transformed fields: name -> "type:AssemblyScript expression over raw fields". */
  derive?: Record<string, string>;
  /** Constants passed after the fields (folds variants into one handler). */
  consts?: Record<string, number>;
  /** The handler's parameters, overriding the default order. */
  args?: string[];
  flags?: RowFlag[];
}

export interface Group {
  /** Module under arm/core/exec/ holding this group's handlers. */
  module: string;
  /** The ARM ARM section the rows come from. */
  section: string;
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
