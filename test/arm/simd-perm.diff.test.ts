// Differential tests of the AdvSIMD moves and permutes (arm/decode/simd-perm.ts) against
// qemu-aarch64: copy (DUP, INS, SMOV, UMOV), modified immediate (MOVI, MVNI, ORR, BIC), permute,
// EXT and TBL/TBX, with every field random (reserved imm5, size/Q and imm4 values included) on
// random X and V registers. TBL/TBX indexes are random bytes, so both in-range and out-of-range
// lookups come up, with table lists wrapping past V31.

import { beforeAll, describe, expect, it } from "vitest";
import { simdPermute } from "../../arm/decode/simd-perm.ts";
import { SIG } from "../diff/case.ts";
import { compareAll, rowCases } from "./simd-diff.ts";

const CASES_PER_ROW = 250;

describe("AdvSIMD moves and permutes agree with qemu-aarch64", () => {
  const byRow = rowCases("simd-perm", simdPermute.rows, CASES_PER_ROW);
  let results: Awaited<ReturnType<typeof compareAll>>;
  beforeAll(async () => {
    results = await compareAll(byRow);
  });
  for (const row of simdPermute.rows) {
    it(`${row.name}: ${row.title}`, () => {
      const { problems, refs } = results.get(row.name)!;
      expect(problems.slice(0, 30)).toEqual([]);
      expect(refs.filter((r) => r.signal === SIG.NONE).length).toBeGreaterThan(CASES_PER_ROW / 8);
    });
  }
});
