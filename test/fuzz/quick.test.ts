// The quick seed set of every fuzz target, run by `make test`: a fixed seed and a few hundred
// cases each. `make fuzz` runs the same properties a million times (tools/fuzz.ts).

import fc from "fast-check";
import { describe, it } from "vitest";
import { QUICK_SEED, runParameters } from "./harness.ts";
import { FUZZ_TARGETS } from "./targets.ts";

describe("fuzz targets, quick seed set", () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${target.description}`, () => {
      const { property, dispose } = target.build();
      try {
        fc.assert(property, runParameters(QUICK_SEED, target.quickRuns));
      } finally {
        dispose?.();
      }
    });
  }
});
