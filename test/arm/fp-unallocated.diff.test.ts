// Floating-point encodings of later architecture versions stay UNDEFINED on this ARMv8.0
// core, as on qemu's cortex-a57: FEAT_FP16 arithmetic (half precision exists only as an FCVT
// format in ARMv8.0), FEAT_JSCVT's FJCVTZS and FEAT_FRINTTS's FRINT32/64. Words from
// aarch64-linux-gnu-as -march=armv8.5-a+fp16.

import { describe, expect, it } from "vitest";
import { SIG, makeCase } from "../support/diff/case.ts";
import { runReference } from "../support/diff/reference.ts";
import { runOnCore } from "../support/diff/core-runner.ts";
import { resultDifferences } from "../support/diff/compare.ts";

const LATER: [number, string][] = [
  [0x1ee22820, "fadd h0, h1, h2"],
  [0x1ee50883, "fmul h3, h4, h5"],
  [0x1ee1c020, "fsqrt h0, h1"],
  [0x1ee0c020, "fabs h0, h1"],
  [0x1ee70020, "fmov h0, w1"],
  [0x1ee60062, "fmov w2, h3"],
  [0x9ee60062, "fmov x2, h3"],
  [0x1eef1000, "fmov h0, #1.5"],
  [0x1ee12000, "fcmp h0, h1"],
  [0x1ee20c20, "fcsel h0, h1, h2, eq"],
  [0x1fc20c20, "fmadd h0, h1, h2, h3"],
  [0x1ef80020, "fcvtzs w0, h1"],
  [0x9ee20020, "scvtf h0, x1"],
  [0x1ed8f420, "fcvtzs w0, h1, #3"],
  [0x1ee44020, "frintn h0, h1"],
  [0x0e421420, "fadd v0.4h, v1.4h, v2.4h"],
  [0x4e420c20, "fmla v0.8h, v1.8h, v2.8h"],
  [0x4ef8f820, "fabs v0.8h, v1.8h"],
  [0x0ef9b820, "fcvtzs v0.4h, v1.4h"],
  [0x4e30c820, "fmaxnmv h0, v1.8h"],
  [0x5e30f820, "fmaxp h0, v1.2h"],
  [0x4f329020, "fmul v0.8h, v1.8h, v2.h[3]"],
  [0x5f321820, "fmla h0, h1, v2.h[7]"],
  [0x4f03fe00, "fmov v0.8h, #1.0"],
  [0x4f1de420, "scvtf v0.8h, v1.8h, #3"],
  [0x5ef9d820, "frecpe h0, h1"],
  [0x5ef8d820, "fcmeq h0, h1, #0.0"],
  [0x1e7e0020, "fjcvtzs w0, d1"],
  [0x1e284020, "frint32z s0, s1"],
  [0x1e69c020, "frint64x d0, d1"],
  [0x6e21e820, "frint32x v0.4s, v1.4s"],
];

describe("later floating-point extensions are UNDEFINED", () => {
  it("on qemu's cortex-a57 and on our core", async () => {
    const cases = LATER.map(([w]) => makeCase([w]));
    const refs = await runReference(cases, { cpu: "cortex-a57" });
    const problems = cases.flatMap((k, i) => {
      const d = resultDifferences(k, refs[i]!, runOnCore(k));
      return d.length ? [`${LATER[i]![1]}: ${d.join("; ")}`] : [];
    });
    expect(problems).toEqual([]);
    expect(refs.map((r, i) => [LATER[i]![1], r.signal])).toEqual(LATER.map(([, s]) => [s, SIG.ILL]));
  });
});
