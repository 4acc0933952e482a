// The JIT against the interpreter and against qemu-aarch64 (docs/jit.md, Measuring): cases run
// as translated code with the JIT forced on (threshold 0, eager translation), so every block is
// translated before it first runs.
//
// - Every row of the decode table: random words of the row (register fields biased to 31,
//   immediates to their edges), alone and in short sequences mixed with other rows, on random
//   state with pointers into DATA. The interpreter is the oracle: a translated block must end
//   in exactly the state the interpreter reaches, including faults, signals and budget ends.
// - A sample against qemu-aarch64: sequences of integer, branch and load/store rows.
//
// The whole per-group differential suite can also run translated:
//   LKVM_DIFF_JIT=1 npx vitest run test/arm test/diff

import { describe, expect, it } from "vitest";
import { allRows, type NumberedRow } from "../../arm/decode/index.ts";
import type { ParsedField } from "../../arm/decode/table.ts";
import { makeCase, type Case, type Result } from "../support/diff/case.ts";
import { resultDifferences } from "../support/diff/compare.ts";
import { runOnCore, runnerCore } from "../support/diff/core-runner.ts";
import { Rng, randomState } from "../support/diff/random.ts";
import { runReference } from "../support/diff/reference.ts";

const REGISTER_FIELDS = new Set(["rd", "rn", "rm", "ra", "rt", "rt2", "rs"]);

function fieldValue(rng: Rng, f: ParsedField): number {
  const max = 2 ** f.width - 1;
  if (REGISTER_FIELDS.has(f.name)) return rng.chance(0.25) ? 31 : rng.below(32);
  if (f.width <= 2) return rng.below(max + 1);
  switch (rng.below(6)) {
    case 0: return 0;
    case 1: return max;
    case 2: return rng.below(Math.min(max + 1, 8));
    default: return rng.below(max + 1);
  }
}

function randomWord(rng: Rng, r: NumberedRow): number {
  const p = r.parsed;
  let w = (p.value | (rng.u32() & ~p.mask)) >>> 0;
  for (const f of p.fields) {
    const m = (2 ** f.width - 1) * 2 ** f.lsb;
    w = ((w & ~m) | (fieldValue(rng, f) * 2 ** f.lsb)) >>> 0;
  }
  return w;
}

function randomCase(rng: Rng, insns: number[]): Case {
  return { ...randomState(rng, { memSize: 0x1000 }), insns };
}

/** Runs each case interpreted and translated; returns the differences, labelled. */
function jitDifferences(cases: Case[]): string[] {
  return cases.flatMap((k) =>
    resultDifferences(k, runOnCore(k, { jit: false }), runOnCore(k, { jit: true })).map((line) =>
      line.replace(/qemu/g, "interpreter").replace(/core/g, "jit"),
    ),
  );
}

describe("translated code agrees with the interpreter", () => {
  const rows = allRows();

  it("for every row of the decode table, alone and in sequences", () => {
    const rng = new Rng("jit-rows");
    const cases: Case[] = [];
    for (const r of rows) {
      for (let i = 0; i < 6; i++) cases.push(randomCase(rng, [randomWord(rng, r)]));
      for (let i = 0; i < 4; i++) {
        const seq = Array.from({ length: rng.range(2, 8) }, () => randomWord(rng, rng.chance(0.5) ? r : rng.pick(rows)));
        cases.push(randomCase(rng, seq));
      }
    }
    const before = runnerCore(true).jitStats();
    const problems = jitDifferences(cases);
    expect(problems.slice(0, 30)).toEqual([]);
    const after = runnerCore(true).jitStats();
    // The cases really ran translated: a block per case at least.
    expect(after.blocks - before.blocks).toBeGreaterThanOrEqual(cases.length);
    expect(after.insnsJit - before.insnsJit).toBeGreaterThan(BigInt(cases.length));
  });

  it("for loops that run into the instruction budget", () => {
    // subs x0, x0, #1; b.ne .-4 with x0 large: the budget ends the case mid-loop.
    const k = makeCase([0xf1000400, 0x54ffffe1], { x: [1_000_000n, ...new Array<bigint>(30).fill(0n)] });
    expect(jitDifferences([k])).toEqual([]);
  });
});

/**
 * A word of the row shaped so that qemu-user and the core agree on what it means as a whole
 * case: memory operands based on the pointer registers x1-x4 with small register
 * offsets (x5, x6), data registers that leave those alone, branches a few instructions
 * forward (staying in the case).
 */
function wellFormedWord(rng: Rng, r: NumberedRow): number {
  const p = r.parsed;
  let w = (p.value | (rng.u32() & ~p.mask)) >>> 0;
  for (const f of p.fields) {
    let v: number;
    if (f.name === "rn") v = rng.range(1, 4); // not SP: qemu-user does not check SP alignment
    else if (f.name === "rm" && r.module === "ldst") v = rng.pick([5, 6]);
    else if (REGISTER_FIELDS.has(f.name)) v = rng.chance(0.2) ? 31 : rng.range(7, 30);
    else if (f.name === "imm19" || f.name === "imm26" || f.name === "imm14") v = rng.range(1, 3);
    else v = fieldValue(rng, f);
    const m = (2 ** f.width - 1) * 2 ** f.lsb;
    w = ((w & ~m) | (v * 2 ** f.lsb)) >>> 0;
  }
  return w;
}

describe("translated code agrees with qemu-aarch64", () => {
  it("on sequences of integer, branch and load/store instructions", async () => {
    const groups = new Set(["dp-imm", "dp-reg", "ldst", "branch-system"]);
    const rows = allRows().filter(
      (r) => groups.has(r.module) && !r.row.flags?.includes("system") && !r.row.flags?.includes("exception") &&
        !["BR", "BLR", "RET", "ERET", "ISB"].includes(r.row.name) &&
        // Exclusives and acquire/release need aligned addresses; qemu-user checks them differently.
        !["STXR", "LDXR", "STXP", "LDXP", "STLR", "LDAR"].includes(r.row.name),
    );
    const rng = new Rng("jit-qemu");
    const cases = Array.from({ length: 600 }, () => ({
      ...randomState(rng, { memSize: 0x1000, pointerRegs: [1, 2, 3, 4], offsetRegs: [5, 6] }),
      insns: Array.from({ length: rng.range(1, 10) }, () => wellFormedWord(rng, rng.pick(rows))),
    }));
    const refs: Result[] = await runReference(cases, { cpu: "cortex-a57" });
    const problems = cases.flatMap((k, i) => resultDifferences(k, refs[i]!, runOnCore(k, { jit: true })));
    expect(problems.slice(0, 30)).toEqual([]);
  });
});
