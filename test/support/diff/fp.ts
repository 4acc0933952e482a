// Differential testing of the floating-point rows against qemu-aarch64 (cortex-a57, an
// ARMv8.0 core without FP16): instruction words are generated from each row's pattern in
// the decode table, operands from special values (NaNs with payloads, infinities, zeros,
// denormals, extreme normals), from values with short fractions near a shared exponent (so
// sums and products land exactly on, or next to, rounding boundaries), and from random
// bits. Every case runs under a given FPCR rounding mode, with FZ, DN and AHP random and
// FPSR preset at random.

import { describe, expect, it, beforeAll } from "vitest";
import { type Case, type V128, DATA_VA, FPCR, FPSR, makeCase } from "./case.ts";
import { Rng, FP16_SPECIALS, FP32_SPECIALS, FP64_SPECIALS, interesting64 } from "./random.ts";
import { runReference } from "./reference.ts";
import { runOnCore } from "./core-runner.ts";
import { resultDifferences } from "./compare.ts";
import { parsePattern, type Group } from "../../../arm/decode/table.ts";

export type Width = 16 | 32 | 64;
export type Fields = Record<string, number>;

const FORMAT: Record<Width, { E: number; F: number }> = {
  16: { E: 5, F: 10 },
  32: { E: 8, F: 23 },
  64: { E: 11, F: 52 },
};

function randBits(rng: Rng, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i += 32) v = (v << 32n) | BigInt(rng.u32());
  return n <= 0 ? 0n : v & ((1n << BigInt(n)) - 1n);
}

function pack(w: Width, sign: number, exp: number, frac: bigint): bigint {
  const { E, F } = FORMAT[w];
  return (BigInt(sign) << BigInt(E + F)) | (BigInt(exp) << BigInt(F)) | frac;
}

/** Values around which conversions to integers change behaviour. */
const INT_EDGES = [0, 1, 2, 3, 15, 16, 24, 31, 32, 52, 53, 63, 64];

/** A biased exponent that makes a case's operands interact: near 1.0, the extremes, or an integer edge. */
export function exponentHint(rng: Rng, w: Width): number {
  const { E, F } = FORMAT[w];
  const emax = (1 << E) - 1;
  const bias = (1 << (E - 1)) - 1;
  switch (rng.below(8)) {
    case 0: case 1: return bias + rng.range(-2, 2);
    case 2: return bias + rng.range(-F - 2, F + 2);
    case 3: return rng.range(1, 3); // near the smallest normals: products underflow
    case 4: return rng.range(emax - 3, emax - 1); // near overflow
    case 5: return bias + rng.pick(INT_EDGES); // integer boundaries
    case 6: return Math.max(1, bias - F - rng.range(0, 4)); // sums with ulp-sized parts
    default: return rng.range(1, emax - 1);
  }
}

