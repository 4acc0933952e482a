// The JIT's emitters against the table: the groups list them (arm/decode/table.ts), and the
// JIT's sources must agree. A listed emitter that its module does not export fails the build
// here, before asc would; an emit_ name that no group lists would never be called, so however
// it is declared it fails too.

import type { Model } from "./table-model.ts";

export interface JitSource {
  /** File name without .ts: arm/core/jit/<module>.ts. */
  module: string;
  text: string;
}

export function checkEmitters(model: Model, sources: JitSource[]): void {
  const declared = new Map<string, string>(); // emit_<handler> -> module
  for (const h of model.handlers.values()) if (h.emitter) declared.set(`emit_${h.name}`, h.module);
  for (const [name, module] of declared) {
    const src = sources.find((s) => s.module === module);
    const exported = new RegExp(`^export\\s+(?:function|const|let)\\s+${name}\\b`, "m");
    if (!src || !exported.test(src.text)) {
      throw new Error(`the table lists emitter ${name.slice(5)} (group ${module}), but arm/core/jit/${module}.ts does not export ${name}`);
    }
  }
  for (const src of sources) {
    for (const m of src.text.matchAll(/\bemit_\w+/g)) {
      const where = declared.get(m[0]);
      if (where === src.module) continue;
      throw new Error(
        where
          ? `${m[0]} is in arm/core/jit/${src.module}.ts, but the table lists it for group ${where}`
          : `${m[0]} in arm/core/jit/${src.module}.ts is listed by no group's emitters, so nothing would call it`,
      );
    }
  }
}
