// Generates arm/core/gen/decoder.ts and arm/core/gen/emit.ts from the A64 decode table
// (arm/decode/).
//
// decoder.ts: `decode(insn): u32` — a decision tree returning the op number of the matching row
// (0 when no row matches: UNALLOCATED) — and `execute(op, insn)`, which extracts the row's
// fields and calls its exec_ handler. Op numbers follow table order (see opNumbers()).
//
// emit.ts, for the JIT (docs/jit.md): `emitOp(op, insn): bool`, which extracts the same fields
// and calls the row's `emit_<name>` from arm/core/jit/ when one exists (returning whether it
// emitted inline code; false makes the translator call the interpreter's handler through
// jitExec), and `endsBlock(op)`: rows flagged `branch` or `exception`, and UNALLOCATED.
//
// Usage: node build/tools/gen-decoder.mjs OUT_DIR [JIT_DIR]

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allRows, type NumberedRow } from "../arm/decode/index.ts";
import { popcount } from "../arm/decode/table.ts";

const MAX_SWITCH_BITS = 6;

interface Node {
  rows: NumberedRow[];
  knownMask: number;
}

/** Checks that no two rows with the same number of fixed bits can match the same word. */
function checkOverlaps(rows: NumberedRow[]): void {
  for (let i = 0; i < rows.length; i++) {
    for (let j = i + 1; j < rows.length; j++) {
      const a = rows[i]!.parsed;
      const b = rows[j]!.parsed;
      const common = a.mask & b.mask;
      if (((a.value ^ b.value) & common) !== 0) continue;
      if (popcount(a.mask) === popcount(b.mask)) {
        throw new Error(
          `rows ${rows[i]!.row.name} and ${rows[j]!.row.name} overlap with equal priority`,
        );
      }
    }
  }
}

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

function hex(n: number): string {
  return "0x" + (n >>> 0).toString(16);
}

function leaf(rows: NumberedRow[], knownMask: number, indent: string): string {
  let out = "";
  for (const r of rows) {
    const need = r.parsed.mask & ~knownMask;
    if (need === 0) return out + `${indent}return ${r.op}; // ${r.row.name}\n`;
    out += `${indent}if ((insn & ${hex(need)}) == ${hex(r.parsed.value & need)}) return ${r.op}; // ${r.row.name}\n`;
  }
  return out + `${indent}return 0;\n`;
}