/** One floating-point bit pattern of width w; `hint` is a biased exponent to cluster around. */
export function fpValue(rng: Rng, w: Width, hint: number): bigint {
  const { E, F } = FORMAT[w];
  const emax = (1 << E) - 1;
  const sign = rng.below(2);
  const clamp = (e: number) => Math.min(Math.max(e, 0), emax - 1);
  switch (rng.below(12)) {
    case 0: case 1: {
      const specials = w === 64 ? FP64_SPECIALS : w === 32 ? FP32_SPECIALS : FP16_SPECIALS;
      return rng.pick(specials);
    }
    case 2: { // a NaN with a payload, quiet or signalling
      const quiet = rng.chance();
      let frac = randBits(rng, rng.range(1, F - 1));
      if (!quiet && frac === 0n) frac = 1n;
      return pack(w, sign, emax, (quiet ? 1n << BigInt(F - 1) : 0n) | frac);
    }
    case 3: { // a denormal
      const frac = randBits(rng, rng.range(1, F));
      return pack(w, sign, 0, frac === 0n ? 1n : frac);
    }
    case 4: case 5: case 6: { // a short fraction near the hint: exact and halfway results
      const k = rng.range(0, Math.min(F, 12));
      const frac = k === 0 ? 0n : randBits(rng, k) << BigInt(F - k);
      return pack(w, sign, clamp(hint + rng.range(-3, 3)), frac);
    }
    case 7: case 8: { // a full fraction near the hint
      const far = rng.chance(0.25) ? rng.range(-F - 3, F + 3) : 0;
      return pack(w, sign, clamp(hint + rng.range(-2, 2) + far), randBits(rng, F));
    }
    case 9: { // a fraction ending in a long run of ones or zeros (carries in rounding)
      const k = rng.range(1, F);
      const run = rng.chance() ? (1n << BigInt(k)) - 1n : 0n;
      const frac = (randBits(rng, F - k) << BigInt(k)) | run;
      return pack(w, sign, clamp(hint + rng.range(-1, 1)), frac);
    }
    case 10: // anything
      return pack(w, sign, rng.range(0, emax), randBits(rng, F));
    default: { // an integer plus a simple fraction: FRINT*, FCVT* to integers
      const bias = (1 << (E - 1)) - 1;
      const mag = rng.range(0, Math.min(F + 2, 66));
      const e = bias + rng.pick([0, 1, 2, mag, mag, rng.pick(INT_EDGES)]);
      const k = Math.max(0, Math.min(F, e - bias + 2));
      const frac = randBits(rng, k) << BigInt(F - k);
      return pack(w, sign, clamp(e), frac);
    }
  }
}

/** A 128-bit register of lanes of width w around `hint`. */
export function fpVector(rng: Rng, w: Width, hint: number): V128 {
  const half = (): bigint => {
    let v = 0n;
    for (let i = 0; i < 64 / w; i++) v |= fpValue(rng, w, hint) << BigInt(i * w);
    return v;
  };
  return [half(), half()];
}

export const RMODE_NAMES = ["RN", "RP", "RM", "RZ"];

/** A case running `insn` with FP operands of width w, under rounding mode rmode. */
export function fpCase(rng: Rng, insn: number, w: Width, rmode: number): Case {
  const hint = exponentHint(rng, w);
  const v: V128[] = Array.from({ length: 32 }, () => fpVector(rng, w, hint));
  const x = Array.from({ length: 31 }, () => interesting64(rng));
  let fpcr = rmode << FPCR.RMODE_SHIFT;
  if (rng.chance(0.5)) fpcr |= FPCR.FZ;
  if (rng.chance(0.35)) fpcr |= FPCR.DN;
  if (rng.chance(0.3)) fpcr |= FPCR.AHP;
  const flags = FPSR.IOC | FPSR.DZC | FPSR.OFC | FPSR.UFC | FPSR.IXC | FPSR.IDC | FPSR.QC;
  const fpsr = rng.chance(0.5) ? 0 : (rng.u32() & flags) >>> 0;
  return makeCase([insn], { x, v, sp: DATA_VA + 0x8000n, nzcv: (rng.below(16) << 28) >>> 0, fpcr, fpsr });
}

/** How to test one row: field values to favour (others random) and the operands' width. */
export interface RowTest {
  /** The row's name in its group. */
  row: string;
  /** Choices for fields (a list to pick from, or a generator); fields not named are random. */
  fields?: Record<string, readonly number[] | ((rng: Rng, f: Fields) => number)>;
  /** The width of the FP values the encoding reads. */
  width(f: Fields): Width;
  /** Cases per rounding mode (default 250). */
  perMode?: number;
  /** The FPCR.RMode values to run (default all four). */
  modes?: number[];
  /** A label for the test. */
  label?: string;
  /** The least fraction of cases qemu must complete without a signal (default 0.5): keeps a
   * test from passing because both sides only ever say UNDEFINED. */
  minCompleted?: number;
}

/** Builds an instruction word for a row pattern from field values. */
export function encode(pattern: string, f: Fields): number {
  const p = parsePattern(pattern);
  let w = p.value;
  for (const fld of p.fields) w |= ((f[fld.name] ?? 0) & ((1 << fld.width) - 1)) << fld.lsb;
  return w >>> 0;
}

