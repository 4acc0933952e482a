// The contract between core.wasm and its host is written twice: by the AssemblyScript exports
// (arm/core/index.ts) and `@external` imports, and by the TypeScript side that calls them
// (interface CoreExports and the import object in arm/host/core.ts). Nothing compiles the two
// together, so this test holds them to each other: every export the host declares exists with
// the arity it declares, every function the core exports is declared (no dead exports, no
// forgotten declarations), and the host provides exactly the imports the module asks for.

import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { Core } from "../../arm/host/core.ts";
import { coreWasm } from "../../arm/host/core-wasm.ts";

const HOST_FILE = "arm/host/core.ts";
const source = ts.createSourceFile(HOST_FILE, readFileSync(HOST_FILE, "utf8"), ts.ScriptTarget.Latest, true);

/** CoreExports' members: methods with their parameter counts, and plain values (null). */
function declaredExports(): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const visit = (node: ts.Node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === "CoreExports") {
      for (const m of node.members) {
        const name = m.name && ts.isIdentifier(m.name) ? m.name.text : undefined;
        if (name === undefined) continue;
        out.set(name, ts.isMethodSignature(m) ? m.parameters.length : null);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The keys of `env` in the object the Core constructor instantiates the core with. */
function providedImports(): string[] {
  const keys: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === "imports" && node.initializer && ts.isObjectLiteralExpression(node.initializer)) {
      for (const p of node.initializer.properties) {
        if (p.name && ts.isIdentifier(p.name) && p.name.text === "env" && ts.isPropertyAssignment(p) && ts.isObjectLiteralExpression(p.initializer)) {
          for (const q of p.initializer.properties) if (q.name && ts.isIdentifier(q.name)) keys.push(q.name.text);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return keys;
}

describe("the core's import/export contract", () => {
  const module = new WebAssembly.Module(coreWasm);
  const declared = declaredExports();

  it("finds the host's declarations (the test reads the right things)", () => {
    expect(declared.size).toBeGreaterThan(10);
    expect(providedImports()).toContain("mmio");
  });

  it("every function core.wasm exports is declared in CoreExports, and every declaration is exported", () => {
    const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === "function" || e.kind === "global").map((e) => e.name);
    expect([...declared.keys()].sort()).toEqual(exported.sort());
  });

  it("each declared method takes as many parameters as the wasm function", () => {
    const core = new Core({ ramBase: 0x8000_0000, ramSizeBytes: 1 << 20, host: { mmio: () => true, sysreg: () => undefined, counter: () => 0 } });
    const fns = (core as unknown as { exports: Record<string, unknown> }).exports;
    for (const [name, arity] of declared) {
      if (arity === null) continue;
      expect(typeof fns[name], name).toBe("function");
      expect((fns[name] as (...a: unknown[]) => unknown).length, `${name}'s parameters`).toBe(arity);
    }
  });

  it("the host provides exactly the imports the module asks for", () => {
    const wanted = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    expect(providedImports().map((k) => `env.${k}`).sort()).toEqual(wanted.sort());
  });
});
