// The decision tree decode() walks: switch on runs of bits every remaining row fixes, split on
// single bits where they don't, and test the rows left at a leaf in priority order. Built as
// data so that the generator prints it and tests walk it.

import type { ParsedPattern } from "../../arm/decode/table.ts";

const MAX_SWITCH_BITS = 6;

export interface Candidate {
  op: number;
  parsed: ParsedPattern;
  /** For comments in the generated code. */
  label: string;
}

export type Tree<R extends Candidate> =
  /** Try the rows in order (the first whose remaining fixed bits match wins), else 0. */
  | { kind: "leaf"; rows: R[]; known: number }
  /** Branch on bits lsb..lsb+width-1; values not listed are UNALLOCATED. */
  | { kind: "switch"; lsb: number; width: number; cases: [number, Tree<R>][] }
  /** Branch on one bit. */
  | { kind: "bit"; mask: number; one: Tree<R>; zero: Tree<R> };

/** Contiguous runs of set bits in `bits`, high to low: [lsb, width]. */
function runsOf(bits: number): [number, number][] {
  const runs: [number, number][] = [];
  let b = 31;
  while (b >= 0) {
    if (!((bits >>> b) & 1)) {
      b--;
      continue;
    }
    const hi = b;
    while (b >= 0 && (bits >>> b) & 1) b--;
    runs.push([b + 1, hi - b]);
  }
  return runs;
}

/** The tree for rows given in priority order (a row before any it overrides). */
export function buildTree<R extends Candidate>(rows: R[], known = 0): Tree<R> {
  if (rows.length <= 1) return { kind: "leaf", rows, known };
  // A bit can split the rows if some row fixes it and the rows do not all fix it the same way.
  let allFixed = ~known >>> 0;
  let splitting = 0;
  for (const r of rows) allFixed &= r.parsed.mask;
  for (let bit = 0; bit < 32; bit++) {
    const m = (1 << bit) >>> 0;
    if (known & m) continue;
    const fixing = rows.filter((r) => r.parsed.mask & m);
    if (fixing.length === 0) continue;
    const ones = fixing.filter((r) => r.parsed.value & m).length;
    if (fixing.length < rows.length || (ones !== 0 && ones !== fixing.length)) splitting |= m;
  }
  splitting >>>= 0;

  const candidates = (allFixed & splitting) >>> 0;
  if (candidates) {
    // Switch on the run of always-fixed bits that splits the rows into the most groups.
    let best: [number, number] = [0, 0];
    let bestGroups = 0;
    for (const [lsb0, width0] of runsOf(candidates)) {
      const width = Math.min(width0, MAX_SWITCH_BITS);
      const lsb = lsb0 + width0 - width;
      const fieldMask = ((1 << width) - 1) << lsb;
      const groups = new Set(rows.map((r) => r.parsed.value & fieldMask)).size;
      if (groups > bestGroups) {
        best = [lsb, width];
        bestGroups = groups;
      }
    }
    const [lsb, width] = best;
    const fieldMask = (((1 << width) - 1) << lsb) >>> 0;
    const byValue = new Map<number, R[]>();
    for (const r of rows) {
      const v = ((r.parsed.value & fieldMask) >>> lsb) >>> 0;
      if (!byValue.has(v)) byValue.set(v, []);
      byValue.get(v)!.push(r);
    }
    const cases = [...byValue.keys()]
      .sort((a, b) => a - b)
      .map((v): [number, Tree<R>] => [v, buildTree(byValue.get(v)!, (known | fieldMask) >>> 0)]);
    return { kind: "switch", lsb, width, cases };
  }

  // No bit is fixed in every row: split on the bit fixed in the most rows; rows that don't
  // care about it go down both sides.
  let bestBit = -1;
  let bestCount = 0;
  for (let bit = 31; bit >= 0; bit--) {
    const m = (1 << bit) >>> 0;
    if (!(splitting & m)) continue;
    const count = rows.filter((r) => r.parsed.mask & m).length;
    if (count > bestCount) {
      bestBit = bit;
      bestCount = count;
    }
  }
  if (bestBit < 0) return { kind: "leaf", rows, known };
  const m = (1 << bestBit) >>> 0;
  const zero = rows.filter((r) => !(r.parsed.mask & m) || !(r.parsed.value & m));
  const one = rows.filter((r) => !(r.parsed.mask & m) || r.parsed.value & m);
  const k = (known | m) >>> 0;
  return { kind: "bit", mask: m, one: buildTree(one, k), zero: buildTree(zero, k) };
}

/** The row the tree picks for insn, as the generated decode() does. */
export function walkTree<R extends Candidate>(tree: Tree<R>, insn: number): R | undefined {
  switch (tree.kind) {
    case "leaf":
      return tree.rows.find((r) => {
        const need = r.parsed.mask & ~tree.known;
        return ((insn & need) >>> 0) === ((r.parsed.value & need) >>> 0);
      });
    case "switch": {
      const v = (insn >>> tree.lsb) & ((1 << tree.width) - 1);
      const c = tree.cases.find(([x]) => x === v);
      return c && walkTree(c[1], insn);
    }
    case "bit":
      return walkTree(insn & tree.mask ? tree.one : tree.zero, insn);
  }
}

const hex = (n: number): string => "0x" + (n >>> 0).toString(16);

/** The tree as the body of `decode(insn: u32): u32`. */
export function renderTree<R extends Candidate>(tree: Tree<R>, indent = "  "): string {
  switch (tree.kind) {
    case "leaf": {
      if (tree.rows.length === 0) return `${indent}return 0;\n`;
      let out = "";
      for (const r of tree.rows) {
        const need = (r.parsed.mask & ~tree.known) >>> 0;
        if (need === 0) return out + `${indent}return ${r.op}; // ${r.label}\n`;
        out += `${indent}if ((insn & ${hex(need)}) == ${hex(r.parsed.value & need)}) return ${r.op}; // ${r.label}\n`;
      }
      return out + `${indent}return 0;\n`;
    }
    case "switch": {
      let out = `${indent}switch ((insn >>> ${tree.lsb}) & ${hex((1 << tree.width) - 1)}) {\n`;
      for (const [v, sub] of tree.cases) {
        out += `${indent}  case ${v}: {\n${renderTree(sub, indent + "    ")}${indent}  }\n`;
      }
      return out + `${indent}  default: return 0;\n${indent}}\n`;
    }
    case "bit":
      return (
        `${indent}if (insn & ${hex(tree.mask)}) {\n${renderTree(tree.one, indent + "  ")}` +
        `${indent}} else {\n${renderTree(tree.zero, indent + "  ")}${indent}}\n`
      );
  }
}
