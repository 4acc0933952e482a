// The static import graph of the project's sources, and its cycles.
//
// Edges come from the TypeScript parser (import and export-from declarations), so comments and
// strings never count. Both specifier styles resolve: the VMM's "./bus.ts" and the
// AssemblyScript core's extension-less "../state". Bare specifiers (node:fs, yargs) and
// non-TypeScript files (core.wasm) are outside the graph. Dynamic import() is left out: it runs
// after every module has loaded, so it cannot take part in an initialization-order cycle.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** File (relative to the root) → the files it imports, in source order. */
export type ImportGraph = Map<string, string[]>;

/**
 * Whether a declaration is erased before run time. In the Node-side TypeScript, tsc and esbuild
 * drop `import type`, `export type` and imports whose every binding is `type`, so such an edge
 * cannot order module initialization. AssemblyScript (arm/core) compiles every import, so there
 * everything counts; the core has no type-only imports anyway.
 */
function typeOnly(file: string, node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (file.startsWith("arm/core/")) return false;
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const c = node.exportClause;
    return c !== undefined && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly);
  }
  const clause = node.importClause;
  if (clause === undefined) return false; // import "x": kept for its side effects
  if (clause.isTypeOnly) return true;
  const b = clause.namedBindings;
  return clause.name === undefined && b !== undefined && ts.isNamedImports(b) &&
    b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
}

function specifiers(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const s of sf.statements) {
    if (!ts.isImportDeclaration(s) && !ts.isExportDeclaration(s)) continue;
    if (s.moduleSpecifier === undefined || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    if (!typeOnly(file, s)) out.push(s.moduleSpecifier.text);
  }
  return out;
}

/** The .ts file a relative specifier names, or undefined if it names none. */
function resolveSpecifier(root: string, from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(root, dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, join(base, "index.ts")];
  for (const c of candidates) {
    if (c.endsWith(".ts") && existsSync(c) && statSync(c).isFile()) return relative(root, c);
  }
  return undefined;
}

function tsFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(root, rel));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(rel);
  }
  return out.sort();
}

/** The import graph of every .ts file under `dirs` (and whatever they import inside root). */
export function importGraph(root: string, dirs: string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  const todo = dirs.flatMap((d) => tsFiles(root, d));
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (graph.has(file)) continue;
    const deps: string[] = [];
    for (const spec of specifiers(file, readFileSync(join(root, file), "utf8"))) {
      const dep = resolveSpecifier(root, file, spec);
      if (dep !== undefined && !deps.includes(dep)) deps.push(dep);
    }
    graph.set(file, deps);
    todo.push(...deps);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file that imports itself. */
function tangles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so that deep chains cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const frames: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, next); low.set(start, next++); stack.push(start); onStack.add(start);
    while (frames.length > 0) {
      const f = frames[frames.length - 1];
      const deps = graph.get(f.v) ?? [];
      if (f.i < deps.length) {
        const w = deps[f.i++];
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next++); stack.push(w); onStack.add(w);
          frames.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(f.v, Math.min(low.get(f.v)!, index.get(w)!));
        }
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const p = frames[frames.length - 1].v;
        low.set(p, Math.min(low.get(p)!, low.get(f.v)!));
      }
      if (low.get(f.v) === index.get(f.v)) {
        const scc: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== f.v);
        if (scc.length > 1 || deps.includes(f.v)) out.push(scc.sort());
      }
    }
  }
  return out;
}

/**
 * Every elementary cycle, each as the files along it starting from its smallest name (so a
 * cycle has one spelling). Stops after `limit` cycles or `maxSteps` steps of the search: a
 * tangle can hold exponentially many, and a few are enough to say what to fix.
 */
export function importCycles(graph: ImportGraph, limit = 200, maxSteps = 1_000_000): string[][] {
  const cycles: string[][] = [];
  let steps = 0;
  for (const scc of tangles(graph)) {
    const members = new Set(scc);
    // Cycles through scc[k] that use only scc[k..]: each cycle is found once, from its smallest file.
    for (let k = 0; k < scc.length && cycles.length < limit && steps <= maxSteps; k++) {
      const start = scc[k];
      const allowed = new Set(scc.slice(k));
      const path = [start];
      const onPath = new Set(path);
      const walk = (v: string): void => {
        for (const w of graph.get(v) ?? []) {
          if (cycles.length >= limit || ++steps > maxSteps) return;
          if (!members.has(w) || !allowed.has(w)) continue;
          if (w === start) cycles.push([...path]);
          else if (!onPath.has(w)) {
            path.push(w); onPath.add(w);
            walk(w);
            path.pop(); onPath.delete(w);
          }
        }
      };
      walk(start);
    }
  }
  return cycles;
}

/** A cycle as one line: a → b → a. */
export function cycleText(cycle: string[]): string {
  return [...cycle, cycle[0]].join(" → ");
}