function randomFields(rng: Rng, pattern: string, t: RowTest): Fields {
  const f: Fields = {};
  for (const fld of parsePattern(pattern).fields) {
    const choice = t.fields?.[fld.name];
    if (choice === undefined) f[fld.name] = rng.below(2 ** fld.width);
    else if (typeof choice === "function") f[fld.name] = choice(rng, f);
    else f[fld.name] = rng.pick(choice);
  }
  return f;
}

const hex = (v: bigint | number, n = 0) => "0x" + v.toString(16).padStart(n, "0");

function describeCase(k: Case, f: Fields): string {
  const regs = ["rn", "rm", "ra", "rd"].filter((r) => r in f).map((r) => {
    const [lo, hi] = k.v[f[r]!]!;
    return `${r}=v${f[r]}=${hex(hi, 16)}:${hex(lo, 16)}`;
  });
  return `  fields ${JSON.stringify(f)} fpcr=${hex(k.fpcr)} fpsr=${hex(k.fpsr)} ${regs.join(" ")}`;
}

/** Soak runs: FP_DIFF_SCALE multiplies every row's case count, FP_DIFF_SEED changes the seed. */
const SCALE = Number(process.env.FP_DIFF_SCALE ?? 1);
const SEED_SUFFIX = process.env.FP_DIFF_SEED ?? "";

/**
 * Declares one test per row: each row's cases (perMode per rounding mode) run on qemu in
 * one batch for the whole group, and on our core.
 */
export function describeRows(title: string, group: Group, tests: RowTest[], seed: string): void {
  const cases: { test: RowTest; k: Case; f: Fields }[] = [];
  const rng = new Rng(seed + SEED_SUFFIX);
  for (const t of tests) {
    const row = group.rows.find((r) => r.name === t.row);
    if (!row) throw new Error(`no row ${t.row} in ${group.module}`);
    for (const rmode of t.modes ?? [0, 1, 2, 3]) {
      for (let i = 0; i < Math.round((t.perMode ?? 250) * SCALE); i++) {
        const f = randomFields(rng, row.pattern, t);
        const insn = encode(row.pattern, f);
        cases.push({ test: t, k: fpCase(rng, insn, t.width(f), rmode), f });
      }
    }
  }
  describe(title, () => {
    let refs: Awaited<ReturnType<typeof runReference>> = [];
    beforeAll(async () => {
      refs = await runReference(cases.map((c) => c.k), { cpu: "cortex-a57" });
    }, 120_000 * SCALE);
    for (const t of tests) {
      const modes = t.modes ?? [0, 1, 2, 3];
      it(`${t.label ?? t.row}: ${Math.round((t.perMode ?? 250) * SCALE) * modes.length} cases (${modes.map((m) => RMODE_NAMES[m]).join("/")}, FZ/DN/AHP random)`, () => {
        const problems: string[] = [];
        let total = 0;
        let completed = 0;
        cases.forEach((c, i) => {
          if (c.test !== t) return;
          total++;
          if (refs[i]!.signal === 0) completed++;
          if (problems.length >= 12) return;
          const d = resultDifferences(c.k, refs[i]!, runOnCore(c.k));
          if (d.length) problems.push([...d, describeCase(c.k, c.f)].join("\n"));
        });
        expect(problems).toEqual([]);
        expect(completed / total).toBeGreaterThanOrEqual(t.minCompleted ?? 0.5);
      });
    }
  });
}

/** One test over hand-built cases: each must agree with qemu (cortex-a57) in full. */
export function describeCases(title: string, name: string, build: () => Case[]): void {
  describe(title, () => {
    it(name, async () => {
      const cases = build();
      const refs = await runReference(cases, { cpu: "cortex-a57" });
      const problems = cases.flatMap((k, i) => resultDifferences(k, refs[i]!, runOnCore(k))).slice(0, 20);
      expect(problems).toEqual([]);
      expect(refs.every((r) => r.signal === 0)).toBe(true);
    });
  });
}
