import { describe, expect, it } from "vitest";
import { makeCase, DATA_VA, DATA_END, SIG } from "../support/diff/case.ts";
import { runReference } from "../support/diff/reference.ts";
import { runOnCore } from "../support/diff/core-runner.ts";
import { resultDifferences } from "../support/diff/compare.ts";
import { Rng, randomCase } from "../support/diff/random.ts";

// The runner itself: a few cases whose outcome covers each way a case can end.
describe("core runner agrees with the qemu-aarch64 reference on how a case ends", () => {
  const cases = [
    makeCase([0xd2800020, 0x91000c21]), // movz x0, #1; add x1, x1, #3
    makeCase([0x00000000]), // udf #0 -> SIGILL
    makeCase([0xd4200020]), // brk #1 -> SIGTRAP
    makeCase([0xd61f0040], { x: Array.from({ length: 31 }, (_, i) => (i === 2 ? DATA_END + 8n : 0n)) }), // br x2 to unmapped -> SIGSEGV
    makeCase([0xd65f0040], { x: Array.from({ length: 31 }, (_, i) => (i === 2 ? DATA_VA : 0n)) }), // ret x2 into DATA (not executable) -> SIGSEGV
    makeCase([0xd51b4200]), // msr nzcv, x0
    makeCase([0xd53b4220]), // mrs x0, daif (EL0, UMA = 0) -> SIGILL
    makeCase([0xd5381000]), // mrs x0, sctlr_el1 (EL1 register at EL0) -> SIGILL
    // (Not MIDR_EL1: Linux emulates EL0 reads of the ID registers, and qemu-user mimics it.)
  ];

  it("for each kind of ending", async () => {
    const refs = await runReference(cases, { cpu: "cortex-a57" });
    const problems = cases.flatMap((k, i) => resultDifferences(k, refs[i]!, runOnCore(k)));
    expect(problems).toEqual([]);
    expect(refs.map((r) => r.signal)).toEqual([SIG.NONE, SIG.ILL, SIG.TRAP, SIG.SEGV, SIG.SEGV, SIG.NONE, SIG.ILL, SIG.ILL]);
  });

  it("with random register state around immediate arithmetic (add, adds, ands, sxtw)", async () => {
    const rng = new Rng(0x5eed);
    const cases = Array.from({ length: 200 }, () => randomCase(rng, [0x91000c20, 0xb1400441, 0xf2400c45, 0x93407c06]));
    const refs = await runReference(cases, { cpu: "cortex-a57" });
    const problems = cases.flatMap((k, i) => resultDifferences(k, refs[i]!, runOnCore(k)));
    expect(problems.slice(0, 20)).toEqual([]);
  });
});
