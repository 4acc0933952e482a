// Differential tests of AdvSIMD shift by immediate and scalar shift by immediate
// (arm/decode/simd-shift.ts) against qemu-aarch64: every field random, so every element size,
// shift amount (including the extremes 1 and esize) and the reserved immh/Q combinations come
// up, on V registers of interesting lane values and FPSR with and without QC preset.

import { beforeAll, describe, expect, it } from "vitest";
import { simdShift } from "../../arm/decode/simd-shift.ts";
import { SIG } from "../diff/case.ts";
import { compareAll, rowCases } from "./simd-diff.ts";

const CASES_PER_ROW = 250;

describe("AdvSIMD shifts by immediate agree with qemu-aarch64", () => {
  const byRow = rowCases("simd-shift", simdShift.rows, CASES_PER_ROW);
  let results: Awaited<ReturnType<typeof compareAll>>;
  beforeAll(async () => {
    results = await compareAll(byRow);
  });
  for (const row of simdShift.rows) {
    it(`${row.name}: ${row.title}`, () => {
      const { problems, refs } = results.get(row.name)!;
      expect(problems.slice(0, 30)).toEqual([]);
      expect(refs.filter((r) => r.signal === SIG.NONE).length).toBeGreaterThan(CASES_PER_ROW / 8);
    });
  }
});
