// Differential test of the data-processing groups (ARM ARM C4.1.2 immediate and C4.1.5
// register) against qemu-aarch64 as a Cortex-A57: ARMv8.0 with CRC32, so the v8.1+ encodings
// we leave unallocated are SIGILL there too.
//
// Cases come from the decode table itself. For every row: words with random field values
// (register fields biased to 31 for SP/ZR, immediates to their edges, reserved values
// included), and "near misses" with one or two of the row's fixed bits flipped. Then random
// words anywhere in each group's encoding space. A case is one instruction on random register
// state with interesting values (0, ±1, INT32/INT64 limits, powers of two ± 1) and random
// NZCV; every register, SP, NZCV and the signal must match (an UNDEFINED encoding is SIGILL
// on qemu and an UNDEFINED exception, reported as SIGILL, on the core).

import { beforeAll, describe, expect, it } from "vitest";
import { dataProcessingImmediate } from "../../arm/decode/dp-imm.ts";
import { dataProcessingRegister } from "../../arm/decode/dp-reg.ts";
import { parsePattern, type Group, type ParsedField, type ParsedPattern } from "../../arm/decode/table.ts";
import { makeCase, SIG, type Case, type Result } from "../support/diff/case.ts";
import { resultDifferences } from "../support/diff/compare.ts";
import { runOnCore } from "../support/diff/core-runner.ts";
import { Rng, randomState } from "../support/diff/random.ts";
import { runReference } from "../support/diff/reference.ts";

const CASES_PER_ROW = 400;
const NEAR_MISSES_PER_ROW = 100;
const SPACE_CASES = 3000;

/** The bits that put a word in the group (the ARM ARM's top-level op0 decode). */
const SPACES: Record<string, { mask: number; value: number }> = {
  "dp-imm": { mask: 0x1c000000, value: 0x10000000 }, // bits 28:26 = 100
  "dp-reg": { mask: 0x0e000000, value: 0x0a000000 }, // bits 27:25 = 101
};

const REGISTER_FIELDS = new Set(["rd", "rn", "rm", "ra"]);

function fieldValue(rng: Rng, f: ParsedField): number {
  const max = 2 ** f.width - 1;
  if (REGISTER_FIELDS.has(f.name)) return rng.chance(0.25) ? 31 : rng.below(32);
  if (f.width <= 2) return rng.below(max + 1);
  switch (rng.below(8)) {
    case 0: return 0;
    case 1: return max;
    case 2: return max >>> 1; // imm6 = 31: the last valid 32-bit shift
    case 3: return (max >>> 1) + 1; // imm6 = 32: the first reserved one
    case 4: return rng.below(Math.min(max + 1, 8)); // small values: imm3 = 4 vs 5, hw, sizes
    default: return rng.below(max + 1);
  }
}

function randomWord(rng: Rng, p: ParsedPattern): number {
  let w = (p.value | (rng.u32() & ~p.mask)) >>> 0;
  for (const f of p.fields) {
    const m = (2 ** f.width - 1) * 2 ** f.lsb;
    w = ((w & ~m) | (fieldValue(rng, f) * 2 ** f.lsb)) >>> 0;
  }
  return w;
}

/** A word of the row with one or two of its fixed bits flipped, kept inside the group. */
function nearMiss(rng: Rng, p: ParsedPattern, space: { mask: number }): number {
  const flippable = (p.mask & ~space.mask) >>> 0;
  const bits: number[] = [];
  for (let b = 0; b < 32; b++) if (flippable & (1 << b)) bits.push(b);
  let w = randomWord(rng, p);
  const flips = rng.chance(0.7) ? 1 : 2;
  for (let i = 0; i < flips && bits.length; i++) w = (w ^ (1 << rng.pick(bits))) >>> 0;
  return w;
}

interface Labeled {
  label: string;
  k: Case;
}

function stateFor(rng: Rng): Omit<Case, "insns"> {
  return randomState(rng, { fp: false, memSize: 0x100, spIntoData: rng.chance(0.5) });
}

function generate(group: Group, seed: string): Labeled[] {
  const rng = new Rng(seed);
  const space = SPACES[group.module]!;
  const out: Labeled[] = [];
  for (const row of group.rows) {
    const p = parsePattern(row.pattern);
    for (let i = 0; i < CASES_PER_ROW; i++) out.push({ label: row.name, k: makeCase([randomWord(rng, p)], stateFor(rng)) });
    for (let i = 0; i < NEAR_MISSES_PER_ROW; i++) {
      out.push({ label: `${row.name} near misses`, k: makeCase([nearMiss(rng, p, space)], stateFor(rng)) });
    }
  }
  for (let i = 0; i < SPACE_CASES; i++) {
    const w = ((rng.u32() & ~space.mask) | space.value) >>> 0;
    out.push({ label: `random words in the ${group.module} space`, k: makeCase([w], stateFor(rng)) });
  }
  return out;
}

for (const group of [dataProcessingRegister, dataProcessingImmediate]) {
  describe(`${group.section} agrees with qemu-aarch64 (cortex-a57)`, () => {
    const cases = generate(group, `diff:${group.module}`);
    let refs: Result[] = [];
    let ours: Result[] = [];

    beforeAll(async () => {
      refs = await runReference(cases.map((c) => c.k), { cpu: "cortex-a57" });
      ours = cases.map((c) => runOnCore(c.k));
    });

    for (const label of new Set(cases.map((c) => c.label))) {
      const isRow = group.rows.some((r) => r.name === label);
      it(label, () => {
        const problems: string[] = [];
        let completed = 0;
        cases.forEach((c, i) => {
          if (c.label !== label) return;
          const d = resultDifferences(c.k, refs[i]!, ours[i]!);
          if (d.length && problems.length < 40) problems.push(d.join("\n  "));
          if (refs[i]!.signal === SIG.NONE) completed++;
        });
        expect(problems).toEqual([]);
        // A row's own cases must mostly be allocated encodings that qemu ran to the end.
        if (isRow) expect(completed, `${label}: qemu completed only ${completed}`).toBeGreaterThan(CASES_PER_ROW / 4);
      });
    }
  });
}
