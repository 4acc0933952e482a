// Differential tests of AdvSIMD vector and scalar x indexed element, integer forms
// (arm/decode/simd-elem.ts), against qemu-aarch64: every field random (reserved sizes, every
// index and both halves of the Rm range included), on V registers of interesting lane values and
// FPSR with and without QC preset.

import { beforeAll, describe, expect, it } from "vitest";
import { simdByElement } from "../../arm/decode/simd-elem.ts";
import { SIG } from "../diff/case.ts";
import { compareAll, rowCases } from "./simd-diff.ts";

const CASES_PER_ROW = 250;

describe("AdvSIMD by-element arithmetic agrees with qemu-aarch64", () => {
  const byRow = rowCases("simd-elem", simdByElement.rows, CASES_PER_ROW);
  let results: Awaited<ReturnType<typeof compareAll>>;
  beforeAll(async () => {
    results = await compareAll(byRow);
  });
  for (const row of simdByElement.rows) {
    it(`${row.name}: ${row.title}`, () => {
      const { problems, refs } = results.get(row.name)!;
      expect(problems.slice(0, 30)).toEqual([]);
      expect(refs.filter((r) => r.signal === SIG.NONE).length).toBeGreaterThan(CASES_PER_ROW / 8);
    });
  }
});