function build(node: Node, indent: string): string {
  const { rows, knownMask } = node;
  if (rows.length === 0) return `${indent}return 0;\n`;
  if (rows.length === 1) return leaf(rows, knownMask, indent);
  // A bit can split the rows if some row fixes it and the rows do not all fix it the same way.
  let allFixed = ~knownMask >>> 0;
  let splitting = 0;
  for (const r of rows) allFixed &= r.parsed.mask;
  for (let bit = 0; bit < 32; bit++) {
    const m = (1 << bit) >>> 0;
    if (knownMask & m) continue;
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
    const fieldMask = ((((1 << width) - 1) << lsb) >>> 0) >>> 0;
    const byValue = new Map<number, NumberedRow[]>();
    for (const r of rows) {
      const v = ((r.parsed.value & fieldMask) >>> lsb) >>> 0;
      if (!byValue.has(v)) byValue.set(v, []);
      byValue.get(v)!.push(r);
    }
    let out = `${indent}switch ((insn >>> ${lsb}) & ${hex((1 << width) - 1)}) {\n`;
    for (const v of [...byValue.keys()].sort((a, b) => a - b)) {
      out += `${indent}  case ${v}: {\n`;
      out += build({ rows: byValue.get(v)!, knownMask: (knownMask | fieldMask) >>> 0 }, indent + "    ");
      out += `${indent}  }\n`;
    }
    out += `${indent}  default: return 0;\n${indent}}\n`;
    return out;
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
  if (bestBit < 0) return leaf(rows, knownMask, indent);
  const m = (1 << bestBit) >>> 0;
  const zero = rows.filter((r) => !(r.parsed.mask & m) || !(r.parsed.value & m));
  const one = rows.filter((r) => !(r.parsed.mask & m) || r.parsed.value & m);
  const known = (knownMask | m) >>> 0;
  return (
    `${indent}if (insn & ${hex(m)}) {\n` +
    build({ rows: one, knownMask: known }, indent + "  ") +
    `${indent}} else {\n` +
    build({ rows: zero, knownMask: known }, indent + "  ") +
    `${indent}}\n`
  );
}

function dispatchCase(r: NumberedRow, prefix = "exec_", emitter = false): string {
  const { row, parsed } = r;
  const derive = row.derive ?? {};
  const lines: string[] = [];
  const rawNames = new Set(parsed.fields.map((f) => f.name));
  for (const f of parsed.fields) {
    const mask = f.width === 32 ? "0xffffffff" : hex((1 << f.width) - 1);
    lines.push(`const ${f.name}: u32 = (insn >>> ${f.lsb}) & ${mask};`);
  }
  const derivedNames: string[] = [];
  for (const [name, spec] of Object.entries(derive)) {
    const colon = spec.indexOf(":");
    const type = spec.slice(0, colon);
    const expr = spec.slice(colon + 1);
    if (!["u32", "i32", "u64", "i64"].includes(type)) throw new Error(`${row.name}: bad derive type '${type}'`);
    lines.push(`const ${name}_d: ${type} = ${expr};`);
    derivedNames.push(name);
  }
  const consts = row.consts ?? {};
  const argName = (a: string): string => {
    if (a in derive) return `${a}_d`;
    if (rawNames.has(a)) return a;
    if (a in consts) return `${consts[a]}`;
    throw new Error(`${row.name}: unknown argument '${a}'`);
  };
  const args =
    row.args ??
    [
      ...parsed.fields.map((f) => f.name),
      ...derivedNames.filter((n) => !rawNames.has(n)),
      ...Object.keys(consts),
    ];
  const used = new Set(args);
  const body = lines.filter((l) => {
    const name = /^const (\w+?)(_d)?:/.exec(l)![1]!;
    // Keep raw fields that derived expressions might read; asc drops unused locals anyway.
    return used.has(name) || rawNames.has(name) || name in derive;
  });
  if (emitter) {
    body.push(`return ${prefix}${row.name}(${args.map(argName).join(", ")});`);
    return `    case ${r.op}: { // ${row.title}\n${body.map((l) => "      " + l).join("\n")}\n    }\n`;
  }
  body.push(`${prefix}${row.name}(${args.map(argName).join(", ")});`);
  return `    case ${r.op}: { // ${row.title}\n${body.map((l) => "      " + l).join("\n")}\n      return;\n    }\n`;
}

/** emit_<name> functions exported by arm/core/jit/*.ts: name -> module (file name without .ts). */
function findEmitters(jitDir: string): Map<string, string> {
  const found = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(jitDir).filter((f) => f.endsWith(".ts")).sort();
  } catch {
    return found;
  }
  for (const f of files) {
    const text = readFileSync(join(jitDir, f), "utf8");
    for (const m of text.matchAll(/^export function emit_(\w+)\s*\(/gm)) {
      if (found.has(m[1]!)) throw new Error(`emit_${m[1]} is defined in both ${found.get(m[1]!)}.ts and ${f}`);
      found.set(m[1]!, f.slice(0, -3));
    }
  }
  return found;
}

function generateEmit(outDir: string, jitDir: string, rows: NumberedRow[]): void {
  const emitters = findEmitters(jitDir);
  const names = new Set(rows.map((r) => r.row.name));
  for (const name of emitters.keys()) {
    if (!names.has(name)) throw new Error(`emit_${name} in arm/core/jit/${emitters.get(name)}.ts matches no row of the decode table`);
  }
  const byModule = new Map<string, string[]>();
  for (const [name, mod] of emitters) {
    if (!byModule.has(mod)) byModule.set(mod, []);
    byModule.get(mod)!.push(`emit_${name}`);
  }
  let out = "// DO NOT EDIT: generated by tools/gen-decoder.ts from arm/decode/*.ts and the emit_\n";
  out += "// functions of arm/core/jit/*.ts (run `make build`).\n\n";
  out += `import { sx32, sx64 } from "../bits";\n`;
  for (const [mod, fns] of byModule) out += `import { ${fns.sort().join(", ")} } from "../jit/${mod}";\n`;
  out += `\n@inline function _keep(): i64 { return sx64(0, 1) + <i64>sx32(0, 1); }\n\n`;
  out += `/** Emits inline wasm for op's row if it has an emitter; false: use the jitExec fallback. */\n`;
  out += `export function emitOp(op: u32, insn: u32): bool {\n  switch (op) {\n`;
  for (const r of rows) if (emitters.has(r.row.name)) out += dispatchCase(r, "emit_", true);
  out += `    default:\n      return false;\n  }\n}\n\n`;
  const enders = rows.filter((r) => r.row.flags?.some((f) => f === "branch" || f === "exception"));
  out += `/** Rows flagged \`branch\` or \`exception\`, and UNALLOCATED (0): they end a translation block. */\n`;
  out += `export function endsBlock(op: u32): bool {\n  switch (op) {\n    case 0:\n`;
  for (const r of enders) out += `    case ${r.op}: // ${r.row.name}\n`;
  out += `      return true;\n    default:\n      return false;\n  }\n}\n`;
  writeFileSync(join(outDir, "emit.ts"), out);
  console.log(`gen-decoder: ${emitters.size} emitters, ${enders.length} block-ending rows -> ${join(outDir, "emit.ts")}`);
}

function generate(outDir: string, jitDir: string): void {
  const rows = allRows();
  checkOverlaps(rows);
  const ordered = [...rows].sort(
    (a, b) => popcount(b.parsed.mask) - popcount(a.parsed.mask) || a.op - b.op,
  );
  const byModule = new Map<string, string[]>();
  for (const r of rows) {
    if (!byModule.has(r.module)) byModule.set(r.module, []);
    byModule.get(r.module)!.push(`exec_${r.row.name}`);
  }
  let out = "// DO NOT EDIT: generated by tools/gen-decoder.ts from arm/decode/*.ts\n";
  out += "// (run `make build`; the table is the only place an encoding is written).\n\n";
  out += `import { sx32, sx64 } from "../bits";\n`;
  out += `import { undefinedInstruction } from "../exceptions";\n`;
  for (const [mod, names] of byModule) {
    out += `import { ${names.join(", ")} } from "../exec/${mod}";\n`;
  }
  out += `\n// Keep the helpers referenced so derived-field expressions may use them.\n`;
  out += `@inline function _keep(): i64 { return sx64(0, 1) + <i64>sx32(0, 1); }\n\n`;
  out += `export const OP_COUNT: u32 = ${rows.length + 1};\n\n`;
  out += `/** The op number of the row matching insn, or 0 (UNALLOCATED). */\n`;
  out += `export function decode(insn: u32): u32 {\n`;
  out += build({ rows: ordered, knownMask: 0 }, "  ");
  out += `}\n\n`;
  out += `/** Extracts the fields of op's row from insn and runs its handler. */\n`;
  out += `export function execute(op: u32, insn: u32): void {\n  switch (op) {\n`;
  for (const r of rows) out += dispatchCase(r);
  out += `    default:\n      undefinedInstruction();\n  }\n}\n`;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "decoder.ts"), out);
  console.log(`gen-decoder: ${rows.length} rows -> ${join(outDir, "decoder.ts")}`);
  generateEmit(outDir, jitDir, rows);
}

generate(process.argv[2] ?? "arm/core/gen", process.argv[3] ?? "arm/core/jit");
