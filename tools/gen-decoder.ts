// Generates arm/core/gen/decoder.ts and arm/core/gen/emit.ts from the A64 decode table
// (arm/decode/; its language is described in arm/decode/table.ts).
//
// decoder.ts: `decode(insn): u32` — a decision tree returning the op number of the matching row
// (0 when no row matches: UNALLOCATED) — and `execute(op, insn)`, which extracts the row's
// arguments and calls its exec_ handler. Op numbers follow table order.
//
// emit.ts, for the JIT (docs/jit.md): `emitOp(op, insn): bool`, which extracts the same
// arguments and calls the row's `emit_<handler>` when its group lists one (returning whether it
// emitted inline code; false makes the translator call the interpreter's handler through
// jitExec), and `endsBlock(op)`: rows flagged `branch` or `exception`, and UNALLOCATED.
//
// Usage: node build/tools/gen-decoder.mjs OUT_DIR [JIT_DIR]

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { groups } from "../arm/decode/index.ts";
import { resolveTable } from "./decodegen/table-model.ts";
import { checkEmitters } from "./decodegen/emitters.ts";
import { renderDecoder, renderEmit } from "./decodegen/render.ts";

/**
 * Leaves an unchanged file's mtime alone, so make does not rebuild the core (minutes) when the
 * generator re-ran only because some unrelated TypeScript it bundles changed.
 */
function writeIfChanged(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, "utf8") === text) return;
  writeFileSync(path, text);
}

function generate(outDir: string, jitDir: string): void {
  const model = resolveTable(groups);
  const sources = readdirSync(jitDir)
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => ({ module: f.slice(0, -3), text: readFileSync(join(jitDir, f), "utf8") }));
  checkEmitters(model, sources);
  mkdirSync(outDir, { recursive: true });
  writeIfChanged(join(outDir, "decoder.ts"), renderDecoder(model));
  writeIfChanged(join(outDir, "emit.ts"), renderEmit(model));
  const emitters = [...model.handlers.values()].filter((h) => h.emitter).length;
  console.log(
    `gen-decoder: ${model.rows.length} rows, ${model.handlers.size} handlers (${emitters} with emitters) -> ${outDir}`,
  );
}

try {
  generate(process.argv[2] ?? "arm/core/gen", process.argv[3] ?? "arm/core/jit");
} catch (e) {
  console.error(`gen-decoder: ${(e as Error).message}`);
  process.exit(1);
}
